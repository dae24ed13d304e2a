"""Push repositories, finished uploads and manifest pushes against the database."""

import datetime
import hashlib
import json

import pytest
from django.utils import timezone

from pulp_container.app.manifests import parse_manifest
from pulp_container.app.models import (
    Blob,
    ContainerDistribution,
    ContainerNamespace,
    ContainerPushRepository,
    ContainerRepository,
    ContainerUpload,
    Manifest,
    Tag,
)
from pulp_container.app.registry.errors import RegistryError
from pulp_container.app.registry.push_content import (
    delete_blob,
    delete_manifest,
    delete_tag,
    store_manifest,
)
from pulp_container.app.registry.push_repositories import (
    available_blobs,
    get_or_create_push_repository,
)
from pulp_container.app.registry.upload_files import compute_checksums
from pulp_container.app.registry.upload_sessions import (
    create_upload,
    finish_upload,
    get_upload,
    record_chunk,
    record_mounted_blob,
)
from pulp_container.constants import DOCKER_CONFIG, DOCKER_LAYER_GZIP, DOCKER_MANIFEST_V2

pytestmark = pytest.mark.django_db


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def upload_blob(repository, name: str, data: bytes) -> Blob:
    upload = create_upload(repository, name)
    with open(upload.file_path, "wb") as upload_file:
        upload_file.write(data)
    size, checksums = compute_checksums(upload.file_path, "sha256")
    return finish_upload(upload, digest_of(data), size, checksums)


def image_manifest(config: bytes, layers: list[bytes]):
    body = {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST_V2,
        "config": {"mediaType": DOCKER_CONFIG, "size": len(config), "digest": digest_of(config)},
        "layers": [
            {"mediaType": DOCKER_LAYER_GZIP, "size": len(layer), "digest": digest_of(layer)}
            for layer in layers
        ],
    }
    return parse_manifest(json.dumps(body).encode(), DOCKER_MANIFEST_V2)


CONFIG = json.dumps({"architecture": "arm64", "os": "linux", "config": {"Labels": {"a": "b"}}})


def version_content(repository, model):
    return model.objects.filter(pk__in=repository.latest_version().content)


def test_first_push_creates_repository():
    repository = get_or_create_push_repository("team/app")
    assert isinstance(repository, ContainerPushRepository)
    distribution = ContainerDistribution.objects.get(base_path="team/app")
    assert distribution.repository_id == repository.pk
    assert distribution.namespace.name == "team"
    assert get_or_create_push_repository("team/app").pk == repository.pk
    assert ContainerNamespace.objects.filter(name="team").count() == 1


def test_push_repository_committed_between_lookups(monkeypatch):
    """A concurrent first push commits the repository after this push's first lookup."""
    created = get_or_create_push_repository("race/app")
    real_filter = ContainerPushRepository.objects.filter

    def filter_before_commit(*args, **kwargs):
        if "distributions__base_path" in kwargs:
            return ContainerPushRepository.objects.none()
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(ContainerPushRepository.objects, "filter", filter_before_commit)
    assert get_or_create_push_repository("race/app").pk == created.pk


def test_push_to_synced_repository_denied():
    synced = ContainerRepository.objects.create(name="synced")
    ContainerDistribution.objects.create(name="synced", base_path="synced", repository=synced)
    with pytest.raises(RegistryError) as raised:
        get_or_create_push_repository("synced")
    assert raised.value.code == "DENIED"


def test_finish_upload_creates_blob():
    repository = get_or_create_push_repository("uploads")
    data = b"layer bytes"
    blob = upload_blob(repository, "uploads", data)
    assert blob.digest == digest_of(data)
    artifact = blob.contentartifact_set.get().artifact
    assert artifact.sha256 == hashlib.sha256(data).hexdigest()
    assert artifact.size == len(data)
    with artifact.file.open("rb") as stored:
        assert stored.read() == data
    record = ContainerUpload.objects.get(blob=blob)
    assert record.file_path == ""
    with pytest.raises(RegistryError) as raised:
        get_upload("uploads", record.pk)
    assert raised.value.code == "BLOB_UPLOAD_UNKNOWN"

    again = upload_blob(repository, "uploads", data)
    assert again.pk == blob.pk
    assert again.contentartifact_set.get().artifact_id == artifact.pk
    assert Blob.objects.filter(digest=blob.digest).count() == 1


def test_manifest_missing_blob_stores_nothing():
    repository = get_or_create_push_repository("missing")
    upload_blob(repository, "missing", CONFIG.encode())
    parsed = image_manifest(CONFIG.encode(), [b"never uploaded"])
    with pytest.raises(RegistryError) as raised:
        store_manifest(repository, parsed, "1")
    assert raised.value.code == "MANIFEST_BLOB_UNKNOWN"
    assert raised.value.detail == {"digest": digest_of(b"never uploaded")}
    assert not Manifest.objects.filter(digest=parsed.digest).exists()
    assert not Tag.objects.filter(name="1").exists()
    assert repository.latest_version().number == 0


def test_blob_of_other_repository_unknown():
    other = get_or_create_push_repository("other")
    upload_blob(other, "other", b"other layer")
    repository = get_or_create_push_repository("mine")
    assert available_blobs(repository, [digest_of(b"other layer")]) == {}


def test_store_manifest_adds_version():
    repository = get_or_create_push_repository("store")
    upload_blob(repository, "store", CONFIG.encode())
    upload_blob(repository, "store", b"layer one")
    parsed = image_manifest(CONFIG.encode(), [b"layer one"])
    store_manifest(repository, parsed, "1.0")

    repository.refresh_from_db()
    assert repository.latest_version().number == 1
    manifest = version_content(repository, Manifest).get()
    assert manifest.digest == parsed.digest
    assert manifest.architecture == "arm64"
    assert manifest.labels == {"a": "b"}
    assert manifest.config_blob.digest == digest_of(CONFIG.encode())
    assert set(manifest.blobs.values_list("digest", flat=True)) == {
        digest_of(CONFIG.encode()),
        digest_of(b"layer one"),
    }
    assert version_content(repository, Blob).count() == 2
    assert [tag.name for tag in version_content(repository, Tag)] == ["1.0"]
    assert not ContainerUpload.objects.filter(repository=repository).exists()

    store_manifest(repository, parsed, "1.0")
    repository.refresh_from_db()
    assert repository.latest_version().number == 1


def test_tag_moves_to_new_manifest():
    repository = get_or_create_push_repository("moves")
    upload_blob(repository, "moves", CONFIG.encode())
    upload_blob(repository, "moves", b"first")
    upload_blob(repository, "moves", b"second")
    first = image_manifest(CONFIG.encode(), [b"first"])
    second = image_manifest(CONFIG.encode(), [b"second"])
    store_manifest(repository, first, "stable")
    store_manifest(repository, second, "stable")
    tags = version_content(repository, Tag)
    assert [tag.tagged_manifest.digest for tag in tags] == [second.digest]
    assert version_content(repository, Manifest).count() == 2


def test_mounted_blob_available():
    source = get_or_create_push_repository("source")
    blob = upload_blob(source, "source", b"mounted")
    target = get_or_create_push_repository("target")
    record_mounted_blob(target, "target", blob)
    assert available_blobs(target, [blob.digest]) == {blob.digest: blob}


def test_delete_tag_then_manifest():
    repository = get_or_create_push_repository("deletes")
    upload_blob(repository, "deletes", CONFIG.encode())
    upload_blob(repository, "deletes", b"del layer")
    parsed = image_manifest(CONFIG.encode(), [b"del layer"])
    store_manifest(repository, parsed, "a")
    store_manifest(repository, parsed, "b")

    delete_tag(repository, "a")
    assert [tag.name for tag in version_content(repository, Tag)] == ["b"]
    with pytest.raises(RegistryError) as raised:
        delete_tag(repository, "a")
    assert raised.value.code == "MANIFEST_UNKNOWN"

    delete_manifest(repository, parsed.digest)
    assert not version_content(repository, Manifest).exists()
    assert not version_content(repository, Tag).exists()
    assert not version_content(repository, Blob).exists()
    with pytest.raises(RegistryError) as raised:
        delete_manifest(repository, parsed.digest)
    assert raised.value.code == "MANIFEST_UNKNOWN"


def test_delete_manifest_keeps_shared_blobs():
    repository = get_or_create_push_repository("shared")
    upload_blob(repository, "shared", CONFIG.encode())
    upload_blob(repository, "shared", b"only one")
    upload_blob(repository, "shared", b"only two")
    one = image_manifest(CONFIG.encode(), [b"only one"])
    two = image_manifest(CONFIG.encode(), [b"only two"])
    store_manifest(repository, one, "one")
    store_manifest(repository, two, "two")

    delete_manifest(repository, one.digest)
    digests = set(version_content(repository, Blob).values_list("digest", flat=True))
    assert digests == {digest_of(CONFIG.encode()), digest_of(b"only two")}


def test_delete_pending_blob():
    repository = get_or_create_push_repository("pending")
    blob = upload_blob(repository, "pending", b"pending blob")
    delete_blob(repository, blob.digest)
    assert available_blobs(repository, [blob.digest]) == {}
    with pytest.raises(RegistryError) as raised:
        delete_blob(repository, blob.digest)
    assert raised.value.code == "BLOB_UNKNOWN"


def test_chunk_marks_session_active():
    repository = get_or_create_push_repository("chunks")
    upload = create_upload(repository, "chunks")
    long_ago = timezone.now() - datetime.timedelta(days=2)
    ContainerUpload.objects.filter(pk=upload.pk).update(pulp_last_updated=long_ago)
    record_chunk(upload, 10)
    stored = ContainerUpload.objects.get(pk=upload.pk)
    assert stored.size == 10
    assert stored.pulp_last_updated > long_ago + datetime.timedelta(days=1)

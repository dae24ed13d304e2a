"""Push versions written without pulpcore's new_version, size checks, owner roles, cleanup."""

import datetime
import json
import os

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pulpcore.app.models import RepositoryVersionContentDetails  # noqa: TID251 (no export)
from pulpcore.plugin.constants import TASK_STATES
from pulpcore.plugin.models import RepositoryContent, RepositoryVersion, Task
from pulpcore.plugin.util import get_objects_for_user, get_prn

from pulp_container.app import access_policies
from pulp_container.app.manifests import parse_manifest
from pulp_container.app.models import (
    Blob,
    ContainerDistribution,
    ContainerNamespace,
    ContainerPushRepository,
    ContainerUpload,
    Tag,
)
from pulp_container.app.registry import push_versions, upload_cleanup
from pulp_container.app.registry.errors import RegistryError
from pulp_container.app.registry.push_content import delete_manifest, store_manifest
from pulp_container.app.registry.push_repositories import (
    DISTRIBUTION_OWNER_ROLE,
    NAMESPACE_OWNER_ROLE,
    PUSH_REPOSITORY_OWNER_ROLE,
    get_or_create_push_repository,
)
from pulp_container.app.registry.upload_sessions import create_upload
from pulp_container.constants import DOCKER_MANIFEST_LIST
from pulp_container.tests.unit.test_push_content import (
    CONFIG,
    digest_of,
    image_manifest,
    upload_blob,
    version_content,
)

pytestmark = pytest.mark.django_db


def counts(version, count_type):
    details = RepositoryVersionContentDetails.objects.filter(
        repository_version=version, count_type=count_type
    )
    return dict(details.values_list("content_type", "count"))


def pushed_repository(name: str, layers: list[bytes]):
    repository = get_or_create_push_repository(name)
    upload_blob(repository, name, CONFIG.encode())
    for layer in layers:
        upload_blob(repository, name, layer)
    return repository


def test_version_counts_and_memberships():
    repository = pushed_repository("counts", [b"count one", b"count two"])
    first = image_manifest(CONFIG.encode(), [b"count one"])
    second = image_manifest(CONFIG.encode(), [b"count two"])
    store_manifest(repository, first, "latest")
    store_manifest(repository, second, "latest")

    version = repository.latest_version()
    assert version.number == 2
    assert version.complete
    assert counts(version, "A") == {
        "container.manifest": 1,
        "container.blob": 1,
        "container.tag": 1,
    }
    assert counts(version, "R") == {"container.tag": 1}
    assert counts(version, "P") == {
        "container.manifest": 2,
        "container.blob": 3,
        "container.tag": 1,
    }
    memberships = RepositoryContent.objects.filter(repository=repository, version_removed=None)
    assert set(memberships.values_list("content_id", flat=True)) == set(version.content_ids)
    repository.refresh_from_db()
    assert repository.next_version == 3


def test_manifest_put_query_count():
    repository = pushed_repository("queries", [b"query layer"])
    parsed = image_manifest(CONFIG.encode(), [b"query layer"])
    with CaptureQueriesContext(connection) as queries:
        store_manifest(repository, parsed, "1")
    # pulpcore's new_version path took about 70; the direct path stays near 25, transaction
    # statements included.
    assert len(queries.captured_queries) <= 30


def test_repeat_push_writes_nothing():
    repository = pushed_repository("repeat", [b"repeat layer"])
    parsed = image_manifest(CONFIG.encode(), [b"repeat layer"])
    store_manifest(repository, parsed, "1")
    before = RepositoryContent.objects.filter(repository=repository).count()
    store_manifest(repository, parsed, "1")
    assert repository.latest_version().number == 1
    assert RepositoryContent.objects.filter(repository=repository).count() == before


def test_layer_size_mismatch():
    repository = pushed_repository("sizes", [b"sized layer"])
    body = json.loads(image_manifest(CONFIG.encode(), [b"sized layer"]).data)
    body["layers"][0]["size"] = 3
    parsed = parse_manifest(json.dumps(body).encode(), body["mediaType"])
    with pytest.raises(RegistryError) as raised:
        store_manifest(repository, parsed, "1")
    assert raised.value.code == "SIZE_INVALID"
    assert raised.value.detail["digest"] == digest_of(b"sized layer")
    assert raised.value.detail["stored_size"] == len(b"sized layer")
    assert repository.latest_version().number == 0


def manifest_list(*images):
    body = {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST_LIST,
        "manifests": [
            {
                "mediaType": image.media_type,
                "size": len(image.data),
                "digest": image.digest,
                "platform": {"architecture": "amd64", "os": "linux"},
            }
            for image in images
        ],
    }
    return parse_manifest(json.dumps(body).encode(), DOCKER_MANIFEST_LIST)


def test_listed_manifest_size_mismatch():
    repository = pushed_repository("listsize", [b"list size layer"])
    image = image_manifest(CONFIG.encode(), [b"list size layer"])
    store_manifest(repository, image, None)
    body = json.loads(manifest_list(image).data)
    body["manifests"][0]["size"] += 1
    parsed = parse_manifest(json.dumps(body).encode(), DOCKER_MANIFEST_LIST)
    with pytest.raises(RegistryError) as raised:
        store_manifest(repository, parsed, "multi")
    assert raised.value.code == "SIZE_INVALID"
    assert raised.value.detail["digest"] == image.digest


def test_delete_listed_manifest_rejected():
    repository = pushed_repository("listed", [b"listed layer"])
    image = image_manifest(CONFIG.encode(), [b"listed layer"])
    store_manifest(repository, image, None)
    listing = manifest_list(image)
    store_manifest(repository, listing, "multi")

    with pytest.raises(RegistryError) as raised:
        delete_manifest(repository, image.digest)
    assert raised.value.code == "UNSUPPORTED"
    assert raised.value.status == 409
    assert raised.value.detail["manifest_lists"] == [listing.digest]

    delete_manifest(repository, listing.digest)
    delete_manifest(repository, image.digest)
    assert not version_content(repository, Tag).exists()


def test_owner_roles_for_pusher():
    user = get_user_model().objects.create(username="pusher")
    repository = get_or_create_push_repository("pusher/app", "pusher")
    distribution = ContainerDistribution.objects.get(base_path="pusher/app")
    namespace = ContainerNamespace.objects.get(name="pusher")

    assert user.has_perm("container.delete_containerdistribution", distribution)
    assert user.has_perm("container.change_containerpushrepository", repository)
    assert user.has_perm("container.delete_containernamespace", namespace)
    roles = set(user.object_roles.values_list("role__name", flat=True))
    assert roles == {PUSH_REPOSITORY_OWNER_ROLE, DISTRIBUTION_OWNER_ROLE, NAMESPACE_OWNER_ROLE}
    visible = get_objects_for_user(
        user, "container.view_containerpushrepository", ContainerPushRepository.objects.all()
    )
    assert list(visible) == [repository]


def test_owner_roles_skip_existing_namespace():
    ContainerNamespace.objects.create(name="shared")
    user = get_user_model().objects.create(username="second")
    get_or_create_push_repository("shared/app", "second")
    roles = set(user.object_roles.values_list("role__name", flat=True))
    assert roles == {PUSH_REPOSITORY_OWNER_ROLE, DISTRIBUTION_OWNER_ROLE}


def test_owner_role_names_are_locked_roles():
    assert PUSH_REPOSITORY_OWNER_ROLE in access_policies.PUSH_REPOSITORY_LOCKED_ROLES
    assert DISTRIBUTION_OWNER_ROLE in access_policies.DISTRIBUTION_LOCKED_ROLES
    assert NAMESPACE_OWNER_ROLE in access_policies.NAMESPACE_LOCKED_ROLES


def test_superuser_gets_no_roles():
    admin = get_user_model().objects.create(username="boss", is_superuser=True)
    get_or_create_push_repository("boss/app", "boss")
    assert not admin.object_roles.exists()


def test_stale_uploads_removed(settings):
    settings.UPLOAD_SESSION_TIMEOUT = 2
    repository = get_or_create_push_repository("stale")
    old = create_upload(repository, "stale")
    fresh = create_upload(repository, "stale")
    finished = upload_blob(repository, "stale", b"finished blob")
    hours_ago = timezone.now() - datetime.timedelta(hours=3)
    ContainerUpload.objects.filter(pk=old.pk).update(pulp_last_updated=hours_ago)
    ContainerUpload.objects.filter(blob=finished).update(pulp_last_updated=hours_ago)

    assert upload_cleanup.remove_stale_uploads() == 1
    assert not ContainerUpload.objects.filter(pk=old.pk).exists()
    assert not os.path.exists(old.file_path)
    assert os.path.exists(fresh.file_path)
    assert ContainerUpload.objects.filter(blob=finished).exists()


def test_stale_upload_in_use_kept(settings):
    settings.UPLOAD_SESSION_TIMEOUT = 1
    repository = get_or_create_push_repository("busy")
    upload = create_upload(repository, "busy")
    hours_ago = timezone.now() - datetime.timedelta(hours=2)
    ContainerUpload.objects.filter(pk=upload.pk).update(pulp_last_updated=hours_ago)
    locked = upload_cleanup.UploadFile(upload.file_path)
    locked.open()
    try:
        assert upload_cleanup.remove_stale_uploads() == 0
    finally:
        locked.close()
    assert os.path.exists(upload.file_path)


def test_stray_upload_file_removed(settings):
    settings.UPLOAD_SESSION_TIMEOUT = 1
    stray = os.path.join(upload_cleanup.upload_directory(), "stray-file")
    with open(stray, "wb") as stray_file:
        stray_file.write(b"left by a crash")
    two_hours_ago = (timezone.now() - datetime.timedelta(hours=2)).timestamp()
    os.utime(stray, (two_hours_ago, two_hours_ago))
    upload_cleanup.remove_stale_uploads()
    assert not os.path.exists(stray)


def test_cleanup_runs_on_session_start(settings, monkeypatch):
    settings.UPLOAD_SESSION_TIMEOUT = 1
    monkeypatch.setattr(upload_cleanup, "_last_cleanup", 0.0)
    repository = get_or_create_push_repository("opportunistic")
    old = create_upload(repository, "opportunistic")
    hours_ago = timezone.now() - datetime.timedelta(hours=2)
    ContainerUpload.objects.filter(pk=old.pk).update(pulp_last_updated=hours_ago)
    monkeypatch.setattr(upload_cleanup, "_last_cleanup", 0.0)
    create_upload(repository, "opportunistic")
    assert not ContainerUpload.objects.filter(pk=old.pk).exists()
    assert not os.path.exists(old.file_path)


def _running_task_building_version(repository):
    """Leave an incomplete version and a running task that reserves the repository."""
    RepositoryVersion.objects.create(
        repository=repository, number=repository.next_version, complete=False
    )
    Task.objects.create(
        name="unit-test-task",
        state=TASK_STATES.RUNNING,
        reserved_resources_record=[get_prn(repository)],
    )


def test_push_waits_for_running_task(monkeypatch):
    repository = get_or_create_push_repository("waits")
    _running_task_building_version(repository)
    monkeypatch.setattr(push_versions, "TASK_WAIT_SECONDS", 0.3)
    monkeypatch.setattr(push_versions, "TASK_POLL_SECONDS", 0.1)
    blob = Blob.objects.create(digest="sha256:" + "c" * 64)
    with pytest.raises(RegistryError) as raised:
        push_versions.change_content(repository.pk, add=[blob])
    assert raised.value.status == 503
    assert "retry the push" in raised.value.message
    assert RepositoryVersion.objects.filter(repository=repository, complete=False).count() == 1


def test_crashed_task_version_replaced():
    repository = get_or_create_push_repository("crashed")
    RepositoryVersion.objects.create(
        repository=repository, number=repository.next_version, complete=False
    )
    blob = Blob.objects.create(digest="sha256:" + "d" * 64)
    version = push_versions.change_content(repository.pk, add=[blob])
    assert version.complete
    assert not RepositoryVersion.objects.filter(repository=repository, complete=False).exists()


def test_version_number_clash_is_a_conflict():
    repository = get_or_create_push_repository("clash")
    with pytest.raises(IntegrityError) as raised:
        with transaction.atomic():
            RepositoryVersion.objects.create(repository=repository, number=0, complete=True)
    assert push_versions._is_version_conflict(raised.value)
    other = IntegrityError("other")
    assert not push_versions._is_version_conflict(other)

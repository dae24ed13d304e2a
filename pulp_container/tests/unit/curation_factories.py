"""Builders of blob, manifest, list and tag rows for the curation unit tests."""

import hashlib
import itertools

from pulp_container.app.models import (
    Blob,
    BlobManifest,
    Manifest,
    ManifestListManifest,
    ManifestSignature,
    Tag,
)
from pulp_container.constants import (
    DOCKER_MANIFEST_LIST,
    DOCKER_MANIFEST_V2,
    MANIFEST_TYPE_LIST,
)

_counter = itertools.count()


def fake_digest(label: str) -> str:
    """Return a unique sha256 digest derived from the label and a counter."""
    seed = f"{label}-{next(_counter)}".encode()
    return "sha256:" + hashlib.sha256(seed).hexdigest()


def make_blob(label: str = "blob") -> Blob:
    return Blob.objects.create(digest=fake_digest(label))


def make_image(layers: list[Blob] | None = None, media_type: str = DOCKER_MANIFEST_V2) -> Manifest:
    """Create an image manifest with a new config blob and the given (or one new) layer blobs."""
    config = make_blob("config")
    layers = layers if layers is not None else [make_blob("layer")]
    manifest = Manifest.objects.create(
        digest=fake_digest("image"),
        schema_version=2,
        media_type=media_type,
        data="{}",
        config_blob=config,
    )
    for blob in [config, *layers]:
        BlobManifest.objects.create(manifest=manifest, manifest_blob=blob)
    return manifest


def make_list(images: list[Manifest], media_type: str = DOCKER_MANIFEST_LIST) -> Manifest:
    manifest_list = Manifest.objects.create(
        digest=fake_digest("list"),
        schema_version=2,
        media_type=media_type,
        type=MANIFEST_TYPE_LIST,
        data="{}",
    )
    for image in images:
        ManifestListManifest.objects.create(manifest_list=manifest_list, image_manifest=image)
    return manifest_list


def make_tag(name: str, manifest: Manifest) -> Tag:
    return Tag.objects.create(name=name, tagged_manifest=manifest)


def make_signature(manifest: Manifest) -> ManifestSignature:
    digest = fake_digest("signature")
    return ManifestSignature.objects.create(
        name=f"{manifest.digest}@{digest[7:39]}",
        digest=digest,
        key_id="0123456789ABCDEF",
        timestamp=1700000000,
        data="c2lnbmF0dXJl",
        signed_manifest=manifest,
    )


def units(*objects) -> list:
    """Return the primary keys of the given content rows."""
    return [obj.pk for obj in objects]


def version_pks(repository) -> set:
    return set(repository.latest_version().content.values_list("pk", flat=True))


def counts(repository) -> dict[str, int]:
    """Return the number of units of each content type in the latest version."""
    content = repository.latest_version().content
    return {
        "tag": Tag.objects.filter(pk__in=content).count(),
        "manifest": Manifest.objects.filter(pk__in=content).count(),
        "blob": Blob.objects.filter(pk__in=content).count(),
        "signature": ManifestSignature.objects.filter(pk__in=content).count(),
    }

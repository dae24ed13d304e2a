"""
Database side of manifest pushes and of manifest, tag and blob deletion.

All functions are synchronous and run queries, so async handlers call them through
`sync_to_async`. Every check runs before anything is written, so a rejected push stores
nothing.
"""

import logging
from typing import Optional

from django.db import IntegrityError, transaction
from django.db.models import Q

from pulpcore.plugin.models import Content

from pulp_container.app.manifests import (
    ParsedManifest,
    build_blob_links,
    build_list_links,
    build_manifest,
    parse_image_config,
)
from pulp_container.app.models import (
    Blob,
    BlobManifest,
    ContainerPushRepository,
    ContainerUpload,
    Manifest,
    ManifestListManifest,
    Tag,
)
from pulp_container.app.registry.errors import RegistryError
from pulp_container.app.registry.push_repositories import (
    available_blobs,
    change_content,
    latest_content,
)
from pulp_container.constants import MANIFEST_MAX_SIZE, MANIFEST_TYPE_IMAGE, MANIFEST_TYPE_LIST

log = logging.getLogger(__name__)


def _blob_unknown(digest: str, kind: str) -> RegistryError:
    return RegistryError(
        "MANIFEST_BLOB_UNKNOWN",
        detail={"digest": digest},
        message=f"The manifest references {kind} {digest}, which was not pushed to this repository",
    )


def _referenced_blobs(repository: ContainerPushRepository, parsed: ParsedManifest) -> dict:
    """
    Return {digest: Blob} of the config and layers, which must be in or pushed to the repository.

    Foreign layers may be missing, because clients fetch them from their `urls`.
    """
    blobs = available_blobs(repository, (descriptor.digest for descriptor in parsed.blobs))
    for descriptor in parsed.blobs:
        if descriptor.digest not in blobs and not descriptor.is_foreign:
            raise _blob_unknown(descriptor.digest, "blob")
    return blobs


def _listed_manifests(repository: ContainerPushRepository, parsed: ParsedManifest) -> dict:
    """Return {digest: Manifest} of a list's manifests, which must be in the repository."""
    digests = {entry.descriptor.digest for entry in parsed.listed_manifests}
    found = Manifest.objects.filter(digest__in=digests, pk__in=latest_content(repository))
    manifests = {manifest.digest: manifest for manifest in found}
    for entry in parsed.listed_manifests:
        if entry.descriptor.digest not in manifests:
            raise _blob_unknown(entry.descriptor.digest, "manifest")
    return manifests


def _read_image_config(blob: Optional[Blob]) -> Optional[dict]:
    """Return `parse_image_config` of a config blob, or None when it has no readable data."""
    if blob is None:
        return None
    content_artifact = blob.contentartifact_set.select_related("artifact").first()
    artifact = content_artifact.artifact if content_artifact else None
    if artifact is None or artifact.size > MANIFEST_MAX_SIZE:
        return None
    with artifact.file.open("rb") as config_file:
        return parse_image_config(config_file.read())


def _get_or_create_manifest(
    parsed: ParsedManifest, blobs: dict, listed: dict, config: Optional[dict]
) -> Manifest:
    """Return the manifest of `parsed.digest`, creating it and its links in one transaction."""
    existing = Manifest.objects.filter(digest=parsed.digest).first()
    if existing is not None:
        return existing
    manifest = build_manifest(parsed, config)
    if parsed.config is not None:
        manifest.config_blob = blobs.get(parsed.config.digest)
    try:
        with transaction.atomic():
            manifest.save()
            BlobManifest.objects.bulk_create(build_blob_links(manifest, parsed, blobs))
            ManifestListManifest.objects.bulk_create(build_list_links(manifest, parsed, listed))
    except IntegrityError:
        # A concurrent push of the same manifest created it first, links included.
        return Manifest.objects.get(digest=parsed.digest)
    return manifest


def store_manifest(
    repository: ContainerPushRepository, parsed: ParsedManifest, tag: Optional[str]
) -> None:
    """
    Add a pushed manifest, its blobs and its tag to a new version of the push repository.

    Pushing the same manifest and tag again creates no new content and no new version.

    Raises:
        RegistryError: MANIFEST_BLOB_UNKNOWN when a referenced blob or listed manifest is
            neither in the repository nor pushed to it.
    """
    blobs: dict = {}
    listed: dict = {}
    if parsed.type == MANIFEST_TYPE_LIST:
        listed = _listed_manifests(repository, parsed)
    else:
        blobs = _referenced_blobs(repository, parsed)
    config = None
    if parsed.type == MANIFEST_TYPE_IMAGE and parsed.config is not None:
        config = _read_image_config(blobs.get(parsed.config.digest))

    manifest = _get_or_create_manifest(parsed, blobs, listed, config)
    content: list[Content] = [manifest, *blobs.values()]
    if tag is not None:
        tag_content, _ = Tag.objects.get_or_create(name=tag, tagged_manifest=manifest)
        content.append(tag_content)
    change_content(repository.pk, add=content)


def delete_manifest(repository: ContainerPushRepository, digest: str) -> None:
    """
    Remove a manifest, the tags that point to it, and its blobs that no other manifest uses.

    Raises:
        RegistryError: MANIFEST_UNKNOWN when the latest version has no such manifest.
    """
    # NOTE: a manifest list or index that names this manifest stays in the repository, so
    # pulling that platform through the list fails afterwards.
    content = latest_content(repository)
    manifest = Manifest.objects.filter(digest=digest, pk__in=content).first()
    if manifest is None:
        raise RegistryError(
            "MANIFEST_UNKNOWN",
            detail={"digest": digest},
            message="The repository has no manifest with this digest",
        )
    others = Manifest.objects.filter(pk__in=content).exclude(pk=manifest.pk)
    shared_blobs = BlobManifest.objects.filter(manifest__in=others).values("manifest_blob")
    remove = Content.objects.filter(
        Q(pk=manifest.pk)
        | Q(pk__in=Tag.objects.filter(tagged_manifest=manifest, pk__in=content))
        | Q(
            pk__in=Blob.objects.filter(pk__in=content, manifests=manifest).exclude(
                pk__in=shared_blobs
            )
        )
    )
    change_content(repository.pk, remove=remove)


def delete_tag(repository: ContainerPushRepository, tag: str) -> None:
    """
    Remove a tag; the manifest it pointed to stays, reachable by digest.

    Raises:
        RegistryError: MANIFEST_UNKNOWN when the latest version has no such tag.
    """
    tags = Tag.objects.filter(name=tag, pk__in=latest_content(repository))
    if not tags.exists():
        raise RegistryError(
            "MANIFEST_UNKNOWN", detail={"tag": tag}, message="The repository has no such tag"
        )
    change_content(repository.pk, remove=Content.objects.filter(pk__in=tags))


def delete_blob(repository: ContainerPushRepository, digest: str) -> None:
    """
    Remove a blob from the repository and forget that it was pushed there.

    Raises:
        RegistryError: BLOB_UNKNOWN when the blob is neither in nor pushed to the repository.
    """
    blobs = Blob.objects.filter(digest=digest, pk__in=latest_content(repository))
    pending = ContainerUpload.objects.filter(repository=repository, blob__digest=digest)
    in_version = blobs.exists()
    if not in_version and not pending.exists():
        raise RegistryError(
            "BLOB_UNKNOWN",
            detail={"digest": digest},
            message="The repository has no blob with this digest",
        )
    pending.delete()
    if in_version:
        change_content(repository.pk, remove=Content.objects.filter(pk__in=blobs))

"""
Database side of manifest pushes and of manifest, tag and blob deletion.

All functions are synchronous and run queries, so async handlers call them through
`sync_to_async`. Every check runs before anything is written, so a rejected push stores
nothing.
"""

import logging
from typing import Optional

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from pulpcore.plugin.models import Artifact, Content

from pulp_container.app.manifests import (
    Descriptor,
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
    latest_content,
    latest_content_ids,
)
from pulp_container.app.registry.push_versions import change_content
from pulp_container.constants import MANIFEST_MAX_SIZE, MANIFEST_TYPE_IMAGE, MANIFEST_TYPE_LIST

log = logging.getLogger(__name__)


def _blob_unknown(digest: str, kind: str) -> RegistryError:
    return RegistryError(
        "MANIFEST_BLOB_UNKNOWN",
        detail={"digest": digest},
        message=f"The manifest references {kind} {digest}, which was not pushed to this repository",
    )


def _size_mismatch(descriptor: Descriptor, stored_size: int, kind: str) -> RegistryError:
    return RegistryError(
        "SIZE_INVALID",
        detail={"digest": descriptor.digest, "size": descriptor.size, "stored_size": stored_size},
        message=(
            f"The manifest gives {kind} {descriptor.digest} a size of {descriptor.size} bytes, "
            f"but the stored {kind} has {stored_size}; fix the size in the manifest"
        ),
    )


def _referenced_blobs(repository: ContainerPushRepository, parsed: ParsedManifest) -> dict:
    """
    Return {digest: Blob} of the config and layers, which must be in or pushed to the repository.

    Foreign layers may be missing, because clients fetch them from their `urls`. A blob whose
    data is stored must have the size that the manifest gives it.
    """
    blobs = available_blobs(repository, (descriptor.digest for descriptor in parsed.blobs))
    for descriptor in parsed.blobs:
        blob = blobs.get(descriptor.digest)
        if blob is None:
            if descriptor.is_foreign:
                continue
            raise _blob_unknown(descriptor.digest, "blob")
        if blob.stored_size is not None and blob.stored_size != descriptor.size:
            raise _size_mismatch(descriptor, blob.stored_size, "blob")
    return blobs


def _listed_manifests(repository: ContainerPushRepository, parsed: ParsedManifest) -> dict:
    """Return {digest: Manifest} of a list's manifests, which must be in the repository."""
    digests = {entry.descriptor.digest for entry in parsed.listed_manifests}
    found = Manifest.objects.filter(digest__in=digests, pk__in=latest_content_ids(repository.pk))
    manifests = {manifest.digest: manifest for manifest in found}
    for entry in parsed.listed_manifests:
        manifest = manifests.get(entry.descriptor.digest)
        if manifest is None:
            raise _blob_unknown(entry.descriptor.digest, "manifest")
        stored_size = len(manifest.data.encode())
        if stored_size != entry.descriptor.size:
            raise _size_mismatch(entry.descriptor, stored_size, "manifest")
    return manifests


def _read_image_config(blob: Optional[Blob]) -> Optional[dict]:
    """Return `parse_image_config` of a config blob, or None when it has no readable data."""
    if blob is None or blob.stored_file is None or blob.stored_size > MANIFEST_MAX_SIZE:
        return None
    artifact = Artifact(file=blob.stored_file, size=blob.stored_size)
    with artifact.file.open("rb") as config_file:
        return parse_image_config(config_file.read())


def _get_or_create_manifest(
    parsed: ParsedManifest, blobs: dict, listed: dict, config: Optional[dict]
) -> Manifest:
    """
    Return the manifest of `parsed.digest`, creating it and its links.

    The caller holds a transaction. The manifest's save runs in a savepoint of its own
    (django-lifecycle's save is atomic), so a concurrent creator's unique key leaves that
    transaction usable.
    """
    existing = Manifest.objects.filter(digest=parsed.digest).first()
    if existing is not None:
        return existing
    manifest = build_manifest(parsed, config)
    if parsed.config is not None:
        manifest.config_blob = blobs.get(parsed.config.digest)
    try:
        manifest.save()
    except IntegrityError:
        # A concurrent push of the same manifest created it first, links included.
        return Manifest.objects.get(digest=parsed.digest)
    BlobManifest.objects.bulk_create(build_blob_links(manifest, parsed, blobs))
    if listed:
        ManifestListManifest.objects.bulk_create(build_list_links(manifest, parsed, listed))
    return manifest


def _get_or_create_tag(name: str, manifest: Manifest) -> Tag:
    """Return the tag `name` of `manifest`, tolerating a concurrent creator (as above)."""
    tag = Tag.objects.filter(name=name, tagged_manifest=manifest).first()
    if tag is not None:
        return tag
    try:
        return Tag.objects.create(name=name, tagged_manifest=manifest)
    except IntegrityError:
        return Tag.objects.get(name=name, tagged_manifest=manifest)


def store_manifest(
    repository: ContainerPushRepository, parsed: ParsedManifest, tag: Optional[str]
) -> None:
    """
    Add a pushed manifest, its blobs and its tag to a new version of the push repository.

    Pushing the same manifest and tag again creates no new content and no new version.

    Raises:
        RegistryError: MANIFEST_BLOB_UNKNOWN when a referenced blob or listed manifest is
            neither in the repository nor pushed to it, and SIZE_INVALID when the manifest
            gives one of them another size than the stored data has.
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

    # One transaction for the new content and the version saves a commit per step.
    with transaction.atomic():
        manifest = _get_or_create_manifest(parsed, blobs, listed, config)
        content: list[Content] = [manifest, *blobs.values()]
        if tag is not None:
            content.append(_get_or_create_tag(tag, manifest))
        change_content(repository.pk, add=content)


def _reject_if_used(users: QuerySet, digest: str, users_key: str, message: str) -> None:
    """
    Raise UNSUPPORTED (409 Conflict) naming up to 10 manifests of `users`, if there are any.

    Deleting content that manifests of the version still use would leave those manifests
    unpullable, so the client must delete them first.
    """
    digests = list(users.values_list("digest", flat=True)[:10])
    if digests:
        raise RegistryError(
            "UNSUPPORTED",
            detail={"digest": digest, users_key: digests},
            message=message,
            status=409,
        )


def _check_not_listed(manifest: Manifest, content: QuerySet) -> None:
    """Reject the deletion of a manifest that a manifest list or index of the version names."""
    _reject_if_used(
        Manifest.objects.filter(pk__in=content, listed_manifests=manifest),
        manifest.digest,
        "manifest_lists",
        "The manifest is named by a manifest list or index of this repository; "
        "delete those lists first",
    )


def delete_manifest(repository: ContainerPushRepository, digest: str) -> None:
    """
    Remove a manifest, the tags that point to it, and its blobs that no other manifest uses.

    Raises:
        RegistryError: MANIFEST_UNKNOWN when the latest version has no such manifest, and
            UNSUPPORTED (409 Conflict) when a manifest list or index of the version names it.
    """
    content = latest_content(repository)
    manifest = Manifest.objects.filter(digest=digest, pk__in=content).first()
    if manifest is None:
        raise RegistryError(
            "MANIFEST_UNKNOWN",
            detail={"digest": digest},
            message="The repository has no manifest with this digest",
        )
    _check_not_listed(manifest, content)
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
        RegistryError: BLOB_UNKNOWN when the blob is neither in nor pushed to the repository,
            and UNSUPPORTED (409 Conflict) when a manifest of the version uses it.
    """
    content = latest_content(repository)
    blobs = Blob.objects.filter(digest=digest, pk__in=content)
    pending = ContainerUpload.objects.filter(repository=repository, blob__digest=digest)
    in_version = blobs.exists()
    if not in_version and not pending.exists():
        raise RegistryError(
            "BLOB_UNKNOWN",
            detail={"digest": digest},
            message="The repository has no blob with this digest",
        )
    _reject_if_used(
        Manifest.objects.filter(pk__in=content, blobs__digest=digest),
        digest,
        "manifests",
        "A manifest of this repository uses the blob. Delete those manifests first",
    )
    pending.delete()
    if in_version:
        change_content(repository.pk, remove=Content.objects.filter(pk__in=blobs))

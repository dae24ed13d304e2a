"""Tasks that copy tags or manifests, with their dependencies, from another repository version."""

import logging

from pulpcore.plugin.models import Content, Repository, RepositoryVersion

from pulp_container.app.models import Manifest, Tag
from pulp_container.app.tasks.dependencies import (
    attached_units,
    dependency_closure,
    manifest_closure,
)

log = logging.getLogger(__name__)


def _copy_units(source_version: RepositoryVersion, destination_pk: str, root_pks: set) -> None:
    """
    Add the roots to a new destination version, with their dependencies.

    Signatures and OCI referrer artifacts of the copied manifests come along when the source
    version contains them.
    """
    destination = Repository.objects.get(pk=destination_pk).cast()
    units = dependency_closure(root_pks)
    units |= attached_units(manifest_closure(root_pks), source_version.content)

    with destination.new_version() as new_version:
        new_version.add_content(Content.objects.filter(pk__in=units))

    log.info(
        "Content copied: source=%s/%s destination=%s version=%s units=%s",
        source_version.repository.name,
        source_version.number,
        destination.name,
        new_version.number,
        len(units),
    )


def copy_tags(
    source_version_pk: str, destination_repository_pk: str, names: list[str] | None = None
) -> None:
    """
    Copy tags of a source version, all of them when `names` is empty, into a new version.

    A copied tag replaces a tag of the same name in the destination, which moves that tag.
    """
    source_version = RepositoryVersion.objects.get(pk=source_version_pk)
    tags = Tag.objects.filter(pk__in=source_version.content)
    if names:
        tags = tags.filter(name__in=names)
    _copy_units(source_version, destination_repository_pk, set(tags.values_list("pk", flat=True)))


def copy_manifests(
    source_version_pk: str,
    destination_repository_pk: str,
    digests: list[str] | None = None,
    media_types: list[str] | None = None,
) -> None:
    """
    Copy manifests of a source version, without tags, into a new version.

    `digests` and `media_types` narrow the selection, and both must match when both are given.
    All manifests are copied when neither is given.
    """
    source_version = RepositoryVersion.objects.get(pk=source_version_pk)
    manifests = Manifest.objects.filter(pk__in=source_version.content)
    if digests:
        manifests = manifests.filter(digest__in=digests)
    if media_types:
        manifests = manifests.filter(media_type__in=media_types)
    roots = set(manifests.values_list("pk", flat=True))
    _copy_units(source_version, destination_repository_pk, roots)

"""Tasks that tag a manifest in a repository or remove a tag from it."""

import logging

from pulpcore.plugin.exceptions import ValidationError
from pulpcore.plugin.models import Repository

from pulp_container.app.models import Manifest, Tag

log = logging.getLogger(__name__)


def tag_image(repository_pk: str, tag: str, digest: str) -> None:
    """
    Point the tag at the manifest with the digest in a new repository version.

    An existing tag of that name moves. When it already points at the manifest, pulpcore
    creates no version.

    Raises:
        ValidationError: When the latest version has no manifest with the digest.
    """
    repository = Repository.objects.get(pk=repository_pk).cast()
    latest = repository.latest_version()
    manifest = Manifest.objects.filter(pk__in=latest.content, digest=digest).first()
    if manifest is None:
        raise ValidationError(
            f"No manifest with digest {digest} is in the latest version of repository "
            f"'{repository.name}'. Add or copy the manifest first."
        )

    tag_unit, _created = Tag.objects.get_or_create(name=tag, tagged_manifest=manifest)
    tag_unit.touch()
    with repository.new_version() as new_version:
        new_version.add_content(Tag.objects.filter(pk=tag_unit.pk))

    log.info(
        "Tagged: repository=%s version=%s tag=%s digest=%s",
        repository.name,
        new_version.number,
        tag,
        digest,
    )


def untag_image(repository_pk: str, tag: str) -> None:
    """
    Remove the tag, and nothing else, in a new repository version.

    Raises:
        ValidationError: When the latest version has no tag of that name.
    """
    repository = Repository.objects.get(pk=repository_pk).cast()
    tags = Tag.objects.filter(pk__in=repository.latest_version().content, name=tag)
    if not tags.exists():
        raise ValidationError(
            f"No tag '{tag}' is in the latest version of repository '{repository.name}'."
        )

    with repository.new_version() as new_version:
        new_version.remove_content(tags)

    log.info("Untagged: repository=%s version=%s tag=%s", repository.name, new_version.number, tag)

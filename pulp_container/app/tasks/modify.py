"""The task behind the add, remove and modify actions: changes that carry dependencies along."""

import logging
from collections.abc import Iterable
from uuid import UUID

from pulpcore.plugin.exceptions import ValidationError
from pulpcore.plugin.models import Content, Repository, RepositoryVersion

from pulp_container.app.tasks.dependencies import (
    dependency_closure,
    describe_blocked,
    plan_removal,
)

log = logging.getLogger(__name__)

REMOVE_ALL = "*"


def remove_from_version(
    version: RepositoryVersion, content_pks: Iterable[UUID | str], force: bool = False
) -> int:
    """
    Remove the units and the dependencies that nothing left in the version references.

    `content_pks` may be `["*"]`, which empties the version. Returns the number of units
    removed.

    Raises:
        ValidationError: Without `force`, when a unit left in the version still references
            one of the named units.
    """
    content_pks = list(content_pks)
    if REMOVE_ALL in content_pks:
        removed = set(version.content.values_list("pk", flat=True))
    else:
        plan = plan_removal(content_pks, version.content, force=force)
        if plan.blocked:
            raise ValidationError(describe_blocked(plan.blocked))
        removed = plan.remove

    version.remove_content(Content.objects.filter(pk__in=removed))
    return len(removed)


def add_to_version(version: RepositoryVersion, content_pks: Iterable[UUID | str]) -> int:
    """Add the units with everything they depend on. Returns the number of units added."""
    added = dependency_closure(content_pks)
    version.add_content(Content.objects.filter(pk__in=added))
    return len(added)


def recursive_add_remove(
    repository_pk: str,
    add_content_units: list[str] | None = None,
    remove_content_units: list[str] | None = None,
    base_version_pk: str | None = None,
    force: bool = False,
) -> None:
    """
    Create a repository version: remove units, then add units, each with their dependencies.

    The new version starts from `base_version_pk` when given, else from the latest version,
    so a call with only a base version restores an older version's content. When the content
    ends up unchanged, pulpcore creates no version.
    """
    repository = Repository.objects.get(pk=repository_pk).cast()
    base_version = None
    if base_version_pk:
        base_version = RepositoryVersion.objects.get(pk=base_version_pk)

    with repository.new_version(base_version=base_version) as new_version:
        if remove_content_units:
            remove_from_version(new_version, remove_content_units, force=force)
        if add_content_units:
            add_to_version(new_version, add_content_units)

    # pulpcore deletes a version without changes, which clears its primary key.
    if new_version.pk is None:
        log.info("Content unchanged, no version created: repository=%s", repository.name)
        return
    log.info(
        "Content changed: repository=%s version=%s removed=%s added=%s",
        repository.name,
        new_version.number,
        new_version.removed().count(),
        new_version.added().count(),
    )

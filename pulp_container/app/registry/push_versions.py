"""
New versions of push repositories, written with a small, fixed number of queries.

pulpcore's `Repository.new_version()` context manager re-reads the new version several times
and, on exit, validates every content unit of the version (duplicate keys, artifact paths,
content types) and recounts it, so one manifest push costs about 50 queries and grows with
the repository. A push changes a known, small set of content, so `change_content` writes the
same rows directly: the version (already complete, with its `content_ids`), its
RepositoryContent memberships, its content counts (the previous counts plus the change), and
the repository's `next_version`. The only check it needs is the one pulpcore's
`remove_duplicates` makes for container content: one tag per name.

All functions are synchronous and run queries; async handlers call them through
`sync_to_async`.
"""

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Optional

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from pulpcore.app.models import (  # noqa: TID251 (the plugin API does not export the counts)
    RepositoryVersionContentDetails,
)
from pulpcore.plugin.models import Content, Repository, RepositoryContent, RepositoryVersion

from pulp_container.app.models import Blob, ContainerPushRepository, ContainerUpload, Tag

log = logging.getLogger(__name__)

ADDED = RepositoryVersionContentDetails.ADDED
PRESENT = RepositoryVersionContentDetails.PRESENT
REMOVED = RepositoryVersionContentDetails.REMOVED


def _latest_version(repository_pk) -> Optional[RepositoryVersion]:
    """Load the pk, number, completeness and content_ids of the latest version in one query."""
    row = (
        RepositoryVersion.objects.filter(repository_id=repository_pk)
        .order_by("-number")
        .values_list("pk", "number", "complete", "content_ids")
        .first()
    )
    if row is None:
        return None
    pk, number, complete, content_ids = row
    return RepositoryVersion(
        pk=pk,
        repository_id=repository_pk,
        number=number,
        complete=complete,
        content_ids=content_ids,
    )


def _replaced_tags(version: RepositoryVersion, added: Mapping) -> dict:
    """Return {pk: pulp_type} of the version's tags that share a name with an added tag."""
    names = [content.name for content in added.values() if isinstance(content, Tag)]
    if not names:
        return {}
    replaced = (
        Tag.objects.filter(name__in=names, pk__in=version.content_ids_subquery())
        .exclude(pk__in=list(added))
        .values_list("pk", flat=True)
    )
    return {pk: Tag.get_pulp_type() for pk in replaced}


def _new_counts(previous: RepositoryVersion, added: Counter, removed: Counter) -> Counter:
    """Return the PRESENT counts by content type: the previous version's plus the change."""
    present = Counter(
        dict(
            RepositoryVersionContentDetails.objects.filter(
                repository_version=previous, count_type=PRESENT
            ).values_list("content_type", "count")
        )
    )
    present.update(added)
    present.subtract(removed)
    return present


def _write_counts(version: RepositoryVersion, counts: dict[str, Counter]) -> None:
    details = [
        RepositoryVersionContentDetails(
            repository_version=version, count_type=count_type, content_type=pulp_type, count=count
        )
        for count_type, by_type in counts.items()
        for pulp_type, count in by_type.items()
        if count > 0
    ]
    RepositoryVersionContentDetails.objects.bulk_create(details)


def _blob_pks(content: Mapping) -> list:
    return [pk for pk, unit in content.items() if isinstance(unit, Blob)]


def _delete_pending_uploads(repository_pk, blob_pks: list) -> None:
    """
    Delete the upload records of blobs that a version now contains.

    A plain DELETE, because ContainerUpload has no dependent rows and Django's collector would
    first look for role assignments on each row.
    """
    if not blob_pks:
        return
    table = ContainerUpload._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE repository_id = %s AND blob_id = ANY(%s::uuid[])",
            [repository_pk, blob_pks],
        )


def _write_version(
    repository: Repository, previous: RepositoryVersion, added: Mapping, removed: Mapping
) -> RepositoryVersion:
    """Insert the complete version, its memberships and counts; the caller holds the lock."""
    content_ids = (set(previous.content_ids) - removed.keys()) | added.keys()
    version = RepositoryVersion(
        repository_id=repository.pk,
        number=repository.next_version,
        complete=True,
        content_ids=list(content_ids),
    )
    # bulk_create skips the model's BEFORE_CREATE hook, which would copy the previous
    # version's content_ids over the ones computed here.
    RepositoryVersion.objects.bulk_create([version])
    RepositoryContent.objects.bulk_create(
        RepositoryContent(repository_id=repository.pk, content_id=pk, version_added=version)
        for pk in added
    )
    if removed:
        RepositoryContent.objects.filter(
            repository_id=repository.pk, content_id__in=list(removed), version_removed=None
        ).update(version_removed=version)
    added_types = Counter(content.get_pulp_type() for content in added.values())
    removed_types = Counter(removed.values())
    counts = {
        ADDED: added_types,
        REMOVED: removed_types,
        PRESENT: _new_counts(previous, added_types, removed_types),
    }
    _write_counts(version, counts)
    Repository.objects.filter(pk=repository.pk).update(
        next_version=version.number + 1, pulp_last_updated=timezone.now()
    )
    return version


def _finish(repository: Repository, version: RepositoryVersion) -> None:
    """Run what pulpcore runs after a new version: cache, retention and the plugin hook."""
    if settings.CACHE_ENABLED:
        transaction.on_commit(repository.invalidate_cache)
    if repository.retain_repo_versions:
        repository.cleanup_old_versions()
    if ContainerPushRepository.on_new_version is not Repository.on_new_version:
        repository.cast().on_new_version(version)


def change_content(
    repository_pk,
    add: Iterable[Content] = (),
    remove: Optional[QuerySet] = None,
) -> Optional[RepositoryVersion]:
    """
    Create a new version of a push repository with content added and removed.

    The repository row is locked (SELECT ... FOR UPDATE) for the whole change, so concurrent
    pushes into one repository build their versions one after another and none is lost. An
    added tag replaces the version's tags of the same name. The upload records of added blobs
    are deleted, because the version now has the blobs. Nothing is written when the content
    would not change.

    Returns:
        The new version, or None when nothing changed.
    """
    # NOTE: pulpcore tasks that modify this repository (e.g. a REST API remove) reserve it
    # in the tasking system, which does not see this row lock, so such a task racing with a
    # push may fail on the version number; the push itself cannot lose content.
    added_all = {content.pk: content for content in add}
    with transaction.atomic():
        repository = Repository.objects.select_for_update().get(pk=repository_pk)
        previous = _latest_version(repository_pk)
        if previous is None or not previous.complete:
            # A crashed task left an incomplete version: pulpcore's path deletes it first.
            return _change_content_with_pulpcore(repository, added_all, remove)
        current = set(previous.content_ids)
        added = {pk: content for pk, content in added_all.items() if pk not in current}
        removed = _replaced_tags(previous, added) if added else {}
        if remove is not None:
            removed.update(
                remove.filter(pk__in=previous.content_ids_subquery()).values_list("pk", "pulp_type")
            )
        _delete_pending_uploads(repository_pk, _blob_pks(added_all))
        if not added and not removed:
            return None
        version = _write_version(repository, previous, added, removed)
        _finish(repository, version)
    log.info(
        "Push created repository version: repository=%s version=%s added=%s removed=%s",
        repository.name,
        version.number,
        len(added),
        len(removed),
    )
    return version


def _change_content_with_pulpcore(
    repository: Repository, added: Mapping, remove: Optional[QuerySet]
) -> Optional[RepositoryVersion]:
    push_repository = repository.cast()
    with push_repository.new_version() as version:
        if remove is not None:
            version.remove_content(remove)
        if added:
            version.add_content(Content.objects.filter(pk__in=list(added)))
    _delete_pending_uploads(repository.pk, _blob_pks(added))
    return version if version.complete else None

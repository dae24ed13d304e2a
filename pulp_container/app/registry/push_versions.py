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

import itertools
import logging
import random
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Optional

import psycopg
from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from pulpcore.app.models import (  # noqa: TID251 (the plugin API does not export the counts)
    RepositoryVersionContentDetails,
)
from pulpcore.plugin.constants import TASK_STATES
from pulpcore.plugin.models import (
    Content,
    Repository,
    RepositoryContent,
    RepositoryVersion,
    Task,
)
from pulpcore.plugin.util import get_prn

from pulp_container.app.models import Blob, ContainerPushRepository, ContainerUpload, Tag
from pulp_container.app.registry.errors import RegistryError

log = logging.getLogger(__name__)

ADDED = RepositoryVersionContentDetails.ADDED
PRESENT = RepositoryVersionContentDetails.PRESENT
REMOVED = RepositoryVersionContentDetails.REMOVED
# Attempts of a push whose version clashes with a pulpcore task's (deadlock, same number).
CONFLICT_ATTEMPTS = 5
# How long a push waits for a running task that is building a version of its repository.
TASK_WAIT_SECONDS = 60
TASK_POLL_SECONDS = 0.2


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

    A pulpcore task (e.g. a REST API `tag` or `remove`) that changes the same repository does
    not take that row lock. While such a task builds its version, the push waits for it, and
    a deadlock or version-number conflict with it is retried.

    Returns:
        The new version, or None when nothing changed.
    """
    # NOTE: pulpcore numbers a task's version from the repository row it loaded at its start,
    # so a task that overlaps a push may still fail on the version number. Its change is then
    # not applied, and running the task again succeeds.
    added_all = {content.pk: content for content in add}
    deadline = time.monotonic() + TASK_WAIT_SECONDS
    for attempt in itertools.count(1):
        try:
            with transaction.atomic():
                return _change_content_once(repository_pk, added_all, remove)
        except _TaskBuildingVersion as building:
            # The rollback released the row lock, which the task needs to finish its version.
            if time.monotonic() > deadline:
                raise RegistryError(
                    "UNKNOWN",
                    detail={"repository": building.name},
                    message=f"a task has been changing this repository for over "
                    f"{TASK_WAIT_SECONDS} s; retry the push when it has finished",
                    status=503,
                ) from None
            time.sleep(TASK_POLL_SECONDS)
        except (IntegrityError, OperationalError) as error:
            if attempt >= CONFLICT_ATTEMPTS or not _is_version_conflict(error):
                raise
            log.info(
                "Push version conflicted with a concurrent change, retrying: repository=%s "
                "attempt=%s error=%s",
                repository_pk,
                attempt,
                error,
            )
            time.sleep(random.uniform(0.05, 0.2) * attempt)


class _TaskBuildingVersion(Exception):
    """Raised inside the transaction when a running task is building a version."""

    def __init__(self, name: str):
        super().__init__(f"a task is building a version of repository {name}")
        self.name = name


def _change_content_once(
    repository_pk, added_all: dict, remove: Optional[QuerySet]
) -> Optional[RepositoryVersion]:
    """Run one attempt of `change_content` inside the caller's transaction."""
    repository = Repository.objects.select_for_update().get(pk=repository_pk)
    previous = _latest_version(repository_pk)
    if previous is not None and not previous.complete and _task_running(repository):
        raise _TaskBuildingVersion(repository.name)
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


def _task_running(repository: Repository) -> bool:
    """Tell whether a running pulpcore task has reserved the repository."""
    prn = get_prn(repository.cast())
    return Task.objects.filter(
        state=TASK_STATES.RUNNING, reserved_resources_record__contains=[prn]
    ).exists()


def _is_version_conflict(error: Exception) -> bool:
    """Tell whether a database error is a deadlock or a clash of version numbers."""
    cause = error.__cause__
    if isinstance(cause, psycopg.errors.DeadlockDetected):
        return True
    return (
        isinstance(cause, psycopg.errors.UniqueViolation)
        and cause.diag.table_name == RepositoryVersion._meta.db_table
    )


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

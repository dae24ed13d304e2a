"""
Push repositories: creation on the first push to a name, and serialised version changes.

All functions here are synchronous and run database queries; async handlers call them
through `sync_to_async`.
"""

import logging
from collections.abc import Iterable
from typing import Optional

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from pulpcore.plugin.models import Content, RepositoryVersion

from pulp_container.app.models import (
    Blob,
    ContainerDistribution,
    ContainerNamespace,
    ContainerPushRepository,
    ContainerUpload,
)
from pulp_container.app.registry.errors import RegistryError

log = logging.getLogger(__name__)


def find_push_repository(name: str) -> Optional[ContainerPushRepository]:
    """
    Return the push repository that the distribution at base path `name` serves, or None.

    Raises:
        RegistryError: DENIED when a distribution serves `name` but not a push repository,
            because pushing there would change content that a sync or a user curates.
    """
    distribution = (
        ContainerDistribution.objects.filter(base_path=name).select_related("repository").first()
    )
    if distribution is None:
        return None
    repository = distribution.repository.cast() if distribution.repository else None
    if not isinstance(repository, ContainerPushRepository):
        raise RegistryError(
            "DENIED",
            detail={"name": name},
            message=(
                "The distribution at this name does not serve a push repository; push to "
                "another name, or point the distribution at a container-push repository"
            ),
        )
    return repository


def get_or_create_push_repository(name: str) -> ContainerPushRepository:
    """
    Return the push repository of `name`, creating it with its distribution and namespace.

    Concurrent first pushes to one name are safe: the unique base path and repository name
    let one creator win, and the others read what it created.

    Raises:
        RegistryError: DENIED when the name is served by something else or a repository of
            another type already has the name.
    """
    repository = find_push_repository(name)
    if repository is not None:
        return repository
    try:
        with transaction.atomic():
            namespace, _ = ContainerNamespace.objects.get_or_create(name=name.split("/", 1)[0])
            repository = ContainerPushRepository.objects.create(name=name)
            ContainerDistribution.objects.create(
                name=name, base_path=name, repository=repository, namespace=namespace
            )
    except IntegrityError:
        repository = find_push_repository(name)
        if repository is None:
            raise RegistryError(
                "DENIED",
                detail={"name": name},
                message=(
                    "A repository or distribution with this name exists but does not serve "
                    "this registry name; rename it or push to another name"
                ),
            ) from None
        return repository
    log.info("Created push repository: name=%s repository=%s", name, repository.pk)
    return repository


def latest_content(repository: ContainerPushRepository) -> QuerySet:
    """Return the content of the latest version of a repository."""
    return repository.latest_version().content


def available_blobs(repository: ContainerPushRepository, digests: Iterable[str]) -> dict:
    """
    Return {digest: Blob} of the digests a manifest pushed to `repository` may reference.

    Those are the blobs of the latest version plus the blobs uploaded or mounted to the
    repository that no version contains yet.
    """
    digests = set(digests)
    in_version = Blob.objects.filter(digest__in=digests, pk__in=latest_content(repository))
    blobs = {blob.digest: blob for blob in in_version}
    missing = digests - blobs.keys()
    if missing:
        pending = Blob.objects.filter(
            digest__in=missing,
            uploads__repository=repository,
        ).distinct()
        blobs.update((blob.digest, blob) for blob in pending)
    return blobs


def change_content(
    repository_pk,
    add: Iterable[Content] = (),
    remove: QuerySet | None = None,
) -> Optional[RepositoryVersion]:
    """
    Create a new version of a push repository with content added and removed.

    The repository row is locked (SELECT ... FOR UPDATE) for the whole change, so concurrent
    pushes into one repository build their versions one after another and none is lost.
    Tags that share a name with an added tag are replaced by `finalize_new_version`.
    Blob upload records of the added blobs are deleted, because the version now has them.

    Returns:
        The new version, or None when nothing changed.
    """
    # NOTE: pulpcore tasks that modify this repository (e.g. a REST API remove) reserve it
    # in the tasking system, which does not see this row lock, so such a task racing with a
    # push may fail on the version number; the push itself cannot lose content.
    add_pks = [content.pk for content in add]
    with transaction.atomic():
        repository = ContainerPushRepository.objects.select_for_update().get(pk=repository_pk)
        with repository.new_version() as version:
            if remove is not None:
                version.remove_content(remove)
            if add_pks:
                version.add_content(Content.objects.filter(pk__in=add_pks))
        ContainerUpload.objects.filter(repository=repository, blob__in=add_pks).delete()
    if version.complete:
        log.info(
            "Push created repository version: repository=%s version=%s",
            repository.name,
            version.number,
        )
        return version
    return None


def find_mountable_blob(name: str, digest: str) -> Optional[Blob]:
    """
    Return the blob `digest` if the distribution at `name` serves it with its data, else None.

    A served blob is in the served repository version, or was pushed to the served push
    repository. Blobs without a stored artifact (synced on demand) cannot be mounted.
    """
    distribution = (
        ContainerDistribution.objects.filter(base_path=name)
        .select_related("repository", "repository_version")
        .first()
    )
    if distribution is None:
        return None
    blobs = Blob.objects.filter(digest=digest, contentartifact__artifact__isnull=False)
    version = distribution.repository_version
    if version is None and distribution.repository is not None:
        version = distribution.repository.latest_version()
    if version is not None:
        blob = blobs.filter(pk__in=version.content).first()
        if blob is not None:
            return blob
    if distribution.repository is None:
        return None
    return blobs.filter(uploads__repository=distribution.repository).first()

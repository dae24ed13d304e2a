"""
Push repositories: lookup, creation on the first push to a name, and pushed blobs.

All functions here are synchronous and run database queries; async handlers call them
through `sync_to_async`.
"""

import logging
from collections.abc import Iterable
from typing import Optional

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, Func, OuterRef, Q, QuerySet, Subquery

from pulpcore.plugin.models import RepositoryVersion
from pulpcore.plugin.util import assign_role

from pulp_container.app.models import (
    Blob,
    ContainerDistribution,
    ContainerNamespace,
    ContainerPushRepository,
    ContainerUpload,
)
from pulp_container.app.registry.errors import RegistryError

log = logging.getLogger(__name__)

# Roles that the user whose push creates a repository gets on what the push creates. The
# names are keys of the LOCKED_ROLES tables in `access_policies`.
PUSH_REPOSITORY_OWNER_ROLE = "container.containerpushrepository_owner"
DISTRIBUTION_OWNER_ROLE = "container.containerdistribution_owner"
NAMESPACE_OWNER_ROLE = "container.containernamespace_owner"


def _not_a_push_repository(name: str) -> RegistryError:
    return RegistryError(
        "DENIED",
        detail={"name": name},
        message=(
            "The distribution at this name does not serve a push repository; push to "
            "another name, or point the distribution at a container-push repository"
        ),
    )


def find_push_repository(name: str) -> Optional[ContainerPushRepository]:
    """
    Return the push repository that the distribution at base path `name` serves, or None.

    The common case, a name that serves a push repository, takes one query.

    Raises:
        RegistryError: DENIED when a distribution serves `name` but not a push repository,
            because pushing there would change content that a sync or a user curates.
    """
    repository = ContainerPushRepository.objects.filter(distributions__base_path=name).first()
    if repository is not None:
        return repository
    # A concurrent first push may have committed the distribution and its repository since
    # the query above, so decide from the distribution row that this query reads.
    distribution = ContainerDistribution.objects.filter(base_path=name).only("repository").first()
    if distribution is None:
        return None
    repository = ContainerPushRepository.objects.filter(pk=distribution.repository_id).first()
    if repository is None:
        raise _not_a_push_repository(name)
    return repository


def get_or_create_push_repository(name: str, username: str = "") -> ContainerPushRepository:
    """
    Return the push repository of `name`, creating it with its distribution and namespace.

    The user `username` (when given and not a superuser) gets the owner roles on the
    repository, the distribution, and the namespace when this push created it. Concurrent
    first pushes to one name are safe: the unique base path and repository name let one
    creator win, and the others read what it created.

    Raises:
        RegistryError: DENIED when the name is served by something else or a repository of
            another type already has the name.
    """
    repository = find_push_repository(name)
    if repository is not None:
        return repository
    try:
        with transaction.atomic():
            repository = _create_push_repository(name, username)
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


def _create_push_repository(name: str, username: str) -> ContainerPushRepository:
    namespace, namespace_created = ContainerNamespace.objects.get_or_create(
        name=name.split("/", 1)[0]
    )
    repository = ContainerPushRepository.objects.create(name=name)
    distribution = ContainerDistribution.objects.create(
        name=name, base_path=name, repository=repository, namespace=namespace
    )
    owner = _owner(username)
    if owner is not None:
        assign_role(PUSH_REPOSITORY_OWNER_ROLE, owner, repository)
        assign_role(DISTRIBUTION_OWNER_ROLE, owner, distribution)
        if namespace_created:
            assign_role(NAMESPACE_OWNER_ROLE, owner, namespace)
        log.info("Gave the pusher owner roles: name=%s user=%s", name, username)
    return repository


def _owner(username: str):
    """Return the user who gets owner roles, or None for anonymous callers and superusers."""
    if not username:
        return None
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None or user.is_superuser:
        return None
    return user


def latest_content(repository: ContainerPushRepository) -> QuerySet:
    """Return the content of the latest version of a repository."""
    return repository.latest_version().content


def latest_content_ids(repository_pk) -> QuerySet:
    """
    Return a subquery of the content pks of a repository's latest complete version.

    Filtering with it (`pk__in=...`) costs no extra query.
    """
    latest = (
        RepositoryVersion.objects.filter(repository_id=repository_pk, complete=True)
        .order_by("-number")
        .values("pk")[:1]
    )
    return (
        RepositoryVersion.objects.filter(pk=Subquery(latest))
        .annotate(content_id=Func(F("content_ids"), function="unnest"))
        .values("content_id")
    )


def available_blobs(repository: ContainerPushRepository, digests: Iterable[str]) -> dict:
    """
    Return {digest: Blob} of the digests a manifest pushed to `repository` may reference.

    Those are the blobs of the latest version plus the blobs uploaded or mounted to the
    repository that no version contains yet, found in one query. Each blob carries
    `stored_size` and `stored_file`, the size and file name of its artifact, or None for a
    blob synced on demand whose data was never downloaded.
    """
    pushed = ContainerUpload.objects.filter(repository_id=repository.pk, blob_id=OuterRef("pk"))
    blobs = (
        Blob.objects.filter(digest__in=set(digests))
        .filter(Q(pk__in=latest_content_ids(repository.pk)) | Exists(pushed))
        .annotate(
            stored_size=F("contentartifact__artifact__size"),
            stored_file=F("contentartifact__artifact__file"),
        )
    )
    return {blob.digest: blob for blob in blobs}


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

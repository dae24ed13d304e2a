"""
Find the repository version that a registry name serves, and content inside it.

Every lookup reads the database, so a promote or rollback (a changed `repository` or
`repository_version` of the distribution) is visible on the very next request.
These functions are synchronous; handlers call them inside one `sync_to_async`.
"""

import re
from contextvars import ContextVar
from dataclasses import dataclass

from django.contrib.postgres.fields import ArrayField
from django.db.models import Exists, Func, OuterRef, Subquery, UUIDField
from django.db.models.functions import Coalesce

from pulpcore.plugin.models import RepositoryVersion

from pulp_container.app.manifests import is_valid_digest
from pulp_container.app.models import ContainerDistribution
from pulp_container.app.registry.errors import RegistryError
from pulp_container.constants import DIGEST_PATTERN, NAME_PATTERN, TAG_PATTERN

NAME_RE = re.compile(rf"^{NAME_PATTERN}$")
TAG_RE = re.compile(rf"^{TAG_PATTERN}$")
DIGEST_RE = re.compile(rf"^{DIGEST_PATTERN}$")

# The pk of the distribution whose content guard has permitted the current request. It is a
# context variable so that it follows the request into the threads of `sync_to_async`.
permitted_guarded_distribution: ContextVar = ContextVar("permitted_guarded_distribution")


class ContentGuardCheckNeeded(Exception):
    """Raised by a lookup of a distribution with a content guard that has not been checked."""

    def __init__(self, distribution: ContainerDistribution):
        super().__init__(f"content guard not checked: distribution={distribution.pk}")
        self.distribution = distribution


def check_name(name: str) -> None:
    """Raise NAME_INVALID unless `name` follows the repository name grammar."""
    if not NAME_RE.fullmatch(name):
        raise RegistryError(
            "NAME_INVALID",
            detail={"name": name},
            message="invalid repository name: use lowercase path components joined by '/'",
        )


def check_digest(digest: str) -> None:
    """Raise DIGEST_INVALID unless `digest` follows the digest grammar of the OCI spec."""
    if not is_valid_digest(digest):
        raise RegistryError(
            "DIGEST_INVALID",
            detail={"digest": digest},
            message="invalid digest: expected <algorithm>:<hex>, e.g. sha256:<64 hex digits>",
        )


def is_digest(reference: str) -> bool:
    """Tell whether a manifest reference is a digest rather than a tag."""
    return ":" in reference


@dataclass
class ServedVersion:
    """
    A distribution and the repository version it serves.

    Fields:
        distribution: The ContainerDistribution, with `namespace` loaded.
        version: An unsaved RepositoryVersion carrying only the pk, or None when the
            distribution serves no version yet.
    """

    distribution: ContainerDistribution
    version: RepositoryVersion | None

    def content(self, queryset):
        """Restrict a content queryset to the served version (empty without a version)."""
        if self.version is None:
            return queryset.none()
        return self.version.get_content(queryset)


def find_distribution(name: str) -> ServedVersion | None:
    """Load the distribution of `name` and its served version pk in one query, or None."""
    distribution = (
        ContainerDistribution.objects.filter(base_path=name)
        .select_related("namespace")
        .annotate(latest_version_pk=Subquery(_latest_version_pk()))
        .first()
    )
    if distribution is None:
        return None
    version_pk = distribution.repository_version_id or (
        distribution.latest_version_pk if distribution.repository_id else None
    )
    version = RepositoryVersion(pk=version_pk) if version_pk else None
    return ServedVersion(distribution, version)


def _latest_version_pk():
    return (
        RepositoryVersion.objects.filter(repository_id=OuterRef("repository_id"), complete=True)
        .order_by("-number")
        .values("pk")[:1]
    )


def in_unguarded_version(queryset, name: str):
    """
    Restrict a content queryset to the version that `name` serves, within the same query.

    Only distributions without a content guard match, so that callers fall back to
    `get_served_version` (which raises the right error or guard check) when nothing matches.
    The membership test is `content_ids @> ARRAY[pk]` on the one served version. It scans
    that version's array for the few candidate rows, which is cheaper than unnesting and
    sorting the whole array as `RepositoryVersion.get_content` does.
    """
    served_pk = (
        ContainerDistribution.objects.filter(base_path=name, content_guard__isnull=True)
        .annotate(served_pk=Coalesce("repository_version_id", Subquery(_latest_version_pk())))
        .values("served_pk")[:1]
    )
    pk_array = Func(
        OuterRef("pk"), template="ARRAY[%(expressions)s]", output_field=ArrayField(UUIDField())
    )
    member = RepositoryVersion.objects.filter(
        pk=Subquery(served_pk), content_ids__contains=pk_array
    )
    return queryset.filter(Exists(member))


def get_served_version(name: str) -> ServedVersion:
    """
    Return the served version of `name`.

    Raises:
        RegistryError: NAME_UNKNOWN when no distribution has the base path `name`.
        ContentGuardCheckNeeded: When the distribution has a content guard and the request
            has not passed it yet; `guards.load_guarded` checks the guard and retries.
    """
    served = find_distribution(name)
    if served is None:
        raise RegistryError("NAME_UNKNOWN", detail={"name": name})
    distribution = served.distribution
    if distribution.content_guard_id is not None:
        if permitted_guarded_distribution.get(None) != distribution.pk:
            raise ContentGuardCheckNeeded(distribution)
    return served

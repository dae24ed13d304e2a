"""
Queryset scoping of the endpoints whose objects inherit permissions from their namespace.

The access policies name `scope_queryset` as their scoping function. The mixins here give the
distribution and push repository viewsets one that also counts namespace roles.
"""

from django.db.models import Q, QuerySet

from pulpcore.plugin.util import get_objects_for_user

from pulp_container.app import models
from pulp_container.app.global_access_conditions import namespace_permission


def _namespaces_with_perm(user, permission: str) -> QuerySet:
    return get_objects_for_user(
        user,
        namespace_permission(permission),
        models.ContainerNamespace.objects.all(),
    )


def scope_distributions(user, queryset: QuerySet) -> QuerySet:
    """
    Return the distributions of `queryset` that `user` may see.

    These are the public ones, those the user may view through a role on the distribution or
    globally, and those in a namespace where the user may view distributions.
    """
    if user.is_superuser:
        return queryset
    permission = "container.view_containerdistribution"
    viewable = get_objects_for_user(user, permission, queryset)
    namespaces = _namespaces_with_perm(user, permission)
    return queryset.filter(
        Q(private=False) | Q(pk__in=viewable.values("pk")) | Q(namespace__in=namespaces)
    )


def scope_push_repositories(user, queryset: QuerySet) -> QuerySet:
    """
    Return the push repositories of `queryset` that `user` may see.

    These are those the user may view through a role on the repository or globally, and those
    served by a distribution in a namespace where the user may view push repositories.
    """
    if user.is_superuser:
        return queryset
    permission = "container.view_containerpushrepository"
    viewable = get_objects_for_user(user, permission, queryset)
    namespaces = _namespaces_with_perm(user, permission)
    served = models.ContainerDistribution.objects.filter(namespace__in=namespaces).values(
        "repository_id"
    )
    return queryset.filter(Q(pk__in=viewable.values("pk")) | Q(pk__in=served))


class DistributionScopingMixin:
    """Scope distribution lists to what `scope_distributions` allows."""

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        """Return the distributions the requesting user may see."""
        return scope_distributions(self.request.user, queryset)


class PushRepositoryScopingMixin:
    """Scope push repository lists to what `scope_push_repositories` allows."""

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        """Return the push repositories the requesting user may see."""
        return scope_push_repositories(self.request.user, queryset)

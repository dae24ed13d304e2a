"""
Decide which registry actions a user may take on a repository name.

Every grant of the token server and of basic-auth mode goes through `permitted_actions`,
so roles defined later only need to extend this module.
"""

from django.db.models import Q

from pulpcore.plugin.util import get_objects_for_user

from pulp_container.app.auth.scopes import (
    ALL_ACTIONS,
    CATALOG,
    DELETE,
    PULL,
    PUSH,
    REGISTRY,
    REPOSITORY,
    Scope,
)
from pulp_container.app.models import ContainerDistribution, ContainerNamespace

PULL_PERMISSIONS = (
    "container.pull_containerdistribution",
    "container.view_containerdistribution",
)
NAMESPACE_PULL_PERMISSIONS = (
    "container.namespace_pull_containerdistribution",
    "container.namespace_view_containerdistribution",
)
PUSH_PERMISSIONS = ("container.push_containerdistribution",)
NAMESPACE_PUSH_PERMISSIONS = ("container.namespace_push_containerdistribution",)
NAMESPACE_CREATE_PERMISSION = "container.add_containernamespace"


def _has_any_permission(user, permissions: tuple[str, ...], obj) -> bool:
    """Check model-level permissions, then object-level ones on `obj` when there is one."""
    if any(user.has_perm(permission) for permission in permissions):
        return True
    return obj is not None and any(user.has_perm(permission, obj) for permission in permissions)


def _namespace_of(name: str, distribution) -> ContainerNamespace | None:
    if distribution is not None and distribution.namespace_id:
        return distribution.namespace
    return ContainerNamespace.objects.filter(name=name.split("/", 1)[0]).first()


def may_pull(user, distribution) -> bool:
    """Tell whether `user` may pull from `distribution` (public, or permitted when private)."""
    if not distribution.private or user.is_superuser:
        return True
    if not user.is_authenticated:
        return False
    if _has_any_permission(user, PULL_PERMISSIONS, distribution):
        return True
    namespace = distribution.namespace if distribution.namespace_id else None
    return namespace is not None and _has_any_permission(
        user, NAMESPACE_PULL_PERMISSIONS, namespace
    )


def may_push(user, name: str, distribution) -> bool:
    """Tell whether `user` may push to `name`, which may have no distribution yet."""
    if user.is_superuser:
        return True
    if not user.is_authenticated:
        return False
    if _has_any_permission(user, PUSH_PERMISSIONS, distribution):
        return True
    namespace = _namespace_of(name, distribution)
    if namespace is None:
        return may_create_namespace(user, name.split("/", 1)[0])
    return _has_any_permission(user, NAMESPACE_PUSH_PERMISSIONS, namespace)


def may_create_namespace(user, namespace_name: str) -> bool:
    """
    Tell whether a push may create the namespace `namespace_name`, which does not exist yet.

    As on the REST namespace endpoint, users with `container.add_containernamespace` may, and
    so may any user for the namespace named like their user name.
    """
    if user.has_perm(NAMESPACE_CREATE_PERMISSION):
        return True
    return namespace_name == user.get_username()


def permitted_actions(user, scope: Scope, distribution=...) -> frozenset[str]:
    """
    Return the subset of `scope.actions` that `user` may take; runs database queries.

    A pull of a name without a distribution is granted, so that the registry can return
    NAME_UNKNOWN instead of an authentication error. `distribution` may be passed when the
    caller has loaded it already (None for "does not exist").
    """
    if scope.type == REGISTRY:
        # The catalog filters its listing by user itself.
        return scope.actions & {ALL_ACTIONS} if scope.name == CATALOG else frozenset()
    if scope.type != REPOSITORY:
        return frozenset()
    if user.is_superuser:
        return scope.actions
    if distribution is ...:
        distribution = (
            ContainerDistribution.objects.select_related("namespace")
            .filter(base_path=scope.name)
            .first()
        )
    granted = set()
    if {PUSH, DELETE} & scope.actions and may_push(user, scope.name, distribution):
        granted |= {PUSH, DELETE, PULL} & scope.actions
    if PULL in scope.actions and (distribution is None or may_pull(user, distribution)):
        granted.add(PULL)
    return frozenset(granted)


def pullable_distributions(user, queryset):
    """Restrict a ContainerDistribution queryset to the ones `user` may pull."""
    if user.is_superuser:
        return queryset
    public = Q(private=False)
    if not user.is_authenticated:
        return queryset.filter(public)
    if any(user.has_perm(permission) for permission in PULL_PERMISSIONS):
        return queryset
    permitted = get_objects_for_user(
        user, list(PULL_PERMISSIONS), ContainerDistribution.objects.all(), any_perm=True
    )
    namespaces = get_objects_for_user(
        user, list(NAMESPACE_PULL_PERMISSIONS), ContainerNamespace.objects.all(), any_perm=True
    )
    return queryset.filter(
        public | Q(pk__in=permitted.values("pk")) | Q(namespace__in=namespaces.values("pk"))
    )

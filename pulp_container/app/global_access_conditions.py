"""
Access policy conditions of the container endpoints, besides pulpcore's.

pulpcore finds these functions by name through the `DRF_ACCESS_POLICY["reusable_conditions"]`
setting. Each takes the request, the view, the action and, where the condition string has a
`:<argument>`, that argument, and returns a bool.

Namespaces carry permissions for every distribution and push repository whose name starts with
them: the namespace permission of `container.<verb>_containerdistribution` is
`container.namespace_<verb>_containerdistribution`.
"""

import logging

from django.conf import settings
from rest_framework.exceptions import ValidationError

from pulpcore.plugin.viewsets import NamedModelViewSet

from pulp_container.app import models

log = logging.getLogger(__name__)

APP_LABEL = "container"


def namespace_permission(permission: str) -> str:
    """Return the namespace permission that grants `permission` on every object in a namespace."""
    app_label, codename = permission.split(".", 1)
    return f"{app_label}.namespace_{codename}"


def namespace_name(path: str) -> str:
    """Return the namespace part of a registry repository name: its first path segment."""
    return path.split("/", 1)[0]


def _has_model_or_domain_perm(request, permission: str) -> bool:
    if request.user.has_perm(permission):
        return True
    if settings.DOMAIN_ENABLED:
        return request.user.has_perm(permission, obj=request.pulp_domain)
    return False


def _find_namespace(request, name: str):
    namespaces = models.ContainerNamespace.objects.filter(name=name)
    if settings.DOMAIN_ENABLED:
        namespaces = namespaces.filter(pulp_domain=request.pulp_domain)
    return namespaces.first()


def namespace_of(obj):
    """
    Return the namespace an object belongs to, or None.

    A distribution names its namespace. A push repository belongs to the namespace of the
    distribution that serves it, or else to the namespace named like the first segment of its
    name, because the registry names push repositories after the pushed path.
    """
    if isinstance(obj, (models.ContainerDistribution, models.ContainerPullThroughDistribution)):
        return obj.namespace
    if isinstance(obj, models.ContainerPushRepository):
        distribution = (
            models.ContainerDistribution.objects.filter(repository=obj)
            .select_related("namespace")
            .first()
        )
        if distribution is not None and distribution.namespace is not None:
            return distribution.namespace
        return models.ContainerNamespace.objects.filter(
            name=namespace_name(obj.name), pulp_domain_id=obj.pulp_domain_id
        ).first()
    return None


def user_has_namespace_or_obj_perm(request, obj, permission: str) -> bool:
    """
    Return whether the user has `permission` globally, on `obj`, or through its namespace.
    """
    if _has_model_or_domain_perm(request, permission):
        return True
    if request.user.has_perm(permission, obj):
        return True
    namespace = namespace_of(obj)
    if namespace is None:
        return False
    return request.user.has_perm(namespace_permission(permission), namespace)


def has_namespace_or_obj_perms(request, view, action, permission) -> bool:
    """
    Check `permission` on the object of the URL, globally or through the object's namespace.

    Example: `has_namespace_or_obj_perms:container.change_containerdistribution` is also met by
    `container.namespace_change_containerdistribution` on the distribution's namespace.
    """
    return user_has_namespace_or_obj_perm(request, view.get_object(), permission)


def has_push_repository_perms(request, view, action, permission) -> bool:
    """Check `permission` on the push repository of a version URL, counting namespace roles."""
    repository = view.get_parent_object()
    return user_has_namespace_or_obj_perm(request, repository, permission)


def has_namespace_model_perms(request, view, action) -> bool:
    """Check that the user may create namespaces, and so distributions in any namespace."""
    return _has_model_or_domain_perm(request, f"{APP_LABEL}.add_containernamespace")


def has_namespace_param_perms(request, view, action, permission) -> bool:
    """
    Check `permission` on the existing namespace of the `base_path` in the request body.

    Returns False when the body has no base path or its namespace does not exist yet.
    """
    base_path = request.data.get("base_path")
    if not isinstance(base_path, str) or not base_path:
        return False
    namespace = _find_namespace(request, namespace_name(base_path))
    if namespace is None:
        return False
    return request.user.has_perm(permission, namespace)


def namespace_is_username(request, view, action) -> bool:
    """
    Check that the request creates the user's own namespace, named like the user, which does
    not exist yet.

    The name comes from `name` on the namespace endpoint and from the first segment of
    `base_path` elsewhere.
    """
    username = request.user.get_username()
    if not username:
        return False
    if view.queryset.model is models.ContainerNamespace:
        name = request.data.get("name")
    else:
        base_path = request.data.get("base_path")
        name = namespace_name(base_path) if isinstance(base_path, str) else None
    if name != username:
        return False
    return _find_namespace(request, name) is None


def distribution_is_public(request, view, action) -> bool:
    """Check that the distribution of the URL is not private."""
    return not view.get_object().private


def has_source_repository_param_perms(request, view, action) -> bool:
    """
    Check that the user may view the repository named by `source_repository` or
    `source_repository_version` in the request body.

    Returns True when the body names neither, so that the serializer reports the missing field.
    """
    href = request.data.get("source_repository_version") or request.data.get("source_repository")
    return _may_view_repository_of(request, href)


def has_repository_param_perms(request, view, action) -> bool:
    """
    Check that the user may view the `repository` or `repository_version` in the request body.

    A distribution may serve a container repository or a push repository, each with its own
    view permission; push repositories also count namespace roles.
    """
    href = request.data.get("repository_version") or request.data.get("repository")
    return _may_view_repository_of(request, href)


def has_base_version_param_perms(request, view, action) -> bool:
    """
    Check that the user may view the repository of the `base_version` in the request body.

    Returns True when the body names none, because the change then starts from the target.
    """
    return _may_view_repository_of(request, request.data.get("base_version"))


def _may_view_repository_of(request, href) -> bool:
    """Tell whether the user may view the repository (or its version) that `href` names."""
    if not isinstance(href, str) or not href:
        return True
    try:
        source = NamedModelViewSet.get_resource(href)
    except ValidationError:
        # The serializer reports the invalid href with a 400.
        log.debug("Source href did not resolve: href=%s", href)
        return True
    # A repository version names its repository, and the permission is on the repository.
    repository = getattr(source, "repository", source)
    if not hasattr(repository, "cast"):
        return True
    repository = repository.cast()
    if isinstance(repository, models.ContainerPushRepository):
        permission = f"{APP_LABEL}.view_containerpushrepository"
        return user_has_namespace_or_obj_perm(request, repository, permission)
    permission = f"{APP_LABEL}.view_{repository._meta.model_name}"
    return _has_model_or_domain_perm(request, permission) or request.user.has_perm(
        permission, repository
    )

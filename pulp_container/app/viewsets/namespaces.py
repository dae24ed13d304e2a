"""REST endpoints of container namespaces."""

from rest_framework import mixins

from pulpcore.plugin.viewsets import NamedModelViewSet, RolesMixin

from pulp_container.app import models, serializers
from pulp_container.app.access_policies import NAMESPACE_ACCESS_POLICY, NAMESPACE_LOCKED_ROLES


class ContainerNamespaceViewSet(
    NamedModelViewSet,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    mixins.DestroyModelMixin,
    RolesMixin,
):
    """
    Namespaces: the first path segment of registry repository names.

    Roles on a namespace apply to every distribution and push repository in it. Deleting a
    namespace deletes its distributions.
    """

    endpoint_name = "pulp_container/namespaces"
    queryset = models.ContainerNamespace.objects.all().order_by("name")
    serializer_class = serializers.ContainerNamespaceSerializer
    filterset_fields = {"name": ["exact", "in", "contains", "icontains", "startswith"]}
    queryset_filtering_required_permission = "container.view_containernamespace"
    DEFAULT_ACCESS_POLICY = NAMESPACE_ACCESS_POLICY
    LOCKED_ROLES = NAMESPACE_LOCKED_ROLES

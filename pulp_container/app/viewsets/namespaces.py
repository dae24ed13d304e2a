"""REST endpoints of container namespaces."""

from rest_framework import mixins

from pulpcore.plugin.viewsets import NamedModelViewSet, RolesMixin

from pulp_container.app import models, serializers
from pulp_container.app.access_policies import AUTHENTICATED_ALLOW_ALL


class ContainerNamespaceViewSet(
    NamedModelViewSet,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    mixins.DestroyModelMixin,
    RolesMixin,
):
    """Namespaces: the first path segment of repository names, which carries permissions."""

    endpoint_name = "pulp_container/namespaces"
    queryset = models.ContainerNamespace.objects.all()
    serializer_class = serializers.ContainerNamespaceSerializer
    filterset_fields = {"name": ["exact", "in", "contains", "icontains", "startswith"]}
    DEFAULT_ACCESS_POLICY = AUTHENTICATED_ALLOW_ALL

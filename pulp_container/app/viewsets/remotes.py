"""REST endpoints of container remotes."""

from pulpcore.plugin.viewsets import RemoteViewSet, RolesMixin

from pulp_container.app import models, serializers
from pulp_container.app.access_policies import AUTHENTICATED_ALLOW_ALL


class ContainerRemoteViewSet(RemoteViewSet, RolesMixin):
    """Remotes: a v2 registry and the upstream repository to sync from it."""

    endpoint_name = "container"
    queryset = models.ContainerRemote.objects.all()
    serializer_class = serializers.ContainerRemoteSerializer
    DEFAULT_ACCESS_POLICY = AUTHENTICATED_ALLOW_ALL

"""REST endpoints of container remotes."""

from pulpcore.plugin.viewsets import RemoteViewSet, RolesMixin

from pulp_container.app import models, serializers
from pulp_container.app.access_policies import REMOTE_ACCESS_POLICY, REMOTE_LOCKED_ROLES


class ContainerRemoteViewSet(RemoteViewSet, RolesMixin):
    """Remotes: a v2 registry and the upstream repository to sync from it."""

    endpoint_name = "container"
    queryset = models.ContainerRemote.objects.all()
    serializer_class = serializers.ContainerRemoteSerializer
    queryset_filtering_required_permission = "container.view_containerremote"
    DEFAULT_ACCESS_POLICY = REMOTE_ACCESS_POLICY
    LOCKED_ROLES = REMOTE_LOCKED_ROLES

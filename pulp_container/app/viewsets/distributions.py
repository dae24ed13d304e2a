"""REST endpoints of container distributions."""

from pulpcore.plugin.viewsets import DistributionViewSet, RolesMixin

from pulp_container.app import models, serializers
from pulp_container.app.access_policies import AUTHENTICATED_ALLOW_ALL


class ContainerDistributionViewSet(DistributionViewSet, RolesMixin):
    """Distributions: registry repository names that serve a repository or a version."""

    endpoint_name = "container"
    queryset = models.ContainerDistribution.objects.all()
    serializer_class = serializers.ContainerDistributionSerializer
    DEFAULT_ACCESS_POLICY = AUTHENTICATED_ALLOW_ALL

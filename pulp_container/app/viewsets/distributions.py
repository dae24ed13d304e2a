"""REST endpoints of container distributions."""

from pulpcore.plugin.viewsets import DistributionViewSet, RolesMixin

from pulp_container.app import models, serializers
from pulp_container.app.access_policies import (
    DISTRIBUTION_ACCESS_POLICY,
    DISTRIBUTION_LOCKED_ROLES,
)
from pulp_container.app.viewsets.scoping import DistributionScopingMixin


class ContainerDistributionViewSet(DistributionScopingMixin, DistributionViewSet, RolesMixin):
    """Distributions: registry repository names that serve a repository or a version."""

    endpoint_name = "container"
    queryset = models.ContainerDistribution.objects.all()
    serializer_class = serializers.ContainerDistributionSerializer
    DEFAULT_ACCESS_POLICY = DISTRIBUTION_ACCESS_POLICY
    LOCKED_ROLES = DISTRIBUTION_LOCKED_ROLES

"""REST endpoints of pull-through cache remotes and distributions."""

from pulpcore.plugin.viewsets import DistributionViewSet, RemoteViewSet, RolesMixin

from pulp_container.app import models
from pulp_container.app.access_policies import (
    PULL_THROUGH_DISTRIBUTION_ACCESS_POLICY,
    PULL_THROUGH_DISTRIBUTION_LOCKED_ROLES,
    PULL_THROUGH_REMOTE_ACCESS_POLICY,
    PULL_THROUGH_REMOTE_LOCKED_ROLES,
)
from pulp_container.app.serializers.pull_through import (
    ContainerPullThroughDistributionSerializer,
    ContainerPullThroughRemoteSerializer,
)


class ContainerPullThroughRemoteViewSet(RemoteViewSet, RolesMixin):
    """Pull-through remotes: registries whose repositories are cached on the first pull."""

    endpoint_name = "pull-through"
    queryset = models.ContainerPullThroughRemote.objects.all()
    serializer_class = ContainerPullThroughRemoteSerializer
    queryset_filtering_required_permission = "container.view_containerpullthroughremote"
    DEFAULT_ACCESS_POLICY = PULL_THROUGH_REMOTE_ACCESS_POLICY
    LOCKED_ROLES = PULL_THROUGH_REMOTE_LOCKED_ROLES


class ContainerPullThroughDistributionViewSet(DistributionViewSet, RolesMixin):
    """
    Pull-through distributions: base paths under which a remote's repositories are cached.

    NOTE: the registry does not serve pulls through these distributions yet; only the REST
    resource exists.
    """

    endpoint_name = "pull-through"
    queryset = models.ContainerPullThroughDistribution.objects.all()
    serializer_class = ContainerPullThroughDistributionSerializer
    queryset_filtering_required_permission = "container.view_containerpullthroughdistribution"
    DEFAULT_ACCESS_POLICY = PULL_THROUGH_DISTRIBUTION_ACCESS_POLICY
    LOCKED_ROLES = PULL_THROUGH_DISTRIBUTION_LOCKED_ROLES

"""REST endpoints of container repositories, their versions, sync and curation actions."""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action

from pulpcore.plugin.serializers import AsyncOperationResponseSerializer
from pulpcore.plugin.tasking import dispatch
from pulpcore.plugin.viewsets import (
    OperationPostponedResponse,
    RepositoryVersionViewSet,
    RepositoryViewSet,
    RolesMixin,
)

from pulp_container.app import models, serializers, tasks
from pulp_container.app.access_policies import (
    REPOSITORY_ACCESS_POLICY,
    REPOSITORY_LOCKED_ROLES,
    REPOSITORY_VERSION_ACCESS_POLICY,
)
from pulp_container.app.viewsets.curation import CurationActionsMixin
from pulp_container.app.viewsets.oci_layout import OCILayoutActionsMixin
from pulp_container.app.viewsets.unsupported import UnsupportedRepositoryActionsMixin


class ContainerRepositoryViewSet(
    CurationActionsMixin,
    OCILayoutActionsMixin,
    UnsupportedRepositoryActionsMixin,
    RepositoryViewSet,
    RolesMixin,
):
    """Repositories of container content that can be synced, curated and served."""

    endpoint_name = "container"
    queryset = models.ContainerRepository.objects.all()
    serializer_class = serializers.ContainerRepositorySerializer
    queryset_filtering_required_permission = "container.view_containerrepository"
    DEFAULT_ACCESS_POLICY = REPOSITORY_ACCESS_POLICY
    LOCKED_ROLES = REPOSITORY_LOCKED_ROLES

    @extend_schema(
        description="Start a task that syncs content from a remote registry.",
        summary="Sync from a remote",
        responses={202: AsyncOperationResponseSerializer},
    )
    @action(
        detail=True,
        methods=["post"],
        serializer_class=serializers.ContainerRepositorySyncURLSerializer,
    )
    def sync(self, request, pk):
        """Dispatch a sync of the repository from the given or the repository's remote."""
        repository = self.get_object()
        serializer = serializers.ContainerRepositorySyncURLSerializer(
            data=request.data, context={"request": request, "repository_pk": pk}
        )
        serializer.is_valid(raise_exception=True)
        remote = serializer.validated_data.get("remote", repository.remote)
        mirror = serializer.validated_data.get("mirror", False)

        # The remote is reserved exclusively: two syncs of one remote at once can collide in
        # pulpcore's RemoteArtifactSaver on the remote artifact's unique key and fail.
        result = dispatch(
            tasks.synchronize,
            exclusive_resources=[repository, remote],
            kwargs={
                "remote_pk": str(remote.pk),
                "repository_pk": str(repository.pk),
                "mirror": mirror,
            },
        )
        return OperationPostponedResponse(result, request)


class ContainerRepositoryVersionViewSet(RepositoryVersionViewSet):
    """Versions of a container repository."""

    parent_viewset = ContainerRepositoryViewSet
    DEFAULT_ACCESS_POLICY = REPOSITORY_VERSION_ACCESS_POLICY

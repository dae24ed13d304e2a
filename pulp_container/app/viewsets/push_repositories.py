"""REST endpoints of push repositories, which the registry makes on the first push to a name."""

import logging
from gettext import gettext as _

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError

from pulpcore.plugin.serializers import AsyncOperationResponseSerializer
from pulpcore.plugin.tasking import dispatch
from pulpcore.plugin.viewsets import (
    AsyncUpdateMixin,
    LabelsMixin,
    OperationPostponedResponse,
    ReadOnlyRepositoryViewSet,
    RepositoryVersionViewSet,
    RolesMixin,
)

from pulp_container.app import models, serializers, tasks
from pulp_container.app.access_policies import (
    PUSH_REPOSITORY_ACCESS_POLICY,
    PUSH_REPOSITORY_LOCKED_ROLES,
    PUSH_REPOSITORY_VERSION_ACCESS_POLICY,
)
from pulp_container.app.serializers.push_repositories import PushRemoveImageSerializer
from pulp_container.app.serializers.repositories import TagImageSerializer, UnTagImageSerializer
from pulp_container.app.viewsets.scoping import PushRepositoryScopingMixin
from pulp_container.app.viewsets.unsupported import SignNotSupportedMixin, not_supported

log = logging.getLogger(__name__)


class ContainerPushRepositoryViewSet(
    SignNotSupportedMixin,
    PushRepositoryScopingMixin,
    ReadOnlyRepositoryViewSet,
    AsyncUpdateMixin,
    LabelsMixin,
    RolesMixin,
):
    """
    Repositories that the registry made on the first push to a new name.

    This endpoint cannot create or delete them, because a registry push creates them.
    """

    endpoint_name = "container-push"
    queryset = models.ContainerPushRepository.objects.all().order_by("name")
    serializer_class = serializers.ContainerPushRepositorySerializer
    DEFAULT_ACCESS_POLICY = PUSH_REPOSITORY_ACCESS_POLICY
    LOCKED_ROLES = PUSH_REPOSITORY_LOCKED_ROLES

    @extend_schema(
        summary="Tag an image",
        description="Start a task that points a tag at a manifest of the repository.",
        responses={202: AsyncOperationResponseSerializer},
    )
    @action(detail=True, methods=["post"], serializer_class=TagImageSerializer)
    def tag(self, request, pk):
        """Dispatch a task that moves or creates the tag in a new repository version."""
        repository = self.get_object()
        serializer = TagImageSerializer(data=request.data, context={"repository": repository})
        serializer.is_valid(raise_exception=True)
        result = dispatch(
            tasks.tag_image,
            exclusive_resources=[repository],
            kwargs={
                "repository_pk": str(repository.pk),
                "tag": serializer.validated_data["tag"],
                "digest": serializer.validated_data["digest"],
            },
        )
        return OperationPostponedResponse(result, request)

    @extend_schema(
        summary="Untag an image",
        description="Start a task that removes a tag, and nothing else, from the repository.",
        responses={202: AsyncOperationResponseSerializer},
    )
    @action(detail=True, methods=["post"], serializer_class=UnTagImageSerializer)
    def untag(self, request, pk):
        """Dispatch a task that removes the tag in a new repository version."""
        repository = self.get_object()
        serializer = UnTagImageSerializer(data=request.data, context={"repository": repository})
        serializer.is_valid(raise_exception=True)
        result = dispatch(
            tasks.untag_image,
            exclusive_resources=[repository],
            kwargs={"repository_pk": str(repository.pk), "tag": serializer.validated_data["tag"]},
        )
        return OperationPostponedResponse(result, request)

    @extend_schema(
        summary="Remove an image",
        description=(
            "Start a task that removes a manifest with the tags that point to it, and the "
            "blobs and listed manifests that nothing else in the repository references."
        ),
        responses={202: AsyncOperationResponseSerializer},
    )
    @action(detail=True, methods=["post"], serializer_class=PushRemoveImageSerializer)
    def remove_image(self, request, pk):
        """Dispatch a removal of the manifest and its tags from the latest version."""
        repository = self.get_object()
        serializer = PushRemoveImageSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        digest = serializer.validated_data["digest"]

        content = repository.latest_version().content
        manifest = models.Manifest.objects.filter(pk__in=content, digest=digest).first()
        if manifest is None:
            raise ValidationError(
                _(
                    "No manifest with digest {digest} is in the latest version of repository "
                    "'{name}'. List its manifests to find the digest."
                ).format(digest=digest, name=repository.name)
            )
        tags = models.Tag.objects.filter(pk__in=content, tagged_manifest=manifest)
        units = [str(manifest.pk)] + [str(pk) for pk in tags.values_list("pk", flat=True)]

        result = dispatch(
            tasks.recursive_add_remove,
            exclusive_resources=[repository],
            kwargs={"repository_pk": str(repository.pk), "remove_content_units": units},
        )
        return OperationPostponedResponse(result, request)

    # TODO: remove_signatures and migrate return 501 until they are built.
    @extend_schema(
        summary="Remove signatures (not supported)",
        description="Removing signatures is not supported yet; the request is rejected with 501.",
        responses={501: None},
    )
    @action(detail=True, methods=["post"])
    def remove_signatures(self, request, pk):
        """Reject the request: removing signatures is not built yet."""
        self.get_object()
        return not_supported("remove_signatures")

    @extend_schema(
        summary="Migrate to a container repository (not supported)",
        description=(
            "Migrating a push repository is not supported yet; the request is rejected with 501."
        ),
        responses={501: None},
    )
    @action(detail=True, methods=["post"])
    def migrate(self, request, pk):
        """Reject the request: migration is not built yet."""
        self.get_object()
        return not_supported("migrate")


class ContainerPushRepositoryVersionViewSet(RepositoryVersionViewSet):
    """Versions of a push repository."""

    parent_viewset = ContainerPushRepositoryViewSet
    DEFAULT_ACCESS_POLICY = PUSH_REPOSITORY_VERSION_ACCESS_POLICY

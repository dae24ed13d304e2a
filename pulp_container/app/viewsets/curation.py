"""
Curation actions of container repositories: add, remove, modify, tag, untag and copy.

Each action validates its body against the latest version (or the given base or source
version), then dispatches one task that locks the repository and creates one version, and
returns 202 with the task. When the content ends up unchanged, no version is created.
"""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action

from pulpcore.plugin.actions import ModifyRepositoryActionMixin
from pulpcore.plugin.serializers import AsyncOperationResponseSerializer
from pulpcore.plugin.tasking import dispatch
from pulpcore.plugin.viewsets import OperationPostponedResponse

from pulp_container.app import tasks
from pulp_container.app.serializers.repositories import (
    ContainerRepositoryModifySerializer,
    ManifestCopySerializer,
    RecursiveAddSerializer,
    RecursiveRemoveSerializer,
    TagCopySerializer,
    TagImageSerializer,
    UnTagImageSerializer,
)


def _version_pk(version) -> str | None:
    return str(version.pk) if version is not None else None


class CurationActionsMixin(ModifyRepositoryActionMixin):
    """The content-changing actions of a container repository viewset."""

    modify_task = tasks.recursive_add_remove

    def _validated(self, serializer_class, request, repository) -> dict:
        serializer = serializer_class(
            data=request.data, context={"request": request, "repository": repository}
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _dispatch_change(self, request, repository, **kwargs) -> OperationPostponedResponse:
        result = dispatch(
            tasks.recursive_add_remove,
            exclusive_resources=[repository],
            kwargs={"repository_pk": str(repository.pk), **kwargs},
        )
        return OperationPostponedResponse(result, request)

    @extend_schema(
        summary="Add content with its dependencies",
        description=(
            "Start a task that adds content units to a new version. A tag brings its manifest, "
            "a manifest list its listed manifests, a manifest its config and layer blobs."
        ),
        responses={202: AsyncOperationResponseSerializer},
    )
    @action(detail=True, methods=["post"], serializer_class=RecursiveAddSerializer)
    def add(self, request, pk):
        """Dispatch a recursive add."""
        repository = self.get_object()
        data = self._validated(RecursiveAddSerializer, request, repository)
        return self._dispatch_change(
            request,
            repository,
            add_content_units=[str(unit) for unit in data["content_units"]],
            base_version_pk=_version_pk(data.get("base_version")),
        )

    @extend_schema(
        summary="Remove content with its dependencies",
        description=(
            "Start a task that removes content units from a new version, with the dependencies "
            "that nothing left in the repository references. `['*']` removes everything; "
            "`force` also removes units that still reference the named ones."
        ),
        responses={202: AsyncOperationResponseSerializer},
    )
    @action(detail=True, methods=["post"], serializer_class=RecursiveRemoveSerializer)
    def remove(self, request, pk):
        """Dispatch a recursive remove."""
        repository = self.get_object()
        data = self._validated(RecursiveRemoveSerializer, request, repository)
        return self._dispatch_change(
            request,
            repository,
            remove_content_units=[str(unit) for unit in data["content_units"]],
            base_version_pk=_version_pk(data.get("base_version")),
            force=data["force"],
        )

    @extend_schema(
        summary="Remove, then add content, with dependencies",
        description=(
            "Start a task that creates a version from base_version (or the latest version), "
            "removes remove_content_units and adds add_content_units, each with dependencies. "
            "With only base_version, the new version gets that version's content."
        ),
        responses={202: AsyncOperationResponseSerializer},
    )
    @action(detail=True, methods=["post"], serializer_class=ContainerRepositoryModifySerializer)
    def modify(self, request, pk):
        """Dispatch a recursive remove and add in one version."""
        repository = self.get_object()
        data = self._validated(ContainerRepositoryModifySerializer, request, repository)
        return self._dispatch_change(
            request,
            repository,
            add_content_units=[str(unit) for unit in data.get("add_content_units", [])],
            remove_content_units=[str(unit) for unit in data.get("remove_content_units", [])],
            base_version_pk=_version_pk(data.get("base_version")),
            force=data["force"],
        )

    @extend_schema(
        summary="Tag an image",
        description="Start a task that creates the tag, or moves it, to the manifest.",
        responses={202: AsyncOperationResponseSerializer},
    )
    @action(detail=True, methods=["post"], serializer_class=TagImageSerializer)
    def tag(self, request, pk):
        """Dispatch a tagging task."""
        repository = self.get_object()
        data = self._validated(TagImageSerializer, request, repository)
        result = dispatch(
            tasks.tag_image,
            exclusive_resources=[repository],
            kwargs={
                "repository_pk": str(repository.pk),
                "tag": data["tag"],
                "digest": data["digest"],
            },
        )
        return OperationPostponedResponse(result, request)

    @extend_schema(
        summary="Untag an image",
        description="Start a task that removes the tag, and nothing else.",
        responses={202: AsyncOperationResponseSerializer},
    )
    @action(detail=True, methods=["post"], serializer_class=UnTagImageSerializer)
    def untag(self, request, pk):
        """Dispatch an untagging task."""
        repository = self.get_object()
        data = self._validated(UnTagImageSerializer, request, repository)
        result = dispatch(
            tasks.untag_image,
            exclusive_resources=[repository],
            kwargs={"repository_pk": str(repository.pk), "tag": data["tag"]},
        )
        return OperationPostponedResponse(result, request)

    @extend_schema(
        summary="Copy tags",
        description=(
            "Start a task that copies tags, all of them when names is omitted, with their "
            "manifests and blobs from a source repository or version. A copied tag replaces the "
            "destination's tag of the same name."
        ),
        responses={202: AsyncOperationResponseSerializer},
    )
    @action(detail=True, methods=["post"], serializer_class=TagCopySerializer)
    def copy_tags(self, request, pk):
        """Dispatch a tag copy."""
        repository = self.get_object()
        data = self._validated(TagCopySerializer, request, repository)
        source_version = data["source_version"]
        result = dispatch(
            tasks.copy_tags,
            exclusive_resources=[repository],
            shared_resources=[source_version.repository],
            kwargs={
                "source_version_pk": str(source_version.pk),
                "destination_repository_pk": str(repository.pk),
                "names": data.get("names") or None,
            },
        )
        return OperationPostponedResponse(result, request)

    @extend_schema(
        summary="Copy manifests",
        description=(
            "Start a task that copies manifests, without tags, with their listed manifests and "
            "blobs from a source repository or version, filtered by digests and media types."
        ),
        responses={202: AsyncOperationResponseSerializer},
    )
    @action(detail=True, methods=["post"], serializer_class=ManifestCopySerializer)
    def copy_manifests(self, request, pk):
        """Dispatch a manifest copy."""
        repository = self.get_object()
        data = self._validated(ManifestCopySerializer, request, repository)
        source_version = data["source_version"]
        result = dispatch(
            tasks.copy_manifests,
            exclusive_resources=[repository],
            shared_resources=[source_version.repository],
            kwargs={
                "source_version_pk": str(source_version.pk),
                "destination_repository_pk": str(repository.pk),
                "digests": data.get("digests") or None,
                "media_types": data.get("media_types") or None,
            },
        )
        return OperationPostponedResponse(result, request)

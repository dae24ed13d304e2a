"""
The OCI image layout actions of container repositories.

`POST {repository_href}export_oci_layout/` writes a version (or some of its tags) to a
directory on the server, and `POST {repository_href}import_oci_layout/` reads one into a new
version. Both return 202 with a task.
"""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action

from pulpcore.plugin.serializers import AsyncOperationResponseSerializer
from pulpcore.plugin.tasking import dispatch
from pulpcore.plugin.viewsets import OperationPostponedResponse

from pulp_container.app.serializers.oci_layout import (
    OCILayoutExportSerializer,
    OCILayoutImportSerializer,
)
from pulp_container.app.tasks import export_oci_layout, import_oci_layout


class OCILayoutActionsMixin:
    """Actions that export a repository to and import it from an OCI image layout."""

    def _validated_layout(self, serializer_class, request, repository) -> dict:
        serializer = serializer_class(
            data=request.data, context={"request": request, "repository": repository}
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(
        summary="Export to an OCI image layout",
        description=(
            "Start a task that writes the tags of a repository version, with their manifests and "
            "blobs, as an OCI image layout into a directory on the server. Each tag becomes an "
            "index.json entry named by org.opencontainers.image.ref.name."
        ),
        responses={202: AsyncOperationResponseSerializer},
    )
    @action(detail=True, methods=["post"], serializer_class=OCILayoutExportSerializer)
    def export_oci_layout(self, request, pk):
        """Dispatch an OCI image layout export."""
        repository = self.get_object()
        data = self._validated_layout(OCILayoutExportSerializer, request, repository)
        version = data.get("repository_version") or repository.latest_version()
        result = dispatch(
            export_oci_layout,
            shared_resources=[repository],
            exclusive_resources=[f"oci-layout:{data['path']}"],
            kwargs={
                "repository_version_pk": str(version.pk),
                "path": data["path"],
                "tags": data.get("tags") or None,
                "fetch_missing": data["fetch_missing"],
            },
        )
        return OperationPostponedResponse(result, request)

    @extend_schema(
        summary="Import an OCI image layout",
        description=(
            "Start a task that checks every manifest and blob of an OCI image layout directory "
            "on the server against its digest, then adds its tags, manifests and blobs to a new "
            "repository version. A bad layout fails the task and changes nothing."
        ),
        responses={202: AsyncOperationResponseSerializer},
    )
    @action(detail=True, methods=["post"], serializer_class=OCILayoutImportSerializer)
    def import_oci_layout(self, request, pk):
        """Dispatch an OCI image layout import."""
        repository = self.get_object()
        data = self._validated_layout(OCILayoutImportSerializer, request, repository)
        result = dispatch(
            import_oci_layout,
            exclusive_resources=[repository],
            shared_resources=[f"oci-layout:{data['path']}"],
            kwargs={
                "repository_pk": str(repository.pk),
                "path": data["path"],
                "tags": data.get("tags") or None,
            },
        )
        return OperationPostponedResponse(result, request)

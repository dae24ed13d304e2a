"""Actions of the published API that are not built yet and reject requests with 501."""

from gettext import gettext as _

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

NOT_SUPPORTED = _("The '{action}' action is not supported by this server yet.")


def not_supported(action_name: str) -> Response:
    """Return the 501 response of an action that is not built yet."""
    return Response(
        {"detail": NOT_SUPPORTED.format(action=action_name)},
        status=status.HTTP_501_NOT_IMPLEMENTED,
    )


class BuildImageNotSupportedMixin:
    """The `build_image` action, which rejects every request with 501 after the access checks."""

    # TODO: build_image returns 501 until image building is built.
    @extend_schema(
        summary="Build an image (not supported)",
        description="Building images is not supported yet; the request is rejected with 501.",
        responses={501: None},
    )
    @action(detail=True, methods=["post"])
    def build_image(self, request, pk):
        """Reject the request after the access checks."""
        self.get_object()
        return not_supported("build_image")


class SignNotSupportedMixin:
    """The `sign` action, which rejects every request with 501 after the access checks."""

    # TODO: sign returns 501 until signing is built.
    @extend_schema(
        summary="Sign images (not supported)",
        description="Signing is not supported yet; the request is rejected with 501.",
        responses={501: None},
    )
    @action(detail=True, methods=["post"])
    def sign(self, request, pk):
        """Reject the request after the access checks."""
        self.get_object()
        return not_supported("sign")


class UnsupportedRepositoryActionsMixin(BuildImageNotSupportedMixin, SignNotSupportedMixin):
    """The `build_image` and `sign` actions of container repositories."""

"""Serializers of container distributions."""

from gettext import gettext as _

from django.conf import settings
from rest_framework import serializers

from pulpcore.plugin.serializers import DistributionSerializer, RelatedField

from pulp_container.app import models
from pulp_container.app.serializers.namespaces import NamespacedDistributionMixin
from pulp_container.constants import NAME_PATTERN


class ContainerDistributionSerializer(NamespacedDistributionMixin, DistributionSerializer):
    """A registry repository name that serves a repository or one of its versions."""

    base_path = serializers.RegexField(
        regex=rf"^{NAME_PATTERN}$",
        help_text=_("The registry repository name, e.g. `team/app`."),
        error_messages={
            "invalid": _(
                "Enter a registry repository name: lowercase letters, digits and "
                "separators, in path components joined by '/'."
            )
        },
    )
    registry_path = serializers.SerializerMethodField(
        help_text=_("The host, port and name to pull from, e.g. `registry:5000/team/app`.")
    )
    namespace = RelatedField(
        required=False,
        read_only=True,
        view_name="pulp_container/namespaces-detail",
        help_text=_("The namespace of the first path segment of the base path."),
    )
    private = serializers.BooleanField(
        default=False, help_text=_("Whether pulls need permission on this distribution.")
    )
    description = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, help_text=_("Free text.")
    )

    def validate(self, data):
        """
        Let an update switch between serving a repository and serving a pinned version.

        Setting one of `repository` and `repository_version` clears the other unless the
        request sets both, so promote and rollback each take one PATCH.
        """
        if self.instance is not None:
            if data.get("repository_version") and "repository" not in data:
                data["repository"] = None
            if data.get("repository") and "repository_version" not in data:
                data["repository_version"] = None
        return super().validate(data)

    def get_registry_path(self, distribution) -> str:
        """Return `host:port/base_path` of the registry origin."""
        host = settings.CONTENT_ORIGIN.split("://", 1)[-1].rstrip("/")
        return f"{host}/{distribution.base_path}"

    class Meta:
        model = models.ContainerDistribution
        fields = tuple(
            field for field in DistributionSerializer.Meta.fields if field != "base_url"
        ) + (
            "registry_path",
            "namespace",
            "private",
            "description",
        )

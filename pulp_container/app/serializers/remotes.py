"""Serializers of container remotes."""

from gettext import gettext as _

from rest_framework import serializers

from pulpcore.plugin.models import Remote
from pulpcore.plugin.serializers import RemoteSerializer

from pulp_container.app import models
from pulp_container.constants import NAME_PATTERN


class ContainerRemoteSerializer(RemoteSerializer):
    """A remote v2 registry and the upstream repository to sync."""

    upstream_name = serializers.RegexField(
        regex=rf"^{NAME_PATTERN}$",
        help_text=_("Name of the upstream repository, e.g. `library/busybox`."),
        error_messages={
            "invalid": _(
                "Enter a registry repository name: lowercase letters, digits and "
                "separators, in path components joined by '/'."
            )
        },
    )
    include_tags = serializers.ListField(
        child=serializers.CharField(max_length=255),
        allow_null=True,
        required=False,
        help_text=_("Shell-style patterns of tags to sync, e.g. `1.*`. All tags when unset."),
    )
    exclude_tags = serializers.ListField(
        child=serializers.CharField(max_length=255),
        allow_null=True,
        required=False,
        help_text=_("Shell-style patterns of tags to skip."),
    )
    include_foreign_layers = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("Download foreign layers too. They are recorded but skipped when false."),
    )
    sigstore = serializers.URLField(
        required=False, allow_null=True, help_text=_("A URL of a sigstore with atomic signatures.")
    )
    policy = serializers.ChoiceField(
        help_text=_(
            "When content is downloaded: 'immediate' during sync, 'on_demand' on first pull "
            "and then kept, 'streamed' on every pull and never kept."
        ),
        choices=Remote.POLICY_CHOICES,
        default=Remote.IMMEDIATE,
    )

    class Meta:
        fields = RemoteSerializer.Meta.fields + (
            "upstream_name",
            "include_foreign_layers",
            "include_tags",
            "exclude_tags",
            "sigstore",
        )
        model = models.ContainerRemote

"""Serializers of pull-through cache remotes and distributions."""

from gettext import gettext as _

from rest_framework import serializers

from pulpcore.plugin.models import Remote
from pulpcore.plugin.serializers import (
    DetailRelatedField,
    DistributionSerializer,
    RelatedField,
    RemoteSerializer,
)

from pulp_container.app import models
from pulp_container.app.serializers.namespaces import NamespacedDistributionMixin
from pulp_container.constants import NAME_PATTERN


class ContainerPullThroughRemoteSerializer(RemoteSerializer):
    """A remote registry whose repositories a pull-through distribution caches on demand."""

    includes = serializers.ListField(
        child=serializers.CharField(max_length=255),
        allow_null=True,
        required=False,
        help_text=_(
            "Shell-style patterns of upstream repository names that may be pulled, e.g. "
            "`library/*`. All names when unset."
        ),
    )
    excludes = serializers.ListField(
        child=serializers.CharField(max_length=255),
        allow_null=True,
        required=False,
        help_text=_("Shell-style patterns of upstream repository names that may not be pulled."),
    )
    policy = serializers.ChoiceField(
        help_text=_("Pull-through caching downloads content on the first pull and keeps it."),
        choices=[(Remote.ON_DEMAND, Remote.ON_DEMAND)],
        default=Remote.ON_DEMAND,
    )

    class Meta:
        fields = RemoteSerializer.Meta.fields + ("includes", "excludes")
        model = models.ContainerPullThroughRemote


class ContainerPullThroughDistributionSerializer(
    NamespacedDistributionMixin, DistributionSerializer
):
    """
    A base path under which every upstream repository of the remote can be pulled.

    A pull of `<base_path>/<upstream name>` makes a distribution for that name, listed in
    `distributions`.
    """

    # NOTE: only the REST resource exists; the registry does not serve pull-through pulls yet.
    base_path = serializers.RegexField(
        regex=rf"^{NAME_PATTERN}$",
        help_text=_("The registry path prefix of the cache, e.g. `docker-cache`."),
        error_messages={
            "invalid": _(
                "Enter a registry repository name: lowercase letters, digits and "
                "separators, in path components joined by '/'."
            )
        },
    )
    remote = DetailRelatedField(
        help_text=_("The pull-through remote to fetch content from."),
        view_name_pattern=r"remotes(-.*/.*)-detail",
        queryset=models.ContainerPullThroughRemote.objects.all(),
    )
    distributions = DetailRelatedField(
        many=True,
        read_only=True,
        help_text=_("The distributions that pulls through this cache have made."),
        view_name_pattern=r"distributions(-.*/.*)-detail",
    )
    namespace = RelatedField(
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
        """Reject a served repository: a pull-through distribution serves its remote only."""
        data = super().validate(data)
        if data.get("repository") or data.get("repository_version"):
            raise serializers.ValidationError(
                _(
                    "A pull-through distribution serves its remote, not a repository. Leave "
                    "'repository' and 'repository_version' unset."
                )
            )
        return data

    class Meta:
        model = models.ContainerPullThroughDistribution
        fields = tuple(
            field
            for field in DistributionSerializer.Meta.fields
            if field not in ("base_url", "repository_version")
        ) + ("remote", "distributions", "namespace", "private", "description")

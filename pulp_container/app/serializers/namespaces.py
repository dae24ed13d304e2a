"""Serializers of container namespaces."""

from gettext import gettext as _

from rest_framework import serializers

from pulpcore.plugin.serializers import DomainUniqueValidator, IdentityField, ModelSerializer

from pulp_container.app import models
from pulp_container.constants import NAME_COMPONENT


class ContainerNamespaceSerializer(ModelSerializer):
    """The first path segment of repository names, which carries permissions."""

    pulp_href = IdentityField(view_name="pulp_container/namespaces-detail")
    name = serializers.RegexField(
        regex=rf"^{NAME_COMPONENT}$",
        help_text=_("The namespace name, e.g. `team`."),
        error_messages={
            "invalid": _(
                "Enter a namespace name: lowercase letters and digits, optionally joined by "
                "'.', '_', '__' or dashes, without '/'."
            )
        },
        validators=[DomainUniqueValidator(queryset=models.ContainerNamespace.objects.all())],
    )

    class Meta:
        fields = ModelSerializer.Meta.fields + ("name",)
        model = models.ContainerNamespace


def namespace_for_path(base_path: str) -> models.ContainerNamespace:
    """
    Return the namespace of a registry path's first segment, creating it when missing.

    A namespace made here gets the requesting user as owner through its creation hooks. The
    access policy of the distribution endpoint decides beforehand whether the user may create it.
    """
    namespace, _created = models.ContainerNamespace.objects.get_or_create(
        name=base_path.split("/", 1)[0]
    )
    return namespace


class NamespacedDistributionMixin:
    """Link a distribution to the namespace of its base path on create and on update."""

    def create(self, validated_data):
        """Create the distribution in the namespace of its first path segment."""
        validated_data["namespace"] = namespace_for_path(validated_data["base_path"])
        return super().create(validated_data)

    def update(self, instance, validated_data):
        """Move the distribution to the namespace of a changed base path."""
        if "base_path" in validated_data:
            validated_data["namespace"] = namespace_for_path(validated_data["base_path"])
        return super().update(instance, validated_data)

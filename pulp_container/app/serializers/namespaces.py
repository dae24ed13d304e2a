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

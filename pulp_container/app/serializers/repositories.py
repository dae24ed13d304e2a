"""Serializers of container repositories and their sync request."""

from gettext import gettext as _

from rest_framework import serializers

from pulpcore.plugin.serializers import RepositorySerializer, RepositorySyncURLSerializer

from pulp_container.app import models


class ContainerRepositorySerializer(RepositorySerializer):
    """A repository of container content."""

    class Meta:
        fields = RepositorySerializer.Meta.fields
        model = models.ContainerRepository


class ContainerPushRepositorySerializer(RepositorySerializer):
    """A repository made by the registry on the first push to a new name."""

    class Meta:
        fields = RepositorySerializer.Meta.fields
        model = models.ContainerPushRepository


class ContainerRepositorySyncURLSerializer(RepositorySyncURLSerializer):
    """The remote and mode of a sync request."""

    signed_only = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("Sync only manifests that have signatures. Not supported yet."),
    )

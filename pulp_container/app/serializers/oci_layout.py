"""Request bodies of the OCI image layout export and import actions."""

from gettext import gettext as _

from django.conf import settings
from rest_framework import serializers

from pulpcore.plugin.models import RepositoryVersion
from pulpcore.plugin.serializers import RepositoryVersionRelatedField

from pulp_container.app.tasks.oci_layout import OCILayoutError, allowed_path
from pulp_container.constants import TAG_PATTERN


def _tags_field(help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.RegexField(TAG_PATTERN),
        required=False,
        allow_empty=True,
        help_text=help_text,
    )


def _checked_path(path: str, setting: str) -> str:
    try:
        return str(allowed_path(path, getattr(settings, setting), setting))
    except OCILayoutError as exc:
        raise serializers.ValidationError(exc.message) from None


class OCILayoutExportSerializer(serializers.Serializer):
    """Where and what to export as an OCI image layout."""

    path = serializers.CharField(
        help_text=_(
            "An absolute path of a new or empty directory on the Pulp server, under one of the "
            "ALLOWED_EXPORT_PATHS. The layout is written there."
        )
    )
    tags = _tags_field(_("Tag names to export; every tag of the version when omitted."))
    repository_version = RepositoryVersionRelatedField(
        required=False,
        help_text=_("The version of this repository to export; the latest when omitted."),
    )
    fetch_missing = serializers.BooleanField(
        default=False,
        help_text=_(
            "Download blobs that an on_demand sync has not fetched yet from their remote. When "
            "false, the task fails and names those blobs."
        ),
    )

    def validate_path(self, path: str) -> str:
        return _checked_path(path, "ALLOWED_EXPORT_PATHS")

    def validate_repository_version(self, version: RepositoryVersion) -> RepositoryVersion:
        repository = self.context["repository"]
        if version.repository_id != repository.pk:
            raise serializers.ValidationError(
                _("Version {href} belongs to another repository; use a version of {name}.").format(
                    href=self.initial_data.get("repository_version"), name=repository.name
                )
            )
        return version


class OCILayoutImportSerializer(serializers.Serializer):
    """Which OCI image layout directory to import, and which of its tags."""

    path = serializers.CharField(
        help_text=_(
            "An absolute path of an OCI image layout directory on the Pulp server, under one of "
            "the ALLOWED_IMPORT_PATHS."
        )
    )
    tags = _tags_field(
        _("Tag names (org.opencontainers.image.ref.name) to import; every entry when omitted.")
    )

    def validate_path(self, path: str) -> str:
        return _checked_path(path, "ALLOWED_IMPORT_PATHS")

"""Request bodies of the push repository actions that container repositories do not share."""

from gettext import gettext as _

from rest_framework import serializers


class PushRemoveImageSerializer(serializers.Serializer):
    """The digest of a manifest to remove with its tags."""

    digest = serializers.CharField(help_text=_("The digest of the manifest to remove."))

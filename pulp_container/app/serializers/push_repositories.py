"""Request bodies of the push repository actions."""

from gettext import gettext as _

from rest_framework import serializers

from pulp_container.constants import TAG_PATTERN


class PushTagImageSerializer(serializers.Serializer):
    """A tag name and the digest of the manifest it should point to."""

    tag = serializers.RegexField(
        regex=rf"^{TAG_PATTERN}$",
        help_text=_("The tag name, e.g. `v1.0`."),
        error_messages={
            "invalid": _(
                "Enter a valid tag: up to 128 letters, digits, '_', '.' or '-', not starting "
                "with '.' or '-'."
            )
        },
    )
    digest = serializers.CharField(help_text=_("The digest of the manifest to tag."))


class PushUntagImageSerializer(serializers.Serializer):
    """The name of a tag to remove."""

    tag = serializers.CharField(help_text=_("The tag name to remove."))


class PushRemoveImageSerializer(serializers.Serializer):
    """The digest of a manifest to remove with its tags."""

    digest = serializers.CharField(help_text=_("The digest of the manifest to remove."))

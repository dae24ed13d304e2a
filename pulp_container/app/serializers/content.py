"""Read-only serializers of blobs, manifests, tags and signatures."""

from gettext import gettext as _

from rest_framework import serializers

from pulpcore.plugin.serializers import (
    DetailRelatedField,
    NoArtifactContentSerializer,
    SingleArtifactContentSerializer,
)

from pulp_container.app import models


class BlobSerializer(SingleArtifactContentSerializer):
    """A blob with its digest and artifact."""

    digest = serializers.CharField(read_only=True, help_text=_("The blob digest."))

    class Meta:
        fields = SingleArtifactContentSerializer.Meta.fields + ("digest",)
        model = models.Blob


class ManifestSerializer(NoArtifactContentSerializer):
    """A manifest, list or index with the units it references; its bytes live in the database."""

    digest = serializers.CharField(read_only=True, help_text=_("The manifest digest."))
    schema_version = serializers.IntegerField(read_only=True)
    media_type = serializers.CharField(read_only=True)
    type = serializers.CharField(
        read_only=True, help_text=_("One of image, list, artifact or schema1.")
    )
    listed_manifests = DetailRelatedField(
        many=True,
        read_only=True,
        help_text=_("The manifests that this list or index names."),
        view_name="container-manifests-detail",
    )
    config_blob = DetailRelatedField(
        read_only=True, help_text=_("The config blob."), view_name="container-blobs-detail"
    )
    blobs = DetailRelatedField(
        many=True,
        read_only=True,
        help_text=_("The layer blobs."),
        view_name="container-blobs-detail",
    )
    annotations = serializers.JSONField(read_only=True)
    labels = serializers.JSONField(read_only=True)
    artifact_type = serializers.CharField(read_only=True, allow_null=True)
    subject = serializers.CharField(read_only=True, allow_null=True)
    architecture = serializers.CharField(read_only=True, allow_null=True)
    os = serializers.CharField(read_only=True, allow_null=True)
    compressed_image_size = serializers.IntegerField(read_only=True, allow_null=True)
    is_bootable = serializers.SerializerMethodField()
    is_flatpak = serializers.SerializerMethodField()

    def get_is_bootable(self, manifest) -> bool:
        """Return whether the image config carries the bootc label."""
        return bool(manifest.labels.get("containers.bootc"))

    def get_is_flatpak(self, manifest) -> bool:
        """Return whether the image config carries a Flatpak ref label."""
        return "org.flatpak.ref" in manifest.labels

    class Meta:
        fields = NoArtifactContentSerializer.Meta.fields + (
            "digest",
            "schema_version",
            "media_type",
            "type",
            "listed_manifests",
            "config_blob",
            "blobs",
            "annotations",
            "labels",
            "artifact_type",
            "subject",
            "architecture",
            "os",
            "compressed_image_size",
            "is_bootable",
            "is_flatpak",
        )
        model = models.Manifest


class TagSerializer(NoArtifactContentSerializer):
    """A tag name and the manifest it points to."""

    name = serializers.CharField(read_only=True, help_text=_("The tag name."))
    tagged_manifest = DetailRelatedField(
        read_only=True,
        help_text=_("The manifest the tag points to."),
        view_name="container-manifests-detail",
    )

    class Meta:
        fields = NoArtifactContentSerializer.Meta.fields + ("name", "tagged_manifest")
        model = models.Tag


class ManifestSignatureSerializer(NoArtifactContentSerializer):
    """An atomic signature of a manifest."""

    name = serializers.CharField(read_only=True)
    digest = serializers.CharField(read_only=True)
    type = serializers.CharField(read_only=True)
    key_id = serializers.CharField(read_only=True)
    timestamp = serializers.IntegerField(read_only=True)
    creator = serializers.CharField(read_only=True)
    signed_manifest = DetailRelatedField(
        read_only=True,
        help_text=_("The manifest that was signed."),
        view_name="container-manifests-detail",
    )

    class Meta:
        fields = NoArtifactContentSerializer.Meta.fields + (
            "name",
            "digest",
            "type",
            "key_id",
            "timestamp",
            "creator",
            "signed_manifest",
        )
        model = models.ManifestSignature

"""Read-only REST endpoints of blobs, manifests, tags and signatures."""

from django_filters import CharFilter, MultipleChoiceFilter

from pulpcore.plugin.viewsets import NAME_FILTER_OPTIONS, ContentFilter, ReadOnlyContentViewSet

from pulp_container.app import models, serializers
from pulp_container.app.access_policies import CONTENT_ACCESS_POLICY
from pulp_container.constants import MANIFEST_MEDIA_TYPES, MANIFEST_TYPES


class BlobFilter(ContentFilter):
    """Filters of blobs."""

    class Meta:
        model = models.Blob
        fields = {"digest": ["exact", "in"]}


class ManifestFilter(ContentFilter):
    """Filters of manifests by digest, media type, kind and platform."""

    media_type = MultipleChoiceFilter(choices=[(value, value) for value in MANIFEST_MEDIA_TYPES])
    type = MultipleChoiceFilter(choices=[(value, value) for value in MANIFEST_TYPES])
    tag = CharFilter(field_name="tagged__name", distinct=True)

    class Meta:
        model = models.Manifest
        fields = {
            "digest": ["exact", "in"],
            "architecture": ["exact"],
            "os": ["exact"],
        }


class TagFilter(ContentFilter):
    """Filters of tags by name and by the media type or digest of their manifest."""

    media_type = MultipleChoiceFilter(
        field_name="tagged_manifest__media_type",
        choices=[(value, value) for value in MANIFEST_MEDIA_TYPES],
    )
    digest = CharFilter(field_name="tagged_manifest__digest")

    class Meta:
        model = models.Tag
        fields = {"name": NAME_FILTER_OPTIONS}


class BlobViewSet(ReadOnlyContentViewSet):
    """Blobs: layers and configs, named by digest."""

    endpoint_name = "blobs"
    queryset = models.Blob.objects.all()
    serializer_class = serializers.BlobSerializer
    filterset_class = BlobFilter
    DEFAULT_ACCESS_POLICY = CONTENT_ACCESS_POLICY


class ManifestViewSet(ReadOnlyContentViewSet):
    """Manifests: image manifests, manifest lists, OCI indexes and artifacts."""

    endpoint_name = "manifests"
    queryset = models.Manifest.objects.prefetch_related("listed_manifests", "blobs")
    serializer_class = serializers.ManifestSerializer
    filterset_class = ManifestFilter
    DEFAULT_ACCESS_POLICY = CONTENT_ACCESS_POLICY


class TagViewSet(ReadOnlyContentViewSet):
    """Tags: names that point to manifests."""

    endpoint_name = "tags"
    queryset = models.Tag.objects.select_related("tagged_manifest")
    serializer_class = serializers.TagSerializer
    filterset_class = TagFilter
    DEFAULT_ACCESS_POLICY = CONTENT_ACCESS_POLICY


class ManifestSignatureViewSet(ReadOnlyContentViewSet):
    """Atomic signatures of manifests."""

    endpoint_name = "signatures"
    queryset = models.ManifestSignature.objects.all()
    serializer_class = serializers.ManifestSignatureSerializer
    DEFAULT_ACCESS_POLICY = CONTENT_ACCESS_POLICY

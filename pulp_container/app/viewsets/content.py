"""Read-only REST endpoints of blobs, manifests, tags and signatures."""

from django import forms
from django_filters import BooleanFilter, CharFilter, Filter, MultipleChoiceFilter
from drf_spectacular.utils import extend_schema_field

from pulpcore.plugin.viewsets import NAME_FILTER_OPTIONS, ContentFilter, ReadOnlyContentViewSet

from pulp_container.app import models, serializers
from pulp_container.app.access_policies import CONTENT_ACCESS_POLICY
from pulp_container.constants import MANIFEST_MEDIA_TYPES, MANIFEST_TYPES


class MultipleValueField(forms.Field):
    """A form field that keeps every value of a repeated query parameter."""

    widget = forms.SelectMultiple

    def __init__(self, *args, allowed_values=None, **kwargs):
        self.allowed_values = list(allowed_values) if allowed_values else None
        super().__init__(*args, **kwargs)

    def to_python(self, value) -> list[str]:
        """Return the values, splitting comma-joined ones as non-exploded array parameters send."""
        if not value:
            return []
        return [part for item in value for part in str(item).split(",") if part]

    def validate(self, value) -> None:
        super().validate(value)
        if self.allowed_values is None:
            return
        for item in value:
            if item not in self.allowed_values:
                raise forms.ValidationError(
                    f"'{item}' is not a valid value. Use one of: {', '.join(self.allowed_values)}."
                )


@extend_schema_field({"type": "array", "items": {"type": "string"}})
class MultipleValueFilter(Filter):
    """A filter that matches any of the values of a repeatable query parameter."""

    field_class = MultipleValueField

    def filter(self, queryset, value):
        if not value:
            return queryset
        return queryset.filter(**{f"{self.field_name}__in": value})


@extend_schema_field({"type": "string"})
class RepeatableStringFilter(MultipleValueFilter):
    """
    A filter that matches any of the values of a repeated parameter, each in `allowed_values`
    when that is given.

    The schema calls it a string, because pulp-cli sends a single value and checks it against
    the schema. Repeating the parameter still works.
    """


LABEL_OF_BOOTABLE = "containers.bootc"
LABEL_OF_FLATPAK = "org.flatpak.ref"


class BlobFilter(ContentFilter):
    """Filters of blobs."""

    class Meta:
        model = models.Blob
        fields = {"digest": ["exact", "in"]}


class ManifestFilter(ContentFilter):
    """Filters of manifests by digest, media type, kind and platform."""

    media_type = RepeatableStringFilter(
        allowed_values=MANIFEST_MEDIA_TYPES,
        help_text="Manifests of this media type; repeat for several.",
    )
    type = MultipleChoiceFilter(choices=[(value, value) for value in MANIFEST_TYPES])
    tag = CharFilter(
        method="filter_tag",
        help_text="Manifests that a tag of this name points to (in repository_version if given).",
    )
    is_bootable = BooleanFilter(
        method="filter_label", help_text="Images with the `containers.bootc` label, or without."
    )
    is_flatpak = BooleanFilter(
        method="filter_label", help_text="Images with the `org.flatpak.ref` label, or without."
    )

    def filter_tag(self, queryset, name, value):
        """Keep the manifests that a tag of that name points to."""
        tags = models.Tag.objects.filter(name=value)
        version_href = self.form.cleaned_data.get("repository_version")
        if version_href:
            version = self.filters["repository_version"].get_repository_version(version_href)
            tags = tags.filter(pk__in=version.content)
        return queryset.filter(pk__in=tags.values("tagged_manifest_id"))

    def filter_label(self, queryset, name, value):
        """Keep the manifests whose config has (or, when false, lacks) the label."""
        if value is None:
            return queryset
        label = LABEL_OF_BOOTABLE if name == "is_bootable" else LABEL_OF_FLATPAK
        if name == "is_bootable":
            # The bootc label counts only with a non-empty value, as in ManifestSerializer.
            labelled = queryset.filter(labels__has_key=label).exclude(labels__contains={label: ""})
        else:
            labelled = queryset.filter(labels__has_key=label)
        if value:
            return labelled
        return queryset.exclude(pk__in=labelled.values("pk"))

    class Meta:
        model = models.Manifest
        fields = {
            "digest": ["exact", "in"],
            "architecture": ["exact"],
            "os": ["exact"],
        }


class TagFilter(ContentFilter):
    """Filters of tags by name and by the media type or digest of their manifest."""

    media_type = RepeatableStringFilter(
        field_name="tagged_manifest__media_type",
        help_text="Tags of manifests of this media type; repeat for several.",
        allowed_values=MANIFEST_MEDIA_TYPES,
    )
    # Published as an array: pulp-cli sends a list when it looks a tag up by name and digest.
    digest = MultipleValueFilter(
        field_name="tagged_manifest__digest",
        help_text="Tags that point to a manifest with this digest; repeat for several.",
    )

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

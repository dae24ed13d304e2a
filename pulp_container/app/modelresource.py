"""
Resources that write container content into a Pulp export and read it back on import.

pulpcore's PulpExport task calls each class of `IMPORT_ORDER` with a repository version and
writes its rows as JSON. PulpImport reads the files back in the same order, so a class may
only refer to rows of the classes before it. Rows name other rows by digest (or tag name)
instead of by primary key, because primary keys differ between Pulp instances.

Manifests carry their bytes in `Manifest.data` and have no artifact. Blobs have one artifact
each, which pulpcore exports and links itself (ContentArtifactResource).
"""

import json
from typing import Any, Optional

from import_export import fields
from import_export.widgets import CharWidget, ForeignKeyWidget, Widget

from pulpcore.plugin.importexport import BaseContentResource, QueryModelResource
from pulpcore.plugin.modelresources import RepositoryResource
from pulpcore.plugin.util import get_domain_pk

from pulp_container.app.models import (
    Blob,
    BlobManifest,
    ContainerPushRepository,
    ContainerRepository,
    Manifest,
    ManifestListManifest,
    ManifestSignature,
    Tag,
)


class DigestForeignKeyWidget(ForeignKeyWidget):
    """
    A foreign key to a blob or manifest, written as its digest and resolved in the current domain.
    """

    def __init__(self, model: type) -> None:
        super().__init__(model, "digest")

    def get_queryset(self, value: Any, row: Any, *args: Any, **kwargs: Any):
        return self.model.objects.filter(_pulp_domain_id=get_domain_pk())

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Optional[str]:
        return value.digest if value is not None else None


class JSONObjectWidget(Widget):
    """
    A JSON object column that keeps `{}` as `{}`.

    import-export's JSONWidget writes an empty object as null and reads null back as None,
    which the non-null `annotations` and `labels` columns reject.
    """

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> dict:
        if value in (None, ""):
            return {}
        if isinstance(value, dict):
            return value
        return json.loads(value)

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return json.dumps(value if value is not None else {})


def _digest_field(name: str, model: type) -> fields.Field:
    return fields.Field(attribute=name, column_name=name, widget=DigestForeignKeyWidget(model))


def _nullable_text_field(name: str) -> fields.Field:
    # By default import-export writes a null text column as "" and imports it as "".
    return fields.Field(
        attribute=name,
        column_name=name,
        widget=CharWidget(coerce_to_string=False, allow_blank=False),
    )


class BlobResource(BaseContentResource):
    """The blobs of a repository version."""

    def set_up_queryset(self):
        return Blob.objects.filter(pk__in=self.repo_version.content)

    class Meta:
        model = Blob
        import_id_fields = model.natural_key_fields()


class ManifestResource(BaseContentResource):
    """
    The manifests of a repository version, with their bytes and config blob.

    The blob and list links are separate resources, so the many-to-many fields are left out.
    """

    config_blob = _digest_field("config_blob", Blob)
    annotations = fields.Field(
        attribute="annotations", column_name="annotations", widget=JSONObjectWidget()
    )
    labels = fields.Field(attribute="labels", column_name="labels", widget=JSONObjectWidget())
    artifact_type = _nullable_text_field("artifact_type")
    subject = _nullable_text_field("subject")
    architecture = _nullable_text_field("architecture")
    os = _nullable_text_field("os")

    def set_up_queryset(self):
        return Manifest.objects.filter(pk__in=self.repo_version.content)

    class Meta:
        model = Manifest
        import_id_fields = model.natural_key_fields()
        exclude = BaseContentResource.Meta.exclude + ("blobs", "listed_manifests")


class ManifestListManifestResource(QueryModelResource):
    """The links from lists and indexes of a repository version to their listed manifests."""

    manifest_list = _digest_field("manifest_list", Manifest)
    image_manifest = _digest_field("image_manifest", Manifest)

    def set_up_queryset(self):
        content = self.repo_version.content
        return ManifestListManifest.objects.filter(
            manifest_list__in=content, image_manifest__in=content
        ).select_related("manifest_list", "image_manifest")

    class Meta:
        model = ManifestListManifest
        import_id_fields = ("manifest_list", "image_manifest")
        exclude = QueryModelResource.Meta.exclude + ("id",)


class BlobManifestResource(QueryModelResource):
    """The links from manifests of a repository version to their blobs."""

    manifest = _digest_field("manifest", Manifest)
    manifest_blob = _digest_field("manifest_blob", Blob)

    def set_up_queryset(self):
        content = self.repo_version.content
        return BlobManifest.objects.filter(
            manifest__in=content, manifest_blob__in=content
        ).select_related("manifest", "manifest_blob")

    class Meta:
        model = BlobManifest
        import_id_fields = ("manifest", "manifest_blob")
        exclude = QueryModelResource.Meta.exclude + ("id",)


class TagResource(BaseContentResource):
    """The tags of a repository version, each naming its manifest by digest."""

    tagged_manifest = _digest_field("tagged_manifest", Manifest)

    def set_up_queryset(self):
        return Tag.objects.filter(pk__in=self.repo_version.content).select_related(
            "tagged_manifest"
        )

    class Meta:
        model = Tag
        import_id_fields = model.natural_key_fields()


class ManifestSignatureResource(BaseContentResource):
    """The atomic signatures of a repository version, each naming its manifest by digest."""

    signed_manifest = _digest_field("signed_manifest", Manifest)

    def set_up_queryset(self):
        return ManifestSignature.objects.filter(pk__in=self.repo_version.content).select_related(
            "signed_manifest"
        )

    class Meta:
        model = ManifestSignature
        import_id_fields = model.natural_key_fields()


class ContainerRepositoryResource(RepositoryResource):
    """The container repository of the exported version, created on import when missing."""

    def set_up_queryset(self):
        return ContainerRepository.objects.filter(pk=self.repo_version.repository_id)

    class Meta:
        model = ContainerRepository
        import_id_fields = ("pulp_domain", "name")


class ContainerPushRepositoryResource(RepositoryResource):
    """The push repository of the exported version, created on import when missing."""

    def set_up_queryset(self):
        return ContainerPushRepository.objects.filter(pk=self.repo_version.repository_id)

    class Meta:
        model = ContainerPushRepository
        import_id_fields = ("pulp_domain", "name")


# Blobs before the manifests that name them as config, manifests before links and tags.
IMPORT_ORDER = [
    BlobResource,
    ManifestResource,
    ManifestListManifestResource,
    BlobManifestResource,
    TagResource,
    ManifestSignatureResource,
    ContainerRepositoryResource,
    ContainerPushRepositoryResource,
]

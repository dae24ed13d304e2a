"""Export and import of container content through the Pulp import/export resources."""

import json

import pytest
from tablib import Dataset

from pulp_container.app import modelresource
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
from pulp_container.app.tasks import recursive_add_remove
from pulp_container.constants import OCI_INDEX
from pulp_container.tests.unit.curation_factories import (
    make_blob,
    make_image,
    make_list,
    make_signature,
    make_tag,
    units,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def version():
    """A version with an image (annotated, labelled, signed) and an OCI index of two images."""
    repository = ContainerRepository.objects.create(name="unit-export", description="exported")
    base = make_blob("base")
    image = make_image([base, make_blob()])
    image.annotations = {"org.opencontainers.image.title": "app"}
    image.labels = {"maintainer": "team"}
    image.architecture = "amd64"
    image.os = "linux"
    image.save()
    index = make_list([make_image([base]), make_image()], media_type=OCI_INDEX)
    link = ManifestListManifest.objects.filter(manifest_list=index).first()
    link.architecture = "arm64"
    link.variant = "v8"
    link.save()
    added = units(make_tag("app", image), make_tag("multi", index), make_signature(image))
    recursive_add_remove(repository.pk, add_content_units=added)
    return repository.latest_version()


def export_rows(version) -> dict:
    """Return the JSON rows each resource class writes for the version."""
    exported = {}
    for resource_class in modelresource.IMPORT_ORDER:
        resource = resource_class(version)
        exported[resource_class] = resource.export(resource.queryset).json
    return exported


def snapshot(version) -> dict:
    """Return the content of a version by natural keys, with every link."""
    content = version.content
    manifests = Manifest.objects.filter(pk__in=content)
    return {
        "blobs": sorted(Blob.objects.filter(pk__in=content).values_list("digest", flat=True)),
        "manifests": sorted(
            manifests.values_list(
                "digest", "data", "media_type", "type", "config_blob__digest", "architecture"
            )
        ),
        "annotations": sorted(json.dumps(m.annotations) for m in manifests),
        "labels": sorted(json.dumps(m.labels) for m in manifests),
        "blob_links": sorted(
            BlobManifest.objects.filter(manifest__in=manifests).values_list(
                "manifest__digest", "manifest_blob__digest"
            )
        ),
        "list_links": sorted(
            ManifestListManifest.objects.filter(manifest_list__in=manifests).values_list(
                "manifest_list__digest", "image_manifest__digest", "architecture", "variant"
            )
        ),
        "tags": sorted(
            Tag.objects.filter(pk__in=content).values_list("name", "tagged_manifest__digest")
        ),
        "signatures": sorted(
            ManifestSignature.objects.filter(pk__in=content).values_list(
                "name", "signed_manifest__digest"
            )
        ),
    }


def delete_everything(version) -> None:
    version.repository.delete()
    for model in (ManifestSignature, Tag, BlobManifest, ManifestListManifest, Manifest, Blob):
        model.objects.all().delete()


def import_rows(exported: dict) -> list:
    """Import the rows in IMPORT_ORDER and return the pks of the imported content."""
    imported = []
    for resource_class in modelresource.IMPORT_ORDER:
        rows = Dataset().load(exported[resource_class], format="json")
        if not rows:
            continue  # pulpcore writes no file for a resource without rows.
        result = resource_class().import_data(rows, raise_errors=True)
        if issubclass(resource_class, modelresource.BaseContentResource):
            imported += [row.object_id for row in result.rows]
    return imported


def test_round_trip_keeps_links(version):
    expected = snapshot(version)
    exported = export_rows(version)
    delete_everything(version)

    content_pks = import_rows(exported)
    repository = ContainerRepository.objects.get(name="unit-export")
    with repository.new_version() as new_version:
        for model in (Blob, Manifest, Tag, ManifestSignature):
            new_version.add_content(model.objects.filter(pk__in=content_pks))

    actual = snapshot(repository.latest_version())
    for key, value in expected.items():
        assert actual[key] == value, key
    assert repository.description == "exported"
    assert expected["blobs"]
    assert len(expected["blob_links"]) == 7
    assert ("arm64", "v8") in [link[2:] for link in expected["list_links"]]


def test_rows_name_digests(version):
    exported = export_rows(version)
    tags = json.loads(exported[modelresource.TagResource])
    digests = set(Manifest.objects.values_list("digest", flat=True))

    assert sorted(tag["name"] for tag in tags) == ["app", "multi"]
    assert all(tag["tagged_manifest"] in digests for tag in tags)
    links = json.loads(exported[modelresource.BlobManifestResource])
    assert all(link["manifest_blob"].startswith("sha256:") for link in links)
    assert "id" not in links[0]


def test_import_reuses_existing(version):
    exported = export_rows(version)
    before = Manifest.objects.count(), Blob.objects.count(), BlobManifest.objects.count()

    import_rows(exported)

    assert (Manifest.objects.count(), Blob.objects.count(), BlobManifest.objects.count()) == before


def test_push_repository_rows(version):
    push = ContainerPushRepository.objects.create(name="unit-export-push")
    with push.new_version() as new_version:
        new_version.add_content(Tag.objects.filter(pk__in=version.content))
    push_version = push.latest_version()

    pushed = modelresource.ContainerPushRepositoryResource(push_version)
    synced = modelresource.ContainerRepositoryResource(push_version)

    assert list(pushed.queryset.values_list("name", flat=True)) == ["unit-export-push"]
    assert synced.queryset.count() == 0

"""Copy of tags and manifests between repositories, with their dependencies."""

import pytest

from pulp_container.app.models import ContainerRepository, Tag
from pulp_container.app.tasks import copy_manifests, copy_tags, recursive_add_remove
from pulp_container.constants import DOCKER_MANIFEST_LIST, DOCKER_MANIFEST_V2, OCI_INDEX
from pulp_container.tests.unit.curation_factories import (
    counts,
    make_blob,
    make_image,
    make_list,
    make_signature,
    make_tag,
    units,
    version_pks,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def source():
    """A source repository: an image with a signature, a Docker list and an OCI index."""
    repository = ContainerRepository.objects.create(name="unit-copy-source")
    base = make_blob("base")
    image = make_image([base, make_blob()])
    docker_list = make_list([make_image([base]), make_image()], media_type=DOCKER_MANIFEST_LIST)
    oci_index = make_list([make_image()], media_type=OCI_INDEX)
    added = units(
        make_tag("app", image),
        make_tag("multi", docker_list),
        make_tag("oci", oci_index),
        make_signature(image),
    )
    recursive_add_remove(repository.pk, add_content_units=added)
    repository.content_map = {"image": image, "list": docker_list, "index": oci_index}
    return repository


@pytest.fixture
def destination():
    return ContainerRepository.objects.create(name="unit-copy-destination")


def test_source_counts(source):
    # Blobs: the image has a config, base and layer, the list adds two configs and one layer
    # (its first image shares the base), the index adds a config and a layer.
    assert counts(source) == {"tag": 3, "manifest": 6, "blob": 8, "signature": 1}


def test_copy_all_tags(source, destination):
    copy_tags(source.latest_version().pk, destination.pk)

    assert version_pks(destination) == version_pks(source)
    assert destination.latest_version().number == 1


def test_copy_one_tag_of_list(source, destination):
    copy_tags(source.latest_version().pk, destination.pk, names=["multi"])

    # Two configs, the shared base layer and one own layer.
    assert counts(destination) == {"tag": 1, "manifest": 3, "blob": 4, "signature": 0}


def test_copy_tag_brings_signature(source, destination):
    copy_tags(source.latest_version().pk, destination.pk, names=["app"])

    assert counts(destination) == {"tag": 1, "manifest": 1, "blob": 3, "signature": 1}


def test_copy_tag_moves_existing_tag(source, destination):
    other = make_image()
    recursive_add_remove(destination.pk, add_content_units=units(make_tag("app", other)))

    copy_tags(source.latest_version().pk, destination.pk, names=["app"])

    tags = Tag.objects.filter(pk__in=destination.latest_version().content)
    assert [tag.tagged_manifest.digest for tag in tags] == [source.content_map["image"].digest]
    assert counts(destination) == {"tag": 1, "manifest": 2, "blob": 5, "signature": 1}


def test_copy_tags_from_older_version(source, destination):
    old_version = source.latest_version()
    recursive_add_remove(source.pk, remove_content_units=["*"])

    copy_tags(old_version.pk, destination.pk, names=["oci"])

    assert counts(destination) == {"tag": 1, "manifest": 2, "blob": 2, "signature": 0}


def test_copy_manifests_by_digest(source, destination):
    digest = source.content_map["list"].digest

    copy_manifests(source.latest_version().pk, destination.pk, digests=[digest])

    assert counts(destination) == {"tag": 0, "manifest": 3, "blob": 4, "signature": 0}


def test_copy_manifests_by_media_type(source, destination):
    copy_manifests(source.latest_version().pk, destination.pk, media_types=[OCI_INDEX])

    assert counts(destination) == {"tag": 0, "manifest": 2, "blob": 2, "signature": 0}


def test_copy_image_manifests_only(source, destination):
    copy_manifests(source.latest_version().pk, destination.pk, media_types=[DOCKER_MANIFEST_V2])

    assert counts(destination) == {"tag": 0, "manifest": 4, "blob": 8, "signature": 1}


def test_copy_manifests_digest_and_type_must_both_match(source, destination):
    digest = source.content_map["list"].digest

    copy_manifests(
        source.latest_version().pk, destination.pk, digests=[digest], media_types=[OCI_INDEX]
    )

    assert destination.latest_version().number == 0


def test_copy_manifests_all(source, destination):
    copy_manifests(source.latest_version().pk, destination.pk)

    assert counts(destination) == {"tag": 0, "manifest": 6, "blob": 8, "signature": 1}

"""Recursive add and remove: dependencies come along, shared units stay, force clears referrers."""

import pytest

from pulpcore.plugin.exceptions import ValidationError

from pulp_container.app.models import ContainerRepository
from pulp_container.app.tasks import recursive_add_remove
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
def content():
    """Two images sharing a base layer, a two-image list, three tags and a signature."""
    base = make_blob("base")
    image_a = make_image([base, make_blob()])
    image_c = make_image([base, make_blob()])
    image_x = make_image()
    image_y = make_image()
    manifest_list = make_list([image_x, image_y])
    return {
        "base": base,
        "a": image_a,
        "c": image_c,
        "x": image_x,
        "y": image_y,
        "list": manifest_list,
        "tag_a": make_tag("a", image_a),
        "tag_c": make_tag("c", image_c),
        "tag_multi": make_tag("multi", manifest_list),
        "signature_a": make_signature(image_a),
    }


@pytest.fixture
def repository():
    return ContainerRepository.objects.create(name="unit-modify")


@pytest.fixture
def full_repository(repository, content):
    """The repository at version 1, filled through the recursive add of the three tags."""
    tags = units(content["tag_a"], content["tag_c"], content["tag_multi"])
    recursive_add_remove(repository.pk, add_content_units=tags)
    return repository


def test_add_tag_of_image_brings_blobs(repository, content):
    recursive_add_remove(repository.pk, add_content_units=units(content["tag_a"]))

    assert counts(repository) == {"tag": 1, "manifest": 1, "blob": 3, "signature": 0}
    assert repository.latest_version().number == 1


def test_add_tag_of_list_brings_images(repository, content):
    recursive_add_remove(repository.pk, add_content_units=units(content["tag_multi"]))

    assert counts(repository) == {"tag": 1, "manifest": 3, "blob": 4, "signature": 0}
    assert content["x"].pk in version_pks(repository)
    assert content["y"].config_blob.pk in version_pks(repository)


def test_add_manifest_brings_no_tag(repository, content):
    recursive_add_remove(repository.pk, add_content_units=units(content["c"]))

    assert counts(repository) == {"tag": 0, "manifest": 1, "blob": 3, "signature": 0}


def test_add_all_tags_counts(full_repository):
    assert counts(full_repository) == {"tag": 3, "manifest": 5, "blob": 9, "signature": 0}


def test_remove_image_keeps_shared_blob(full_repository, content):
    recursive_add_remove(full_repository.pk, remove_content_units=units(content["tag_a"]))

    remaining = version_pks(full_repository)
    assert counts(full_repository) == {"tag": 2, "manifest": 4, "blob": 7, "signature": 0}
    assert content["base"].pk in remaining
    assert content["a"].pk not in remaining
    assert content["a"].config_blob.pk not in remaining


def test_remove_both_images_drops_shared_blob(full_repository, content):
    tags = units(content["tag_a"], content["tag_c"])
    recursive_add_remove(full_repository.pk, remove_content_units=tags)

    assert content["base"].pk not in version_pks(full_repository)
    assert counts(full_repository) == {"tag": 1, "manifest": 3, "blob": 4, "signature": 0}


def test_remove_list_drops_listed_images(full_repository, content):
    recursive_add_remove(full_repository.pk, remove_content_units=units(content["tag_multi"]))

    assert counts(full_repository) == {"tag": 2, "manifest": 2, "blob": 5, "signature": 0}


def test_remove_tag_keeps_manifest_with_other_tag(full_repository, content):
    second_tag = make_tag("a-too", content["a"])
    recursive_add_remove(full_repository.pk, add_content_units=units(second_tag))

    recursive_add_remove(full_repository.pk, remove_content_units=units(content["tag_a"]))

    assert counts(full_repository) == {"tag": 3, "manifest": 5, "blob": 9, "signature": 0}
    assert content["tag_a"].pk not in version_pks(full_repository)


def test_remove_listed_image_keeps_separately_tagged_one(full_repository, content):
    tag_x = make_tag("x", content["x"])
    recursive_add_remove(full_repository.pk, add_content_units=units(tag_x))

    recursive_add_remove(full_repository.pk, remove_content_units=units(content["tag_multi"]))

    remaining = version_pks(full_repository)
    assert content["x"].pk in remaining
    assert content["y"].pk not in remaining
    assert counts(full_repository) == {"tag": 3, "manifest": 3, "blob": 7, "signature": 0}


def test_remove_referenced_manifest_rejected(full_repository, content):
    with pytest.raises(ValidationError, match=r"still referenced by tag 'a'"):
        recursive_add_remove(full_repository.pk, remove_content_units=units(content["a"]))

    assert full_repository.latest_version().number == 1
    assert counts(full_repository) == {"tag": 3, "manifest": 5, "blob": 9, "signature": 0}


def test_remove_listed_manifest_rejected(full_repository, content):
    with pytest.raises(ValidationError, match=r"manifest list sha256:[0-9a-f]{64}"):
        recursive_add_remove(full_repository.pk, remove_content_units=units(content["x"]))

    assert full_repository.latest_version().number == 1


def test_remove_shared_blob_rejected(full_repository, content):
    with pytest.raises(ValidationError, match=content["base"].digest):
        recursive_add_remove(full_repository.pk, remove_content_units=units(content["base"]))

    assert full_repository.latest_version().number == 1


def test_force_remove_listed_manifest(full_repository, content):
    recursive_add_remove(full_repository.pk, remove_content_units=units(content["x"]), force=True)

    remaining = version_pks(full_repository)
    assert content["list"].pk not in remaining
    assert content["tag_multi"].pk not in remaining
    assert content["y"].pk not in remaining
    assert counts(full_repository) == {"tag": 2, "manifest": 2, "blob": 5, "signature": 0}


def test_force_remove_tag_takes_manifest_from_other_tags(full_repository, content):
    second_tag = make_tag("a-too", content["a"])
    recursive_add_remove(full_repository.pk, add_content_units=units(second_tag))

    recursive_add_remove(
        full_repository.pk, remove_content_units=units(content["tag_a"]), force=True
    )

    remaining = version_pks(full_repository)
    assert second_tag.pk not in remaining
    assert content["a"].pk not in remaining
    assert content["base"].pk in remaining
    assert counts(full_repository) == {"tag": 2, "manifest": 4, "blob": 7, "signature": 0}


def test_force_remove_shared_blob_takes_both_images(full_repository, content):
    recursive_add_remove(
        full_repository.pk, remove_content_units=units(content["base"]), force=True
    )

    assert counts(full_repository) == {"tag": 1, "manifest": 3, "blob": 4, "signature": 0}


def test_remove_all(full_repository):
    recursive_add_remove(full_repository.pk, remove_content_units=["*"])

    assert counts(full_repository) == {"tag": 0, "manifest": 0, "blob": 0, "signature": 0}
    assert full_repository.latest_version().number == 2


def test_signature_leaves_with_manifest(repository, content):
    recursive_add_remove(
        repository.pk, add_content_units=units(content["tag_a"], content["signature_a"])
    )
    assert counts(repository)["signature"] == 1

    recursive_add_remove(repository.pk, remove_content_units=units(content["tag_a"]))

    assert counts(repository) == {"tag": 0, "manifest": 0, "blob": 0, "signature": 0}


def test_signature_stays_with_kept_manifest(repository, content):
    recursive_add_remove(
        repository.pk,
        add_content_units=units(content["tag_a"], content["a"], content["signature_a"]),
    )
    second_tag = make_tag("a-too", content["a"])
    recursive_add_remove(repository.pk, add_content_units=units(second_tag))

    recursive_add_remove(repository.pk, remove_content_units=units(content["tag_a"]))

    assert counts(repository) == {"tag": 1, "manifest": 1, "blob": 3, "signature": 1}


def test_base_version_restores_old_content(full_repository, content):
    version_1 = full_repository.latest_version()
    recursive_add_remove(full_repository.pk, remove_content_units=units(content["tag_multi"]))

    recursive_add_remove(full_repository.pk, base_version_pk=version_1.pk)

    assert full_repository.latest_version().number == 3
    assert version_pks(full_repository) == set(version_1.content.values_list("pk", flat=True))


def test_remove_and_add_in_one_version(full_repository, content):
    recursive_add_remove(
        full_repository.pk,
        remove_content_units=units(content["tag_c"]),
        add_content_units=units(content["signature_a"]),
    )

    assert full_repository.latest_version().number == 2
    assert counts(full_repository) == {"tag": 2, "manifest": 4, "blob": 7, "signature": 1}


def test_remove_absent_unit_creates_no_version(full_repository):
    stranger = make_image()

    recursive_add_remove(full_repository.pk, remove_content_units=units(stranger))

    assert full_repository.latest_version().number == 1

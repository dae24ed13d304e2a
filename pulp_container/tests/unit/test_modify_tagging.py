"""Tag and untag inside one repository."""

import pytest

from pulpcore.plugin.exceptions import ValidationError

from pulp_container.app.models import ContainerRepository, Tag
from pulp_container.app.tasks import recursive_add_remove, tag_image, untag_image
from pulp_container.tests.unit.curation_factories import counts, make_image, make_tag, units

pytestmark = pytest.mark.django_db


@pytest.fixture
def repository():
    """A repository with two images, the first tagged `v1`."""
    repository = ContainerRepository.objects.create(name="unit-tagging")
    first = make_image()
    second = make_image()
    recursive_add_remove(repository.pk, add_content_units=units(make_tag("v1", first), second))
    repository.images = (first, second)
    return repository


def tag_targets(repository) -> dict[str, str]:
    tags = Tag.objects.filter(pk__in=repository.latest_version().content)
    return {tag.name: tag.tagged_manifest.digest for tag in tags}


def test_tag_creates_tag(repository):
    first, second = repository.images

    tag_image(repository.pk, "v2", second.digest)

    assert tag_targets(repository) == {"v1": first.digest, "v2": second.digest}
    assert repository.latest_version().number == 2


def test_tag_moves_tag(repository):
    _first, second = repository.images

    tag_image(repository.pk, "v1", second.digest)

    assert tag_targets(repository) == {"v1": second.digest}
    assert counts(repository) == {"tag": 1, "manifest": 2, "blob": 4, "signature": 0}


def test_tag_same_target_creates_no_version(repository):
    first, _second = repository.images

    tag_image(repository.pk, "v1", first.digest)

    assert repository.latest_version().number == 1


def test_tag_unknown_digest_rejected(repository):
    stranger = make_image()

    with pytest.raises(ValidationError, match=stranger.digest):
        tag_image(repository.pk, "v2", stranger.digest)

    assert repository.latest_version().number == 1


def test_untag_removes_only_tag(repository):
    untag_image(repository.pk, "v1")

    assert counts(repository) == {"tag": 0, "manifest": 2, "blob": 4, "signature": 0}
    assert repository.latest_version().number == 2


def test_untag_unknown_tag_rejected(repository):
    with pytest.raises(ValidationError, match="'nope'"):
        untag_image(repository.pk, "nope")

    assert repository.latest_version().number == 1

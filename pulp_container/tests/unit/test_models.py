import pytest

from pulp_container.app.models import Blob, ContainerRepository, Manifest, Tag
from pulp_container.constants import DOCKER_MANIFEST_V2


@pytest.mark.django_db
def test_tag_moves_in_new_version():
    repository = ContainerRepository.objects.create(name="unit-tag-move")
    first = Manifest.objects.create(
        digest="sha256:" + "1" * 64, schema_version=2, media_type=DOCKER_MANIFEST_V2, data="{}"
    )
    second = Manifest.objects.create(
        digest="sha256:" + "2" * 64, schema_version=2, media_type=DOCKER_MANIFEST_V2, data="{}"
    )
    old_tag = Tag.objects.create(name="latest", tagged_manifest=first)
    new_tag = Tag.objects.create(name="latest", tagged_manifest=second)

    with repository.new_version() as version:
        version.add_content(Tag.objects.filter(pk=old_tag.pk))
    with repository.new_version() as version:
        version.add_content(Tag.objects.filter(pk=new_tag.pk))

    tags = Tag.objects.filter(pk__in=repository.latest_version().content)
    assert [tag.tagged_manifest.digest for tag in tags] == [second.digest]


@pytest.mark.django_db
def test_blob_digest_unique():
    Blob.objects.create(digest="sha256:" + "3" * 64)
    with pytest.raises(Exception, match="unique"):
        Blob.objects.create(digest="sha256:" + "3" * 64)

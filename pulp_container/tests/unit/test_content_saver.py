"""Bulk insert of new tags by the sync's content saver."""

import pytest

from pulp_container.app.models import Tag
from pulp_container.app.tasks.content_saver import insert_tags
from pulp_container.tests.unit.curation_factories import make_image

pytestmark = pytest.mark.django_db


def test_insert_tags_saves_rows():
    manifest = make_image()
    tags = [Tag(name=f"v{number}", tagged_manifest=manifest) for number in range(3)]

    insert_tags(tags)

    assert all(not tag._state.adding for tag in tags)
    saved = Tag.objects.filter(tagged_manifest=manifest).order_by("name")
    assert [tag.name for tag in saved] == ["v0", "v1", "v2"]
    assert {tag.pk for tag in saved} == {tag.pk for tag in tags}
    assert all(tag.pulp_type == "container.tag" for tag in saved)
    assert all(tag.pulp_created is not None for tag in saved)


def test_insert_tags_conflict_leaves_tags_unsaved():
    manifest = make_image()
    Tag.objects.create(name="taken", tagged_manifest=manifest)
    tags = [Tag(name="new", tagged_manifest=manifest), Tag(name="taken", tagged_manifest=manifest)]

    insert_tags(tags)

    assert all(tag._state.adding for tag in tags)
    assert all(tag.content_ptr_id is None for tag in tags)
    assert list(Tag.objects.filter(tagged_manifest=manifest).values_list("name", flat=True)) == [
        "taken"
    ]

"""The last stages of a sync: save content with bulk tag inserts and links, then associate it."""

import logging

from asgiref.sync import sync_to_async
from django.db import IntegrityError, connection, transaction

from pulpcore.plugin.models import Content, ProgressReport
from pulpcore.plugin.stages import ContentSaver, DeclarativeContent, Stage

from pulp_container.app.manifests import build_blob_links, build_list_links
from pulp_container.app.models import BlobManifest, ManifestListManifest, Tag

log = logging.getLogger(__name__)


class ContainerContentSaver(ContentSaver):
    """A content saver that also writes the blob and list links of the saved manifests."""

    def _post_save(self, batch: list[DeclarativeContent]) -> None:
        blob_links: list[BlobManifest] = []
        list_links: list[ManifestListManifest] = []
        for content in batch:
            parsed = content.extra_data.get("parsed")
            if parsed is None:
                continue
            if "blobs" in content.extra_data:
                blob_links += build_blob_links(content.content, parsed, content.extra_data["blobs"])
            if "listed" in content.extra_data:
                list_links += build_list_links(
                    content.content, parsed, content.extra_data["listed"]
                )
        BlobManifest.objects.bulk_create(blob_links, ignore_conflicts=True)
        ManifestListManifest.objects.bulk_create(list_links, ignore_conflicts=True)

    def _pre_save(self, batch: list[DeclarativeContent]) -> None:
        new_tags = [
            content.content
            for content in batch
            if isinstance(content.content, Tag) and content.content._state.adding
        ]
        if new_tags:
            insert_tags(new_tags)


def insert_tags(tags: list[Tag]) -> None:
    """
    Insert new tags with one statement per table, marking them saved.

    `ContentSaver` saves each new unit with its own savepoint and two INSERTs, which makes tags
    (thousands per sync, no artifacts) the bulk of a first sync. Django's `bulk_create` rejects
    multi-table models (Content -> Tag), so the parent rows go through `bulk_create` on
    `Content` and the tag rows through one `executemany`. When another sync inserted one of
    the tags meanwhile, nothing is inserted and `ContentSaver` saves the tags one by one.
    """
    parent_fields = Content._meta.concrete_fields
    tag_fields = Tag._meta.local_concrete_fields
    for tag in tags:
        tag.content_ptr_id = tag.pulp_id
    parents = [
        Content(**{field.attname: getattr(tag, field.attname) for field in parent_fields})
        for tag in tags
    ]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in tag_fields)
    placeholders = ", ".join(["%s"] * len(tag_fields))
    statement = f"INSERT INTO {quote(Tag._meta.db_table)} ({columns}) VALUES ({placeholders})"
    try:
        with transaction.atomic():
            Content.objects.bulk_create(parents)
            rows = [
                [
                    field.get_db_prep_save(getattr(tag, field.attname), connection)
                    for field in tag_fields
                ]
                for tag in tags
            ]
            with connection.cursor() as cursor:
                cursor.executemany(statement, rows)
    except IntegrityError as exc:
        log.info("Bulk tag insert conflicted, saving one by one: tags=%s error=%s", len(tags), exc)
        for tag in tags:
            tag.content_ptr_id = None
        return
    for tag, parent in zip(tags, parents):
        tag.pulp_created = parent.pulp_created
        tag.pulp_last_updated = parent.pulp_last_updated
        tag._state.adding = False
        tag._state.db = parent._state.db


class ContainerContentAssociation(Stage):
    """
    A stage that adds the content of each batch to the new version unless it is there already.

    pulpcore's `ContentAssociation` (3.123) first loads every pk of the version with one
    thread-pool call per row, which takes seconds for repositories with thousands of tags.
    This stage queries the database once per batch instead. It never removes content, because
    `prune_to_upstream` does that after mirror syncs.
    """

    def __init__(self, new_version) -> None:
        super().__init__()
        self.new_version = new_version

    async def run(self) -> None:
        async with ProgressReport(
            message="Associating Content", code="associating.content"
        ) as progress:
            async for batch in self.batches():
                added = await sync_to_async(self.add_batch)(batch)
                await progress.aincrease_by(added)
                for content in batch:
                    await self.put(content)

    def add_batch(self, batch: list[DeclarativeContent]) -> int:
        """Add the units of `batch` that the new version lacks, and return how many."""
        pks = {content.content.pk for content in batch}
        present = set(self.new_version.content.filter(pk__in=pks).values_list("pk", flat=True))
        missing = pks - present
        if missing:
            self.new_version.add_content(Content.objects.filter(pk__in=missing))
        return len(missing)

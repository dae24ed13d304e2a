"""
The first stage of a container sync: discover tags, manifests and blobs upstream.

`ContainerFirstStage` walks the upstream tag list in batches. For each batch it HEADs the
tags the repository already has and skips those whose `Docker-Content-Digest` is unchanged,
so an unchanged upstream costs one HEAD per tag and no manifest GET. Other tags are fetched
and emitted bottom-up: blobs, then image manifests, then lists, then tags, because each
level's rows reference the saved rows of the level below.
"""

import asyncio
import logging
import re
from collections.abc import Iterable, Iterator
from http import HTTPStatus
from typing import Any, Optional, TypeVar, Union

from asgiref.sync import sync_to_async

from pulpcore.plugin.models import Artifact, ProgressReport
from pulpcore.plugin.stages import (
    DeclarativeArtifact,
    DeclarativeContent,
    Stage,
)

from pulp_container.app.downloaders import UpstreamRequestError
from pulp_container.app.manifests import (
    Descriptor,
    ManifestError,
    ParsedManifest,
    build_manifest,
    parse_image_config,
)
from pulp_container.app.models import Blob, Manifest, Tag
from pulp_container.app.tasks.upstream import TagFilter, UpstreamRegistry
from pulp_container.constants import IMAGE_CONFIG_MEDIA_TYPES, MANIFEST_TYPE_LIST, TAG_PATTERN

log = logging.getLogger(__name__)

# Tags handled together: one DB lookup and one pipeline round trip per batch.
TAG_BATCH_SIZE = 250
# Tag batches in flight at once, so fetching one overlaps saving another.
MAX_BATCHES_IN_FLIGHT = 3
# Lists that name lists are followed this deep; OCI allows nesting, real images use one level.
MAX_LIST_DEPTH = 4
# Blobs larger than this are never read as an image config.
MAX_CONFIG_SIZE = 4 * 1024 * 1024

TAG_RE = re.compile(TAG_PATTERN)

# `head_tag` result for a tag whose HEAD returns 404.
MISSING = object()

T = TypeVar("T")


def chunked(items: list[T], size: int) -> Iterator[list[T]]:
    """Yield consecutive slices of `items` of at most `size` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


class RepositoryIndex:
    """Batched lookups of tags and manifests in the repository version the sync starts from."""

    def __init__(self, version) -> None:
        self.version = version

    def tag_digests(self, names: list[str]) -> dict[str, str]:
        """Return the manifest digest of each tag in `names` that the version contains."""
        if self.version is None:
            return {}
        tags = self.version.get_content(Tag.objects.filter(name__in=names))
        return dict(tags.values_list("name", "tagged_manifest__digest"))

    def manifests(self, digests: Iterable[str]) -> dict[str, Manifest]:
        """Return the manifests of the version with a digest in `digests`."""
        digests = list(digests)
        if self.version is None or not digests:
            return {}
        manifests = Manifest.objects.filter(digest__in=digests).only("pk", "digest", "type")
        return {manifest.digest: manifest for manifest in self.version.get_content(manifests)}


class SyncProgress:
    """The progress reports of one sync, shown by `pulp task show`."""

    def __init__(self) -> None:
        self.tags = ProgressReport(message="Listing tags", code="sync.listing.tags")
        self.unchanged = ProgressReport(
            message="Skipping unchanged tags", code="sync.skipping.unchanged_tags"
        )
        self.manifests = ProgressReport(
            message="Processing manifests", code="sync.processing.manifests"
        )
        self.blobs = ProgressReport(message="Processing blobs", code="sync.processing.blobs")
        self.missing = ProgressReport(
            message="Skipping tags missing upstream", code="sync.skipping.missing_tags"
        )
        self.reports = [self.tags, self.unchanged, self.manifests, self.blobs, self.missing]

    async def __aenter__(self) -> "SyncProgress":
        for report in self.reports:
            await report.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        for report in self.reports:
            await report.__aexit__(*exc_info)


class ContainerFirstStage(Stage):
    """
    Discover the upstream content of a remote and emit it as `DeclarativeContent`.

    Args:
        remote: The `ContainerRemote` to sync from.
        base_version: The repository version the sync starts from, or None.
        upstream_tags: Filled with tag name -> manifest digest for every synced tag, for the
            mirror step after the pipeline.
    """

    def __init__(self, remote, base_version, upstream_tags: dict[str, str]) -> None:
        super().__init__()
        self.remote = remote
        self.upstream = UpstreamRegistry(remote)
        self.index = RepositoryIndex(base_version)
        self.tag_filter = TagFilter(remote.include_tags, remote.exclude_tags)
        self.deferred = remote.policy != remote.IMMEDIATE
        self.upstream_tags = upstream_tags
        self.progress: Optional[SyncProgress] = None
        # Manifests this sync saved (pk and digest only), and futures of those being saved,
        # so a manifest that many tags share goes through the pipeline once.
        self.saved_manifests: dict[str, Manifest] = {}
        self.saving: dict[str, asyncio.Future] = {}

    async def run(self) -> None:
        """List tags page by page and sync them in batches, a few batches at a time."""
        # TODO: content is found only through tags. Untagged OCI referrers (the referrers API)
        # and signatures of the Docker/Red Hat signature extension are not synced yet.
        async with SyncProgress() as progress:
            self.progress = progress
            pending: set[asyncio.Task] = set()
            listed: set[str] = set()
            try:
                async for page in self.upstream.list_tags():
                    names = [
                        name for name in self.valid_new_tags(page, listed) if self.tag_filter(name)
                    ]
                    await progress.tags.aincrease_by(len(names))
                    for batch in chunked(names, TAG_BATCH_SIZE):
                        while len(pending) >= MAX_BATCHES_IN_FLIGHT:
                            pending = await _wait_first(pending)
                        pending.add(asyncio.create_task(self.sync_tags(batch)))
                while pending:
                    pending = await _wait_first(pending)
            finally:
                for task in pending:
                    task.cancel()
        log.info("Tag listing finished: remote=%s tags=%s", self.remote.name, progress.tags.done)

    def valid_new_tags(self, page: list[str], listed: set[str]) -> list[str]:
        """
        Return the names of a tag list page that are valid tags and not listed before.

        A name outside the tag grammar (e.g. `../other/manifests/x`) would change the request
        path, so it is skipped with a warning, like a repeated name.
        """
        names = []
        invalid = []
        for name in page:
            if not TAG_RE.fullmatch(name):
                invalid.append(name)
            elif name not in listed:
                listed.add(name)
                names.append(name)
        if invalid:
            log.warning(
                "Skipping tags with invalid names: remote=%s count=%s first=%r",
                self.remote.name,
                len(invalid),
                invalid[0][:200],
            )
        return names

    async def sync_tags(self, names: list[str]) -> None:
        """Emit the content of one batch of tags, skipping tags whose digest is unchanged."""
        stored = await sync_to_async(self.index.tag_digests)(names)
        head_names = [name for name in names if name in stored]
        heads = await asyncio.gather(*(self.head_tag(name) for name in head_names))
        head_digests = dict(zip(head_names, heads))

        moved: dict[str, str] = {}
        to_fetch: list[tuple[str, Optional[str]]] = []
        for name in names:
            digest = head_digests.get(name)
            if digest is MISSING:
                continue
            if digest and digest == stored[name]:
                self.upstream_tags[name] = digest
            elif digest:
                moved[name] = digest
            else:
                to_fetch.append((name, None))
        missing = sum(1 for digest in heads if digest is MISSING)
        await self.progress.unchanged.aincrease_by(
            len(names) - missing - len(moved) - len(to_fetch)
        )

        known = await sync_to_async(self.index.manifests)(
            set(moved.values()) - self.saved_manifests.keys()
        )
        known.update(self.saved_manifests)
        for name, digest in moved.items():
            if digest in known:
                await self.emit_tag(name, known[digest])
            else:
                to_fetch.append((name, digest))

        fetched = await asyncio.gather(*(self.fetch_tag(name, digest) for name, digest in to_fetch))
        found = [(name, manifest) for (name, _), manifest in zip(to_fetch, fetched) if manifest]
        await self.save_once({manifest.digest: manifest for _, manifest in found})
        for name, manifest in found:
            await self.emit_tag(name, self.saved_manifests[manifest.digest])

    async def save_once(self, parsed: dict[str, ParsedManifest]) -> None:
        """Save the manifests of `parsed` that no other batch of this sync saved or is saving."""
        waits = {self.saving[digest] for digest in parsed if digest in self.saving}
        new = {
            digest: manifest
            for digest, manifest in parsed.items()
            if digest not in self.saved_manifests and digest not in self.saving
        }
        if new:
            done = asyncio.get_running_loop().create_future()
            self.saving.update(dict.fromkeys(new, done))
            try:
                saved = await self.save_manifests(new)
            except Exception as exc:
                # Waiting batches fail with the same error; reading it back once keeps asyncio
                # from logging it as never retrieved when no batch waits.
                done.set_exception(exc)
                done.exception()
                raise
            finally:
                for digest in new:
                    self.saving.pop(digest, None)
            for digest, manifest in saved.items():
                self.saved_manifests[digest] = Manifest(
                    pk=manifest.pk, digest=manifest.digest, type=manifest.type
                )
            done.set_result(None)
        if waits:
            await asyncio.gather(*waits)

    async def head_tag(self, name: str) -> Union[str, None, object]:
        """Return the digest a HEAD of tag `name` returns, None without one, or MISSING on 404."""
        try:
            return await self.upstream.head_manifest(name)
        except UpstreamRequestError as exc:
            if exc.status != HTTPStatus.NOT_FOUND:
                raise
            await self.skip_missing_tag(name, exc)
            return MISSING

    async def fetch_tag(self, name: str, digest: Optional[str]) -> Optional[ParsedManifest]:
        """GET the manifest of tag `name`, or return None when the GET returns 404."""
        try:
            return await self.upstream.get_manifest(name, digest)
        except UpstreamRequestError as exc:
            if exc.status != HTTPStatus.NOT_FOUND:
                raise
            await self.skip_missing_tag(name, exc)
            return None

    async def skip_missing_tag(self, name: str, exc: UpstreamRequestError) -> None:
        # The tag list named the tag, so it was most likely deleted since. It is left out like
        # a tag the list no longer names: mirror removes it, an additive sync keeps the old one.
        log.warning("Skipping a tag missing upstream: tag=%s url=%s", name, exc.url)
        await self.progress.missing.aincrement()

    async def emit_tag(self, name: str, manifest: Manifest) -> None:
        self.upstream_tags[name] = manifest.digest
        await self.put(DeclarativeContent(content=Tag(name=name, tagged_manifest=manifest)))

    async def save_manifests(
        self, parsed: dict[str, ParsedManifest], depth: int = 0
    ) -> dict[str, Manifest]:
        """
        Emit manifests and everything they reference, and wait until they are saved.

        Returns:
            The saved manifests by digest, including listed manifests the repository had.
        """
        if depth > MAX_LIST_DEPTH:
            raise ManifestError(f"lists are nested more than {MAX_LIST_DEPTH} levels deep")
        await self.progress.manifests.aincrease_by(len(parsed))
        lists = [manifest for manifest in parsed.values() if manifest.type == MANIFEST_TYPE_LIST]
        children = {
            entry.descriptor.digest for manifest in lists for entry in manifest.listed_manifests
        } - parsed.keys()

        saved = {
            digest: self.saved_manifests[digest]
            for digest in children & self.saved_manifests.keys()
        }
        children -= saved.keys()
        if children:
            saved.update(await sync_to_async(self.index.manifests)(children))
            missing = children - saved.keys()
            fetched = await asyncio.gather(
                *(self.upstream.get_manifest(digest) for digest in missing)
            )
            saved.update(
                await self.save_manifests({child.digest: child for child in fetched}, depth + 1)
            )

        images = [manifest for manifest in parsed.values() if manifest.type != MANIFEST_TYPE_LIST]
        saved.update(await self.save_images(images))
        while lists:
            ready = [
                manifest
                for manifest in lists
                if all(entry.descriptor.digest in saved for entry in manifest.listed_manifests)
            ]
            if not ready:
                raise ManifestError(
                    "lists in this batch name each other in a cycle", lists[0].digest
                )
            saved.update(await self.emit_and_wait(self.list_content(ready, saved)))
            lists = [manifest for manifest in lists if manifest not in ready]
        return saved

    def list_content(
        self, lists: list[ParsedManifest], saved: dict[str, Manifest]
    ) -> list[DeclarativeContent]:
        contents = []
        for parsed in lists:
            listed = {
                entry.descriptor.digest: saved[entry.descriptor.digest]
                for entry in parsed.listed_manifests
            }
            contents.append(
                DeclarativeContent(
                    content=build_manifest(parsed),
                    extra_data={"parsed": parsed, "listed": listed},
                )
            )
        return contents

    async def save_images(self, images: list[ParsedManifest]) -> dict[str, Manifest]:
        """Emit the blobs of image and artifact manifests, then the manifests themselves."""
        if not images:
            return {}
        blob_contents = self.blob_content(images)
        await self.progress.blobs.aincrease_by(len(blob_contents))
        blobs = await self.emit_and_wait(blob_contents)
        configs = await sync_to_async(read_configs)(images, blob_contents)
        configs.update(await self.fetch_configs(images, configs.keys()))

        contents = []
        for parsed in images:
            manifest = build_manifest(parsed, configs.get(parsed.digest))
            if parsed.config is not None:
                manifest.config_blob = blobs.get(parsed.config.digest)
            contents.append(
                DeclarativeContent(content=manifest, extra_data={"parsed": parsed, "blobs": blobs})
            )
        return await self.emit_and_wait(contents)

    async def fetch_configs(
        self, images: list[ParsedManifest], known: Iterable[str]
    ) -> dict[str, dict[str, Any]]:
        """
        Read the configs that no stored artifact has into memory, for deferred policies.

        The config blobs stay deferred like the layers. Their architecture, OS and labels
        are copied to the manifests now, and the blobs are fetched again on the first pull.
        Returns `parse_image_config` output by manifest digest.
        """
        if not self.deferred:
            return {}
        readable = [
            parsed
            for parsed in images
            if parsed.digest not in known and _readable_config(parsed.config)
        ]
        digests = sorted({parsed.config.digest for parsed in readable})
        bodies = await asyncio.gather(*(self.read_config(digest) for digest in digests))
        parsed_configs = {
            digest: parse_image_config(body)
            for digest, body in zip(digests, bodies)
            if body is not None
        }
        return {
            parsed.digest: parsed_configs[parsed.config.digest]
            for parsed in readable
            if parsed.config.digest in parsed_configs
        }

    async def read_config(self, digest: str) -> Optional[bytes]:
        """GET a config into memory, or return None when the upstream cannot provide it."""
        try:
            return await self.upstream.get_image_config(digest)
        except (UpstreamRequestError, ManifestError) as error:
            # The config only adds metadata, and a deferred sync does not check layers either.
            log.warning(
                "Image config not read, so its manifests get no architecture, OS or labels: "
                "config=%s error=%s",
                digest,
                error,
            )
            return None

    def blob_content(self, images: list[ParsedManifest]) -> list[DeclarativeContent]:
        """Build one `DeclarativeContent` per distinct blob, leaving out skipped foreign layers."""
        descriptors: dict[str, Descriptor] = {}
        for parsed in images:
            for descriptor in parsed.blobs:
                if descriptor.is_foreign and not self.remote.include_foreign_layers:
                    continue
                descriptors.setdefault(descriptor.digest, descriptor)

        contents = []
        for digest, descriptor in descriptors.items():
            algorithm, _, hex_digest = digest.partition(":")
            artifact = Artifact(size=descriptor.size or None, **{algorithm: hex_digest})
            urls = [*descriptor.urls, self.upstream.blob_url(digest)]
            d_artifact = DeclarativeArtifact(
                artifact=artifact,
                urls=urls,
                relative_path=digest,
                remote=self.remote,
                extra_data={"raise_upstream_error": True},
                deferred_download=self.deferred,
            )
            contents.append(
                DeclarativeContent(content=Blob(digest=digest), d_artifacts=[d_artifact])
            )
        return contents

    async def emit_and_wait(self, contents: list[DeclarativeContent]) -> dict[str, Any]:
        """Put `contents` into the pipeline and return the saved units by digest."""
        for content in contents:
            await self.put(content)
        saved = await asyncio.gather(*(content.resolution() for content in contents))
        return {unit.digest: unit for unit in saved}


async def _wait_first(pending: set[asyncio.Task]) -> set[asyncio.Task]:
    """Wait for one task to finish, re-raise its error, and return the ones still running."""
    done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
    for task in done:
        task.result()
    return pending


def _readable_config(config: Optional[Descriptor]) -> bool:
    """Tell whether a manifest's config is an image config small enough to read."""
    return (
        config is not None
        and config.media_type in IMAGE_CONFIG_MEDIA_TYPES
        and (config.size or 0) <= MAX_CONFIG_SIZE
    )


def read_configs(
    images: list[ParsedManifest], blob_contents: list[DeclarativeContent]
) -> dict[str, dict[str, Any]]:
    """Return `parse_image_config` output by manifest digest for configs with a stored file."""
    artifacts = {}
    for content in blob_contents:
        artifact = content.d_artifacts[0].artifact
        if not artifact._state.adding and artifact.file:
            artifacts[content.content.digest] = artifact

    configs = {}
    for parsed in images:
        config = parsed.config
        if not _readable_config(config):
            continue
        artifact = artifacts.get(config.digest)
        if artifact is None:
            continue
        with artifact.file.open("rb") as file:
            configs[parsed.digest] = parse_image_config(file.read())
    return configs

"""The sync task: mirror tags, manifests and blobs of a v2 registry into a repository."""

import asyncio
import logging
import tempfile

from django.db.models import Q

from pulpcore.plugin.stages import (
    ContentSaver,
    DeclarativeVersion,
    EndStage,
    create_pipeline,
)

from pulp_container.app.models import (
    Blob,
    BlobManifest,
    ContainerRemote,
    ContainerRepository,
    Manifest,
    ManifestListManifest,
    ManifestSignature,
    Tag,
)
from pulp_container.app.tasks.content_saver import (
    ContainerContentAssociation,
    ContainerContentSaver,
)
from pulp_container.app.tasks.sync_stages import MAX_LIST_DEPTH, ContainerFirstStage

log = logging.getLogger(__name__)


def synchronize(remote_pk: str, repository_pk: str, mirror: bool) -> None:
    """
    Sync a repository from its remote registry into a new repository version.

    Args:
        remote_pk: The `ContainerRemote` to sync from.
        repository_pk: The `ContainerRepository` to sync into.
        mirror: When true, the new version contains exactly the filtered upstream tags and the
            content they reference. When false, content is only added.

    Raises:
        UpstreamRequestError: A request to the upstream failed after retries.
        ManifestError: An upstream manifest is invalid or has the wrong digest.
    """
    remote = ContainerRemote.objects.get(pk=remote_pk)
    repository = ContainerRepository.objects.get(pk=repository_pk)
    log.info(
        "Sync started: repository=%s remote=%s url=%s upstream_name=%s mirror=%s",
        repository.name,
        remote.name,
        remote.url,
        remote.upstream_name,
        mirror,
    )
    upstream_tags: dict[str, str] = {}
    first_stage = ContainerFirstStage(remote, repository.latest_version(), upstream_tags)
    version = ContainerDeclarativeVersion(
        first_stage,
        repository,
        mirror=mirror,
        upstream_tags=upstream_tags,
        deferred_fields={Manifest: ["data", "annotations", "labels"]},
    ).create()
    log.info(
        "Sync finished: repository=%s version=%s tags=%s",
        repository.name,
        version.number if version else "unchanged",
        len(upstream_tags),
    )


class ContainerDeclarativeVersion(DeclarativeVersion):
    """
    A declarative version that saves manifest links and mirrors by reachability.

    Unchanged tags never enter the pipeline, so pulpcore's mirror step (remove what the
    stream did not mention) would drop them. Instead the pipeline only adds content and
    `prune_to_upstream` then removes what the upstream tags no longer reach.
    """

    def __init__(self, *args, upstream_tags: dict[str, str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.upstream_tags = upstream_tags

    def pipeline_stages(self, new_version):
        stages = super().pipeline_stages(new_version)
        return [
            ContainerContentSaver() if type(stage) is ContentSaver else stage for stage in stages
        ]

    def create(self):
        """Run the pipeline in a new version, then prune it when mirroring."""
        with tempfile.TemporaryDirectory(dir="."):
            with self.repository.new_version() as new_version:
                stages = self.pipeline_stages(new_version)
                stages.append(ContainerContentAssociation(new_version))
                stages.append(EndStage())
                asyncio.get_event_loop().run_until_complete(create_pipeline(stages))
                if self.mirror:
                    prune_to_upstream(new_version, self.upstream_tags)
        return new_version if new_version.complete else None


def prune_to_upstream(version, upstream_tags: dict[str, str]) -> None:
    """
    Remove from `version` the tags not in `upstream_tags` and all content they no longer reach.

    A tag stays when `upstream_tags` maps its name to its manifest digest. Manifests stay when a
    kept tag or a kept list reaches them, blobs when a kept manifest references them.
    """
    stale_tags = [
        pk
        for pk, name, digest in version.get_content(Tag.objects)
        .values_list("pk", "name", "tagged_manifest__digest")
        .iterator()
        if upstream_tags.get(name) != digest
    ]
    version.remove_content(Tag.objects.filter(pk__in=stale_tags))

    kept_tags = version.get_content(Tag.objects)
    kept_manifests = set(kept_tags.values_list("tagged_manifest", flat=True))
    frontier = set(kept_manifests)
    for _ in range(MAX_LIST_DEPTH + 1):
        listed = set(
            ManifestListManifest.objects.filter(manifest_list__in=frontier).values_list(
                "image_manifest", flat=True
            )
        )
        frontier = listed - kept_manifests
        if not frontier:
            break
        kept_manifests |= frontier

    manifests = version.get_content(Manifest.objects)
    version.remove_content(manifests.exclude(pk__in=kept_manifests))
    linked_blobs = BlobManifest.objects.filter(manifest__in=kept_manifests).values("manifest_blob")
    config_blobs = Manifest.objects.filter(pk__in=kept_manifests, config_blob__isnull=False).values(
        "config_blob"
    )
    blobs = version.get_content(Blob.objects)
    version.remove_content(blobs.exclude(Q(pk__in=linked_blobs) | Q(pk__in=config_blobs)))
    signatures = version.get_content(ManifestSignature.objects)
    version.remove_content(signatures.exclude(signed_manifest__in=kept_manifests))
    log.info("Mirror pruning finished: version=%s stale_tags=%s", version.number, len(stale_tags))

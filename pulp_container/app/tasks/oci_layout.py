"""
Export a repository version to an OCI image layout directory.

An OCI image layout (OCI image spec v1.1, image-layout.md) is a directory with an
`oci-layout` file, an `index.json` that names the top-level manifests, and every manifest and
blob under `blobs/<algorithm>/<encoded digest>`. Each tag becomes one `index.json` entry with
the `org.opencontainers.image.ref.name` annotation, which is how `skopeo copy oci:DIR:TAG`
and `podman pull oci:DIR:TAG` find it.

The export only writes under pulpcore's ALLOWED_EXPORT_PATHS; `oci_layout_import` reads
layouts back. Helpers used by both live here.
"""

import json
import logging
import os
import shutil
from contextlib import nullcontext
from pathlib import Path
from typing import Optional

from django.conf import settings
from django.db import IntegrityError, transaction

from pulpcore.plugin.exceptions import PulpException
from pulpcore.plugin.models import (
    Artifact,
    ContentArtifact,
    ProgressReport,
    RepositoryVersion,
    Task,
)
from pulpcore.plugin.util import get_domain_pk

from pulp_container.app.downloaders import RAISE_UPSTREAM_ERROR
from pulp_container.app.manifests import (
    DIGEST_RE,
    SUPPORTED_DIGEST_ALGORITHMS,
    parse_manifest,
)
from pulp_container.app.models import Blob, Manifest, Tag
from pulp_container.app.tasks.dependencies import manifest_closure
from pulp_container.constants import (
    MANIFEST_TYPE_SCHEMA1,
    OCI_INDEX,
)

log = logging.getLogger(__name__)

OCI_LAYOUT_FILE = "oci-layout"
OCI_LAYOUT_VERSION = "1.0.0"
INDEX_FILE = "index.json"
REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name"
COPY_CHUNK_SIZE = 1024 * 1024


class OCILayoutError(PulpException):
    """An OCI layout export or import that cannot go ahead; the message names the file or digest."""

    error_code = "CTR0040"

    def __init__(self, message: str):
        self.message = message

    def __str__(self) -> str:
        return f"[{self.error_code}] {self.message}"


def allowed_path(path: str, allowed: list[str], setting: str) -> Path:
    """
    Return the resolved `path` when it lies in one of the `allowed` directories.

    Symbolic links are resolved first, so a link cannot lead out of an allowed directory.

    Raises:
        OCILayoutError: The path is relative or outside every allowed directory.
    """
    if not os.path.isabs(path):
        raise OCILayoutError(f"Path {path!r} is not absolute; give an absolute path.")
    resolved = os.path.realpath(path)
    for directory in allowed or []:
        root = os.path.realpath(directory)
        if resolved == root or resolved.startswith(root.rstrip(os.sep) + os.sep):
            return Path(resolved)
    raise OCILayoutError(
        f"Path {path!r} is not in a directory listed in {setting} "
        f"({', '.join(allowed or []) or 'empty'}); use a path under one of them."
    )


def blob_path(root: Path, digest: str) -> Path:
    """Return `<root>/blobs/<algorithm>/<encoded>` of a digest checked against the grammar."""
    if not DIGEST_RE.fullmatch(digest):
        raise OCILayoutError(f"{digest!r} is not a valid digest.")
    algorithm, encoded = digest.split(":", 1)
    if algorithm not in SUPPORTED_DIGEST_ALGORITHMS:
        raise OCILayoutError(
            f"Digest {digest} uses {algorithm}; only sha256 and sha512 are supported."
        )
    return root / "blobs" / algorithm / encoded


# Export ----------------------------------------------------------------------------------------


def export_oci_layout(
    repository_version_pk: str,
    path: str,
    tags: Optional[list[str]] = None,
    fetch_missing: bool = False,
) -> None:
    """
    Write the tags of a repository version, with all they reference, as an OCI image layout.

    Args:
        repository_version_pk: The version to export.
        path: An empty or missing directory under ALLOWED_EXPORT_PATHS.
        tags: The tag names to export; all tags of the version when empty.
        fetch_missing: Download blobs that an on_demand sync has not fetched yet from their
            remote. When false, such blobs fail the export.

    Raises:
        OCILayoutError: The path is not allowed or not empty, a tag is missing, or blobs are
            not available.
    """
    version = RepositoryVersion.objects.select_related("repository").get(pk=repository_version_pk)
    destination = allowed_path(path, settings.ALLOWED_EXPORT_PATHS, "ALLOWED_EXPORT_PATHS")
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise OCILayoutError(f"Export path {path!r} is not an empty directory; choose a new path.")

    selected = select_tags(version, tags)
    manifests = Manifest.objects.filter(pk__in=manifest_closure(t.pk for t in selected))
    manifests = list(manifests.only("digest", "data", "media_type", "type"))
    blobs = blob_artifacts(version, manifests, fetch_missing)

    created = not destination.exists()
    try:
        write_layout(destination, selected, manifests, blobs)
    except BaseException:
        _remove_partial_export(destination, created)
        raise
    log.info(
        "OCI layout export finished: repository=%s version=%s path=%s tags=%s blobs=%s",
        version.repository.name,
        version.number,
        destination,
        len(selected),
        len(blobs),
    )


def select_tags(version: RepositoryVersion, names: Optional[list[str]]) -> list[Tag]:
    """
    Return the tags to export, sorted by name.

    Schema 1 manifests cannot be stored in a layout because their digest does not cover the
    file bytes. Named schema 1 tags fail the export, and unnamed ones are skipped with a warning.
    """
    tags = version.get_content(Tag.objects).select_related("tagged_manifest").order_by("name")
    if names:
        tags = tags.filter(name__in=names)
        missing = sorted(set(names) - {tag.name for tag in tags})
        if missing:
            raise OCILayoutError(
                f"Tags {', '.join(missing)} are not in version {version.number} of repository "
                f"{version.repository.name!r}."
            )
    schema1 = [tag.name for tag in tags if tag.tagged_manifest.type == MANIFEST_TYPE_SCHEMA1]
    if schema1 and names:
        raise OCILayoutError(
            f"Tags {', '.join(schema1)} point to Docker schema 1 manifests, which an OCI layout "
            "cannot hold; leave them out of 'tags'."
        )
    if schema1:
        log.warning("OCI layout export skips schema 1 tags: tags=%s", ",".join(schema1))
    selected = [tag for tag in tags if tag.name not in schema1]
    if not selected:
        raise OCILayoutError(f"Version {version.number} has no tags to export.")
    return selected


def blob_digests(manifests: list[Manifest]) -> set[str]:
    """Return the config and layer digests that the manifest bytes name, foreign layers aside."""
    digests = set()
    for manifest in manifests:
        parsed = parse_manifest(manifest.data.encode(), manifest.media_type, manifest.digest)
        digests |= {blob.digest for blob in parsed.blobs if not blob.is_foreign}
    return digests


def blob_artifacts(
    version: RepositoryVersion, manifests: list[Manifest], fetch_missing: bool
) -> dict[str, Artifact]:
    """
    Return the artifact of every blob the manifests need, by digest.

    Raises:
        OCILayoutError: A blob is not in the version, or not downloaded and `fetch_missing`
            is false.
    """
    needed = blob_digests(manifests)
    blobs = version.get_content(Blob.objects).filter(digest__in=needed)
    digest_by_pk = dict(blobs.values_list("pk", "digest"))
    links = ContentArtifact.objects.filter(content_id__in=digest_by_pk).select_related("artifact")
    by_digest = {digest_by_pk[link.content_id]: link for link in links}
    absent = sorted(needed - by_digest.keys())
    if absent:
        raise OCILayoutError(
            f"Blobs {', '.join(absent)} are named by the exported manifests but are not in "
            f"version {version.number}; add them to the repository first."
        )
    missing = sorted(digest for digest, link in by_digest.items() if link.artifact is None)
    if missing and not fetch_missing:
        raise OCILayoutError(
            f"Blobs {', '.join(missing)} were synced on_demand and are not downloaded yet; "
            "set fetch_missing to true to download them during the export."
        )
    for digest in missing:
        by_digest[digest].artifact = fetch_blob(by_digest[digest], digest)
    return {digest: link.artifact for digest, link in by_digest.items()}


def fetch_blob(content_artifact: ContentArtifact, digest: str) -> Artifact:
    """
    Download a blob from one of its remotes, save it as an artifact and link it to the blob.

    Raises:
        OCILayoutError: No remote knows the blob, or every remote failed.
    """
    errors = []
    for remote_artifact in content_artifact.remoteartifact_set.select_related("remote"):
        remote = remote_artifact.remote.cast()
        downloader = remote.get_downloader(remote_artifact=remote_artifact)
        try:
            result = downloader.fetch(extra_data={RAISE_UPSTREAM_ERROR: True})
        except Exception as exc:  # noqa: BLE001 - try the next remote, report all at the end
            log.warning("Blob download failed: digest=%s remote=%s error=%s", digest, remote, exc)
            errors.append(f"{remote.name}: {exc}")
            continue
        artifact = save_artifact(result.path, digest)
        content_artifact.artifact = artifact
        content_artifact.save()
        log.info("Blob downloaded for export: digest=%s remote=%s", digest, remote.name)
        return artifact
    reason = "; ".join(errors) or "no remote is recorded for it"
    raise OCILayoutError(f"Blob {digest} could not be downloaded: {reason}.")


def save_artifact(file_path: str, digest: str) -> Artifact:
    """Save a file as the artifact of `digest`, or return the artifact that already exists."""
    algorithm, encoded = digest.split(":", 1)
    artifact = Artifact.init_and_validate(file_path, expected_digests={algorithm: encoded})
    try:
        with transaction.atomic():
            artifact.save()
    except IntegrityError:
        artifact = Artifact.objects.get(**{algorithm: encoded}, pulp_domain_id=get_domain_pk())
    return artifact


def write_layout(
    destination: Path, tags: list[Tag], manifests: list[Manifest], blobs: dict[str, Artifact]
) -> None:
    """Write manifests and blobs, then `index.json` and `oci-layout` last."""
    for manifest in manifests:
        data = manifest.data.encode()
        _write_file(blob_path(destination, manifest.digest), data)

    report = None
    if Task.current_id() is not None:
        report = ProgressReport(
            message="Writing OCI layout blobs", code="export.oci_layout.blobs", total=len(blobs)
        )
    with report or nullcontext():
        for digest, artifact in sorted(blobs.items()):
            _copy_artifact(artifact, blob_path(destination, digest), digest)
            if report:
                report.increment()

    # NOTE: Docker schema 2 manifests keep their media type and digest. skopeo 1.9 (Debian 12)
    # selects only OCI manifest and index entries by ref.name, so it cannot copy those tags.
    entries = [
        {
            "mediaType": tag.tagged_manifest.media_type,
            "digest": tag.tagged_manifest.digest,
            "size": len(tag.tagged_manifest.data.encode()),
            "annotations": {REF_NAME_ANNOTATION: tag.name},
        }
        for tag in tags
    ]
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
    _write_file(destination / INDEX_FILE, json.dumps(index, indent=2).encode())
    layout = {"imageLayoutVersion": OCI_LAYOUT_VERSION}
    _write_file(destination / OCI_LAYOUT_FILE, json.dumps(layout).encode())


def _write_file(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def _copy_artifact(artifact: Artifact, target: Path, digest: str) -> None:
    algorithm, encoded = digest.split(":", 1)
    if getattr(artifact, algorithm, None) != encoded:
        raise OCILayoutError(
            f"The stored artifact of blob {digest} has another digest; repair the repository."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with artifact.file.open("rb") as source, open(target, "wb") as output:
        shutil.copyfileobj(source, output, COPY_CHUNK_SIZE)


def _remove_partial_export(destination: Path, created: bool) -> None:
    """Remove what a failed export wrote, so no half-written layout is left behind."""
    if created:
        shutil.rmtree(destination, ignore_errors=True)
        return
    shutil.rmtree(destination / "blobs", ignore_errors=True)
    for name in (INDEX_FILE, OCI_LAYOUT_FILE):
        (destination / name).unlink(missing_ok=True)

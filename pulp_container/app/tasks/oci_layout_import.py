"""
Import an OCI image layout directory into a new repository version.

The layout is read from under pulpcore's ALLOWED_IMPORT_PATHS. Every manifest and blob is
checked against its digest and size, and blobs are copied into the task's directory, before
anything is written to the database, so a bad layout leaves the repository unchanged.
"""

import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from django.conf import settings
from django.db import transaction

from pulpcore.plugin.models import Artifact, ContentArtifact, Repository
from pulpcore.plugin.util import get_domain_pk

from pulp_container.app.manifests import (
    SUPPORTED_DIGEST_ALGORITHMS,
    Descriptor,
    ManifestError,
    ParsedManifest,
    build_blob_links,
    build_list_links,
    build_manifest,
    parse_descriptor,
    parse_image_config,
    parse_manifest,
)
from pulp_container.app.models import Blob, BlobManifest, Manifest, ManifestListManifest, Tag
from pulp_container.app.tasks.oci_layout import (
    COPY_CHUNK_SIZE,
    INDEX_FILE,
    OCI_LAYOUT_FILE,
    OCI_LAYOUT_VERSION,
    REF_NAME_ANNOTATION,
    OCILayoutError,
    allowed_path,
    blob_path,
    save_artifact,
)
from pulp_container.app.tasks.sync_stages import MAX_CONFIG_SIZE, MAX_LIST_DEPTH
from pulp_container.constants import (
    IMAGE_CONFIG_MEDIA_TYPES,
    MANIFEST_MEDIA_TYPES,
    MANIFEST_TYPE_LIST,
    TAG_PATTERN,
)

log = logging.getLogger(__name__)


@dataclass
class LayoutContent:
    """
    The checked content of an OCI layout.

    Fields:
        tags: Tag name -> top-level manifest digest.
        untagged: Digests of top-level manifests without a tag name.
        manifests: Parsed manifests by digest, children before the lists that name them.
        blobs: Blob digest -> a checked copy in the task's directory, or None when an
            artifact with that digest already exists.
        configs: `parse_image_config` output by manifest digest.
    """

    tags: dict[str, str] = field(default_factory=dict)
    untagged: list[str] = field(default_factory=list)
    manifests: dict[str, ParsedManifest] = field(default_factory=dict)
    blobs: dict[str, Optional[Path]] = field(default_factory=dict)
    configs: dict[str, dict] = field(default_factory=dict)


def import_oci_layout(repository_pk: str, path: str, tags: Optional[list[str]] = None) -> None:
    """
    Import an OCI image layout into a new repository version.

    Every manifest and blob is checked against its digest and size first. Only then are
    blobs, manifests and tags saved, in one transaction with the new version.

    Args:
        repository_pk: The repository to add the content to.
        path: A layout directory under ALLOWED_IMPORT_PATHS.
        tags: The tag names to import; all entries of `index.json` when empty.

    Raises:
        OCILayoutError: The path is not allowed, a file is missing or invalid, or a digest or
            size does not match.
    """
    repository = Repository.objects.get(pk=repository_pk).cast()
    source = allowed_path(path, settings.ALLOWED_IMPORT_PATHS, "ALLOWED_IMPORT_PATHS")
    with tempfile.TemporaryDirectory(dir=".") as staging:
        content = LayoutReader(source, Path(staging)).read(tags)
        with transaction.atomic():
            units = save_content(content)
            with repository.new_version() as new_version:
                new_version.add_content(units["blobs"])
                new_version.add_content(units["manifests"])
                new_version.add_content(units["tags"])
    log.info(
        "OCI layout import finished: repository=%s version=%s path=%s tags=%s manifests=%s",
        repository.name,
        new_version.number,
        source,
        len(content.tags),
        len(content.manifests),
    )


class LayoutReader:
    """Read and check an OCI layout; blobs are copied into `staging` while they are hashed."""

    def __init__(self, root: Path, staging: Path) -> None:
        self.root = root
        self.staging = staging
        self.content = LayoutContent()
        self.known_artifacts: set[str] = set()

    def read(self, tags: Optional[list[str]]) -> LayoutContent:
        """Return the checked content of the layout, limited to `tags` when given."""
        self.check_layout_version()
        entries = self.index_entries()
        if tags:
            missing = sorted(set(tags) - {name for name, _ in entries if name})
            if missing:
                raise OCILayoutError(
                    f"Tags {', '.join(missing)} are not in {self.root / INDEX_FILE}."
                )
            entries = [(name, entry) for name, entry in entries if name in tags]
        for name, descriptor in entries:
            self.read_manifest(descriptor, depth=0)
            if name:
                self.content.tags[name] = descriptor.digest
            else:
                self.content.untagged.append(descriptor.digest)
        self.read_blobs()
        return self.content

    def file(self, relative: str) -> Path:
        """Return a path inside the layout; raise for a missing file or a link that leads out."""
        target = self.root / relative
        resolved = Path(os.path.realpath(target))
        if resolved != self.root and self.root not in resolved.parents:
            raise OCILayoutError(f"{target} leads outside the layout directory {self.root}.")
        if not resolved.is_file():
            raise OCILayoutError(f"{target} is missing from the OCI layout.")
        return resolved

    def read_json(self, relative: str) -> dict:
        target = self.file(relative)
        try:
            body = json.loads(target.read_bytes())
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise OCILayoutError(f"{target} is not valid JSON: {exc}.") from None
        if not isinstance(body, dict):
            raise OCILayoutError(f"{target} is not a JSON object.")
        return body

    def check_layout_version(self) -> None:
        version = self.read_json(OCI_LAYOUT_FILE).get("imageLayoutVersion")
        if version != OCI_LAYOUT_VERSION:
            raise OCILayoutError(
                f"{self.root / OCI_LAYOUT_FILE} has imageLayoutVersion {version!r}; "
                f"only {OCI_LAYOUT_VERSION!r} is supported."
            )

    def index_entries(self) -> list[tuple[Optional[str], Descriptor]]:
        """Return (tag name or None, descriptor) for each entry of `index.json`."""
        index_path = self.root / INDEX_FILE
        index = self.read_json(INDEX_FILE)
        if not isinstance(index.get("manifests"), list):
            raise OCILayoutError(f"{index_path} has no 'manifests' list.")
        entries, seen = [], set()
        for position, entry in enumerate(index["manifests"]):
            where = f"manifests[{position}]."
            try:
                descriptor = parse_descriptor(entry, None, where)
            except ManifestError as exc:
                raise OCILayoutError(f"{index_path} is invalid: {exc.reason}.") from None
            name = tag_name(descriptor.annotations.get(REF_NAME_ANNOTATION), index_path)
            if name in seen:
                raise OCILayoutError(f"{index_path} names tag {name!r} twice.")
            if name:
                seen.add(name)
            entries.append((name, descriptor))
        return entries

    def read_manifest(self, descriptor: Descriptor, depth: int) -> None:
        """Read, check and parse a manifest and, for a list, its listed manifests first."""
        if descriptor.digest in self.content.manifests:
            return
        if depth > MAX_LIST_DEPTH:
            raise OCILayoutError(
                f"Manifest {descriptor.digest} is nested more than {MAX_LIST_DEPTH} lists deep."
            )
        if descriptor.media_type not in MANIFEST_MEDIA_TYPES:
            raise OCILayoutError(
                f"Descriptor of {descriptor.digest} has media type {descriptor.media_type!r}, "
                "which is not a manifest media type."
            )
        target = self.file(str(blob_path(Path("."), descriptor.digest)))
        data = target.read_bytes()
        if len(data) != descriptor.size:
            raise OCILayoutError(
                f"{target} is {len(data)} bytes, but its descriptor gives size {descriptor.size}."
            )
        try:
            parsed = parse_manifest(data, descriptor.media_type, descriptor.digest)
        except ManifestError as exc:
            raise OCILayoutError(f"{target} is not a valid manifest: {exc}") from None
        if parsed.type == MANIFEST_TYPE_LIST:
            for entry in parsed.listed_manifests:
                self.read_manifest(entry.descriptor, depth + 1)
        self.content.manifests[parsed.digest] = parsed

    def read_blobs(self) -> None:
        """Check and stage every blob that the manifests name."""
        descriptors: dict[str, Descriptor] = {}
        for parsed in self.content.manifests.values():
            for descriptor in parsed.blobs:
                descriptors.setdefault(descriptor.digest, descriptor)
        existing = existing_artifacts(descriptors)
        for digest, descriptor in sorted(descriptors.items()):
            relative = str(blob_path(Path("."), digest))
            if not (self.root / relative).exists():
                if descriptor.is_foreign:
                    continue  # Foreign layers are fetched from their URLs, not from the layout.
                raise OCILayoutError(
                    f"Blob {digest} is missing from the OCI layout: {self.root / relative} "
                    "does not exist."
                )
            copy = None if digest in existing else self.staging / digest.replace(":", "-")
            check_blob(self.file(relative), descriptor, copy)
            self.content.blobs[digest] = copy
        for parsed in self.content.manifests.values():
            self.read_config(parsed)

    def read_config(self, parsed: ParsedManifest) -> None:
        config = parsed.config
        if config is None or config.media_type not in IMAGE_CONFIG_MEDIA_TYPES:
            return
        if config.size > MAX_CONFIG_SIZE:
            return
        staged = self.content.blobs.get(config.digest)
        source = staged or self.root / blob_path(Path("."), config.digest)
        self.content.configs[parsed.digest] = parse_image_config(source.read_bytes())


def tag_name(reference: Optional[str], index_path: Path) -> Optional[str]:
    """
    Return the tag of a `ref.name` annotation: the whole value, or the part after the last
    colon of a full reference such as `registry.example.com/app:1.0`.
    """
    if reference is None:
        return None
    candidate = reference
    if ":" in reference.rsplit("/", 1)[-1]:
        candidate = reference.rsplit(":", 1)[1]
    if not re.fullmatch(TAG_PATTERN, candidate):
        raise OCILayoutError(
            f"{index_path} has {REF_NAME_ANNOTATION} {reference!r}, which is not a valid tag."
        )
    return candidate


def existing_artifacts(descriptors: dict[str, Descriptor]) -> set[str]:
    """Return the digests among `descriptors` that already have an artifact in this domain."""
    found = set()
    for algorithm in SUPPORTED_DIGEST_ALGORITHMS:
        encoded = [d.split(":", 1)[1] for d in descriptors if d.startswith(f"{algorithm}:")]
        artifacts = Artifact.objects.filter(
            **{f"{algorithm}__in": encoded}, pulp_domain_id=get_domain_pk()
        )
        found |= {f"{algorithm}:{value}" for value in artifacts.values_list(algorithm, flat=True)}
    return found


def check_blob(source: Path, descriptor: Descriptor, copy: Optional[Path]) -> None:
    """
    Hash a blob file, copying it to `copy` when given, and compare digest and size.

    Raises:
        OCILayoutError: The digest or size differs from the descriptor.
    """
    algorithm = descriptor.digest.split(":", 1)[0]
    hasher = SUPPORTED_DIGEST_ALGORITHMS[algorithm]()
    size = 0
    output = open(copy, "wb") if copy else None
    try:
        with open(source, "rb") as input_file:
            while chunk := input_file.read(COPY_CHUNK_SIZE):
                hasher.update(chunk)
                size += len(chunk)
                if output:
                    output.write(chunk)
    finally:
        if output:
            output.close()
    actual = f"{algorithm}:{hasher.hexdigest()}"
    if actual != descriptor.digest:
        raise OCILayoutError(
            f"{source} has digest {actual}, but its file name is the digest {descriptor.digest}."
        )
    if size != descriptor.size:
        raise OCILayoutError(
            f"{source} is {size} bytes, but the manifest gives size {descriptor.size} for "
            f"{descriptor.digest}."
        )


def save_content(content: LayoutContent) -> dict:
    """Save blobs, manifests with their links, and tags; return querysets of each."""
    blobs = save_blobs(content.blobs)
    manifests = save_manifests(content, blobs)
    tags = []
    for name, digest in content.tags.items():
        tag, _ = Tag.objects.get_or_create(
            name=name, tagged_manifest=manifests[digest], _pulp_domain_id=get_domain_pk()
        )
        tags.append(tag.pk)
    return {
        "blobs": Blob.objects.filter(pk__in=[blob.pk for blob in blobs.values()]),
        "manifests": Manifest.objects.filter(pk__in=[m.pk for m in manifests.values()]),
        "tags": Tag.objects.filter(pk__in=tags),
    }


def save_blobs(staged: dict[str, Optional[Path]]) -> dict[str, Blob]:
    """Create the blobs and artifacts that are new, and attach artifacts to on_demand blobs."""
    blobs = {}
    for digest, copy in staged.items():
        if copy is not None:
            artifact = save_artifact(str(copy), digest)
        else:
            algorithm, encoded = digest.split(":", 1)
            artifact = Artifact.objects.get(**{algorithm: encoded}, pulp_domain_id=get_domain_pk())
        blob, _ = Blob.objects.get_or_create(digest=digest, _pulp_domain_id=get_domain_pk())
        link, created = ContentArtifact.objects.get_or_create(
            content=blob, relative_path=digest, defaults={"artifact": artifact}
        )
        if not created and link.artifact_id is None:
            link.artifact = artifact
            link.save()
        blobs[digest] = blob
    return blobs


def save_manifests(content: LayoutContent, blobs: dict[str, Blob]) -> dict[str, Manifest]:
    """Create the manifests that are new, children first, with their blob and list links."""
    existing = Manifest.objects.filter(
        digest__in=list(content.manifests), _pulp_domain_id=get_domain_pk()
    )
    saved = {manifest.digest: manifest for manifest in existing}
    blob_links, list_links = [], []
    for digest, parsed in content.manifests.items():
        manifest = saved.get(digest)
        if manifest is None:
            manifest = build_manifest(parsed, content.configs.get(digest))
            if parsed.config is not None:
                manifest.config_blob = blobs.get(parsed.config.digest)
            manifest.save()
            saved[digest] = manifest
        blob_links += build_blob_links(manifest, parsed, blobs)
        if parsed.type == MANIFEST_TYPE_LIST:
            list_links += build_list_links(manifest, parsed, saved)
    BlobManifest.objects.bulk_create(blob_links, ignore_conflicts=True)
    ManifestListManifest.objects.bulk_create(list_links, ignore_conflicts=True)
    return saved

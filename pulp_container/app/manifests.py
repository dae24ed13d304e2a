"""
Parse, validate and digest manifest bodies of every supported media type.

Sync, push and pull-through all receive manifests as raw bytes. `parse_manifest` checks the
bytes against the requested digest and the rules of their media type and returns a
`ParsedManifest`. `build_manifest` turns that into an unsaved `Manifest` model plus the link
rows to save next to it.

Sources: Docker Image Manifest V2 Schema 1 and Schema 2, Docker manifest list, and the OCI
image spec v1.1 (manifest.md, image-index.md, descriptor.md).
"""

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Optional

from pulpcore.plugin.exceptions import PulpException

from pulp_container.app.models import Blob, BlobManifest, Manifest, ManifestListManifest
from pulp_container.constants import (
    DIGEST_PATTERN,
    DOCKER_MANIFEST_LIST,
    DOCKER_MANIFEST_V1,
    DOCKER_MANIFEST_V1_SIGNED,
    DOCKER_MANIFEST_V2,
    FOREIGN_LAYER_MEDIA_TYPES,
    IMAGE_CONFIG_MEDIA_TYPES,
    MANIFEST_MAX_SIZE,
    MANIFEST_MEDIA_TYPES,
    MANIFEST_TYPE_ARTIFACT,
    MANIFEST_TYPE_IMAGE,
    MANIFEST_TYPE_LIST,
    MANIFEST_TYPE_SCHEMA1,
    OCI_INDEX,
    OCI_MANIFEST,
    SCHEMA1_MEDIA_TYPES,
)

DIGEST_RE = re.compile(rf"^{DIGEST_PATTERN}$")
SUPPORTED_DIGEST_ALGORITHMS = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}
# Encoded lengths of the algorithms that the OCI image spec registers, in lowercase hex.
REGISTERED_DIGEST_LENGTHS = {"sha256": 64, "sha512": 128}
HEX_RE = re.compile(r"[a-f0-9]+")
# Content types that say nothing about the manifest kind, so the body shape decides.
GENERIC_CONTENT_TYPES = ("", "application/json", "text/plain", "application/octet-stream")


class ManifestError(PulpException):
    """
    A manifest body that is not valid JSON, breaks its schema or has an unknown media type.

    Attributes:
        reference: The digest or tag the manifest was requested by, when known.
        reason: What is wrong, naming the field.
    """

    error_code = "CTR0001"

    def __init__(self, reason: str, reference: Optional[str] = None):
        self.reason = reason
        self.reference = reference

    def __str__(self) -> str:
        where = f" {self.reference}" if self.reference else ""
        return f"[{self.error_code}] Invalid manifest{where}: {self.reason}"


class ManifestDigestMismatch(ManifestError):
    """A manifest body whose digest differs from the digest it was requested by."""

    error_code = "CTR0002"

    def __init__(self, expected: str, actual: str):
        super().__init__(f"the body has digest {actual}", expected)
        self.expected = expected
        self.actual = actual

    def __str__(self) -> str:
        where = f" of {self.reference}" if self.reference != self.expected else ""
        return (
            f"[{self.error_code}] Manifest digest mismatch{where}: expected {self.expected}, "
            f"but the body has digest {self.actual}"
        )


@dataclass(frozen=True)
class Descriptor:
    """A reference to a blob or manifest by digest, size and media type (OCI descriptor)."""

    digest: str
    size: int
    media_type: str
    urls: tuple[str, ...] = ()
    annotations: dict[str, str] = field(default_factory=dict)
    artifact_type: Optional[str] = None

    @property
    def is_foreign(self) -> bool:
        """Whether the blob is a foreign (non-distributable) layer."""
        return self.media_type in FOREIGN_LAYER_MEDIA_TYPES


@dataclass(frozen=True)
class Platform:
    """The platform of a manifest in a list or index."""

    architecture: str = ""
    os: str = ""
    os_version: str = ""
    os_features: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    variant: str = ""


@dataclass(frozen=True)
class ListedManifest:
    """A manifest named by a list or index, with its platform."""

    descriptor: Descriptor
    platform: Platform


@dataclass
class ParsedManifest:
    """
    A validated manifest.

    Fields:
        digest: The manifest digest (over the payload without signatures for signed schema 1).
        data: The exact bytes received.
        media_type: The manifest media type.
        schema_version: 1 or 2.
        type: One of the `MANIFEST_TYPE_*` values.
        config: The config descriptor of an image or artifact manifest.
        layers: The layer descriptors, in manifest order (de-duplicated for schema 1).
        listed_manifests: The manifests a list or index names.
        annotations: The top-level annotations.
        artifact_type: `artifactType`, or the config media type of a non-image config.
        subject: The digest of the manifest named by `subject`.
        architecture: The architecture a schema 1 manifest declares.
    """

    digest: str
    data: bytes
    media_type: str
    schema_version: int
    type: str
    config: Optional[Descriptor] = None
    layers: list[Descriptor] = field(default_factory=list)
    listed_manifests: list[ListedManifest] = field(default_factory=list)
    annotations: dict[str, str] = field(default_factory=dict)
    artifact_type: Optional[str] = None
    subject: Optional[str] = None
    architecture: Optional[str] = None

    @property
    def blobs(self) -> list[Descriptor]:
        """The config (if any) and the layers."""
        return ([self.config] if self.config else []) + self.layers

    @property
    def compressed_image_size(self) -> Optional[int]:
        """The sum of config and layer sizes in bytes, or None for lists and schema 1."""
        if self.type in (MANIFEST_TYPE_LIST, MANIFEST_TYPE_SCHEMA1):
            return None
        return sum(blob.size for blob in self.blobs)


def is_valid_digest(digest: str) -> bool:
    """
    Tell whether `digest` follows the digest grammar of the OCI image spec.

    sha256 and sha512 digests must also have the lowercase hex length that the spec fixes.
    """
    if not DIGEST_RE.fullmatch(digest):
        return False
    algorithm, _, encoded = digest.partition(":")
    length = REGISTERED_DIGEST_LENGTHS.get(algorithm)
    return length is None or (len(encoded) == length and HEX_RE.fullmatch(encoded) is not None)


def compute_digest(data: bytes, algorithm: str = "sha256") -> str:
    """Return the `<algorithm>:<hex>` digest of `data`."""
    try:
        hasher = SUPPORTED_DIGEST_ALGORITHMS[algorithm]
    except KeyError:
        raise ManifestError(
            f"digest algorithm {algorithm!r} is not supported; use sha256 or sha512"
        ) from None
    return f"{algorithm}:{hasher(data).hexdigest()}"


def parse_manifest(
    data: bytes,
    content_type: Optional[str] = None,
    expected_digest: Optional[str] = None,
    reference: Optional[str] = None,
) -> ParsedManifest:
    """
    Validate a manifest body and return what it describes.

    Args:
        data: The body exactly as received.
        content_type: The response `Content-Type`, used when the body has no `mediaType`.
        expected_digest: The digest the manifest was requested by; the body must match it.
        reference: The tag or digest to name in errors, when `expected_digest` is not given.

    Raises:
        ManifestDigestMismatch: The body digest differs from `expected_digest`.
        ManifestError: The body is too large, not JSON, breaks its schema or has an unknown
            media type.
    """
    reference = expected_digest or reference
    if len(data) > MANIFEST_MAX_SIZE:
        raise ManifestError(f"the body is {len(data)} bytes, over {MANIFEST_MAX_SIZE}", reference)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError(
            f"the body is not UTF-8 ({exc}); encode it as UTF-8", reference
        ) from None
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestError(f"the body is not valid JSON ({exc})", reference) from None
    if not isinstance(body, dict):
        raise ManifestError("the body is not a JSON object", reference)

    media_type = detect_media_type(body, content_type, reference)
    parser = PARSERS[media_type]
    parsed = parser(body, data, media_type, reference)

    if expected_digest:
        if not DIGEST_RE.fullmatch(expected_digest):
            raise ManifestError(f"{expected_digest!r} is not a valid digest", reference)
        algorithm = expected_digest.split(":", 1)[0]
        actual = parsed.digest
        if algorithm != "sha256":
            actual = compute_digest(_digested_bytes(body, data, media_type), algorithm)
        if actual != expected_digest:
            raise ManifestDigestMismatch(expected_digest, actual)
        parsed.digest = expected_digest
    return parsed


def detect_media_type(body: dict, content_type: Optional[str], reference: Optional[str]) -> str:
    """
    Return the media type from the body, else from the Content-Type, else from the body shape.

    Raises:
        ManifestError: The media type is not a manifest media type.
    """
    media_type = body.get("mediaType")
    if media_type is not None and not isinstance(media_type, str):
        raise ManifestError("field 'mediaType' must be a string", reference)
    if not media_type:
        media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type in GENERIC_CONTENT_TYPES:
        media_type = _media_type_from_shape(body)
    if media_type not in MANIFEST_MEDIA_TYPES:
        raise ManifestError(
            f"unknown media type {media_type!r}; expected one of {', '.join(MANIFEST_MEDIA_TYPES)}",
            reference,
        )
    return media_type


def _media_type_from_shape(body: dict) -> str:
    if body.get("schemaVersion") == 1:
        return DOCKER_MANIFEST_V1_SIGNED if "signatures" in body else DOCKER_MANIFEST_V1
    if "manifests" in body:
        return OCI_INDEX
    if "config" in body or "layers" in body:
        return OCI_MANIFEST
    return ""


def _digested_bytes(body: dict, data: bytes, media_type: str) -> bytes:
    if media_type in SCHEMA1_MEDIA_TYPES and "signatures" in body:
        return schema1_payload(body, data)
    return data


def _require(body: dict, name: str, kind: type, reference: Optional[str], where: str = "") -> Any:
    value = body.get(name)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ManifestError(f"field '{where}{name}' is missing or not a {kind.__name__}", reference)
    return value


def _optional_str(body: dict, name: str, reference: Optional[str], where: str = "") -> Any:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ManifestError(f"field '{where}{name}' must be a string", reference)
    return value


def _annotations(body: dict, reference: Optional[str], where: str = "") -> dict[str, str]:
    value = body.get("annotations") or {}
    if not isinstance(value, dict) or not all(
        isinstance(key, str) and isinstance(item, str) for key, item in value.items()
    ):
        raise ManifestError(f"field '{where}annotations' must map strings to strings", reference)
    return value


def parse_descriptor(body: Any, reference: Optional[str], where: str) -> Descriptor:
    """
    Validate one descriptor; `where` names its position in errors, e.g. `layers[2].`.

    Raises:
        ManifestError: A field is missing or has the wrong type, or the digest is invalid.
    """
    if not isinstance(body, dict):
        raise ManifestError(f"field '{where.rstrip('.')}' is not an object", reference)
    digest = _require(body, "digest", str, reference, where)
    if not is_valid_digest(digest):
        raise ManifestError(f"field '{where}digest' is not a valid digest: {digest!r}", reference)
    size = _require(body, "size", int, reference, where)
    if size < 0:
        raise ManifestError(f"field '{where}size' is negative: {size}", reference)
    media_type = _require(body, "mediaType", str, reference, where)
    urls = body.get("urls") or []
    if not isinstance(urls, list) or not all(isinstance(url, str) for url in urls):
        raise ManifestError(f"field '{where}urls' must be a list of strings", reference)
    return Descriptor(
        digest=digest,
        size=size,
        media_type=media_type,
        urls=tuple(urls),
        annotations=_annotations(body, reference, where),
        artifact_type=_optional_str(body, "artifactType", reference, where),
    )


def _check_schema_version(body: dict, expected: int, reference: Optional[str]) -> None:
    version = body.get("schemaVersion")
    if version != expected:
        raise ManifestError(f"field 'schemaVersion' must be {expected}, not {version!r}", reference)


def _subject(body: dict, reference: Optional[str]) -> Optional[str]:
    if body.get("subject") is None:
        return None
    return parse_descriptor(body["subject"], reference, "subject.").digest


def parse_image_manifest(
    body: dict, data: bytes, media_type: str, reference: Optional[str]
) -> ParsedManifest:
    """Parse a Docker schema 2 or OCI image manifest, including OCI artifacts."""
    _check_schema_version(body, 2, reference)
    config = parse_descriptor(body.get("config"), reference, "config.")
    layers_body = body.get("layers")
    if layers_body is None and media_type == OCI_MANIFEST:
        layers_body = []  # OCI v1.1 artifacts may leave out `layers`.
    if not isinstance(layers_body, list):
        raise ManifestError("field 'layers' is missing or not a list", reference)
    layers = [
        parse_descriptor(layer, reference, f"layers[{index}].")
        for index, layer in enumerate(layers_body)
    ]
    artifact_type = _optional_str(body, "artifactType", reference)
    manifest_type = MANIFEST_TYPE_IMAGE
    if artifact_type or config.media_type not in IMAGE_CONFIG_MEDIA_TYPES:
        manifest_type = MANIFEST_TYPE_ARTIFACT
        artifact_type = artifact_type or config.media_type
    return ParsedManifest(
        digest=compute_digest(data),
        data=data,
        media_type=media_type,
        schema_version=2,
        type=manifest_type,
        config=config,
        layers=layers,
        annotations=_annotations(body, reference),
        artifact_type=artifact_type,
        subject=_subject(body, reference),
    )


def _parse_platform(body: Any, reference: Optional[str], where: str) -> Platform:
    if body is None:
        return Platform()
    if not isinstance(body, dict):
        raise ManifestError(f"field '{where}platform' is not an object", reference)
    strings = {
        name: _optional_str(body, key, reference, f"{where}platform.") or ""
        for name, key in (
            ("architecture", "architecture"),
            ("os", "os"),
            ("os_version", "os.version"),
            ("variant", "variant"),
        )
    }
    lists = {}
    for name, key in (("os_features", "os.features"), ("features", "features")):
        value = body.get(key) or []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ManifestError(
                f"field '{where}platform.{key}' must be a list of strings", reference
            )
        lists[name] = tuple(value)
    return Platform(**strings, **lists)


def parse_manifest_list(
    body: dict, data: bytes, media_type: str, reference: Optional[str]
) -> ParsedManifest:
    """Parse a Docker manifest list or OCI index; either may name manifests of both formats."""
    _check_schema_version(body, 2, reference)
    entries = _require(body, "manifests", list, reference)
    listed = []
    for index, entry in enumerate(entries):
        where = f"manifests[{index}]."
        descriptor = parse_descriptor(entry, reference, where)
        listed.append(
            ListedManifest(descriptor, _parse_platform(entry.get("platform"), reference, where))
        )
    return ParsedManifest(
        digest=compute_digest(data),
        data=data,
        media_type=media_type,
        schema_version=2,
        type=MANIFEST_TYPE_LIST,
        listed_manifests=listed,
        annotations=_annotations(body, reference),
        artifact_type=_optional_str(body, "artifactType", reference),
        subject=_subject(body, reference),
    )


def _base64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def schema1_payload(body: dict, data: bytes) -> bytes:
    """
    Return the bytes of a signed schema 1 manifest without its JWS signatures.

    Every signature's protected header carries `formatLength` (the number of leading body
    bytes to keep) and `formatTail` (the base64url bytes that close the JSON object).

    Raises:
        ManifestError: The protected header is missing or malformed.
    """
    signatures = body.get("signatures")
    if not isinstance(signatures, list) or not signatures:
        raise ManifestError("field 'signatures' must be a non-empty list")
    try:
        protected = json.loads(_base64url_decode(signatures[0]["protected"]))
        length = protected["formatLength"]
        tail = _base64url_decode(protected["formatTail"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ManifestError(f"field 'signatures[0].protected' is invalid ({exc})") from None
    if not isinstance(length, int) or not 0 < length <= len(data):
        raise ManifestError(f"field 'formatLength' {length!r} is out of range")
    return data[:length] + tail


def parse_schema1_manifest(
    body: dict, data: bytes, media_type: str, reference: Optional[str]
) -> ParsedManifest:
    """Parse a signed or unsigned Docker schema 1 manifest."""
    _check_schema_version(body, 1, reference)
    if "signatures" in body:
        media_type = DOCKER_MANIFEST_V1_SIGNED
        try:
            payload = schema1_payload(body, data)
        except ManifestError as exc:
            raise ManifestError(exc.reason, reference) from None
    else:
        media_type = DOCKER_MANIFEST_V1
        payload = data
    fs_layers = _require(body, "fsLayers", list, reference)
    layers: dict[str, Descriptor] = {}
    for index, layer in enumerate(fs_layers):
        if not isinstance(layer, dict):
            raise ManifestError(f"field 'fsLayers[{index}]' is not an object", reference)
        digest = _require(layer, "blobSum", str, reference, f"fsLayers[{index}].")
        if not DIGEST_RE.fullmatch(digest):
            raise ManifestError(f"field 'fsLayers[{index}].blobSum' is invalid", reference)
        # Schema 1 sizes are unknown; -1 would fail validation, so 0 marks "unknown".
        layers.setdefault(digest, Descriptor(digest=digest, size=0, media_type=""))
    return ParsedManifest(
        digest=compute_digest(payload),
        data=data,
        media_type=media_type,
        schema_version=1,
        type=MANIFEST_TYPE_SCHEMA1,
        # fsLayers lists the top layer first; store the base layer first like schema 2.
        layers=list(reversed(list(layers.values()))),
        architecture=_optional_str(body, "architecture", reference),
    )


PARSERS = {
    DOCKER_MANIFEST_V2: parse_image_manifest,
    OCI_MANIFEST: parse_image_manifest,
    DOCKER_MANIFEST_LIST: parse_manifest_list,
    OCI_INDEX: parse_manifest_list,
    DOCKER_MANIFEST_V1: parse_schema1_manifest,
    DOCKER_MANIFEST_V1_SIGNED: parse_schema1_manifest,
}


def parse_image_config(data: bytes) -> dict[str, Any]:
    """
    Return `architecture`, `os` and `labels` of a Docker or OCI image config.

    Missing or malformed fields come back as None (or {} for labels), because the config
    only adds metadata and must not fail a sync.
    """
    try:
        config = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {"architecture": None, "os": None, "labels": {}}
    if not isinstance(config, dict):
        config = {}
    inner = config.get("config") if isinstance(config.get("config"), dict) else {}
    labels = inner.get("Labels") if isinstance(inner.get("Labels"), dict) else {}
    architecture = config.get("architecture")
    os_name = config.get("os")
    return {
        "architecture": architecture if isinstance(architecture, str) else None,
        "os": os_name if isinstance(os_name, str) else None,
        "labels": labels,
    }


def build_manifest(parsed: ParsedManifest, config: Optional[dict[str, Any]] = None) -> Manifest:
    """
    Build an unsaved `Manifest` from a parsed manifest.

    Args:
        parsed: The parsed manifest.
        config: `parse_image_config` output of the config blob, when it was read.
    """
    config = config or {}
    return Manifest(
        digest=parsed.digest,
        schema_version=parsed.schema_version,
        media_type=parsed.media_type,
        type=parsed.type,
        data=parsed.data.decode("utf-8"),
        annotations=parsed.annotations,
        labels=config.get("labels") or {},
        artifact_type=parsed.artifact_type,
        subject=parsed.subject,
        architecture=config.get("architecture") or parsed.architecture,
        os=config.get("os"),
        compressed_image_size=parsed.compressed_image_size,
    )


def build_blob_links(
    manifest: Manifest, parsed: ParsedManifest, blobs: dict[str, Blob]
) -> list[BlobManifest]:
    """
    Build unsaved links from a saved manifest to its saved config and layer blobs.

    Blobs missing from `blobs` (foreign layers that were not synced) get no link.
    """
    digests = dict.fromkeys(descriptor.digest for descriptor in parsed.blobs)
    return [
        BlobManifest(manifest=manifest, manifest_blob=blobs[digest])
        for digest in digests
        if digest in blobs
    ]


def build_list_links(
    manifest: Manifest, parsed: ParsedManifest, manifests: dict[str, Manifest]
) -> list[ManifestListManifest]:
    """
    Build unsaved links from a saved list or index to its saved listed manifests.

    Raises:
        KeyError: A listed manifest is missing from `manifests`.
    """
    links = {}
    for entry in parsed.listed_manifests:
        platform = entry.platform
        links.setdefault(
            entry.descriptor.digest,
            ManifestListManifest(
                manifest_list=manifest,
                image_manifest=manifests[entry.descriptor.digest],
                architecture=platform.architecture,
                os=platform.os,
                os_version=platform.os_version,
                os_features=",".join(platform.os_features),
                features=",".join(platform.features),
                variant=platform.variant,
            ),
        )
    return list(links.values())

"""
Build small container images in memory and push them into any v2 registry.

Images are reproducible: the same arguments give the same bytes and digests, because tar
and gzip headers carry fixed times. Layers differ by their `seed`.
"""

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field

from pulp_container.tests.functional.registry_client import RegistryClient

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"

FORMATS = {
    "docker": (DOCKER_MANIFEST, DOCKER_CONFIG, DOCKER_LAYER, DOCKER_LIST),
    "oci": (OCI_MANIFEST, OCI_CONFIG, OCI_LAYER, OCI_INDEX),
}


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def dump_json(document: dict) -> bytes:
    """Serialise a document the way registries usually receive it: indented, stable."""
    return json.dumps(document, indent=3).encode()


@dataclass
class Blob:
    data: bytes
    media_type: str
    diff_id: str | None = None

    @property
    def digest(self) -> str:
        return sha256_digest(self.data)

    def descriptor(self) -> dict:
        return {"mediaType": self.media_type, "size": len(self.data), "digest": self.digest}


@dataclass
class Image:
    """One manifest with the blobs it needs, or a list/index with its images."""

    manifest_bytes: bytes
    media_type: str
    blobs: list = field(default_factory=list)
    images: list = field(default_factory=list)

    @property
    def digest(self) -> str:
        return sha256_digest(self.manifest_bytes)

    @property
    def manifest(self) -> dict:
        return json.loads(self.manifest_bytes)

    def all_blobs(self) -> list:
        """Return every blob of this image and of the images it lists, each once."""
        unique = {}
        for blob in self.blobs + [blob for image in self.images for blob in image.all_blobs()]:
            unique.setdefault(blob.digest, blob)
        return list(unique.values())


def make_layer(seed: str, size: int = 64, media_type: str = DOCKER_LAYER) -> Blob:
    """Make a gzip tar layer holding one file whose content depends on `seed`."""
    content = (hashlib.sha256(seed.encode()).hexdigest() * (size // 64 + 1))[:size].encode()
    tar_buffer = io.BytesIO()
    with tarfile.open(fileobj=tar_buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        info = tarfile.TarInfo(name=f"files/{seed}.txt")
        info.size = len(content)
        info.mtime = 0
        archive.addfile(info, io.BytesIO(content))
    tar_bytes = tar_buffer.getvalue()
    if media_type == OCI_LAYER_TAR:
        data = tar_bytes
    else:
        data = gzip.compress(tar_bytes, mtime=0)
    return Blob(data=data, media_type=media_type, diff_id=sha256_digest(tar_bytes))


def build_image(
    seeds=("layer",),
    fmt: str = "docker",
    architecture: str = "amd64",
    os: str = "linux",
    base_layers=(),
    labels: dict | None = None,
    empty_layer_history: bool = False,
    foreign_layer_urls: list | None = None,
) -> Image:
    """
    Build a Docker schema2 or OCI image manifest with a config and gzip layers.

    Args:
        seeds: One layer per seed; different seeds give different layers.
        fmt: `docker` or `oci`.
        base_layers: Blobs put before the seeded layers, to share layers between images.
        empty_layer_history: Add a history entry with `empty_layer: true`, as a Dockerfile
            ENV or CMD step makes.
        foreign_layer_urls: When set, add a foreign layer with these URLs (Docker only).
    """
    manifest_type, config_type, layer_type, _ = FORMATS[fmt]
    layers = list(base_layers) + [
        make_layer(f"{seed}-{architecture}", media_type=layer_type) for seed in seeds
    ]
    history = [
        {"created": "2026-01-01T00:00:00Z", "created_by": f"ADD {i}"} for i in range(len(layers))
    ]
    if empty_layer_history:
        history.append(
            {"created": "2026-01-01T00:00:00Z", "created_by": "ENV A=1", "empty_layer": True}
        )
    config = {
        "architecture": architecture,
        "os": os,
        "created": "2026-01-01T00:00:00Z",
        "config": {"Env": ["PATH=/usr/bin"], "Labels": labels or {}},
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]},
        "history": history,
    }
    config_blob = Blob(data=dump_json(config), media_type=config_type)
    layer_descriptors = [layer.descriptor() for layer in layers]
    if foreign_layer_urls:
        layer_descriptors.append(
            {
                "mediaType": DOCKER_FOREIGN_LAYER,
                "size": 1234,
                "digest": sha256_digest(b"foreign" + architecture.encode()),
                "urls": foreign_layer_urls,
            }
        )
    manifest = {
        "schemaVersion": 2,
        "mediaType": manifest_type,
        "config": config_blob.descriptor(),
        "layers": layer_descriptors,
    }
    return Image(
        manifest_bytes=dump_json(manifest), media_type=manifest_type, blobs=[config_blob] + layers
    )


def build_index(images: list, fmt: str = "docker", annotations: dict | None = None) -> Image:
    """Build a Docker manifest list or an OCI index of `images`, with their platforms."""
    list_type = FORMATS[fmt][3]
    entries = []
    for image in images:
        config = json.loads(image.blobs[0].data)
        entries.append(
            {
                "mediaType": image.media_type,
                "size": len(image.manifest_bytes),
                "digest": image.digest,
                "platform": {"architecture": config["architecture"], "os": config["os"]},
            }
        )
    document = {"schemaVersion": 2, "mediaType": list_type, "manifests": entries}
    if annotations:
        document["annotations"] = annotations
    return Image(manifest_bytes=dump_json(document), media_type=list_type, images=list(images))


def build_artifact(
    artifact_type: str = "application/vnd.example.sbom.v1+json",
    payload: bytes = b'{"sbom": true}',
    subject: Image | None = None,
) -> Image:
    """Build an OCI artifact manifest with the empty config and one payload layer."""
    empty = Blob(data=b"{}", media_type=OCI_EMPTY)
    layer = Blob(data=payload, media_type=artifact_type)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": empty.descriptor(),
        "layers": [layer.descriptor()],
    }
    if subject is not None:
        manifest["subject"] = {
            "mediaType": subject.media_type,
            "size": len(subject.manifest_bytes),
            "digest": subject.digest,
        }
    return Image(manifest_bytes=dump_json(manifest), media_type=OCI_MANIFEST, blobs=[empty, layer])


def push_image(client: RegistryClient, name: str, reference: str, image: Image) -> str:
    """Push an image (its blobs, listed images and manifest) and return the manifest digest."""
    for listed in image.images:
        push_image(client, name, listed.digest, listed)
    for blob in image.blobs:
        if blob.media_type in (DOCKER_FOREIGN_LAYER,):
            continue
        client.upload_blob(name, blob.data, blob.digest)
    client.put_manifest(name, reference, image.manifest_bytes, image.media_type)
    return image.digest

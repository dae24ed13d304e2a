"""Media types, header names and limits of the registry protocol and image formats."""

# Manifest media types. Sources: Docker Image Manifest V2 Schema 2, Docker Image Manifest
# V2 Schema 1, and the OCI image spec (manifest.md, image-index.md).
DOCKER_MANIFEST_V1 = "application/vnd.docker.distribution.manifest.v1+json"
DOCKER_MANIFEST_V1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
DOCKER_MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"

SCHEMA1_MEDIA_TYPES = (DOCKER_MANIFEST_V1, DOCKER_MANIFEST_V1_SIGNED)
IMAGE_MEDIA_TYPES = (DOCKER_MANIFEST_V2, OCI_MANIFEST)
LIST_MEDIA_TYPES = (DOCKER_MANIFEST_LIST, OCI_INDEX)
MANIFEST_MEDIA_TYPES = SCHEMA1_MEDIA_TYPES + IMAGE_MEDIA_TYPES + LIST_MEDIA_TYPES

# Config and layer media types.
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
OCI_FOREIGN_LAYERS = (
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
)
FOREIGN_LAYER_MEDIA_TYPES = (DOCKER_FOREIGN_LAYER,) + OCI_FOREIGN_LAYERS
IMAGE_CONFIG_MEDIA_TYPES = (DOCKER_CONFIG, OCI_CONFIG)

# Manifest kinds stored in Manifest.type.
MANIFEST_TYPE_IMAGE = "image"
MANIFEST_TYPE_LIST = "list"
MANIFEST_TYPE_ARTIFACT = "artifact"
MANIFEST_TYPE_SCHEMA1 = "schema1"
MANIFEST_TYPES = (
    MANIFEST_TYPE_IMAGE,
    MANIFEST_TYPE_LIST,
    MANIFEST_TYPE_ARTIFACT,
    MANIFEST_TYPE_SCHEMA1,
)

# Registry HTTP headers.
API_VERSION_HEADER = "Docker-Distribution-API-Version"
API_VERSION_VALUE = "registry/2.0"
CONTENT_DIGEST_HEADER = "Docker-Content-Digest"
UPLOAD_UUID_HEADER = "Docker-Upload-UUID"
OCI_SUBJECT_HEADER = "OCI-Subject"
OCI_FILTERS_APPLIED_HEADER = "OCI-Filters-Applied"

# Grammar of repository names and tags, from the OCI distribution spec.
NAME_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
NAME_PATTERN = rf"{NAME_COMPONENT}(?:/{NAME_COMPONENT})*"
TAG_PATTERN = r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}"
DIGEST_PATTERN = r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+"

# The largest manifest body accepted on push or sync, in bytes. The OCI distribution spec
# says registries should accept at least 4 MiB.
MANIFEST_MAX_SIZE = 4 * 1024 * 1024

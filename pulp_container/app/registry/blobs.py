"""
`GET|HEAD /v2/<name>/blobs/<digest>`: blob bytes streamed from storage, with Range support.

Downloaded blobs are served by pulpcore's content Handler (FileResponse on filesystem
storage, which handles Range, suffix ranges and 416). Blobs synced on_demand or streamed
are fetched from the remote on first request by the same Handler, which verifies the
digest and, for on_demand, keeps the artifact.
"""

from dataclasses import dataclass

from aiohttp import web

from pulpcore.plugin.content import Handler
from pulpcore.plugin.models import ContentArtifact

from pulp_container.app.auth.access import authorize
from pulp_container.app.auth.scopes import PULL
from pulp_container.app.models import Blob, Manifest
from pulp_container.app.registry.errors import RegistryError
from pulp_container.app.registry.guards import load_guarded
from pulp_container.app.registry.lookup import check_digest, check_name, get_served_version
from pulp_container.app.registry.ranges import serve_bytes
from pulp_container.app.schema1 import EMPTY_LAYER_BYTES, EMPTY_LAYER_DIGEST
from pulp_container.constants import API_VERSION_HEADER, API_VERSION_VALUE, CONTENT_DIGEST_HEADER

OCTET_STREAM = "application/octet-stream"


@dataclass
class BlobSource:
    """Either a ContentArtifact of the blob, or in-memory bytes (manifests fetched as blobs)."""

    content_artifact: ContentArtifact | None = None
    data: bytes | None = None


def _find_blob(name: str, digest: str) -> BlobSource:
    served = get_served_version(name)
    blob = served.content(Blob.objects).filter(digest=digest).values_list("pk", flat=True)
    content_artifact = (
        ContentArtifact.objects.filter(content_id__in=blob).select_related("artifact").first()
    )
    if content_artifact is not None:
        return BlobSource(content_artifact=content_artifact)
    repository_id = served.distribution.repository_id
    if repository_id is not None:
        # A blob pushed to the repository is pullable at the upload's Location before a
        # manifest that uses it makes it part of a version.
        pushed = Blob.objects.filter(digest=digest, uploads__repository_id=repository_id)
        content_artifact = (
            ContentArtifact.objects.filter(content_id__in=pushed.values_list("pk", flat=True))
            .select_related("artifact")
            .first()
        )
        if content_artifact is not None:
            return BlobSource(content_artifact=content_artifact)
    # The OCI distribution spec lets clients fetch a manifest through the blobs endpoint.
    manifest = served.content(Manifest.objects).filter(digest=digest).only("data").first()
    if manifest is not None:
        return BlobSource(data=manifest.data.encode("utf-8"))
    if digest == EMPTY_LAYER_DIGEST and served.version is not None:
        # Schema 1 conversions name this layer for empty history entries.
        return BlobSource(data=EMPTY_LAYER_BYTES)
    raise RegistryError("BLOB_UNKNOWN", detail={"digest": digest})


async def get_blob(request: web.Request) -> web.StreamResponse:
    """Stream a blob of the repository, honouring Range; HEAD returns the headers only."""
    name = request.match_info["path"]
    digest = request.match_info["digest"]
    check_name(name)
    check_digest(digest)
    access = await authorize(request, name, {PULL})
    source = await load_guarded(request, access, _find_blob, name, digest)
    headers = {
        API_VERSION_HEADER: API_VERSION_VALUE,
        CONTENT_DIGEST_HEADER: digest,
        "Content-Type": OCTET_STREAM,
        "Accept-Ranges": "bytes",
    }
    if source.data is not None:
        return serve_bytes(request, source.data, headers)
    handler = Handler()
    content_artifact = source.content_artifact
    if content_artifact.artifact_id is not None:
        return await handler._serve_content_artifact(content_artifact, headers, request)
    response = web.StreamResponse(headers=headers)
    return await handler._stream_content_artifact(request, response, content_artifact)

"""
`GET /v2/<name>/referrers/<digest>`: the manifests whose `subject` is a digest (OCI 1.1).

The reply is an OCI image index with one descriptor per referring manifest of the served
version, such as signatures and SBOMs. A subject that the repository does not have gets an
empty index, as the OCI distribution spec requires. `artifactType=<type>` filters the list.
"""

import json

from aiohttp import web

from pulp_container.app.auth.access import authorize
from pulp_container.app.auth.scopes import PULL
from pulp_container.app.models import Manifest
from pulp_container.app.registry.guards import load_guarded
from pulp_container.app.registry.lookup import check_digest, check_name, get_served_version
from pulp_container.constants import API_VERSION_HEADER, API_VERSION_VALUE, OCI_INDEX

FILTERS_APPLIED_HEADER = "OCI-Filters-Applied"


def _descriptor(manifest: Manifest) -> dict:
    """Return the index entry of a referring manifest, with its artifact type."""
    data = manifest.data.encode("utf-8")
    body = json.loads(data)
    config = body.get("config") if isinstance(body.get("config"), dict) else {}
    artifact_type = body.get("artifactType") or config.get("mediaType")
    descriptor = {"mediaType": manifest.media_type, "digest": manifest.digest, "size": len(data)}
    if artifact_type:
        descriptor["artifactType"] = artifact_type
    if manifest.annotations:
        descriptor["annotations"] = manifest.annotations
    return descriptor


def _load_referrers(name: str, digest: str) -> list[dict]:
    served = get_served_version(name)
    referrers = served.content(Manifest.objects).filter(subject=digest).order_by("digest")
    return [_descriptor(manifest) for manifest in referrers]


async def list_referrers(request: web.Request) -> web.Response:
    """Return the image index of the manifests that refer to `digest`."""
    name = request.match_info["path"]
    digest = request.match_info["digest"]
    check_name(name)
    check_digest(digest)
    access = await authorize(request, name, {PULL})
    descriptors = await load_guarded(request, access, _load_referrers, name, digest)
    headers = {API_VERSION_HEADER: API_VERSION_VALUE}
    artifact_type = request.query.get("artifactType")
    if artifact_type:
        descriptors = [entry for entry in descriptors if entry.get("artifactType") == artifact_type]
        headers[FILTERS_APPLIED_HEADER] = "artifactType"
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors}
    headers["Content-Type"] = OCI_INDEX
    return web.Response(body=json.dumps(index).encode("utf-8"), headers=headers)

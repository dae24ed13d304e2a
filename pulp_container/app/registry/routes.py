"""
The routing table of the registry API: one handler module per resource.

Repository names may have several path segments, so each route matches the name as
`{path:...}` (the key pulpcore's content handler reads) up to the resource keyword.
Add a route by adding one line to ROUTES.
"""

from aiohttp import web

from pulp_container.app.auth.server import token_view
from pulp_container.app.registry import (
    base,
    blobs,
    catalog,
    manifests,
    push,
    referrers,
    tags,
    uploads,
)

NAME = "{path:.+?}"

# (method, path, handler). GET routes also serve HEAD.
ROUTES = [
    ("GET", "/v2/", base.api_version_check),
    ("GET", "/v2", base.api_version_check),
    ("GET", "/token/", token_view),
    ("GET", "/token", token_view),
    ("GET", "/v2/_catalog", catalog.get_catalog),
    ("GET", f"/v2/{NAME}/tags/list", tags.list_tags),
    ("GET", f"/v2/{NAME}/manifests/{{reference}}", manifests.get_manifest),
    ("GET", f"/v2/{NAME}/blobs/{{digest}}", blobs.get_blob),
    ("GET", f"/v2/{NAME}/referrers/{{digest}}", referrers.list_referrers),
    ("POST", f"/v2/{NAME}/blobs/uploads/", uploads.start_upload),
    ("POST", f"/v2/{NAME}/blobs/uploads", uploads.start_upload),
    ("GET", f"/v2/{NAME}/blobs/uploads/{{uuid}}", uploads.get_upload_status),
    ("PATCH", f"/v2/{NAME}/blobs/uploads/{{uuid}}", uploads.patch_upload),
    ("PUT", f"/v2/{NAME}/blobs/uploads/{{uuid}}", uploads.put_upload),
    ("DELETE", f"/v2/{NAME}/blobs/uploads/{{uuid}}", uploads.delete_upload),
    ("PUT", f"/v2/{NAME}/manifests/{{reference}}", push.put_manifest),
    ("DELETE", f"/v2/{NAME}/manifests/{{reference}}", push.delete_manifest_or_tag),
    ("DELETE", f"/v2/{NAME}/blobs/{{digest}}", push.delete_blob_handler),
]


def add_registry_routes(app: web.Application) -> None:
    """Add every registry route to the content app."""
    for method, path, handler in ROUTES:
        if method == "GET":
            app.router.add_get(path, handler)
        else:
            app.router.add_route(method, path, handler)

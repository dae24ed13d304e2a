"""The routing table of the registry API: one handler module per resource."""

from aiohttp import web

from pulp_container.constants import API_VERSION_HEADER, API_VERSION_VALUE


async def api_version_check(request: web.Request) -> web.Response:
    """Answer `GET /v2/`, the base endpoint that clients probe first."""
    return web.json_response({}, headers={API_VERSION_HEADER: API_VERSION_VALUE})


def add_registry_routes(app: web.Application) -> None:
    """Add every registry route to the content app."""
    app.router.add_get("/v2/", api_version_check)
    app.router.add_get("/v2", api_version_check)

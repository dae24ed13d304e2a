"""The base endpoint `GET /v2/` that clients probe first."""

from aiohttp import web

from pulp_container.app.auth.access import authenticate
from pulp_container.constants import API_VERSION_HEADER, API_VERSION_VALUE


async def api_version_check(request: web.Request) -> web.Response:
    """Return 200 with the API version header, or 401 with a challenge when a token is needed."""
    await authenticate(request)
    return web.json_response({}, headers={API_VERSION_HEADER: API_VERSION_VALUE})

"""The aiohttp middleware that turns exceptions of registry handlers into spec errors."""

import logging

from aiohttp import web

from pulp_container.app.registry.errors import RegistryError

log = logging.getLogger(__name__)


@web.middleware
async def registry_errors(request: web.Request, handler):
    """Render RegistryError as the spec's envelope, and any other exception as UNKNOWN."""
    if not request.path.startswith(("/v2", "/token")):
        return await handler(request)
    try:
        return await handler(request)
    except RegistryError as error:
        return error.to_response(request.method)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("Registry request failed: method=%s path=%s", request.method, request.path)
        return RegistryError("UNKNOWN").to_response(request.method)

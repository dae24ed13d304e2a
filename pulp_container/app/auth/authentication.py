"""
The content app's authentication step for registry paths.

pulpcore's content app authenticates every request with its DRF authentication classes and
a domain query, in a worker thread. On `/v2/` with token auth that work is wasted, because
the registry's `authorize()` reads the Bearer token and never the DRF user. This module wraps
pulpcore's middleware so that:

* paths outside `/v2` and `/token` go through pulpcore's middleware unchanged;
* `/v2` paths in token mode skip it (every handler still calls `authorize()`);
* `/token` and basic-auth `/v2` requests skip it when the same basic `Authorization` header
  was verified recently (see `credentials.py`), and otherwise run it and cache the result.

`ensure_drf_request()` runs pulpcore's middleware later for the rare request that needs the
DRF request after all, e.g. for a content guard.
"""

import asyncio
import logging

from aiohttp import web
from asgiref.sync import sync_to_async
from django.conf import settings

from pulpcore.plugin.util import get_domain

from pulp_container.app.auth.credentials import cached_user, credentials_key, store_user

log = logging.getLogger(__name__)

# Request key under which the wrapped pulpcore middleware is kept for ensure_drf_request().
PULP_AUTHENTICATE_KEY = "container_pulp_authenticate"

# One lock per basic `Authorization` header whose check is running in this process.
_verifications: dict[bytes, asyncio.Lock] = {}


class _DefaultDomain:
    """Whether this process has loaded pulpcore's default domain."""

    loaded = False


async def _load_default_domain() -> None:
    # Skipping pulpcore's middleware leaves no current domain, so storage code calls
    # get_domain(), which loads the default domain with a synchronous query the first time
    # and fails in async code. Loading it once in a thread caches it for the process.
    if not _DefaultDomain.loaded:
        await sync_to_async(get_domain)()
        _DefaultDomain.loaded = True


def is_registry_path(path: str) -> bool:
    """Tell whether `path` is served by the registry (`/v2...`) or its token server."""
    return path in ("/v2", "/token") or path.startswith(("/v2/", "/token/"))


def _token_checked_by_registry(request: web.Request) -> bool:
    if settings.TOKEN_AUTH_DISABLED or settings.DOMAIN_ENABLED:
        return False
    return request.path == "/v2" or request.path.startswith("/v2/")


async def _keep_request(authenticated: web.Request) -> web.Request:
    return authenticated


async def _authenticate_basic(request: web.Request, handler, pulp_authenticate):
    header = request.headers.get("Authorization", "")
    if header[:6].lower() != "basic ":
        return await pulp_authenticate(request, handler)
    key = credentials_key(header)
    # Requests with the same header wait for one password check instead of each running
    # Django's slow hasher, e.g. when ten clients of one CI job ask for tokens at once.
    lock = _verifications.setdefault(key, asyncio.Lock())
    async with lock:
        user = cached_user(key)
        if user is None:
            await pulp_authenticate(request, _keep_request)
            verified = request.get("user")
            if verified is not None and verified.is_authenticated:
                store_user(key, verified)
    if not lock.locked():
        _verifications.pop(key, None)
    if user is not None:
        await _load_default_domain()
        request["user"] = user
        request["auth"] = None
    return await handler(request)


def registry_authentication(pulp_authenticate):
    """Wrap pulpcore's `authenticate` middleware to skip work that registry paths do not need."""

    @web.middleware
    async def authenticate_registry(request: web.Request, handler):
        if settings.DOMAIN_ENABLED or not is_registry_path(request.path):
            return await pulp_authenticate(request, handler)
        request[PULP_AUTHENTICATE_KEY] = pulp_authenticate
        if _token_checked_by_registry(request):
            await _load_default_domain()
            return await handler(request)
        return await _authenticate_basic(request, handler, pulp_authenticate)

    return authenticate_registry


def install_registry_authentication(app: web.Application) -> None:
    """Replace pulpcore's `authenticate` middleware of the content app with the wrapper."""
    for index, middleware in enumerate(app.middlewares):
        if getattr(middleware, "__name__", "") == "authenticate":
            app.middlewares[index] = registry_authentication(middleware)
            return
    # NOTE: registry requests then run pulpcore's full authentication, which is slower but
    # still correct.
    log.warning(
        "pulpcore's content middleware `authenticate` not found: registry requests run the "
        "full DRF authentication"
    )


async def ensure_drf_request(request: web.Request):
    """
    Return the DRF request of pulpcore's authentication, running it now when it was skipped.

    Running it late sets request["user"], request["auth"] and request["drf_request"] as it
    would have done before the handler.
    """
    drf_request = request.get("drf_request")
    if drf_request is not None:
        return drf_request
    pulp_authenticate = request.get(PULP_AUTHENTICATE_KEY)
    if pulp_authenticate is None:
        raise RuntimeError("pulpcore's authentication middleware is not installed")

    await pulp_authenticate(request, _keep_request)
    return request["drf_request"]

"""
A short-lived in-process cache of verified HTTP basic credentials.

Django's password hashing takes about 300 ms per check, which would dominate every token
request. After pulpcore's middleware has verified a basic `Authorization` header once, the
user is kept under an HMAC of that header (keyed by a random per-process salt, so neither
the password nor a reusable hash is stored) for CACHE_SECONDS. A hit removes the header
before pulpcore's middleware runs and restores the cached user after it.
"""

import copy
import hashlib
import hmac
import secrets
import time

from aiohttp import web

REGISTRY_PATH_PREFIXES = ("/v2", "/token")
# NOTE: a changed password or a deactivated user is noticed only after this many seconds.
CACHE_SECONDS = 60
MAX_ENTRIES = 4096

_SALT = secrets.token_bytes(32)
_cache: dict[bytes, tuple[float, object]] = {}
CACHED_USER_KEY = "container_cached_user"
PENDING_KEY_KEY = "container_credentials_key"
PERMISSION_CACHE_ATTRIBUTES = ("_perm_cache", "_user_perm_cache", "_group_perm_cache")


def _credentials_key(header: str) -> bytes:
    return hmac.new(_SALT, header.encode("utf-8", "surrogateescape"), hashlib.sha256).digest()


def _lookup(key: bytes):
    entry = _cache.get(key)
    if entry is None:
        return None
    expires_at, user = entry
    if expires_at < time.monotonic():
        _cache.pop(key, None)
        return None
    # Django backends cache permissions on the user object, so each request gets a copy
    # without them and sees permission changes at once.
    fresh = copy.copy(user)
    for attribute in PERMISSION_CACHE_ATTRIBUTES:
        fresh.__dict__.pop(attribute, None)
    return fresh


def _store(key: bytes, user) -> None:
    if len(_cache) >= MAX_ENTRIES:
        now = time.monotonic()
        for stale in [k for k, (expires_at, _) in _cache.items() if expires_at < now]:
            del _cache[stale]
        if len(_cache) >= MAX_ENTRIES:
            _cache.clear()
    _cache[key] = (time.monotonic() + CACHE_SECONDS, user)


def clear_cache() -> None:
    """Forget every cached credential."""
    _cache.clear()


@web.middleware
async def use_cached_credentials(request: web.Request, handler):
    """Skip pulpcore's password check when the basic credentials were verified recently."""
    header = request.headers.get("Authorization", "")
    if not header[:6].lower() == "basic " or not request.path.startswith(REGISTRY_PATH_PREFIXES):
        return await handler(request)
    key = _credentials_key(header)
    user = _lookup(key)
    if user is None:
        request[PENDING_KEY_KEY] = key
        return await handler(request)
    headers = request.headers.copy()
    del headers["Authorization"]
    clone = request.clone(headers=headers)
    clone[CACHED_USER_KEY] = user
    return await handler(clone)


@web.middleware
async def restore_cached_user(request: web.Request, handler):
    """Put the cached user back after pulpcore's middleware, or cache a fresh verification."""
    cached_user = request.get(CACHED_USER_KEY)
    if cached_user is not None:
        request["user"] = cached_user
    else:
        key = request.get(PENDING_KEY_KEY)
        user = request.get("user")
        if key is not None and user is not None and user.is_authenticated:
            _store(key, user)
    return await handler(request)

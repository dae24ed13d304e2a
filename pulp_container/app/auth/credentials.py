"""
A short-lived in-process cache of verified HTTP basic credentials.

Django's password hashing takes about 300 ms per check, which would dominate every token
request. After pulpcore's middleware has verified a basic `Authorization` header once, the
user is kept under an HMAC of that header (keyed by a random per-process salt, so neither
the password nor a reusable hash is stored) for CACHE_SECONDS. On a hit, the middleware in
`authentication.py` skips pulpcore's authentication and uses the cached user.
"""

import copy
import hashlib
import hmac
import secrets
import time

# NOTE: a changed password or a deactivated user is noticed only after this many seconds.
CACHE_SECONDS = 60
MAX_ENTRIES = 4096

_SALT = secrets.token_bytes(32)
_cache: dict[bytes, tuple[float, object]] = {}
PERMISSION_CACHE_ATTRIBUTES = ("_perm_cache", "_user_perm_cache", "_group_perm_cache")


def credentials_key(header: str) -> bytes:
    """Return the cache key of a basic `Authorization` header: an HMAC with a per-process salt."""
    return hmac.new(_SALT, header.encode("utf-8", "surrogateescape"), hashlib.sha256).digest()


def cached_user(key: bytes):
    """Return a copy of the user verified under `key` in the last CACHE_SECONDS, or None."""
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


def store_user(key: bytes, user) -> None:
    """Remember a user whose credentials pulpcore's authentication has just verified."""
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

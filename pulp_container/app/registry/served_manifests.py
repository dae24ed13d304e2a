"""
The fast path of `GET|HEAD /v2/<name>/manifests/<reference>` for the common request.

A pull resolves name -> served repository version -> tag or digest -> manifest. The served
version changes with every push, sync, promote or rollback, so it is read from PostgreSQL
on every request. The content of a complete repository version never changes, so the
manifest found in it is kept in a bounded per-process cache keyed by version and reference.

Both queries run on the event loop (see `async_db`). Anything out of the common case
returns None, and the handler then takes the general path, which also raises the errors.
Such cases are unknown names or references, content guards, Accept headers that need a
conversion, domains, and a database that the pool cannot reach.
"""

import logging
from collections import OrderedDict

import psycopg
from django.conf import settings

from pulpcore.plugin.models import Distribution, RepositoryVersion

from pulp_container.app.models import ContainerDistribution, Manifest, Tag
from pulp_container.app.registry.async_db import pool
from pulp_container.app.registry.lookup import is_digest
from pulp_container.app.registry.negotiation import AcceptedTypes

log = logging.getLogger(__name__)

# Bounds of the per-process cache of manifests found in complete repository versions.
CACHE_MAX_ENTRIES = 20_000
CACHE_MAX_BYTES = 32 * 1024 * 1024

_DISTRIBUTION = Distribution._meta.db_table
_CONTAINER_DISTRIBUTION = ContainerDistribution._meta.db_table
_VERSION = RepositoryVersion._meta.db_table
_TAG = Tag._meta.db_table
_MANIFEST = Manifest._meta.db_table

# The served version of a distribution without a content guard: the pinned version, or the
# repository's latest complete one. Returns (version pk, complete).
SERVED_VERSION_SQL = f"""
SELECT version.pulp_id, version.complete
FROM {_DISTRIBUTION} AS distribution
JOIN {_CONTAINER_DISTRIBUTION} AS container_distribution
    ON container_distribution.distribution_ptr_id = distribution.pulp_id
JOIN {_VERSION} AS version ON version.pulp_id = COALESCE(
    distribution.repository_version_id,
    (
        SELECT latest.pulp_id FROM {_VERSION} AS latest
        WHERE latest.repository_id = distribution.repository_id AND latest.complete
        ORDER BY latest.number DESC LIMIT 1
    )
)
WHERE distribution.base_path = %s AND distribution.content_guard_id IS NULL
"""

# The manifest that a tag of one repository version points to.
TAGGED_MANIFEST_SQL = f"""
SELECT manifest.data, manifest.media_type, manifest.digest
FROM {_TAG} AS tag
JOIN {_MANIFEST} AS manifest ON manifest.content_ptr_id = tag.tagged_manifest_id
JOIN {_VERSION} AS version
    ON version.pulp_id = %s AND version.content_ids @> ARRAY[tag.content_ptr_id]
WHERE tag.name = %s
LIMIT 1
"""

# A manifest of one repository version, by digest.
MANIFEST_BY_DIGEST_SQL = f"""
SELECT manifest.data, manifest.media_type, manifest.digest
FROM {_MANIFEST} AS manifest
JOIN {_VERSION} AS version
    ON version.pulp_id = %s AND version.content_ids @> ARRAY[manifest.content_ptr_id]
WHERE manifest.digest = %s
LIMIT 1
"""


class ReplyCache:
    """A least-recently-used map of (version pk, reference) to (data, media type, digest)."""

    def __init__(self, max_entries: int, max_bytes: int):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict = OrderedDict()
        self._bytes = 0

    def get(self, key):
        """Return the cached reply of `key`, or None."""
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def put(self, key, reply: tuple) -> None:
        """Keep `reply`, evicting the least recently used replies beyond the bounds."""
        if key in self._entries:
            return
        self._entries[key] = reply
        self._bytes += len(reply[0])
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= len(evicted[0])

    def clear(self) -> None:
        """Forget every reply."""
        self._entries.clear()
        self._bytes = 0


cache = ReplyCache(CACHE_MAX_ENTRIES, CACHE_MAX_BYTES)


async def find_reply(name: str, reference: str, accept: AcceptedTypes) -> tuple | None:
    """
    Return (data, media type, digest) of the stored manifest when the request is common.

    Common means: no domains, a distribution without a content guard that serves a
    complete version holding the reference, and an Accept list admitting the stored media
    type. Returns None in every other case, for the caller to take the general path.
    """
    if settings.DOMAIN_ENABLED:
        return None
    try:
        served = await pool.fetch_one(SERVED_VERSION_SQL, (name,))
        if served is None or not served[1]:
            return None
        key = (served[0], reference)
        reply = cache.get(key)
        if reply is None:
            sql = MANIFEST_BY_DIGEST_SQL if is_digest(reference) else TAGGED_MANIFEST_SQL
            row = await pool.fetch_one(sql, (served[0], reference))
            if row is None:
                return None
            reply = (row[0].encode("utf-8"), row[1], row[2])
            cache.put(key, reply)
    except psycopg.Error as error:
        log.warning(
            "Registry fast lookup failed, using the general path: name=%s reference=%s error=%s",
            name,
            reference,
            error,
        )
        return None
    if not accept.accepts(reply[1]):
        return None
    return reply

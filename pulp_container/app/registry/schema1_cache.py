"""
Schema 1 conversions of stored image manifests, kept in process memory.

A conversion is computed on the first request and reused, so GET and HEAD (and later
pulls by the schema 1 digest) see the same bytes. Nothing is stored in the database.
"""

import asyncio
import json
import logging
import time
from collections import OrderedDict
from pathlib import Path
from threading import Lock

from pulpcore.plugin.models import ContentArtifact, RemoteArtifact

from pulp_container.app.auth.keys import private_key
from pulp_container.app.models import Manifest
from pulp_container.app.registry.errors import RegistryError
from pulp_container.app.schema1 import Schema1ConversionError, convert_to_schema1

log = logging.getLogger(__name__)

MAX_ENTRIES = 1024
# Configs of content synced on demand, fetched for conversions and kept by config blob pk.
MAX_FETCHED_CONFIGS = 64
# Seconds that a config download may take before the request gets MANIFEST_UNKNOWN.
CONFIG_FETCH_TIMEOUT = 20
# Seconds during which a failed config download is not tried again.
FAILED_FETCH_SECONDS = 30

_lock = Lock()
# (source manifest digest, name, tag) -> (bytes, schema 1 digest)
_conversions: OrderedDict[tuple[str, str, str], tuple[bytes, str]] = OrderedDict()
# (name, schema 1 digest) -> (bytes, schema 1 digest, source manifest digest)
_by_digest: dict[tuple[str, str], tuple[bytes, str, str]] = {}
_fetched_configs: OrderedDict = OrderedDict()
# Config blob pk -> time.monotonic() until which a failed download is not tried again.
_failed_fetches: dict = {}
_fetch_locks: dict = {}


class ConfigNotStored(Exception):
    """
    Raised by `convert` when the image config must be fetched from a remote first.

    The handler catches it outside the ORM thread, awaits `fetch_config(needed)`, and calls
    `convert` again, which then finds the fetched config or the remembered failure.
    """

    def __init__(self, config_blob_id, remote, remote_artifact: RemoteArtifact):
        super().__init__(f"image config not stored: blob={config_blob_id}")
        self.config_blob_id = config_blob_id
        self.remote = remote
        self.remote_artifact = remote_artifact


def _config_unavailable(manifest: Manifest) -> RegistryError:
    return RegistryError(
        "MANIFEST_UNKNOWN",
        detail={"digest": manifest.digest},
        message="schema 1 conversion needs the image config, which is not stored and could "
        "not be fetched from the remote; pull with a schema 2 client, or sync with the "
        "immediate policy",
    )


def _read_config(manifest: Manifest) -> bytes:
    content_artifact = (
        ContentArtifact.objects.filter(content_id=manifest.config_blob_id)
        .select_related("artifact")
        .first()
    )
    if content_artifact is not None and content_artifact.artifact is not None:
        with content_artifact.artifact.file.open("rb") as config_file:
            return config_file.read()
    with _lock:
        fetched = _fetched_configs.get(manifest.config_blob_id)
        failed_until = _failed_fetches.get(manifest.config_blob_id, 0.0)
    if fetched is not None:
        return fetched
    if failed_until > time.monotonic():
        raise _config_unavailable(manifest)
    remote_artifact = (
        RemoteArtifact.objects.filter(content_artifact=content_artifact, remote__isnull=False)
        .select_related("remote")
        .first()
    )
    if remote_artifact is None:
        raise _config_unavailable(manifest)
    raise ConfigNotStored(manifest.config_blob_id, remote_artifact.remote.cast(), remote_artifact)


async def fetch_config(needed: ConfigNotStored) -> None:
    """
    Download an image config synced on demand and remember it, or remember the failure.

    The remote's downloader checks size and digest. One download per config runs at a time,
    it is stopped after CONFIG_FETCH_TIMEOUT seconds, and a failure is remembered for
    FAILED_FETCH_SECONDS so that repeated requests do not wait on a broken remote again.
    """
    blob_id = needed.config_blob_id
    lock = _fetch_locks.setdefault(blob_id, asyncio.Lock())
    async with lock:
        await _fetch_once(needed)
    if not lock.locked():
        _fetch_locks.pop(blob_id, None)


async def _fetch_once(needed: ConfigNotStored) -> None:
    blob_id = needed.config_blob_id
    with _lock:
        if blob_id in _fetched_configs or _failed_fetches.get(blob_id, 0.0) > time.monotonic():
            return
    downloader = needed.remote.get_downloader(remote_artifact=needed.remote_artifact)
    try:
        result = await asyncio.wait_for(downloader.run(), CONFIG_FETCH_TIMEOUT)
        path = Path(result.path)
        try:
            data = path.read_bytes()
        finally:
            path.unlink(missing_ok=True)
    except Exception as error:
        log.warning(
            "Fetching an image config for schema 1 conversion failed: blob=%s url=%s error=%r",
            blob_id,
            needed.remote_artifact.url,
            error,
        )
        now = time.monotonic()
        with _lock:
            if len(_failed_fetches) >= MAX_ENTRIES:
                for expired in [key for key, until in _failed_fetches.items() if until <= now]:
                    del _failed_fetches[expired]
            _failed_fetches[blob_id] = now + FAILED_FETCH_SECONDS
        return
    with _lock:
        _fetched_configs[blob_id] = data
        while len(_fetched_configs) > MAX_FETCHED_CONFIGS:
            _fetched_configs.popitem(last=False)
        _failed_fetches.pop(blob_id, None)


def _remember(key: tuple[str, str, str], value: tuple[bytes, str]) -> None:
    with _lock:
        _conversions[key] = value
        _by_digest[(key[1], value[1])] = (*value, key[0])
        while len(_conversions) > MAX_ENTRIES:
            (_, old_name, _), old_value = _conversions.popitem(last=False)
            _by_digest.pop((old_name, old_value[1]), None)


def convert(manifest: Manifest, name: str, tag: str) -> tuple[bytes, str]:
    """
    Return the signed schema 1 bytes and digest of an image manifest; runs database queries.

    Raises:
        RegistryError: MANIFEST_UNKNOWN when the config is missing or cannot be converted.
    """
    key = (manifest.digest, name, tag)
    with _lock:
        cached = _conversions.get(key)
    if cached is not None:
        return cached
    if manifest.config_blob_id is None:
        raise RegistryError("MANIFEST_UNKNOWN", detail={"digest": manifest.digest})
    try:
        value = convert_to_schema1(
            json.loads(manifest.data), _read_config(manifest), name, tag, private_key()
        )
    except Schema1ConversionError as error:
        log.warning("Schema 1 conversion failed: digest=%s error=%s", manifest.digest, error)
        raise RegistryError(
            "MANIFEST_UNKNOWN", detail={"digest": manifest.digest}, message=str(error)
        ) from error
    _remember(key, value)
    return value


def find_by_digest(name: str, digest: str) -> tuple[bytes, str, str] | None:
    """
    Return (bytes, schema 1 digest, source manifest digest) of a conversion made for `name`.

    The caller must check that the source manifest is still served under `name`.
    """
    with _lock:
        return _by_digest.get((name, digest))


def clear() -> None:
    """Forget every conversion."""
    with _lock:
        _conversions.clear()
        _by_digest.clear()
        _fetched_configs.clear()
        _failed_fetches.clear()

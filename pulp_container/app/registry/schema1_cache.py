"""
Schema 1 conversions of stored image manifests, kept in process memory.

A conversion is computed on the first request and reused, so GET and HEAD (and later
pulls by the schema 1 digest) see the same bytes. Nothing is stored in the database.
"""

import json
import logging
from collections import OrderedDict
from pathlib import Path
from threading import Lock

from asgiref.sync import async_to_sync

from pulpcore.plugin.models import ContentArtifact, RemoteArtifact

from pulp_container.app.auth.keys import private_key
from pulp_container.app.models import Manifest
from pulp_container.app.registry.errors import RegistryError
from pulp_container.app.schema1 import Schema1ConversionError, convert_to_schema1

log = logging.getLogger(__name__)

MAX_ENTRIES = 1024

_lock = Lock()
# (source manifest digest, name, tag) -> (bytes, schema 1 digest)
_conversions: OrderedDict[tuple[str, str, str], tuple[bytes, str]] = OrderedDict()
# (name, schema 1 digest) -> (bytes, schema 1 digest)
_by_digest: dict[tuple[str, str], tuple[bytes, str]] = {}


def _read_config(manifest: Manifest) -> bytes:
    content_artifact = (
        ContentArtifact.objects.filter(content_id=manifest.config_blob_id)
        .select_related("artifact")
        .first()
    )
    if content_artifact is not None and content_artifact.artifact is not None:
        with content_artifact.artifact.file.open("rb") as config_file:
            return config_file.read()
    remote_artifact = (
        RemoteArtifact.objects.filter(content_artifact=content_artifact, remote__isnull=False)
        .select_related("remote")
        .first()
    )
    if remote_artifact is None:
        raise RegistryError(
            "MANIFEST_UNKNOWN",
            detail={"digest": manifest.digest},
            message="schema 1 conversion needs the image config, which is neither stored nor "
            "available from a remote",
        )
    return _fetch_config(manifest, remote_artifact)


def _fetch_config(manifest: Manifest, remote_artifact: RemoteArtifact) -> bytes:
    """Download a config synced on demand; the downloader checks its size and digest."""
    remote = remote_artifact.remote.cast()

    async def download():
        return await remote.get_downloader(remote_artifact=remote_artifact).run()

    try:
        # Runs on the content app's event loop while this worker thread waits.
        result = async_to_sync(download)()
    except Exception as error:
        log.warning(
            "Fetching an image config for schema 1 conversion failed: manifest=%s url=%s "
            "error=%s",
            manifest.digest,
            remote_artifact.url,
            error,
        )
        raise RegistryError(
            "MANIFEST_UNKNOWN",
            detail={"digest": manifest.digest, "url": remote_artifact.url},
            message=f"schema 1 conversion needs the image config, and fetching it from the "
            f"remote failed: {error}",
        ) from error
    path = Path(result.path)
    try:
        return path.read_bytes()
    finally:
        path.unlink(missing_ok=True)


def _remember(key: tuple[str, str, str], value: tuple[bytes, str]) -> None:
    with _lock:
        _conversions[key] = value
        _by_digest[(key[1], value[1])] = value
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


def find_by_digest(name: str, digest: str) -> tuple[bytes, str] | None:
    """Return a conversion made earlier for `name` by its schema 1 digest."""
    with _lock:
        return _by_digest.get((name, digest))


def clear() -> None:
    """Forget every conversion."""
    with _lock:
        _conversions.clear()
        _by_digest.clear()

"""
Removal of abandoned blob upload sessions and their partial upload files.

A client that stops pushing midway leaves a session row and a file under the upload folder.
Sessions that received no data for UPLOAD_SESSION_TIMEOUT hours are removed when a new session
starts (at most once per CLEANUP_INTERVAL per process), or by the `remove-stale-uploads`
management command.
"""

import datetime
import logging
import os
import time

from django.conf import settings
from django.utils import timezone

from pulp_container.app.models import ContainerUpload
from pulp_container.app.registry.upload_files import (
    UploadBusy,
    UploadFile,
    UploadFileMissing,
    remove_file,
    upload_directory,
)

log = logging.getLogger(__name__)

# Seconds between two opportunistic cleanups in one process, so that starting a session
# costs no extra query most of the time.
CLEANUP_INTERVAL = 600
_last_cleanup = 0.0


def _remove_locked_file(path: str) -> bool:
    """Remove an upload file unless a request is appending to it; return whether it went."""
    upload_file = UploadFile(path)
    try:
        upload_file.open()
    except UploadFileMissing:
        return True
    except UploadBusy:
        return False
    try:
        remove_file(path)
    finally:
        upload_file.close()
    return True


def _remove_stray_files(cutoff: datetime.datetime, known: set[str]) -> int:
    """Remove upload files older than `cutoff` that no session row names."""
    removed = 0
    folder = upload_directory()
    for entry in os.scandir(folder):
        if entry.path in known or not entry.is_file():
            continue
        modified = datetime.datetime.fromtimestamp(entry.stat().st_mtime, tz=datetime.timezone.utc)
        if modified < cutoff and _remove_locked_file(entry.path):
            removed += 1
    return removed


def remove_stale_uploads(hours: float | None = None) -> int:
    """
    Remove upload sessions that received no data for `hours` and delete their files.

    `hours` defaults to the UPLOAD_SESSION_TIMEOUT setting. Finished uploads (the records of
    pushed blobs) are left alone, and so is a session whose file a request has locked.

    Returns:
        The number of sessions removed.
    """
    if hours is None:
        hours = settings.UPLOAD_SESSION_TIMEOUT
    cutoff = timezone.now() - datetime.timedelta(hours=hours)
    stale = ContainerUpload.objects.filter(blob__isnull=True, pulp_last_updated__lt=cutoff).exclude(
        file_path=""
    )
    removed = []
    for pk, path in stale.values_list("pk", "file_path"):
        if _remove_locked_file(path):
            removed.append(pk)
    if removed:
        ContainerUpload.objects.filter(pk__in=removed).delete()
    active = set(ContainerUpload.objects.exclude(file_path="").values_list("file_path", flat=True))
    strays = _remove_stray_files(cutoff, active)
    if removed or strays:
        log.info(
            "Removed stale upload sessions: sessions=%s stray_files=%s older_than_hours=%s",
            len(removed),
            strays,
            hours,
        )
    return len(removed)


def remove_stale_uploads_now_and_then() -> None:
    """Run `remove_stale_uploads` if this process has not run it in CLEANUP_INTERVAL seconds."""
    global _last_cleanup
    now = time.monotonic()
    if _last_cleanup and now - _last_cleanup < CLEANUP_INTERVAL:
        return
    _last_cleanup = now
    try:
        remove_stale_uploads()
    except OSError:
        log.exception("Removing stale upload sessions failed")

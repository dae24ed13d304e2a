"""
Database side of blob upload sessions: create, look up, record chunks, finish and cancel.

All functions are synchronous and run queries or file operations, so async
handlers call them through `sync_to_async`.
"""

import logging
import uuid
from typing import Optional

from django.db import IntegrityError, transaction
from django.utils import timezone

from pulpcore.plugin.models import Artifact, ContentArtifact

from pulp_container.app.models import Blob, ContainerPushRepository, ContainerUpload
from pulp_container.app.registry.errors import RegistryError
from pulp_container.app.registry.upload_cleanup import remove_stale_uploads_now_and_then
from pulp_container.app.registry.upload_files import remove_file, upload_file_path

log = logging.getLogger(__name__)


def create_upload(repository: ContainerPushRepository, name: str) -> ContainerUpload:
    """
    Start an upload session for `name` with an empty upload file.

    Now and then this first removes abandoned sessions (see `upload_cleanup`).
    """
    remove_stale_uploads_now_and_then()
    upload = ContainerUpload(repository=repository, name=name)
    upload.file_path = upload_file_path(upload.pk)
    with open(upload.file_path, "xb"):
        pass
    upload.save()
    return upload


def upload_unknown(name: str, upload_id: str) -> RegistryError:
    """Return the BLOB_UPLOAD_UNKNOWN error of a session id."""
    return RegistryError(
        "BLOB_UPLOAD_UNKNOWN",
        detail={"name": name, "uuid": upload_id},
        message="Upload session not found; it was finished, cancelled, or never started",
    )


def parse_upload_id(name: str, upload_id: str) -> uuid.UUID:
    """
    Parse the session id of an upload URL.

    Raises:
        RegistryError: BLOB_UPLOAD_UNKNOWN when the id is not a UUID.
    """
    try:
        return uuid.UUID(upload_id)
    except ValueError:
        raise upload_unknown(name, upload_id) from None


def get_upload(name: str, upload_id: uuid.UUID) -> ContainerUpload:
    """
    Return the unfinished upload session `upload_id` of `name`.

    Raises:
        RegistryError: BLOB_UPLOAD_UNKNOWN when there is no such session, or it is finished.
    """
    upload = (
        ContainerUpload.objects.filter(pk=upload_id, name=name, blob__isnull=True)
        .exclude(file_path="")
        .first()
    )
    if upload is None:
        raise upload_unknown(name, str(upload_id))
    return upload


def record_chunk(upload: ContainerUpload, received: int) -> None:
    """Add `received` bytes to the recorded size of an upload session, and mark it as active."""
    upload.size += received
    # update() skips the model's automatic timestamp, and stale-session cleanup reads it.
    ContainerUpload.objects.filter(pk=upload.pk).update(
        size=upload.size, pulp_last_updated=timezone.now()
    )


def cancel_upload(upload: ContainerUpload) -> None:
    """Delete an upload session and its file; a session already cancelled is left as it is."""
    if upload.pk is not None:
        upload.delete()
    remove_file(upload.file_path)


def _store_artifact(path: str, size: int, checksums: dict[str, str]) -> Artifact:
    """
    Move the upload file into artifact storage, or reuse the artifact with its sha256.

    The caller holds a transaction. `Artifact.save` runs in a savepoint of its own (django-
    lifecycle's save is atomic), so a unique-key conflict leaves that transaction usable.
    """
    fields = {name: checksums[name] for name in Artifact.DIGEST_FIELDS}
    existing = Artifact.objects.filter(sha256=fields["sha256"]).first()
    if existing is not None:
        existing.touch()
        remove_file(path)
        return existing
    artifact = Artifact(file=path, size=size, **fields)
    try:
        artifact.save()
    except IntegrityError:
        # A concurrent upload of the same data saved the artifact first. Storage paths are
        # content-addressed, so the file in place has the same bytes.
        remove_file(path)
        return Artifact.objects.get(sha256=fields["sha256"])
    return artifact


def _create_blob(digest: str, artifact: Artifact) -> Optional[Blob]:
    """
    Create the blob `digest` with its content artifact; return None if it exists already.

    The caller holds a transaction, and the blob's save runs in a savepoint of its own.
    """
    try:
        blob = Blob.objects.create(digest=digest)
    except IntegrityError:
        return None
    ContentArtifact.objects.bulk_create(
        [ContentArtifact(content=blob, artifact=artifact, relative_path=digest)]
    )
    return blob


def _get_or_create_blob(digest: str, artifact: Artifact) -> Blob:
    """Return the blob of `digest`, created with `artifact`, or given it if it had none."""
    blob = Blob.objects.filter(digest=digest).first()
    if blob is None:
        blob = _create_blob(digest, artifact)
        if blob is not None:
            return blob
        blob = Blob.objects.get(digest=digest)
    # A blob synced with the on_demand policy has a content artifact without an artifact;
    # the uploaded data completes it.
    ContentArtifact.objects.filter(content=blob, artifact__isnull=True).update(artifact=artifact)
    Blob.objects.filter(pk=blob.pk).touch()
    return blob


def finish_upload(
    upload: ContainerUpload, digest: str, size: int, checksums: dict[str, str]
) -> Blob:
    """
    Turn a complete, verified upload file into an artifact and the blob `digest`.

    The session row stays, with its file path cleared and `blob` set, as the record that
    the blob was pushed to the repository. Everything is written in one transaction.
    """
    with transaction.atomic():
        artifact = _store_artifact(upload.file_path, size, checksums)
        blob = _get_or_create_blob(digest, artifact)
        upload.file_path = ""
        upload.size = size
        upload.blob = blob
        ContainerUpload.objects.filter(pk=upload.pk).update(
            file_path="", size=size, blob=blob, pulp_last_updated=timezone.now()
        )
    log.debug("Blob upload finished: name=%s digest=%s size=%s", upload.name, digest, size)
    return blob


def record_mounted_blob(repository: ContainerPushRepository, name: str, blob: Blob) -> None:
    """Record that `blob` was mounted into `repository`, as a finished upload would."""
    ContainerUpload.objects.create(
        repository=repository, name=name, size=0, file_path="", blob=blob
    )

"""
Blob upload endpoints: `/v2/<name>/blobs/uploads/` and `/v2/<name>/blobs/uploads/<uuid>`.

Supports the flows of the OCI distribution spec: chunked (POST, PATCH..., PUT ?digest=),
streamed (one PATCH without Content-Range), monolithic (POST ?digest= with the body, or PUT
with the body on a new session) and cross-repository mount (POST ?mount=&from=).
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from asgiref.sync import sync_to_async

from pulp_container.app.auth.access import authorize
from pulp_container.app.auth.scopes import PULL, PUSH
from pulp_container.app.models import ContainerUpload
from pulp_container.app.registry.errors import RegistryError
from pulp_container.app.registry.push_references import NAME_RE, check_name, parse_digest
from pulp_container.app.registry.push_repositories import (
    find_mountable_blob,
    get_or_create_push_repository,
)
from pulp_container.app.registry.upload_files import (
    UploadBusy,
    UploadFile,
    UploadFileMissing,
    append_chunk,
    compute_checksums,
    expected_chunk_length,
    locked_upload_file,
    range_header,
    upload_file_path,
)
from pulp_container.app.registry.upload_sessions import (
    cancel_upload,
    create_upload,
    finish_upload,
    get_upload,
    parse_upload_id,
    record_chunk,
    record_mounted_blob,
    upload_unknown,
)
from pulp_container.constants import (
    API_VERSION_HEADER,
    API_VERSION_VALUE,
    CONTENT_DIGEST_HEADER,
    UPLOAD_UUID_HEADER,
)

log = logging.getLogger(__name__)


def session_headers(upload: ContainerUpload) -> dict[str, str]:
    """Return the Location, Range and Docker-Upload-UUID headers of an upload session."""
    return {
        API_VERSION_HEADER: API_VERSION_VALUE,
        "Location": f"/v2/{upload.name}/blobs/uploads/{upload.pk}",
        "Range": range_header(upload.size),
        UPLOAD_UUID_HEADER: str(upload.pk),
    }


def blob_created(name: str, digest: str) -> web.Response:
    """Return 201 Created for a blob that an upload or mount added to `name`."""
    headers = {
        API_VERSION_HEADER: API_VERSION_VALUE,
        "Location": f"/v2/{name}/blobs/{digest}",
        CONTENT_DIGEST_HEADER: digest,
    }
    return web.Response(status=201, headers=headers)


async def _authorize_push(request: web.Request) -> tuple[str, str]:
    """Authorize a push to the request's name; return the name and the caller's username."""
    name = request.match_info["path"]
    check_name(name)
    access = await authorize(request, name, {PULL, PUSH})
    return name, access.username


async def start_upload(request: web.Request) -> web.Response:
    """
    Handle `POST /v2/<name>/blobs/uploads/`: start a session, mount a blob or take a blob.

    The first push to a new name creates its push repository and distribution.
    """
    name, username = await _authorize_push(request)
    digest = request.query.get("digest")
    mount = request.query.get("mount")
    if digest is not None:
        parse_digest(digest)
    if mount is not None:
        parse_digest(mount)
        response = await _mount(request, name, username, mount, request.query.get("from"))
        if response is not None:
            return response
    repository = await sync_to_async(get_or_create_push_repository)(name, username)
    upload = await sync_to_async(create_upload)(repository, name)
    if digest is None:
        return web.Response(status=202, headers=session_headers(upload))
    async with locked_upload_file(upload.file_path) as upload_file:
        try:
            return await _complete(request, upload, upload_file, digest)
        except BaseException:
            await sync_to_async(cancel_upload)(upload)
            raise


async def _mount(
    request: web.Request, name: str, username: str, digest: str, source: str | None
) -> web.Response | None:
    """Mount `digest` from `source` into `name`; return None to fall back to an upload."""
    if not source:
        return None
    if not NAME_RE.fullmatch(source):
        log.info("Mount source is not a repository name, starting an upload: from=%r", source)
        return None
    try:
        await authorize(request, source, {PULL})
    except RegistryError as error:
        if error.code not in ("UNAUTHORIZED", "DENIED"):
            raise
        log.info("Mount source not readable, starting an upload: from=%s to=%s", source, name)
        return None
    blob = await sync_to_async(find_mountable_blob)(source, digest)
    if blob is None:
        return None
    repository = await sync_to_async(get_or_create_push_repository)(name, username)
    await sync_to_async(record_mounted_blob)(repository, name, blob)
    log.debug("Blob mounted: from=%s to=%s digest=%s", source, name, digest)
    return blob_created(name, digest)


async def get_upload_status(request: web.Request) -> web.Response:
    """Handle `GET /v2/<name>/blobs/uploads/<uuid>`: 204 with the received Range."""
    name, _username = await _authorize_push(request)
    upload_id = parse_upload_id(name, request.match_info["uuid"])
    upload = await sync_to_async(get_upload)(name, upload_id)
    return web.Response(status=204, headers=session_headers(upload))


async def patch_upload(request: web.Request) -> web.Response:
    """Handle `PATCH /v2/<name>/blobs/uploads/<uuid>`: append one chunk."""
    name, _username = await _authorize_push(request)
    async with _locked_session(request, name) as (upload, upload_file):
        await _append(request, upload, upload_file)
    return web.Response(status=202, headers=session_headers(upload))


async def put_upload(request: web.Request) -> web.Response:
    """Handle `PUT /v2/<name>/blobs/uploads/<uuid>?digest=`: the last chunk, if any, and finish."""
    name, _username = await _authorize_push(request)
    digest = request.query.get("digest")
    if not digest:
        raise RegistryError(
            "DIGEST_INVALID",
            detail={"name": name},
            message="The 'digest' query parameter is missing; add ?digest=<algorithm>:<hex>",
        )
    parse_digest(digest)
    async with _locked_session(request, name) as (upload, upload_file):
        return await _complete(request, upload, upload_file, digest)


async def delete_upload(request: web.Request) -> web.Response:
    """Handle `DELETE /v2/<name>/blobs/uploads/<uuid>`: cancel the session."""
    name, _username = await _authorize_push(request)
    async with _locked_session(request, name) as (upload, _upload_file):
        await sync_to_async(cancel_upload)(upload)
    return web.Response(status=204, headers={API_VERSION_HEADER: API_VERSION_VALUE})


@asynccontextmanager
async def _locked_session(
    request: web.Request, name: str
) -> AsyncIterator[tuple[ContainerUpload, UploadFile]]:
    """Lock the upload file of the request's session, then load the session row."""
    upload_id = parse_upload_id(name, request.match_info["uuid"])
    try:
        async with locked_upload_file(upload_file_path(upload_id)) as upload_file:
            upload = await sync_to_async(get_upload)(name, upload_id)
            yield upload, upload_file
    except UploadFileMissing:
        raise upload_unknown(name, str(upload_id)) from None
    except UploadBusy:
        upload = await sync_to_async(get_upload)(name, upload_id)
        raise RegistryError(
            "BLOB_UPLOAD_INVALID",
            detail={"uuid": str(upload_id)},
            message="Another request is sending data to this upload; resume after it ends",
            status=416,
            headers=session_headers(upload),
        ) from None


async def _append(
    request: web.Request, upload: ContainerUpload, upload_file: UploadFile, record: bool = True
) -> None:
    """
    Check the chunk headers, then stream the body onto the locked file.

    With `record`, the new size is saved to the session row; the final chunk of `_complete`
    skips that, because finishing the upload saves the size anyway.
    """
    try:
        expected = expected_chunk_length(
            upload.size, request.headers.get("Content-Range"), request.content_length
        )
    except RegistryError as error:
        if error.status == 416:
            error.headers.update(session_headers(upload))
        raise
    await asyncio.get_running_loop().run_in_executor(None, upload_file.seek_to, upload.size)
    received = await append_chunk(request.content, upload_file, expected)
    if record:
        await sync_to_async(record_chunk)(upload, received)
    else:
        upload.size += received


async def _complete(
    request: web.Request, upload: ContainerUpload, upload_file: UploadFile, digest: str
) -> web.Response:
    """
    Append the request body as the last chunk, verify the digest and create the blob.

    A digest mismatch cancels the session, so that no data of it is kept.
    """
    if request.body_exists:
        await _append(request, upload, upload_file, record=False)
    algorithm, hex_digest = parse_digest(digest)
    loop = asyncio.get_running_loop()
    size, checksums = await loop.run_in_executor(
        None, compute_checksums, upload.file_path, algorithm
    )
    if checksums[algorithm] != hex_digest:
        await sync_to_async(cancel_upload)(upload)
        actual = f"{algorithm}:{checksums[algorithm]}"
        log.info(
            "Blob upload digest mismatch: name=%s expected=%s actual=%s",
            upload.name,
            digest,
            actual,
        )
        raise RegistryError(
            "DIGEST_INVALID",
            detail={"expected": digest, "actual": actual},
            message="Uploaded data does not match the digest; the upload was cancelled",
        )
    await sync_to_async(finish_upload)(upload, digest, size, checksums)
    return blob_created(upload.name, digest)

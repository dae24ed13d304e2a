"""
Push endpoints: `PUT` and `DELETE /v2/<name>/manifests/<reference>`, `DELETE` of blobs.

A manifest PUT validates the body, checks that everything it references was pushed to the
repository, and adds it (with its tag) to a new version of the name's push repository.
"""

import logging
from typing import Optional

from aiohttp import web
from asgiref.sync import sync_to_async

from pulp_container.app.auth.access import authorize
from pulp_container.app.auth.scopes import DELETE, PULL, PUSH
from pulp_container.app.manifests import (
    GENERIC_CONTENT_TYPES,
    ManifestDigestMismatch,
    ManifestError,
    ParsedManifest,
    parse_manifest,
)
from pulp_container.app.models import ContainerPushRepository
from pulp_container.app.registry.errors import RegistryError
from pulp_container.app.registry.push_content import (
    delete_blob,
    delete_manifest,
    delete_tag,
    store_manifest,
)
from pulp_container.app.registry.push_references import (
    check_name,
    check_tag,
    is_digest_reference,
    parse_digest,
)
from pulp_container.app.registry.push_repositories import (
    find_push_repository,
    get_or_create_push_repository,
)
from pulp_container.constants import (
    API_VERSION_HEADER,
    API_VERSION_VALUE,
    CONTENT_DIGEST_HEADER,
    MANIFEST_MAX_SIZE,
    MANIFEST_TYPE_SCHEMA1,
    OCI_SUBJECT_HEADER,
)

log = logging.getLogger(__name__)

READ_SIZE = 64 * 1024


def _check_reference(reference: str) -> Optional[str]:
    """Check a manifest reference and return it if it is a tag, None if it is a digest."""
    if is_digest_reference(reference):
        parse_digest(reference)
        return None
    check_tag(reference)
    return reference


def _too_large(size: int) -> RegistryError:
    return RegistryError(
        "MANIFEST_INVALID",
        detail={"size": size, "limit": MANIFEST_MAX_SIZE},
        message=f"Manifest is larger than the limit of {MANIFEST_MAX_SIZE} bytes",
        status=413,
    )


async def read_manifest_body(request: web.Request) -> bytes:
    """
    Read a manifest body of at most MANIFEST_MAX_SIZE bytes.

    Raises:
        RegistryError: MANIFEST_INVALID with status 413 when the body is larger.
    """
    if request.content_length is not None and request.content_length > MANIFEST_MAX_SIZE:
        raise _too_large(request.content_length)
    data = bytearray()
    while chunk := await request.content.read(READ_SIZE):
        data += chunk
        if len(data) > MANIFEST_MAX_SIZE:
            raise _too_large(len(data))
    return bytes(data)


def parse_pushed_manifest(
    data: bytes, content_type: Optional[str], reference: str
) -> ParsedManifest:
    """
    Validate a pushed manifest body against its Content-Type and reference.

    Raises:
        RegistryError: MANIFEST_INVALID when the body is not a valid manifest, is schema 1, or
            its mediaType differs from the Content-Type, and DIGEST_INVALID when the reference
            is a digest that the body does not have.
    """
    expected_digest = reference if is_digest_reference(reference) else None
    try:
        parsed = parse_manifest(data, content_type, expected_digest, reference)
    except ManifestDigestMismatch as error:
        raise RegistryError(
            "DIGEST_INVALID",
            detail={"expected": error.expected, "actual": error.actual},
            message="Manifest body does not match the digest in the URL",
        ) from None
    except ManifestError as error:
        raise RegistryError(
            "MANIFEST_INVALID", detail={"reference": reference}, message=error.reason
        ) from None
    header_type = (content_type or "").split(";", 1)[0].strip().lower()
    if header_type not in GENERIC_CONTENT_TYPES and header_type != parsed.media_type:
        raise RegistryError(
            "MANIFEST_INVALID",
            detail={"Content-Type": header_type, "mediaType": parsed.media_type},
            message="Content-Type differs from the manifest's mediaType; send the same type",
        )
    if parsed.type == MANIFEST_TYPE_SCHEMA1:
        raise RegistryError(
            "MANIFEST_INVALID",
            detail={"mediaType": parsed.media_type},
            message="Schema 1 manifests cannot be pushed; push a Docker schema 2 or OCI manifest",
        )
    return parsed


async def put_manifest(request: web.Request) -> web.Response:
    """Handle `PUT /v2/<name>/manifests/<reference>`: 201 with the manifest digest."""
    name = request.match_info["path"]
    reference = request.match_info["reference"]
    check_name(name)
    tag = _check_reference(reference)
    access = await authorize(request, name, {PULL, PUSH})

    data = await read_manifest_body(request)
    parsed = parse_pushed_manifest(data, request.headers.get("Content-Type"), reference)
    repository = await sync_to_async(get_or_create_push_repository)(name, access.username)
    await sync_to_async(store_manifest)(repository, parsed, tag)
    log.debug("Manifest pushed: name=%s reference=%s digest=%s", name, reference, parsed.digest)

    headers = {
        API_VERSION_HEADER: API_VERSION_VALUE,
        "Location": f"/v2/{name}/manifests/{parsed.digest}",
        CONTENT_DIGEST_HEADER: parsed.digest,
    }
    if parsed.subject:
        headers[OCI_SUBJECT_HEADER] = parsed.subject
    return web.Response(status=201, headers=headers)


async def _repository_for_delete(request: web.Request) -> ContainerPushRepository:
    """Authorize a delete on the request's name and return its push repository."""
    name = request.match_info["path"]
    check_name(name)
    await authorize(request, name, {DELETE})
    repository = await sync_to_async(find_push_repository)(name)
    if repository is None:
        raise RegistryError(
            "NAME_UNKNOWN", detail={"name": name}, message="No repository has this name"
        )
    return repository


def _accepted() -> web.Response:
    return web.Response(status=202, headers={API_VERSION_HEADER: API_VERSION_VALUE})


async def delete_manifest_or_tag(request: web.Request) -> web.Response:
    """
    Handle `DELETE /v2/<name>/manifests/<reference>`.

    A digest removes the manifest and its tags; a tag removes only the tag.
    """
    tag = _check_reference(request.match_info["reference"])
    repository = await _repository_for_delete(request)
    if tag is None:
        await sync_to_async(delete_manifest)(repository, request.match_info["reference"])
    else:
        await sync_to_async(delete_tag)(repository, tag)
    return _accepted()


async def delete_blob_handler(request: web.Request) -> web.Response:
    """Handle `DELETE /v2/<name>/blobs/<digest>`."""
    digest = request.match_info["digest"]
    parse_digest(digest)
    repository = await _repository_for_delete(request)
    await sync_to_async(delete_blob)(repository, digest)
    return _accepted()

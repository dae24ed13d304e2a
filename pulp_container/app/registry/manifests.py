"""
`GET|HEAD /v2/<name>/manifests/<reference>`: the stored manifest bytes, or their schema 1
conversion for old clients.

HEAD returns the same headers as GET: aiohttp leaves out only the body.
"""

import logging
from dataclasses import dataclass

from aiohttp import web

from pulp_container.app.auth.access import authorize
from pulp_container.app.auth.scopes import PULL
from pulp_container.app.models import Manifest, ManifestListManifest, Tag
from pulp_container.app.registry import schema1_cache, served_manifests
from pulp_container.app.registry.errors import RegistryError
from pulp_container.app.registry.guards import load_guarded
from pulp_container.app.registry.lookup import (
    DIGEST_RE,
    TAG_RE,
    ServedVersion,
    check_name,
    get_served_version,
    in_unguarded_version,
    is_digest,
)
from pulp_container.app.registry.negotiation import AcceptedTypes, request_accept
from pulp_container.constants import (
    API_VERSION_HEADER,
    API_VERSION_VALUE,
    CONTENT_DIGEST_HEADER,
    DOCKER_MANIFEST_V1_SIGNED,
    IMAGE_MEDIA_TYPES,
    LIST_MEDIA_TYPES,
)

log = logging.getLogger(__name__)

# The platform whose image an old client gets from a manifest list, as Docker registries do.
DEFAULT_PLATFORM = {"os": "linux", "architecture": "amd64"}


@dataclass(frozen=True)
class ManifestReply:
    """The bytes, media type and digest of a manifest response."""

    data: bytes
    media_type: str
    digest: str


def _reply(manifest: Manifest) -> ManifestReply:
    return ManifestReply(manifest.data.encode("utf-8"), manifest.media_type, manifest.digest)


def _find_manifest(served: ServedVersion, reference: str) -> Manifest | None:
    if is_digest(reference):
        return served.content(Manifest.objects).filter(digest=reference).first()
    tag = served.content(Tag.objects).filter(name=reference).select_related("tagged_manifest")
    tag = tag.first()
    return None if tag is None else tag.tagged_manifest


def _default_platform_image(manifest_list: Manifest) -> Manifest | None:
    link = (
        ManifestListManifest.objects.filter(manifest_list=manifest_list, **DEFAULT_PLATFORM)
        .select_related("image_manifest")
        .first()
    )
    if link is None or link.image_manifest.media_type not in IMAGE_MEDIA_TYPES:
        return None
    return link.image_manifest


def _choose(
    manifest: Manifest, name: str, reference: str, accept: AcceptedTypes
) -> ManifestReply | None:
    """Return the reply the Accept list admits, or None when nothing fits."""
    if accept.accepts(manifest.media_type):
        return _reply(manifest)
    image = manifest
    if manifest.media_type in LIST_MEDIA_TYPES:
        image = _default_platform_image(manifest)
        if image is None:
            return None
        if accept.accepts(image.media_type) and not is_digest(reference):
            return _reply(image)
    if image.media_type in IMAGE_MEDIA_TYPES and accept.accepts_schema1():
        data, digest = schema1_cache.convert(image, name, reference)
        return ManifestReply(data, DOCKER_MANIFEST_V1_SIGNED, digest)
    return None


def _find_manifest_quickly(name: str, reference: str) -> Manifest | None:
    """Find the manifest in one query, or return None to take the general path."""
    if is_digest(reference):
        return in_unguarded_version(Manifest.objects, name).filter(digest=reference).first()
    tags = in_unguarded_version(Tag.objects, name).filter(name=reference)
    tag = tags.select_related("tagged_manifest").first()
    return None if tag is None else tag.tagged_manifest


def _load_reply(name: str, reference: str, accept: AcceptedTypes) -> ManifestReply:
    manifest = _find_manifest_quickly(name, reference)
    if manifest is not None:
        reply = _choose(manifest, name, reference, accept)
        if reply is not None:
            return reply
    served = get_served_version(name)
    manifest = _find_manifest(served, reference)
    if manifest is None:
        converted = schema1_cache.find_by_digest(name, reference) if is_digest(reference) else None
        # The conversion counts only while its source manifest is still served under `name`.
        if converted is not None and _find_manifest(served, converted[2]) is not None:
            return ManifestReply(converted[0], DOCKER_MANIFEST_V1_SIGNED, converted[1])
        raise RegistryError("MANIFEST_UNKNOWN", detail={"name": name, "reference": reference})
    reply = _choose(manifest, name, reference, accept)
    if reply is not None:
        return reply
    if not accept.given:
        return _reply(manifest)
    raise RegistryError(
        "MANIFEST_UNKNOWN",
        detail={"reference": reference, "mediaType": manifest.media_type},
        message=f"manifest is stored as {manifest.media_type}, which the Accept header excludes",
    )


def check_reference(reference: str) -> None:
    """Raise MANIFEST_UNKNOWN for a reference that is neither a valid tag nor a digest."""
    pattern = DIGEST_RE if is_digest(reference) else TAG_RE
    if not pattern.fullmatch(reference):
        raise RegistryError(
            "MANIFEST_UNKNOWN",
            detail={"reference": reference},
            message="invalid manifest reference: expected a tag or an algorithm:hex digest",
        )


async def get_manifest(request: web.Request) -> web.Response:
    """Return the manifest of a tag or digest, negotiated against the Accept headers."""
    name = request.match_info["path"]
    reference = request.match_info["reference"]
    check_name(name)
    check_reference(reference)
    access = await authorize(request, name, {PULL})
    accept = request_accept(request)
    found = await served_manifests.find_reply(name, reference, accept)
    if found is not None:
        reply = ManifestReply(*found)
    else:
        try:
            reply = await load_guarded(request, access, _load_reply, name, reference, accept)
        except schema1_cache.ConfigNotStored as needed:
            # Downloaded here on the event loop, so that the ORM thread is not held meanwhile.
            # NOTE: if more than 64 other configs are fetched before the retry, this one is
            # evicted and the retry raises ConfigNotStored again, which the client sees as 500.
            await schema1_cache.fetch_config(needed)
            reply = await load_guarded(request, access, _load_reply, name, reference, accept)
    headers = {
        API_VERSION_HEADER: API_VERSION_VALUE,
        CONTENT_DIGEST_HEADER: reply.digest,
        "ETag": f'"{reply.digest}"',
    }
    headers["Content-Type"] = reply.media_type
    return web.Response(body=reply.data, headers=headers)

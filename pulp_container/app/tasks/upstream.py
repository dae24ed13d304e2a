"""Requests a sync sends to the upstream registry: tag lists, manifest HEADs and GETs."""

import json
import logging
import re
from collections.abc import AsyncIterator
from fnmatch import fnmatchcase
from typing import Optional, Union
from urllib.parse import urljoin

from pulpcore.plugin.download import DownloadResult

from pulp_container.app.downloaders import (
    IN_MEMORY,
    RAISE_UPSTREAM_ERROR,
    ResponseBody,
    UpstreamRequestError,
)
from pulp_container.app.manifests import (
    ManifestError,
    ParsedManifest,
    compute_digest,
    parse_manifest,
)
from pulp_container.constants import CONTENT_DIGEST_HEADER, MANIFEST_MEDIA_TYPES

log = logging.getLogger(__name__)

# Tags asked for per page of the tag list. Registries may send fewer and a Link to the rest.
TAG_PAGE_SIZE = 1000
MANIFEST_ACCEPT = ", ".join(MANIFEST_MEDIA_TYPES)
LINK_NEXT_RE = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


class TagFilter:
    """Shell-style include and exclude patterns of tag names (`fnmatch`, case-sensitive)."""

    def __init__(self, include: Optional[list[str]], exclude: Optional[list[str]]) -> None:
        self.include = [pattern for pattern in include or [] if pattern]
        self.exclude = [pattern for pattern in exclude or [] if pattern]

    def __call__(self, name: str) -> bool:
        """Return whether the tag `name` is synced."""
        if self.include and not any(fnmatchcase(name, pattern) for pattern in self.include):
            return False
        return not any(fnmatchcase(name, pattern) for pattern in self.exclude)


def next_page_url(link_header: Optional[str], current_url: str) -> Optional[str]:
    """Return the absolute URL of the `rel="next"` link, or None on the last page."""
    if not link_header:
        return None
    match = LINK_NEXT_RE.search(link_header)
    return urljoin(current_url, match.group(1)) if match else None


class UpstreamRegistry:
    """The upstream repository of a remote, reached through the remote's downloaders."""

    def __init__(self, remote) -> None:
        self.remote = remote
        self.base_url = remote.url.rstrip("/")
        self.name = remote.upstream_name

    def manifest_url(self, reference: str) -> str:
        return f"{self.base_url}/v2/{self.name}/manifests/{reference}"

    def blob_url(self, digest: str) -> str:
        return f"{self.base_url}/v2/{self.name}/blobs/{digest}"

    async def _request(
        self, url: str, subject: str, method: str = "GET", headers: Optional[dict] = None
    ) -> Union[DownloadResult, ResponseBody]:
        """Send a request; GET bodies come back in memory as `ResponseBody`."""
        downloader = self.remote.get_downloader(url=url)
        extra_data = {
            "method": method,
            "headers": headers or {},
            RAISE_UPSTREAM_ERROR: True,
            IN_MEMORY: True,
        }
        try:
            return await downloader.run(extra_data=extra_data)
        except UpstreamRequestError as exc:
            exc.subject = subject
            raise

    async def list_tags(self) -> AsyncIterator[list[str]]:
        """
        Yield the tag names page by page, following `Link: <...>; rel="next"` headers.

        Raises:
            UpstreamRequestError: A page could not be fetched or is not a valid tag list.
        """
        url: Optional[str] = f"{self.base_url}/v2/{self.name}/tags/list?n={TAG_PAGE_SIZE}"
        seen_urls = set()
        while url and url not in seen_urls:
            seen_urls.add(url)
            result = await self._request(url, "the tag list")
            yield _parse_tag_page(result.data, url)
            url = next_page_url(result.headers.get("Link"), url)

    async def head_manifest(self, tag: str) -> Optional[str]:
        """
        Return the `Docker-Content-Digest` a HEAD of the tag returns, if any.

        Raises:
            UpstreamRequestError: The request failed; `status` is 404 when the tag is gone.
        """
        url = self.manifest_url(tag)
        result = await self._request(
            url, f"tag {tag!r}", method="HEAD", headers={"Accept": MANIFEST_ACCEPT}
        )
        return result.headers.get(CONTENT_DIGEST_HEADER)

    async def get_manifest(
        self, reference: str, expected_digest: Optional[str] = None
    ) -> ParsedManifest:
        """
        GET and validate a manifest by tag or digest.

        A digest reference is checked against the body. For a tag, `expected_digest` (from
        HEAD) and the response's `Docker-Content-Digest` are checked when present.

        Raises:
            UpstreamRequestError: The request failed.
            ManifestError: The body is invalid or its digest does not match.
        """
        is_digest = ":" in reference
        subject = f"manifest {reference}" if is_digest else f"tag {reference!r}"
        url = self.manifest_url(reference)
        result = await self._request(url, subject, headers={"Accept": MANIFEST_ACCEPT})
        data = result.data
        expected = reference if is_digest else expected_digest
        expected = expected or result.headers.get(CONTENT_DIGEST_HEADER)
        try:
            return parse_manifest(
                data,
                content_type=result.headers.get("Content-Type"),
                expected_digest=expected,
                reference=None if is_digest else f"{self.name}:{reference} ({url})",
            )
        except ManifestError as exc:
            separator = "@" if is_digest else ":"
            exc.reference = f"{self.name}{separator}{reference} ({url})"
            raise

    async def get_image_config(self, digest: str) -> bytes:
        """
        GET an image config blob into memory and check it against its digest.

        Raises:
            UpstreamRequestError: The request failed.
            ManifestError: The body does not match the digest.
        """
        url = self.blob_url(digest)
        result = await self._request(url, "an image config")
        actual = compute_digest(result.data, digest.partition(":")[0])
        if actual != digest:
            raise ManifestError(
                f"the config blob from {url} has the digest {actual}, so the upstream "
                "registry serves corrupt data",
                reference=f"{self.name}@{digest}",
            )
        return result.data


def _parse_tag_page(body: bytes, url: str) -> list[str]:
    try:
        tags = json.loads(body).get("tags")
    except (ValueError, AttributeError) as exc:
        raise UpstreamRequestError(url, f"the tag list is not valid JSON ({exc})") from None
    if tags is None:
        return []
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise UpstreamRequestError(url, "field 'tags' of the tag list is not a list of strings")
    return tags

"""
A registry-aware HTTP downloader: anonymous, basic and Docker token authentication.

Token flow (Docker "Token Authentication Specification"): a registry answers 401 with
`WWW-Authenticate: Bearer realm="...",service="...",scope="..."`. The downloader asks the
realm for a token with that service and scope, sending the remote's credentials when it has
them, and repeats the request with `Authorization: Bearer <token>`. Tokens are cached per
remote and upstream repository name until shortly before `expires_in` runs out, and a
second 401 during a long sync fetches a fresh one.
"""

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from typing import Any, Optional
from urllib.parse import urlsplit

import aiohttp

from pulpcore.plugin.download import DownloaderFactory, DownloadResult, HttpDownloader
from pulpcore.plugin.exceptions import PulpException, TimeoutException

log = logging.getLogger(__name__)

# Docker token spec: a token without `expires_in` is valid for 60 seconds.
DEFAULT_TOKEN_LIFETIME = 60
# Share of the lifetime after which a cached token is replaced before use.
TOKEN_REFRESH_FRACTION = 0.9
CHALLENGE_PARAM_RE = re.compile(r'(\w+)="([^"]*)"')
REPOSITORY_PATH_RE = re.compile(r"^/v2/(?P<name>.+?)/(?:manifests|blobs|tags|referrers)/")


# `extra_data` key that makes `RegistryDownloader.run` raise `UpstreamRequestError`.
RAISE_UPSTREAM_ERROR = "raise_upstream_error"
# `extra_data` key that makes `RegistryDownloader.run` return the body as `ResponseBody`.
IN_MEMORY = "in_memory"
# Bodies read into memory are manifests and tag list pages; anything larger is rejected.
MAX_IN_MEMORY_BODY = 16 * 1024 * 1024


@dataclass
class ResponseBody:
    """A response read into memory instead of a file."""

    url: str
    headers: Any
    data: bytes


class UpstreamRequestError(PulpException):
    """
    A request to the upstream registry failed after retries.

    Attributes:
        url: The requested URL.
        cause: What went wrong, e.g. "HTTP 404 Not Found" or "connection closed".
        subject: What was requested, e.g. "tag 'latest'" or a blob digest, when known.
        status: The HTTP status of the last response, when the upstream sent one.
    """

    error_code = "CTR0003"

    def __init__(
        self,
        url: str,
        cause: str,
        subject: Optional[str] = None,
        status: Optional[int] = None,
    ):
        self.url = url
        self.cause = cause
        self.subject = subject
        self.status = status

    def __str__(self) -> str:
        subject = f" for {self.subject}" if self.subject else ""
        return (
            f"[{self.error_code}] Request to {self.url}{subject} failed: {self.cause}. "
            "Check the remote's url, credentials and upstream_name, and the upstream "
            "registry, then sync again."
        )


def describe_error(exc: BaseException) -> str:
    """Return a short description of a download error for `UpstreamRequestError.cause`."""
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"HTTP {exc.status} {exc.message}".strip()
    if isinstance(exc, (asyncio.TimeoutError, TimeoutException)):
        return "timed out"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return f"the response body was cut short ({exc})"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the server closed the connection"
    if isinstance(exc, aiohttp.ClientConnectionError):
        return f"connection failed ({exc})"
    return str(exc) or type(exc).__name__


class BodyTooLarge(aiohttp.ClientError):
    """A response body too large to read into memory; not retried."""


class TokenRequestError(aiohttp.ClientResponseError):
    """The token realm refused a token or sent one that could not be read."""


@dataclass
class BearerChallenge:
    """The parameters of a `WWW-Authenticate: Bearer` challenge."""

    realm: str
    service: Optional[str]
    scope: Optional[str]

    @classmethod
    def parse(cls, header: str) -> Optional["BearerChallenge"]:
        """Return the challenge in a `WWW-Authenticate` value, or None if it is not Bearer."""
        scheme, _, params = header.strip().partition(" ")
        if scheme.lower() != "bearer":
            return None
        values = dict(CHALLENGE_PARAM_RE.findall(params))
        if not values.get("realm"):
            return None
        return cls(realm=values["realm"], service=values.get("service"), scope=values.get("scope"))


@dataclass
class CachedToken:
    """A bearer token and the monotonic time after which it is not used any more."""

    value: str
    refresh_after: float


class TokenCache:
    """
    Bearer tokens of one remote, keyed by upstream repository name.

    One lock per key makes concurrent downloaders that all hit a 401 ask the realm once.
    """

    def __init__(self) -> None:
        self._tokens: dict[str, CachedToken] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.requests = 0

    def get(self, key: str) -> Optional[str]:
        """Return the cached token for `key` unless it is about to expire."""
        token = self._tokens.get(key)
        if token is None or time.monotonic() >= token.refresh_after:
            return None
        return token.value

    async def refresh(
        self,
        key: str,
        challenge: BearerChallenge,
        session: aiohttp.ClientSession,
        auth: Optional[aiohttp.BasicAuth],
        rejected: Optional[str],
    ) -> str:
        """
        Return a token for `key`, asking the realm unless another downloader just did.

        Args:
            rejected: The token the registry just refused, which must not be returned again.

        Raises:
            TokenRequestError: The realm answered with an error or without a token.
        """
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            current = self.get(key)
            if current is not None and current != rejected:
                return current
            token = await self._request_token(challenge, session, auth)
            self._tokens[key] = token
            return token.value

    async def _request_token(
        self,
        challenge: BearerChallenge,
        session: aiohttp.ClientSession,
        auth: Optional[aiohttp.BasicAuth],
    ) -> CachedToken:
        params = []
        if challenge.service:
            params.append(("service", challenge.service))
        for scope in (challenge.scope or "").split():
            params.append(("scope", scope))
        self.requests += 1
        log.debug("Requesting a registry token: realm=%s scope=%s", challenge.realm, params)
        async with session.get(challenge.realm, params=params, auth=auth) as response:
            if response.status >= 400:
                raise TokenRequestError(
                    response.request_info,
                    response.history,
                    status=response.status,
                    message=f"the token realm {challenge.realm} refused a token",
                    headers=response.headers,
                )
            try:
                body = await response.json(content_type=None)
                value = body.get("token") or body.get("access_token")
            except (ValueError, AttributeError):
                value = None
            if not isinstance(value, str) or not value:
                raise TokenRequestError(
                    response.request_info,
                    response.history,
                    status=response.status,
                    message=f"the token realm {challenge.realm} sent no token",
                    headers=response.headers,
                )
        lifetime = body.get("expires_in") or DEFAULT_TOKEN_LIFETIME
        if not isinstance(lifetime, (int, float)) or lifetime <= 0:
            lifetime = DEFAULT_TOKEN_LIFETIME
        return CachedToken(value, time.monotonic() + lifetime * TOKEN_REFRESH_FRACTION)


def repository_key(url: str) -> str:
    """Return the upstream repository name in a registry URL, or "" for other paths."""
    match = REPOSITORY_PATH_RE.match(urlsplit(url).path)
    return match.group("name") if match else ""


class RegistryDownloader(HttpDownloader):
    """
    An HTTP downloader that answers registry Bearer challenges and can send HEAD requests.

    `run(extra_data=...)` accepts, besides pulpcore's keys:
        method: "GET" (default) or "HEAD". A HEAD result has `path=None` and the headers.
        headers: Extra request headers, e.g. `Accept` for manifests.
        in_memory: Return a `ResponseBody` instead of writing a file. pulpcore's file path
            costs a temporary file, six digests and an fsync per response, which dominated
            syncs of thousands of small manifests.

    Credentials and tokens go only to the remote's host, never to foreign-layer URLs.
    """

    def __init__(
        self,
        url: str,
        token_cache: Optional[TokenCache] = None,
        registry_host: Optional[str] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(url, **kwargs)
        self.token_cache = token_cache if token_cache is not None else TokenCache()
        self.same_host = registry_host is None or urlsplit(url).netloc == registry_host
        self.basic_auth = self.auth if self.same_host else None

    async def run(self, extra_data: Optional[dict] = None) -> DownloadResult:
        """
        Download with pulpcore's retries, raising `UpstreamRequestError` on failure if asked.

        With `extra_data[RAISE_UPSTREAM_ERROR]` set (the sync sets it), HTTP, connection and
        timeout errors raise `UpstreamRequestError` naming the URL; otherwise they pass through
        unchanged, as the content app expects.
        """
        try:
            return await super().run(extra_data=extra_data)
        except (aiohttp.ClientError, asyncio.TimeoutError, TimeoutException) as exc:
            if not (extra_data or {}).get(RAISE_UPSTREAM_ERROR):
                raise
            status = exc.status if isinstance(exc, aiohttp.ClientResponseError) else None
            raise UpstreamRequestError(self.url, describe_error(exc), status=status) from exc

    async def _run(self, extra_data: Optional[dict] = None) -> DownloadResult:
        extra_data = extra_data or {}
        if self.download_throttler:
            await self.download_throttler.acquire()
        method = extra_data.get("method", "GET")
        key = repository_key(self.url)
        token = self.token_cache.get(key) if self.same_host else None

        response = await self._send(method, token, extra_data)
        try:
            challenge = self._bearer_challenge(response)
            if challenge is not None:
                response.release()
                token = await self.token_cache.refresh(
                    key, challenge, self.session, self.basic_auth, rejected=token
                )
                response = await self._send(method, token, extra_data)
            self.raise_for_status(response)
            if method == "HEAD":
                return DownloadResult(
                    url=self.url, artifact_attributes={}, path=None, headers=response.headers
                )
            if extra_data.get(IN_MEMORY):
                return ResponseBody(self.url, response.headers, await read_body(response))
            return await self._handle_response(response)
        finally:
            response.release()

    def _bearer_challenge(self, response: aiohttp.ClientResponse) -> Optional[BearerChallenge]:
        if response.status != 401 or not self.same_host:
            return None
        for header in response.headers.getall("WWW-Authenticate", []):
            challenge = BearerChallenge.parse(header)
            if challenge is not None:
                return challenge
        return None

    async def _send(
        self, method: str, token: Optional[str], extra_data: dict
    ) -> aiohttp.ClientResponse:
        headers = dict(extra_data.get("headers") or {})
        auth = self.basic_auth
        if token:
            headers["Authorization"] = f"Bearer {token}"
            auth = None
        request_kwargs = {"proxy": self.proxy, "proxy_auth": self.proxy_auth, "auth": auth}
        request_kwargs.update(extra_data.get("request_kwargs") or {})
        return await self.session.request(method, self.url, headers=headers, **request_kwargs)


async def read_body(response: aiohttp.ClientResponse) -> bytes:
    """
    Read a whole response body of at most MAX_IN_MEMORY_BODY bytes.

    Raises:
        BodyTooLarge: The body is larger than MAX_IN_MEMORY_BODY.
        aiohttp.ClientPayloadError: The connection closed before the end of the body.
    """
    chunks = []
    size = 0
    async for chunk in response.content.iter_chunked(1024 * 1024):
        size += len(chunk)
        if size > MAX_IN_MEMORY_BODY:
            raise BodyTooLarge(f"the body is larger than {MAX_IN_MEMORY_BODY} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class RegistryDownloaderFactory(DownloaderFactory):
    """A downloader factory that builds `RegistryDownloader`s sharing one token cache."""

    def __init__(self, remote: Any, downloader_overrides: Optional[dict] = None) -> None:
        overrides = {"http": RegistryDownloader, "https": RegistryDownloader}
        overrides.update(downloader_overrides or {})
        super().__init__(remote, downloader_overrides=overrides)
        self.token_cache = TokenCache()
        self.registry_host = urlsplit(remote.url).netloc

    def build(self, url: str, **kwargs: Any) -> Any:
        """Build a downloader; http(s) ones share this factory's token cache."""
        if urlsplit(url).scheme.lower() in ("http", "https"):
            kwargs.setdefault("token_cache", self.token_cache)
            kwargs.setdefault("registry_host", self.registry_host)
        return super().build(url, **kwargs)

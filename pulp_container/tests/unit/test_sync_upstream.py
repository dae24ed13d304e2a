"""Unit tests of tag filters, tag list paging, Bearer challenges and upstream errors."""

import asyncio
from types import SimpleNamespace

import pytest

from pulp_container.app.downloaders import (
    BearerChallenge,
    BodyTooLarge,
    CachedToken,
    ResponseBody,
    TokenCache,
    UpstreamRequestError,
    read_body,
    repository_key,
)
from pulp_container.app.manifests import Descriptor, ManifestError, ParsedManifest, compute_digest
from pulp_container.app.tasks.sync_stages import (
    MAX_CONFIG_SIZE,
    MISSING,
    ContainerFirstStage,
    chunked,
)
from pulp_container.app.tasks.upstream import TagFilter, UpstreamRegistry, next_page_url
from pulp_container.constants import DOCKER_CONFIG, DOCKER_MANIFEST_V2


@pytest.mark.parametrize(
    "include,exclude,expected",
    [
        (None, None, ["1.0", "1.1", "2.0", "latest", "1.1-rc"]),
        (["1.*"], None, ["1.0", "1.1", "1.1-rc"]),
        (["1.*"], ["*-rc"], ["1.0", "1.1"]),
        (None, ["latest"], ["1.0", "1.1", "2.0", "1.1-rc"]),
        (["LATEST"], None, []),
        ([], [], ["1.0", "1.1", "2.0", "latest", "1.1-rc"]),
    ],
)
def test_tag_filter(include, exclude, expected):
    names = ["1.0", "1.1", "2.0", "latest", "1.1-rc"]
    tag_filter = TagFilter(include, exclude)
    assert [name for name in names if tag_filter(name)] == expected


def test_next_page_relative_link():
    link = '</v2/library/busybox/tags/list?n=2&last=b>; rel="next"'
    current = "http://127.0.0.1:5000/v2/library/busybox/tags/list?n=2"
    assert next_page_url(link, current) == (
        "http://127.0.0.1:5000/v2/library/busybox/tags/list?n=2&last=b"
    )


def test_next_page_absent():
    assert next_page_url(None, "http://x/v2/a/tags/list") is None
    assert next_page_url('<http://x/other>; rel="prev"', "http://x/v2/a/tags/list") is None


def test_bearer_challenge_parse():
    header = (
        'Bearer realm="http://127.0.0.1:9000/token",service="registry",'
        'scope="repository:library/busybox:pull"'
    )
    challenge = BearerChallenge.parse(header)
    assert challenge.realm == "http://127.0.0.1:9000/token"
    assert challenge.service == "registry"
    assert challenge.scope == "repository:library/busybox:pull"


def test_basic_challenge_ignored():
    assert BearerChallenge.parse('Basic realm="registry"') is None
    assert BearerChallenge.parse('Bearer service="no realm"') is None


def test_repository_key():
    assert repository_key("http://h/v2/library/busybox/manifests/latest") == "library/busybox"
    assert repository_key("http://h/v2/a/b/c/blobs/sha256:00") == "a/b/c"
    assert repository_key("http://h/v2/") == ""


def test_token_cache_expiry(monkeypatch):
    cache = TokenCache()
    cache._tokens["repo"] = CachedToken("secret", refresh_after=100.0)
    monkeypatch.setattr("pulp_container.app.downloaders.time.monotonic", lambda: 99.0)
    assert cache.get("repo") == "secret"
    monkeypatch.setattr("pulp_container.app.downloaders.time.monotonic", lambda: 100.0)
    assert cache.get("repo") is None


def test_chunked():
    assert list(chunked([1, 2, 3, 4, 5], 2)) == [[1, 2], [3, 4], [5]]
    assert list(chunked([], 3)) == []


class FakeUpstream:
    """An upstream whose manifest requests fail with one HTTP status."""

    def __init__(self, status: int):
        self.status = status

    async def get_manifest(self, reference, expected_digest=None):
        raise UpstreamRequestError(
            f"http://h/v2/a/manifests/{reference}", "failed", None, self.status
        )

    head_manifest = get_manifest


class FakeProgress:
    """Counts `aincrement` calls the way `ProgressReport` would, without a database."""

    def __init__(self):
        self.missing = self
        self.done = 0

    async def aincrement(self):
        self.done += 1


def first_stage(status: int) -> ContainerFirstStage:
    """Build a stage on a fake upstream. pulpcore's Stage loads the domain from the database."""
    remote = SimpleNamespace(
        url="http://h",
        upstream_name="a",
        include_tags=None,
        exclude_tags=None,
        policy="on_demand",
        IMMEDIATE="immediate",
    )
    stage = ContainerFirstStage(remote, None, {})
    stage.upstream = FakeUpstream(status)
    stage.progress = FakeProgress()
    return stage


@pytest.mark.django_db
def test_missing_tag_skipped():
    stage = first_stage(404)
    assert asyncio.run(stage.fetch_tag("gone", None)) is None
    assert asyncio.run(stage.head_tag("gone")) is MISSING
    assert stage.progress.done == 2


@pytest.mark.django_db
def test_failed_tag_request_raises():
    stage = first_stage(500)
    with pytest.raises(UpstreamRequestError) as error:
        asyncio.run(stage.fetch_tag("broken", None))
    assert error.value.status == 500
    assert "http://h/v2/a/manifests/broken" in str(error.value)
    assert stage.progress.done == 0


def test_upstream_error_names_url_and_subject():
    error = UpstreamRequestError("http://h/v2/a/blobs/sha256:00", "timed out", "blob sha256:00")
    assert str(error).startswith(
        "[CTR0003] Request to http://h/v2/a/blobs/sha256:00 for blob sha256:00 failed: timed out."
    )


class FakeContent:
    """The `content` stream of an aiohttp response, yielding fixed chunks."""

    def __init__(self, chunks):
        self.chunks = chunks

    async def iter_chunked(self, size):
        for chunk in self.chunks:
            yield chunk


def test_read_body_joins_chunks():
    response = SimpleNamespace(content=FakeContent([b'{"tags":', b' ["a"]}']))
    assert asyncio.run(read_body(response)) == b'{"tags": ["a"]}'


def test_read_body_rejects_large_body(monkeypatch):
    monkeypatch.setattr("pulp_container.app.downloaders.MAX_IN_MEMORY_BODY", 10)
    response = SimpleNamespace(content=FakeContent([b"123456", b"7890", b"X"]))
    with pytest.raises(BodyTooLarge) as error:
        asyncio.run(read_body(response))
    assert "larger than 10 bytes" in str(error.value)


def _config_image(manifest_digest: str, config: bytes, size=None) -> ParsedManifest:
    descriptor = Descriptor(compute_digest(config), size or len(config), DOCKER_CONFIG)
    return ParsedManifest(manifest_digest, b"{}", DOCKER_MANIFEST_V2, 2, "image", config=descriptor)


class ConfigUpstream:
    """An upstream that serves config blobs from a dict and counts the requests."""

    def __init__(self, bodies: dict[str, bytes]):
        self.bodies = bodies
        self.requested = []

    async def get_image_config(self, digest):
        self.requested.append(digest)
        return self.bodies[digest]


@pytest.mark.django_db
def test_deferred_sync_reads_each_config_once():
    shared = b'{"architecture": "arm64", "os": "linux", "config": {"Labels": {"a": "b"}}}'
    large = b'{"architecture": "s390x"}'
    images = [
        _config_image("sha256:" + "1" * 64, shared),
        _config_image("sha256:" + "2" * 64, shared),
        _config_image("sha256:" + "3" * 64, large, size=MAX_CONFIG_SIZE + 1),
        _config_image("sha256:" + "4" * 64, shared),
    ]
    stage = first_stage(200)
    stage.upstream = ConfigUpstream({compute_digest(shared): shared})
    configs = asyncio.run(stage.fetch_configs(images, {"sha256:" + "4" * 64}))
    assert stage.upstream.requested == [compute_digest(shared)]
    assert sorted(configs) == ["sha256:" + "1" * 64, "sha256:" + "2" * 64]
    assert configs["sha256:" + "1" * 64]["architecture"] == "arm64"
    assert configs["sha256:" + "2" * 64]["labels"] == {"a": "b"}


@pytest.mark.django_db
def test_immediate_sync_reads_no_config_in_memory():
    stage = first_stage(200)
    stage.deferred = False
    stage.upstream = ConfigUpstream({})
    images = [_config_image("sha256:" + "1" * 64, b"{}")]
    assert asyncio.run(stage.fetch_configs(images, set())) == {}
    assert stage.upstream.requested == []


def test_config_with_wrong_digest_rejected(monkeypatch):
    upstream = UpstreamRegistry(SimpleNamespace(url="http://h", upstream_name="a"))

    async def request(url, subject, method="GET", headers=None):
        return ResponseBody(url, {}, b'{"tampered": true}')

    monkeypatch.setattr(upstream, "_request", request)
    with pytest.raises(ManifestError, match="corrupt"):
        asyncio.run(upstream.get_image_config(compute_digest(b"{}")))


class FailingConfigUpstream(ConfigUpstream):
    """A ConfigUpstream whose unknown configs fail with 404."""

    async def get_image_config(self, digest):
        self.requested.append(digest)
        if digest not in self.bodies:
            raise UpstreamRequestError(f"http://h/v2/a/blobs/{digest}", "HTTP 404", None, 404)
        return self.bodies[digest]


@pytest.mark.django_db
def test_missing_config_leaves_metadata_empty():
    present = b'{"architecture": "arm64"}'
    images = [
        _config_image("sha256:" + "1" * 64, present),
        _config_image("sha256:" + "2" * 64, b'{"architecture": "gone"}'),
    ]
    stage = first_stage(200)
    stage.upstream = FailingConfigUpstream({compute_digest(present): present})
    configs = asyncio.run(stage.fetch_configs(images, set()))
    assert len(stage.upstream.requested) == 2
    assert list(configs) == ["sha256:" + "1" * 64]
    assert configs["sha256:" + "1" * 64]["architecture"] == "arm64"


@pytest.mark.django_db
def test_invalid_and_repeated_tags_skipped():
    stage = first_stage(200)
    stage.remote.name = "unit"
    listed = set()
    page = ["1.0", "../../other/manifests/x", "sha256:" + "a" * 64, "-dash", "1.0", "L" * 129]
    assert stage.valid_new_tags(page, listed) == ["1.0"]
    assert stage.valid_new_tags(["1.0", "2.0"], listed) == ["2.0"]

"""Fetching image configs of on-demand content for schema 1 conversion, with fake remotes."""

import asyncio
from types import SimpleNamespace

import pytest

from pulp_container.app.registry import schema1_cache


class FakeRemote:
    """A remote whose downloaders call `run` and count the calls."""

    def __init__(self, run):
        self.run = run
        self.calls = 0

    def get_downloader(self, remote_artifact):
        async def counted_run():
            self.calls += 1
            return await self.run()

        return SimpleNamespace(run=counted_run)


def _needed(remote, blob_id="config-1"):
    remote_artifact = SimpleNamespace(url=f"http://upstream.test/v2/a/blobs/{blob_id}")
    return schema1_cache.ConfigNotStored(blob_id, remote, remote_artifact)


@pytest.fixture(autouse=True)
def empty_cache():
    schema1_cache.clear()
    yield
    schema1_cache.clear()


def test_fetched_config_kept_and_file_removed(tmp_path):
    downloaded = tmp_path / "config"
    downloaded.write_bytes(b'{"os": "linux"}')

    async def run():
        return SimpleNamespace(path=str(downloaded))

    asyncio.run(schema1_cache.fetch_config(_needed(FakeRemote(run))))
    assert schema1_cache._fetched_configs["config-1"] == b'{"os": "linux"}'
    assert not downloaded.exists()


def test_failed_fetch_not_retried_at_once():
    async def run():
        raise ConnectionRefusedError("connection refused")

    remote = FakeRemote(run)
    asyncio.run(schema1_cache.fetch_config(_needed(remote)))
    asyncio.run(schema1_cache.fetch_config(_needed(remote)))
    assert remote.calls == 1
    assert "config-1" in schema1_cache._failed_fetches
    assert "config-1" not in schema1_cache._fetched_configs


def test_hanging_remote_stopped(monkeypatch):
    monkeypatch.setattr(schema1_cache, "CONFIG_FETCH_TIMEOUT", 0.05)

    async def run():
        await asyncio.sleep(60)

    async def timed():
        loop = asyncio.get_running_loop()
        started = loop.time()
        await schema1_cache.fetch_config(_needed(FakeRemote(run)))
        return loop.time() - started

    assert asyncio.run(timed()) < 5
    assert "config-1" in schema1_cache._failed_fetches


def test_concurrent_requests_download_once(tmp_path):
    downloaded = tmp_path / "config"
    downloaded.write_bytes(b"{}")

    async def run():
        await asyncio.sleep(0.05)
        return SimpleNamespace(path=str(downloaded))

    remote = FakeRemote(run)

    async def four_requests():
        await asyncio.gather(*(schema1_cache.fetch_config(_needed(remote)) for _ in range(4)))

    asyncio.run(four_requests())
    assert remote.calls == 1
    assert schema1_cache._fetched_configs["config-1"] == b"{}"

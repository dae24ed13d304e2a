"""
The manifest fast path: its SQL against real rows, its cache, and its connection pool.

The rows of a test live in the test's open transaction, which other connections cannot
see, so `fetch_one` is replaced by a call on Django's connection for the lookup tests.
The pool tests use their own connections and need no rows.
"""

import asyncio

import psycopg
import pytest
from django.db import connections

from pulpcore.plugin.models import ContentGuard

from pulp_container.app.models import ContainerDistribution, ContainerRepository
from pulp_container.app.registry import async_db, served_manifests
from pulp_container.app.registry.negotiation import parse_accept
from pulp_container.app.tasks import recursive_add_remove
from pulp_container.constants import DOCKER_MANIFEST_V2, OCI_MANIFEST
from pulp_container.tests.unit.curation_factories import make_image, make_tag, units

DOCKER_ACCEPT = parse_accept([DOCKER_MANIFEST_V2])


@pytest.fixture
def lookups_in_test_transaction(monkeypatch):
    """Run the fast path's queries on Django's connection, inside the test transaction."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    # Taken here, because code on an event loop would get a new connection from Django.
    test_connection = connections["default"]

    async def fetch_one(sql, params):
        with test_connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()

    monkeypatch.setattr(served_manifests.pool, "fetch_one", fetch_one)
    served_manifests.cache.clear()
    yield
    served_manifests.cache.clear()


def _find(name, reference, accept=DOCKER_ACCEPT):
    return asyncio.run(served_manifests.find_reply(name, reference, accept))


def _image(data):
    image = make_image()
    image.data = data
    image.save()
    return image


@pytest.fixture
def served():
    """A distribution serving a repository with tag `app` in two versions."""
    repository = ContainerRepository.objects.create(name="unit-served")
    first = _image('{"first": true}')
    recursive_add_remove(repository.pk, add_content_units=units(make_tag("app", first)))
    second = _image('{"second": true}')
    recursive_add_remove(repository.pk, add_content_units=units(make_tag("app", second)))
    distribution = ContainerDistribution.objects.create(
        name="unit-served", base_path="team/served", repository=repository
    )
    return {"distribution": distribution, "first": first, "second": second}


@pytest.mark.django_db
def test_tag_found_in_latest_version(lookups_in_test_transaction, served):
    data, media_type, digest = _find("team/served", "app")
    assert data == b'{"second": true}'
    assert media_type == DOCKER_MANIFEST_V2
    assert digest == served["second"].digest


@pytest.mark.django_db
def test_digest_found_in_version(lookups_in_test_transaction, served):
    reply = _find("team/served", served["first"].digest)
    assert reply[0] == b'{"first": true}'


@pytest.mark.django_db
def test_rollback_seen_at_once(lookups_in_test_transaction, served):
    assert _find("team/served", "app")[2] == served["second"].digest
    distribution = served["distribution"]
    repository = distribution.repository
    distribution.repository = None
    distribution.repository_version = repository.versions.get(number=1)
    distribution.save()
    assert _find("team/served", "app")[2] == served["first"].digest


@pytest.mark.django_db
def test_uncommon_requests_take_general_path(lookups_in_test_transaction, served):
    assert _find("team/other", "app") is None
    assert _find("team/served", "missing") is None
    assert _find("team/served", "app", parse_accept([OCI_MANIFEST])) is None
    assert _find("team/served", "app", parse_accept([])) is None


@pytest.mark.django_db
def test_guarded_distribution_takes_general_path(lookups_in_test_transaction, served):
    distribution = served["distribution"]
    distribution.content_guard = ContentGuard.objects.create(name="unit-guard")
    distribution.save()
    assert _find("team/served", "app") is None


@pytest.mark.django_db
def test_domains_take_general_path(lookups_in_test_transaction, served, settings):
    settings.DOMAIN_ENABLED = True
    assert _find("team/served", "app") is None


def test_cache_evicts_least_recently_used():
    cache = served_manifests.ReplyCache(max_entries=2, max_bytes=100)
    cache.put("a", (b"1", "type", "digest-a"))
    cache.put("b", (b"2", "type", "digest-b"))
    assert cache.get("a")[2] == "digest-a"
    cache.put("c", (b"3", "type", "digest-c"))
    assert cache.get("b") is None
    assert cache.get("a") is not None
    assert cache.get("c") is not None


def test_cache_bounded_by_bytes():
    cache = served_manifests.ReplyCache(max_entries=10, max_bytes=5)
    cache.put("a", (b"123", "type", "digest-a"))
    cache.put("b", (b"456", "type", "digest-b"))
    assert cache.get("a") is None
    assert cache.get("b")[0] == b"456"


@pytest.mark.django_db
def test_pool_reuses_connections():
    pool = async_db.AsyncConnectionPool(2)

    async def run():
        rows = await asyncio.gather(*(pool.fetch_one("SELECT %s::int", (n,)) for n in range(6)))
        backends = set()
        for _ in range(4):
            async with pool.connection() as borrowed:
                backends.add(borrowed.info.backend_pid)
        await pool.close()
        return rows, backends

    rows, backends = asyncio.run(run())
    assert [row[0] for row in rows] == list(range(6))
    assert 1 <= len(backends) <= 2


@pytest.mark.django_db
def test_pool_frees_slot_of_failed_connection(monkeypatch):
    pool = async_db.AsyncConnectionPool(1)
    params = async_db._connection_params()

    async def run():
        monkeypatch.setattr(async_db, "_connection_params", lambda: {**params, "port": 1})
        with pytest.raises(psycopg.OperationalError):
            await pool.fetch_one("SELECT 1", ())
        monkeypatch.setattr(async_db, "_connection_params", lambda: params)
        with pytest.raises(psycopg.errors.DivisionByZero):
            await pool.fetch_one("SELECT 1 / 0", ())
        row = await pool.fetch_one("SELECT 2", ())
        await pool.close()
        return row

    assert asyncio.run(run()) == (2,)

"""
Registry authentication through the content app's middleware chain, with the aiohttp test
client: basic-auth mode (TOKEN_AUTH_DISABLED), token mode, and content guards.

Requests run inside `async_to_sync`, so pulpcore's authentication and the handlers' database
queries run in the test's thread and see the test's transaction.
"""

import base64
import uuid

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model

from pulpcore.app.models import HeaderContentGuard, RBACContentGuard  # noqa: TID251 (no export)
from pulpcore.content.authentication import authenticate as pulp_authenticate
from pulpcore.plugin.util import assign_role

from pulp_container.app import models
from pulp_container.app.auth import credentials
from pulp_container.app.auth.authentication import registry_authentication
from pulp_container.app.auth.scopes import Scope
from pulp_container.app.auth.tokens import issue_token
from pulp_container.app.registry.middleware import registry_errors
from pulp_container.app.registry.routes import add_registry_routes
from pulp_container.tests.unit.test_auth_tokens import SERVICE, token_settings  # noqa: F401

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"
# HeaderContentGuard compares the base64-decoded header with its header_value.
GUARD_HEADER = base64.b64encode(b"open").decode()


def _app() -> web.Application:
    app = web.Application(middlewares=[registry_authentication(pulp_authenticate), registry_errors])
    add_registry_routes(app)
    return app


def _get(path: str, headers: dict | None = None) -> tuple[int, dict, dict]:
    """GET `path` from a fresh test server; return status, headers and the JSON body."""

    async def run():
        async with TestClient(TestServer(_app())) as client:
            reply = await client.get(path, headers=headers or {})
            body = await reply.json() if reply.content_type == "application/json" else {}
            return reply.status, dict(reply.headers), body

    return async_to_sync(run)()


def _basic(username: str, password: str) -> dict:
    encoded = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


def _bearer(username: str, name: str) -> dict:
    scope = Scope("repository", name, frozenset({"pull"}))
    return {"Authorization": f"Bearer {issue_token(username, SERVICE, [scope])['token']}"}


def _user(**fields):
    user = get_user_model().objects.create(username=f"user{uuid.uuid4().hex[:8]}", **fields)
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def distribution():
    suffix = uuid.uuid4().hex[:8]
    return models.ContainerDistribution.objects.create(
        name=f"modes{suffix}", base_path=f"modes{suffix}/app", private=True
    )


@pytest.fixture
def basic_mode(settings):
    settings.TOKEN_AUTH_DISABLED = True
    credentials.clear_cache()
    yield settings
    credentials.clear_cache()


def test_basic_mode_base_anonymous(basic_mode):
    status, headers, _ = _get("/v2/")
    assert status == 200
    assert headers["Docker-Distribution-API-Version"] == "registry/2.0"


def test_basic_mode_private_anonymous(basic_mode, distribution):
    status, headers, body = _get(f"/v2/{distribution.base_path}/tags/list")
    assert status == 401
    assert headers["WWW-Authenticate"] == f'Basic realm="{SERVICE}"'
    assert body["errors"][0]["code"] == "UNAUTHORIZED"


def test_basic_mode_wrong_password(basic_mode, distribution):
    user = _user(is_superuser=True)
    status, headers, _ = _get(
        f"/v2/{distribution.base_path}/tags/list", _basic(user.username, "wrong")
    )
    assert status == 401
    assert headers["WWW-Authenticate"].startswith("Basic ")


def test_basic_mode_user_without_permission(basic_mode, distribution):
    user = _user()
    status, _, body = _get(
        f"/v2/{distribution.base_path}/tags/list", _basic(user.username, PASSWORD)
    )
    assert status == 403
    assert body["errors"][0]["code"] == "DENIED"


def test_basic_mode_permitted_user(basic_mode, distribution):
    user = _user()
    assign_role("container.containerdistribution_consumer", user, distribution)
    headers = _basic(user.username, PASSWORD)
    status, _, body = _get(f"/v2/{distribution.base_path}/tags/list", headers)
    assert status == 200
    assert body == {"name": distribution.base_path, "tags": []}
    key = credentials.credentials_key(headers["Authorization"])
    assert credentials.cached_user(key).username == user.username
    status, _, _ = _get(f"/v2/{distribution.base_path}/tags/list", headers)
    assert status == 200


def test_basic_mode_cached_user_loses_permission(basic_mode, distribution):
    user = _user()
    assign_role("container.containerdistribution_consumer", user, distribution)
    headers = _basic(user.username, PASSWORD)
    assert _get(f"/v2/{distribution.base_path}/tags/list", headers)[0] == 200
    user.object_roles.all().delete()
    assert _get(f"/v2/{distribution.base_path}/tags/list", headers)[0] == 403


def test_token_mode_ignores_basic(distribution):
    distribution.private = False
    distribution.save()
    user = _user(is_superuser=True)
    status, headers, _ = _get(
        f"/v2/{distribution.base_path}/tags/list", _basic(user.username, PASSWORD)
    )
    assert status == 401
    assert headers["WWW-Authenticate"].startswith('Bearer realm="')


def test_token_mode_bearer(distribution):
    status, _, body = _get(
        f"/v2/{distribution.base_path}/tags/list", _bearer("someone", distribution.base_path)
    )
    assert status == 200
    assert body["tags"] == []


def _header_guard(distribution):
    guard = HeaderContentGuard.objects.create(
        name=f"guard{uuid.uuid4().hex[:8]}", header_name="X-Secret", header_value="open"
    )
    distribution.content_guard = guard
    distribution.save()
    return guard


def test_guard_denies_token_pull(distribution):
    guard = _header_guard(distribution)
    status, _, body = _get(
        f"/v2/{distribution.base_path}/tags/list", _bearer("someone", distribution.base_path)
    )
    assert status == 403
    assert body["errors"][0]["code"] == "DENIED"
    assert body["errors"][0]["detail"]["content_guard"] == guard.name


def test_guard_permits_token_pull(distribution):
    _header_guard(distribution)
    headers = {**_bearer("someone", distribution.base_path), "X-Secret": GUARD_HEADER}
    status, _, body = _get(f"/v2/{distribution.base_path}/tags/list", headers)
    assert status == 200
    assert body["tags"] == []


def test_guard_still_needs_token(distribution):
    _header_guard(distribution)
    status, _, body = _get(f"/v2/{distribution.base_path}/tags/list", {"X-Secret": GUARD_HEADER})
    assert status == 401
    assert body["errors"][0]["code"] == "UNAUTHORIZED"


def test_rbac_guard_reads_token_user(distribution):
    guard = RBACContentGuard.objects.create(name=f"rbac{uuid.uuid4().hex[:8]}")
    distribution.content_guard = guard
    distribution.save()
    allowed = _user()
    assign_role("core.rbaccontentguard_downloader", allowed, guard)
    other = _user()
    path = f"/v2/{distribution.base_path}/tags/list"
    assert _get(path, _bearer(allowed.username, distribution.base_path))[0] == 200
    assert _get(path, _bearer(other.username, distribution.base_path))[0] == 403


def test_token_mode_loads_default_domain(distribution, monkeypatch):
    from pulpcore.app import util  # noqa: TID251 (the cached default domain has no export)

    from pulp_container.app.auth import authentication

    monkeypatch.setattr(util, "default_domain", None)
    monkeypatch.setattr(authentication._DefaultDomain, "loaded", False)
    _get(f"/v2/{distribution.base_path}/tags/list", _bearer("someone", distribution.base_path))
    assert util.default_domain is not None
    assert util.default_domain.name == "default"

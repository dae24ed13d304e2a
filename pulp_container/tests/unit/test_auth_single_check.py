"""Concurrent requests with one basic `Authorization` header share one password check."""

import asyncio
import base64

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from pulp_container.app.auth import credentials
from pulp_container.app.auth.authentication import registry_authentication


class CheckedUser:
    is_authenticated = True
    username = "ci"


def _header(password: str) -> dict:
    encoded = base64.b64encode(f"ci:{password}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


def _app(checks: list) -> web.Application:
    """Build an app whose stand-in for pulpcore's middleware counts and slows each check."""

    @web.middleware
    async def authenticate(request, handler):
        checks.append(request.headers["Authorization"])
        await asyncio.sleep(0.2)
        request["user"] = CheckedUser()
        request["auth"] = None
        request["drf_request"] = object()
        return await handler(request)

    async def token(request):
        return web.json_response({"user": request["user"].username})

    app = web.Application(middlewares=[registry_authentication(authenticate)])
    app.router.add_get("/token/", token)
    return app


def _get_concurrently(app: web.Application, headers: list) -> list:
    async def run():
        async with TestClient(TestServer(app)) as client:
            replies = await asyncio.gather(*(client.get("/token/", headers=h) for h in headers))
            return [(reply.status, await reply.json()) for reply in replies]

    return asyncio.run(run())


def test_concurrent_same_credentials_checked_once(monkeypatch):
    async def no_domain():
        return None

    monkeypatch.setattr("pulp_container.app.auth.authentication._load_default_domain", no_domain)
    credentials.clear_cache()
    checks = []

    replies = _get_concurrently(_app(checks), [_header("secret")] * 8)

    assert len(checks) == 1
    assert replies == [(200, {"user": "ci"})] * 8


def test_concurrent_other_credentials_checked_apart(monkeypatch):
    async def no_domain():
        return None

    monkeypatch.setattr("pulp_container.app.auth.authentication._load_default_domain", no_domain)
    credentials.clear_cache()
    checks = []

    _get_concurrently(_app(checks), [_header("one"), _header("two"), _header("one")])

    assert sorted(set(checks)) == sorted(
        {_header("one")["Authorization"], _header("two")["Authorization"]}
    )
    assert len(checks) == 2

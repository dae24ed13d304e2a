"""Token issue and verification with throw-away keys: signature, expiry, audience, scope."""

import time

import jwt
import pytest
from aiohttp.test_utils import make_mocked_request
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from pulp_container.app.auth import keys
from pulp_container.app.auth.access import authorize, bearer_challenge
from pulp_container.app.auth.scopes import Scope
from pulp_container.app.auth.tokens import InvalidToken, issue_token, verify_token
from pulp_container.app.registry.errors import RegistryError

SERVICE = "registry.test:5000"


def _write_key_pair(folder, name):
    private = ec.generate_private_key(ec.SECP256R1())
    private_path = folder / f"{name}-private.pem"
    public_path = folder / f"{name}-public.pem"
    private_path.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public_path.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private_path, public_path


@pytest.fixture(autouse=True)
def token_settings(settings, tmp_path):
    private_path, public_path = _write_key_pair(tmp_path, "token")
    settings.PRIVATE_KEY_PATH = str(private_path)
    settings.PUBLIC_KEY_PATH = str(public_path)
    settings.TOKEN_SIGNATURE_ALGORITHM = "ES256"
    settings.TOKEN_EXPIRATION_TIME = 300
    settings.TOKEN_AUTH_DISABLED = False
    settings.CONTENT_ORIGIN = f"http://{SERVICE}"
    settings.TOKEN_SERVER = f"http://{SERVICE}/token/"
    return settings


def _token(username="alice", actions=("pull",), name="team/app"):
    scope = Scope("repository", name, frozenset(actions))
    return issue_token(username, SERVICE, [scope])["token"]


def test_token_round_trip():
    claims = verify_token(_token(), SERVICE)
    assert claims.username == "alice"
    assert claims.granted("repository", "team/app") == frozenset({"pull"})
    assert claims.granted("repository", "other") == frozenset()


def test_token_wrong_audience():
    with pytest.raises(InvalidToken, match="Audience"):
        verify_token(_token(), "other-service")


def test_token_expired(settings):
    settings.TOKEN_EXPIRATION_TIME = -60
    token = _token()
    with pytest.raises(InvalidToken, match="expired"):
        verify_token(token, SERVICE)


def test_token_other_key(settings, tmp_path):
    token = _token()
    _, public_path = _write_key_pair(tmp_path, "other")
    settings.PUBLIC_KEY_PATH = str(public_path)
    with pytest.raises(InvalidToken, match="Signature"):
        verify_token(token, SERVICE)


def test_token_algorithm_pinned():
    forged = jwt.encode(
        {
            "iss": "pulp_container",
            "aud": SERVICE,
            "sub": "x",
            "iat": int(time.time()),
            "exp": int(time.time()) + 60,
            "access": [],
        },
        "a-shared-secret-of-at-least-32-bytes!",
        algorithm="HS256",
    )
    with pytest.raises(InvalidToken):
        verify_token(forged, SERVICE)


def test_token_response_fields():
    body = issue_token("", SERVICE, [])
    assert body["token"] == body["access_token"]
    assert body["expires_in"] == 300
    assert body["issued_at"].endswith("Z")


def _request(token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return make_mocked_request("GET", "/v2/team/app/tags/list", headers=headers)


async def _authorize(request, actions):
    return await authorize(request, "team/app", actions)


def _run(coroutine):
    import asyncio

    return asyncio.run(coroutine)


def test_authorize_missing_token():
    with pytest.raises(RegistryError) as error:
        _run(_authorize(_request(), {"pull"}))
    assert error.value.status == 401
    challenge = error.value.headers["WWW-Authenticate"]
    assert challenge == bearer_challenge(Scope("repository", "team/app", frozenset({"pull"})))
    assert 'scope="repository:team/app:pull"' in challenge


def test_authorize_invalid_token():
    with pytest.raises(RegistryError) as error:
        _run(_authorize(_request("not-a-jwt"), {"pull"}))
    assert error.value.code == "UNAUTHORIZED"
    assert 'error="invalid_token"' in error.value.headers["WWW-Authenticate"]


def test_authorize_push_implies_pull():
    access = _run(_authorize(_request(_token(actions=("push",))), {"pull"}))
    assert access.actions == frozenset({"pull", "push"})
    assert access.username == "alice"


def test_authorize_insufficient_scope_anonymous():
    with pytest.raises(RegistryError) as error:
        _run(_authorize(_request(_token(username="")), {"push"}))
    assert error.value.code == "UNAUTHORIZED"
    assert 'error="insufficient_scope"' in error.value.headers["WWW-Authenticate"]


@pytest.mark.django_db
def test_authorize_insufficient_scope_user():
    with pytest.raises(RegistryError) as error:
        _run(_authorize(_request(_token()), {"push"}))
    assert error.value.code == "DENIED"
    assert error.value.status == 403


def test_keys_missing_setting(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.PRIVATE_KEY_PATH = None
    with pytest.raises(ImproperlyConfigured, match="PRIVATE_KEY_PATH"):
        keys.private_key()


def test_remembered_token_expires(monkeypatch):
    token = _token()
    assert verify_token(token, SERVICE).username == "alice"
    expiry = jwt.decode(token, options={"verify_signature": False})["exp"]
    monkeypatch.setattr(time, "time", lambda: expiry + 11)
    with pytest.raises(InvalidToken, match="expired"):
        verify_token(token, SERVICE)


def test_remembered_token_checked_against_the_current_key(settings, tmp_path):
    token = _token()
    verify_token(token, SERVICE)
    _, public_path = _write_key_pair(tmp_path, "rotated")
    settings.PUBLIC_KEY_PATH = str(public_path)
    with pytest.raises(InvalidToken, match="Signature"):
        verify_token(token, SERVICE)

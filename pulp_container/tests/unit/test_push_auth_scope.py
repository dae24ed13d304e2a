"""A push with a token that lacks the push scope: a 401 challenge or 403, by permission."""

import pytest
from aiohttp.test_utils import make_mocked_request
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model

from pulp_container.app.auth.access import authorize
from pulp_container.app.auth.scopes import Scope
from pulp_container.app.auth.tokens import issue_token
from pulp_container.app.registry.errors import RegistryError
from pulp_container.tests.unit.test_auth_tokens import SERVICE, token_settings  # noqa: F401

pytestmark = pytest.mark.django_db


def push_with_pull_token(username: str, name: str) -> RegistryError:
    """Authorize a push to `name` with a pull-only token of `username`; return the error."""
    token = issue_token(username, SERVICE, [Scope("repository", name, frozenset({"pull"}))])
    request = make_mocked_request(
        "POST", f"/v2/{name}/blobs/uploads/", headers={"Authorization": f"Bearer {token['token']}"}
    )
    with pytest.raises(RegistryError) as raised:
        async_to_sync(authorize)(request, name, {"pull", "push"})
    return raised.value


def test_permitted_user_gets_challenge():
    get_user_model().objects.create(username="root", is_superuser=True)
    error = push_with_pull_token("root", "team/app")
    assert error.status == 401
    assert error.code == "UNAUTHORIZED"
    challenge = error.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="repository:team/app:pull,push"' in challenge


def test_own_namespace_gets_challenge():
    get_user_model().objects.create(username="alice")
    error = push_with_pull_token("alice", "alice/app")
    assert error.status == 401
    assert 'error="insufficient_scope"' in error.headers["WWW-Authenticate"]


def test_unpermitted_user_denied():
    get_user_model().objects.create(username="bob")
    error = push_with_pull_token("bob", "team/app")
    assert error.status == 403
    assert error.code == "DENIED"
    assert "WWW-Authenticate" not in error.headers


def test_inactive_user_denied():
    get_user_model().objects.create(username="gone", is_superuser=True, is_active=False)
    error = push_with_pull_token("gone", "team/app")
    assert error.code == "DENIED"


def test_anonymous_gets_challenge():
    error = push_with_pull_token("", "team/app")
    assert error.status == 401
    assert 'error="insufficient_scope"' in error.headers["WWW-Authenticate"]

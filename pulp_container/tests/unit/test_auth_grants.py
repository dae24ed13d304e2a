"""Grant decisions of the token server on private and public distributions."""

import json
import uuid

import pytest
from aiohttp.test_utils import make_mocked_request
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Permission

from pulpcore.app.models.role import Role  # noqa: TID251 (pulpcore.plugin exports no Role)
from pulpcore.plugin.util import assign_role

from pulp_container.app import models
from pulp_container.app.auth.server import token_view
from pulp_container.app.auth.tokens import verify_token
from pulp_container.app.registry.errors import RegistryError
from pulp_container.tests.unit.test_auth_tokens import SERVICE, token_settings  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def private_distribution():
    suffix = uuid.uuid4().hex[:8]
    namespace = models.ContainerNamespace.objects.create(name=f"grants{suffix}")
    return models.ContainerDistribution.objects.create(
        name=f"{namespace.name}/app",
        base_path=f"{namespace.name}/app",
        namespace=namespace,
        private=True,
    )


def _user(prefix="user", **fields):
    username = f"{prefix}{uuid.uuid4().hex[:8]}"
    return get_user_model().objects.create(username=username, **fields)


def _granted(user, name, actions="pull,push", authorization=None):
    """Ask the token server for `repository:<name>:<actions>` as `user`; return the grant."""
    headers = {"Authorization": authorization} if authorization else {}
    request = make_mocked_request(
        "GET", f"/token/?service={SERVICE}&scope=repository:{name}:{actions}", headers=headers
    )
    request["user"] = user
    reply = async_to_sync(token_view)(request)
    assert reply.status == 200
    claims = verify_token(json.loads(reply.body)["token"], SERVICE)
    return claims.granted("repository", name)


def test_anonymous_private_nothing(private_distribution):
    assert _granted(AnonymousUser(), private_distribution.base_path) == frozenset()


def test_anonymous_public_pull(private_distribution):
    private_distribution.private = False
    private_distribution.save()
    assert _granted(AnonymousUser(), private_distribution.base_path) == frozenset({"pull"})


def test_user_without_permissions_nothing(private_distribution):
    assert _granted(_user(), private_distribution.base_path) == frozenset()


def test_superuser_pull_push(private_distribution):
    admin = _user("admin", is_superuser=True)
    assert _granted(admin, private_distribution.base_path) == frozenset({"pull", "push"})


@pytest.mark.parametrize(
    "permission",
    ["container.view_containerdistribution", "container.pull_containerdistribution"],
)
def test_object_permission_pull_only(private_distribution, permission):
    role = Role.objects.create(name=f"test.{uuid.uuid4().hex[:8]}")
    app_label, codename = permission.split(".")
    role.permissions.add(
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
    )
    user = _user()
    assign_role(role.name, user, private_distribution)
    assert _granted(user, private_distribution.base_path) == frozenset({"pull"})
    other = models.ContainerDistribution.objects.create(
        name=f"{private_distribution.name}-other",
        base_path=f"{private_distribution.base_path}-other",
        private=True,
    )
    assert _granted(user, other.base_path) == frozenset()


def test_consumer_role_pull_only(private_distribution):
    user = _user()
    assign_role("container.containerdistribution_consumer", user, private_distribution)
    assert _granted(user, private_distribution.base_path) == frozenset({"pull"})


def test_namespace_consumer_pull(private_distribution):
    user = _user()
    assign_role("container.containernamespace_consumer", user, private_distribution.namespace)
    assert _granted(user, private_distribution.base_path, "pull") == frozenset({"pull"})


def test_unknown_name_pull(private_distribution):
    name = f"{private_distribution.base_path}/missing"
    assert _granted(AnonymousUser(), name, "pull") == frozenset({"pull"})


def test_invalid_credentials_rejected():
    with pytest.raises(RegistryError) as error:
        _granted(AnonymousUser(), "team/app", "pull", authorization="Basic Ym9ndXM6d3Jvbmc=")
    assert error.value.status == 401
    assert error.value.headers["WWW-Authenticate"] == f'Basic realm="{SERVICE}"'

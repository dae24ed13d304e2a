"""
Role-based access through the registry: push, pull and catalog for a namespace owner, a
reader without roles and an anonymous client.
"""

import pytest

from pulp_container.tests.functional.images import build_image, push_image
from pulp_container.tests.functional.rbac_users import users  # noqa: F401
from pulp_container.tests.functional.registry_client import RegistryClient

NAMESPACES = "/pulp/api/v3/pulp_container/namespaces/"
DISTRIBUTIONS = "/pulp/api/v3/distributions/container/container/"


@pytest.fixture(scope="module")
def owner(users, api):  # noqa: F811
    user = users.create("regowner")
    response = user.session.post(api.url(NAMESPACES), json={"name": user.name})
    assert response.status_code == 201, response.text
    return user


@pytest.fixture(scope="module")
def reader(users):  # noqa: F811
    return users.create("regreader")


def _client(stack, user=None) -> RegistryClient:
    if user is None:
        return RegistryClient(stack.content_origin)
    return RegistryClient(stack.content_origin, user.name, user.password)


def _push(stack, user, name: str, tag: str, image) -> str:
    """
    Push as `user` with a token for pull and push, as docker and podman request before a push.

    RegistryClient would otherwise keep the pull-only token of its first HEAD request.
    """
    client = _client(stack, user)
    challenge = client.session.get(f"{stack.content_origin}/v2/").headers["WWW-Authenticate"]
    client.tokens[name] = client.fetch_token(challenge, scope=f"repository:{name}:pull,push")
    return push_image(client, name, tag, image)


@pytest.fixture(scope="module")
def pushed(stack, api, owner) -> dict:
    """A public and a private name in the owner's namespace, both pushed by the owner."""
    image = build_image(seeds=("rbac-registry",))
    names = {"public": f"{owner.name}/public", "private": f"{owner.name}/private"}
    for name in names.values():
        _push(stack, owner, name, "latest", image)
    distribution = api.list_all(DISTRIBUTIONS, name=names["private"])[0]
    api.run_task("PATCH", distribution["pulp_href"], {"private": True})
    return {"names": names, "digest": image.digest}


def _manifest_status(client: RegistryClient, name: str) -> int:
    return client.get(f"/v2/{name}/manifests/latest").status_code


def test_owner_pulls_both(stack, owner, pushed):
    client = _client(stack, owner)
    for name in pushed["names"].values():
        assert _manifest_status(client, name) == 200, name


def test_reader_pulls_public_only(stack, reader, pushed):
    client = _client(stack, reader)
    assert _manifest_status(client, pushed["names"]["public"]) == 200
    assert _manifest_status(client, pushed["names"]["private"]) in (401, 403)


def test_anonymous_pulls_public_only(stack, pushed):
    client = _client(stack)
    assert _manifest_status(client, pushed["names"]["public"]) == 200
    assert _manifest_status(client, pushed["names"]["private"]) == 401


def test_reader_push_denied(stack, owner, reader, pushed):
    for name in (f"{owner.name}/public", f"{owner.name}/new"):
        client = _client(stack, reader)
        start = client.post(f"/v2/{name}/blobs/uploads/")
        assert start.status_code == 403, name
        assert start.json()["errors"][0]["code"] == "DENIED"


def test_anonymous_push_unauthorized(stack, owner, pushed):
    start = _client(stack).post(f"/v2/{owner.name}/public/blobs/uploads/")
    assert start.status_code == 401


def test_reader_pushes_own_namespace(stack, reader):
    image = build_image(seeds=("rbac-own",))
    digest = _push(stack, reader, f"{reader.name}/mine", "v1", image)
    assert digest == image.digest


def test_catalog_hides_private(stack, owner, reader, pushed):
    owner_names = _client(stack, owner).get("/v2/_catalog").json()["repositories"]
    reader_names = _client(stack, reader).get("/v2/_catalog").json()["repositories"]

    assert pushed["names"]["private"] in owner_names
    assert pushed["names"]["public"] in reader_names
    assert pushed["names"]["private"] not in reader_names


def test_namespace_collaborator_pushes(stack, api, owner, reader, pushed):
    namespace = api.list_all(NAMESPACES, name=owner.name)[0]
    body = {"role": "container.containernamespace_collaborator", "users": [reader.name]}
    response = owner.session.post(api.url(f"{namespace['pulp_href']}add_role/"), json=body)
    assert response.status_code == 201, response.text

    image = build_image(seeds=("rbac-collaborator",))
    digest = _push(stack, reader, pushed["names"]["public"], "collab", image)

    assert digest == image.digest
    assert _manifest_status(_client(stack, reader), pushed["names"]["private"]) == 200

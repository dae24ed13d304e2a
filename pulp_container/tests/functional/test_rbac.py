"""
Role-based access through the REST API with three users: the admin, a namespace owner and a
reader without roles.

The owner creates the namespace named like their user name, which needs no role, and so owns
it. The reader gets roles only where a test grants them.
"""

import uuid

import pytest
import requests

from pulp_container.tests.functional.images import build_image, push_image
from pulp_container.tests.functional.rbac_users import users  # noqa: F401
from pulp_container.tests.functional.registry_client import RegistryClient

NAMESPACES = "/pulp/api/v3/pulp_container/namespaces/"
DISTRIBUTIONS = "/pulp/api/v3/distributions/container/container/"
REPOSITORIES = "/pulp/api/v3/repositories/container/container/"
REMOTES = "/pulp/api/v3/remotes/container/container/"


@pytest.fixture(scope="module")
def owner(users):  # noqa: F811
    return users.create("owner")


@pytest.fixture(scope="module")
def reader(users):  # noqa: F811
    return users.create("reader")


@pytest.fixture(scope="module")
def call(api):
    def send(user, method: str, path: str, json=None) -> requests.Response:
        return user.session.request(method, api.url(path), json=json)

    return send


@pytest.fixture(scope="module")
def owner_namespace(owner, call) -> dict:
    response = call(owner, "POST", NAMESPACES, {"name": owner.name})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture(scope="module")
def create_distribution(api, call):
    """Create a distribution as a user; return the task of the 202 reply."""

    def create(user, base_path: str, private: bool = False) -> dict:
        body = {"name": base_path, "base_path": base_path, "private": private}
        response = call(user, "POST", DISTRIBUTIONS, body)
        assert response.status_code == 202, response.text
        task = api.wait_task(response.json()["task"])
        return api.get(task["created_resources"][0])

    return create


@pytest.fixture(scope="module")
def owner_distributions(owner, owner_namespace, create_distribution) -> dict:
    return {
        "public": create_distribution(owner, f"{owner.name}/public"),
        "private": create_distribution(owner, f"{owner.name}/private", private=True),
    }


def _names(response: requests.Response) -> set:
    assert response.status_code == 200, response.text
    return {item["name"] for item in response.json()["results"]}


def test_anonymous_rejected(api):
    for path in (NAMESPACES, DISTRIBUTIONS, REPOSITORIES, REMOTES):
        response = requests.get(api.url(path))
        assert response.status_code == 401, path


def test_namespace_owned_by_creator(owner, owner_namespace, call):
    response = call(owner, "GET", f"{owner_namespace['pulp_href']}list_roles/")

    assert response.status_code == 200, response.text
    roles = {role["role"]: role["users"] for role in response.json()["roles"]}
    assert roles == {"container.containernamespace_owner": [owner.name]}


def test_namespace_other_name_denied(owner, reader, call):
    name = f"team{uuid.uuid4().hex[:6]}"
    for user in (owner, reader):
        response = call(user, "POST", NAMESPACES, {"name": name})
        assert response.status_code == 403, user.name


def test_namespace_hidden_from_reader(reader, owner_namespace, call):
    assert owner_namespace["name"] not in _names(call(reader, "GET", NAMESPACES))
    response = call(reader, "GET", owner_namespace["pulp_href"])
    assert response.status_code == 404


def test_admin_sees_every_namespace(api, owner_namespace):
    names = {namespace["name"] for namespace in api.list_all(NAMESPACES)}
    assert owner_namespace["name"] in names


def test_distribution_joins_namespace(owner_distributions, owner_namespace):
    for distribution in owner_distributions.values():
        assert distribution["namespace"] == owner_namespace["pulp_href"]


def test_distribution_owner_role(owner, owner_distributions, call):
    href = owner_distributions["public"]["pulp_href"]
    response = call(owner, "GET", f"{href}list_roles/")

    assert response.status_code == 200, response.text
    roles = {role["role"]: role["users"] for role in response.json()["roles"]}
    assert roles["container.containerdistribution_owner"] == [owner.name]


def test_distribution_foreign_namespace_denied(api, owner, reader, call):
    team = api.post(NAMESPACES, {"name": f"team{uuid.uuid4().hex[:6]}"})
    for user in (owner, reader):
        body = {"name": f"{team['name']}/{user.name}", "base_path": f"{team['name']}/app"}
        response = call(user, "POST", DISTRIBUTIONS, body)
        assert response.status_code == 403, user.name


def test_reader_sees_public_distribution_only(reader, owner_distributions, call):
    names = _names(call(reader, "GET", DISTRIBUTIONS))

    assert owner_distributions["public"]["name"] in names
    assert owner_distributions["private"]["name"] not in names
    assert call(reader, "GET", owner_distributions["public"]["pulp_href"]).status_code == 200
    assert call(reader, "GET", owner_distributions["private"]["pulp_href"]).status_code == 404


def test_reader_cannot_change_distribution(reader, owner_distributions, call):
    href = owner_distributions["public"]["pulp_href"]

    assert call(reader, "PATCH", href, {"description": "x"}).status_code == 403
    assert call(reader, "DELETE", href).status_code == 403
    assert call(reader, "GET", f"{href}list_roles/").status_code == 403


def test_owner_changes_distribution(api, owner, owner_distributions, call):
    href = owner_distributions["public"]["pulp_href"]
    response = call(owner, "PATCH", href, {"description": "owned"})

    assert response.status_code == 202, response.text
    api.wait_task(response.json()["task"])
    assert api.get(href)["description"] == "owned"


def test_namespace_consumer_sees_private(owner, reader, owner_namespace, owner_distributions, call):
    body = {"role": "container.containernamespace_consumer", "users": [reader.name]}
    response = call(owner, "POST", f"{owner_namespace['pulp_href']}add_role/", body)
    assert response.status_code == 201, response.text
    private = owner_distributions["private"]

    assert private["name"] in _names(call(reader, "GET", DISTRIBUTIONS))
    assert call(reader, "GET", private["pulp_href"]).status_code == 200
    assert call(reader, "DELETE", private["pulp_href"]).status_code == 403
    assert call(reader, "POST", f"{owner_namespace['pulp_href']}add_role/", body).status_code == 403

    permissions = call(reader, "GET", f"{owner_namespace['pulp_href']}my_permissions/").json()
    assert "container.namespace_pull_containerdistribution" in permissions["permissions"]
    assert "container.namespace_push_containerdistribution" not in permissions["permissions"]

    response = call(owner, "POST", f"{owner_namespace['pulp_href']}remove_role/", body)
    assert response.status_code == 201, response.text
    assert call(reader, "GET", private["pulp_href"]).status_code == 404


def test_owner_deletes_distribution(api, owner, owner_namespace, create_distribution, call):
    distribution = create_distribution(owner, f"{owner.name}/short-lived")
    response = call(owner, "DELETE", distribution["pulp_href"])

    assert response.status_code == 202, response.text
    api.wait_task(response.json()["task"])
    assert api.session.get(api.url(distribution["pulp_href"])).status_code == 404


def test_repository_needs_creator_role(users, owner, reader, call):  # noqa: F811
    name = f"repo-{uuid.uuid4().hex[:8]}"
    assert call(reader, "POST", REPOSITORIES, {"name": name}).status_code == 403

    users.grant(owner, "container.containerrepository_creator")
    response = call(owner, "POST", REPOSITORIES, {"name": name})

    assert response.status_code == 201, response.text
    roles = call(owner, "GET", f"{response.json()['pulp_href']}list_roles/").json()["roles"]
    assert roles == [
        {"role": "container.containerrepository_owner", "users": [owner.name], "groups": []}
    ]


def test_repository_viewer_reads_only(owner, reader, call):
    name = f"repo-{uuid.uuid4().hex[:8]}"
    repository = call(owner, "POST", REPOSITORIES, {"name": name}).json()
    href = repository["pulp_href"]
    assert name not in _names(call(reader, "GET", REPOSITORIES))
    assert call(reader, "GET", href).status_code == 404

    body = {"role": "container.containerrepository_viewer", "users": [reader.name]}
    assert call(owner, "POST", f"{href}add_role/", body).status_code == 201

    assert call(reader, "GET", href).status_code == 200
    assert call(reader, "GET", f"{href}versions/").status_code == 200
    assert call(reader, "PATCH", href, {"description": "x"}).status_code == 403
    assert call(reader, "POST", f"{href}sync/", {}).status_code == 403
    assert call(reader, "DELETE", href).status_code == 403
    assert call(reader, "POST", f"{href}add_role/", body).status_code == 403


def test_remote_hidden_and_protected(api, owner, reader, call):
    name = f"remote-{uuid.uuid4().hex[:8]}"
    body = {"name": name, "url": "http://127.0.0.1:1", "upstream_name": "library/busybox"}
    assert call(reader, "POST", REMOTES, body).status_code == 403

    remote = api.post(REMOTES, body)

    assert name not in _names(call(owner, "GET", REMOTES))
    assert call(reader, "GET", remote["pulp_href"]).status_code == 404
    assert name in {item["name"] for item in api.list_all(REMOTES, name=name)}


def test_admin_sees_private_distribution(api, owner_distributions):
    private = owner_distributions["private"]
    names = {item["name"] for item in api.list_all(DISTRIBUTIONS, name=private["name"])}
    assert names == {private["name"]}


def test_distribution_serves_push_repository(api, stack, owner, owner_distributions, call):
    """A namespace owner may point a distribution at a push repository they can view."""
    own = RegistryClient(stack.content_origin, owner.name, owner.password)
    push_image(own, f"{owner.name}/pushed", "1", build_image(seeds=("rbac-pushed",)))
    admin = RegistryClient(stack.content_origin, "admin", stack.admin_password)
    push_image(admin, f"adminonly-{uuid.uuid4().hex[:8]}/app", "1", build_image(seeds=("rbac",)))
    pushed = {
        repository["name"]: repository["pulp_href"]
        for repository in api.list_all("/pulp/api/v3/repositories/container/container-push/")
    }
    href = owner_distributions["public"]["pulp_href"]

    allowed = call(owner, "PATCH", href, {"repository": pushed[f"{owner.name}/pushed"]})
    assert allowed.status_code == 202, allowed.text
    api.wait_task(allowed.json()["task"])
    assert api.get(href)["repository"] == pushed[f"{owner.name}/pushed"]

    foreign = next(href for name, href in pushed.items() if name.startswith("adminonly-"))
    denied = call(owner, "PATCH", href, {"repository": foreign})
    assert denied.status_code == 403, denied.text

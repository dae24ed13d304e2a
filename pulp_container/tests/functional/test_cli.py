"""The everyday `pulp container` commands of pulp-cli against the stack."""

import uuid

import pytest

from pulp_container.tests.functional.clients import ClientError
from pulp_container.tests.functional.images import build_image, push_image
from pulp_container.tests.functional.rbac_users import users  # noqa: F401
from pulp_container.tests.functional.registry_client import RegistryClient

UPSTREAM_NAME = "cli/app"
TAGS = ("v1", "v2")


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def upstream(upstream_registry):
    registry = upstream_registry("none")
    client = registry.client()
    digests = {}
    for tag in TAGS:
        digests[tag] = push_image(client, UPSTREAM_NAME, tag, build_image(seeds=(f"cli-{tag}",)))
    return registry, digests


@pytest.fixture(scope="module")
def synced(pulp_cli, upstream) -> dict:
    """A remote and a repository created and synced with pulp-cli."""
    registry, digests = upstream
    remote = _name("cli-remote")
    repository = _name("cli-repo")
    pulp_cli(
        "container",
        "remote",
        "create",
        "--name",
        remote,
        "--url",
        registry.url,
        "--upstream-name",
        UPSTREAM_NAME,
    )
    pulp_cli("container", "repository", "create", "--name", repository, "--remote", remote)
    pulp_cli("container", "repository", "sync", "--name", repository)
    return {"remote": remote, "repository": repository, "digests": digests}


def test_remote_commands(pulp_cli, upstream):
    registry, _digests = upstream
    name = _name("cli-remote")
    created = pulp_cli(
        "container",
        "remote",
        "create",
        "--name",
        name,
        "--url",
        registry.url,
        "--upstream-name",
        UPSTREAM_NAME,
        "--include-tags",
        '["v*"]',
    )
    assert created["upstream_name"] == UPSTREAM_NAME
    assert created["include_tags"] == ["v*"]

    pulp_cli("container", "remote", "update", "--name", name, "--exclude-tags", '["v2"]')
    shown = pulp_cli("container", "remote", "show", "--name", name)
    assert shown["exclude_tags"] == ["v2"]
    assert shown["url"] == registry.url

    listed = pulp_cli("container", "remote", "list", "--name", name)
    assert [remote["name"] for remote in listed] == [name]

    pulp_cli("container", "remote", "destroy", "--name", name)
    assert pulp_cli("container", "remote", "list", "--name", name) == []


def test_repository_sync_and_versions(pulp_cli, synced):
    repository = pulp_cli("container", "repository", "show", "--name", synced["repository"])
    assert repository["latest_version_href"].endswith("/versions/1/")

    versions = pulp_cli(
        "container", "repository", "version", "list", "--repository", synced["repository"]
    )
    assert sorted(version["number"] for version in versions) == [0, 1]
    version = pulp_cli(
        "container",
        "repository",
        "version",
        "show",
        "--repository",
        synced["repository"],
        "--version",
        "1",
    )
    added = version["content_summary"]["added"]
    assert added["container.tag"]["count"] == 2
    assert added["container.manifest"]["count"] == 2

    listed = pulp_cli("container", "repository", "list", "--limit", "1000")
    assert synced["repository"] in {item["name"] for item in listed}


def repository_content(pulp_cli, repository: str, kind: str) -> list:
    """List the units of one content type in a repository's latest version."""
    return pulp_cli(
        "container", "repository", "content", "-t", kind, "list", "--repository", repository
    )


def change_tag(pulp_cli, action: str, repository: str, name: str, digest: str) -> None:
    """Add or remove a tag unit with `pulp container repository content -t tag`."""
    pulp_cli(
        "container",
        "repository",
        "content",
        "-t",
        "tag",
        action,
        "--repository",
        repository,
        "--name",
        name,
        "--digest",
        digest,
    )


def test_repository_content_lists(pulp_cli, synced):
    repository = synced["repository"]
    tags = repository_content(pulp_cli, repository, "tag")
    manifests = repository_content(pulp_cli, repository, "manifest")
    blobs = repository_content(pulp_cli, repository, "blob")

    assert sorted(tag["name"] for tag in tags) == list(TAGS)
    assert {manifest["digest"] for manifest in manifests} == set(synced["digests"].values())
    # Each image has a config and one layer of its own.
    assert len(blobs) == 4


def test_content_list_filters(pulp_cli, synced):
    digest = synced["digests"]["v1"]
    tags = pulp_cli("container", "content", "-t", "tag", "list", "--name", "v1")
    manifests = pulp_cli("container", "content", "-t", "manifest", "list", "--digest", digest)

    assert {tag["name"] for tag in tags} == {"v1"}
    assert [manifest["digest"] for manifest in manifests] == [digest]
    assert manifests[0]["pulp_href"] in {tag["tagged_manifest"] for tag in tags}


def test_content_remove_and_add(pulp_cli, synced):
    repository = synced["repository"]
    digest = synced["digests"]["v2"]
    change_tag(pulp_cli, "remove", repository, "v2", digest)
    tags = repository_content(pulp_cli, repository, "tag")
    assert [tag["name"] for tag in tags] == ["v1"]

    change_tag(pulp_cli, "add", repository, "v2", digest)
    tags = repository_content(pulp_cli, repository, "tag")
    assert sorted(tag["name"] for tag in tags) == list(TAGS)


def test_tag_and_untag(pulp_cli, synced):
    repository = synced["repository"]
    digest = synced["digests"]["v1"]
    pulp_cli(
        "container",
        "repository",
        "tag",
        "--name",
        repository,
        "--tag",
        "stable",
        "--digest",
        digest,
    )
    tags = repository_content(pulp_cli, repository, "tag")
    assert "stable" in {tag["name"] for tag in tags}

    pulp_cli("container", "repository", "untag", "--name", repository, "--tag", "stable")
    tags = repository_content(pulp_cli, repository, "tag")
    assert "stable" not in {tag["name"] for tag in tags}


def test_copy_tag_and_manifest(pulp_cli, synced):
    tag_target = _name("cli-copy-tag")
    manifest_target = _name("cli-copy-manifest")
    pulp_cli("container", "repository", "create", "--name", tag_target)
    pulp_cli("container", "repository", "create", "--name", manifest_target)

    pulp_cli(
        "container",
        "repository",
        "copy-tag",
        "--name",
        tag_target,
        "--source",
        synced["repository"],
        "--tag",
        "v1",
    )
    pulp_cli(
        "container",
        "repository",
        "copy-manifest",
        "--name",
        manifest_target,
        "--source",
        synced["repository"],
        "--digest",
        synced["digests"]["v2"],
    )

    tags = repository_content(pulp_cli, tag_target, "tag")
    manifests = repository_content(pulp_cli, manifest_target, "manifest")
    assert [tag["name"] for tag in tags] == ["v1"]
    assert [manifest["digest"] for manifest in manifests] == [synced["digests"]["v2"]]


def test_distribution_commands(pulp_cli, synced):
    latest = _name("cli-dist")
    pinned = _name("cli-pinned")
    created = pulp_cli(
        "container",
        "distribution",
        "create",
        "--name",
        latest,
        "--base-path",
        f"cli/{latest}",
        "--repository",
        synced["repository"],
    )
    assert created["base_path"] == f"cli/{latest}"
    assert created["private"] is False
    assert created["namespace"] is not None

    pulp_cli(
        "container",
        "distribution",
        "create",
        "--name",
        pinned,
        "--base-path",
        f"cli/{pinned}",
        "--repository",
        synced["repository"],
        "--version",
        "0",
        "--private",
    )
    shown = pulp_cli("container", "distribution", "show", "--name", pinned)
    assert shown["repository_version"].endswith("/versions/0/")
    assert shown["private"] is True

    pulp_cli("container", "distribution", "update", "--name", latest, "--private")
    assert pulp_cli("container", "distribution", "show", "--name", latest)["private"] is True

    listed = pulp_cli("container", "distribution", "list", "--base-path", f"cli/{latest}")
    assert [item["name"] for item in listed] == [latest]

    for name in (latest, pinned):
        pulp_cli("container", "distribution", "destroy", "--name", name)
    assert pulp_cli("container", "distribution", "list", "--name", latest) == []


def test_label_set_and_unset(pulp_cli, synced):
    repository = synced["repository"]
    pulp_cli(
        "container",
        "repository",
        "label",
        "set",
        "--repository",
        repository,
        "--key",
        "team",
        "--value",
        "platform",
    )
    shown = pulp_cli("container", "repository", "show", "--name", repository)
    assert shown["pulp_labels"] == {"team": "platform"}

    value = pulp_cli(
        "container", "repository", "label", "show", "--repository", repository, "--key", "team"
    )
    assert value == "platform"

    pulp_cli(
        "container", "repository", "label", "unset", "--repository", repository, "--key", "team"
    )
    assert pulp_cli("container", "repository", "show", "--name", repository)["pulp_labels"] == {}


def test_namespace_commands(pulp_cli):
    name = f"clins{uuid.uuid4().hex[:6]}"
    created = pulp_cli("container", "namespace", "create", "--name", name)
    assert created["name"] == name

    assert pulp_cli("container", "namespace", "show", "--name", name)["name"] == name
    listed = pulp_cli("container", "namespace", "list", "--limit", "1000")
    assert name in {item["name"] for item in listed}

    pulp_cli("container", "namespace", "destroy", "--name", name)
    listed = pulp_cli("container", "namespace", "list", "--limit", "1000")
    assert name not in {item["name"] for item in listed}


def test_role_commands(pulp_cli, users, synced):  # noqa: F811
    reader = users.create("clireader")
    repository = synced["repository"]
    role = "container.containerrepository_viewer"
    with pytest.raises(ClientError):
        reader.cli("container", "repository", "show", "--name", repository)

    pulp_cli(
        "container",
        "repository",
        "role",
        "add",
        "--name",
        repository,
        "--role",
        role,
        "--user",
        reader.name,
    )
    roles = pulp_cli("container", "repository", "role", "list", "--name", repository)
    assert {"role": role, "users": [reader.name], "groups": []} in roles["roles"]

    shown = reader.cli("container", "repository", "show", "--name", repository)
    assert shown["name"] == repository
    permissions = reader.cli(
        "container", "repository", "role", "my-permissions", "--name", repository
    )
    assert permissions["permissions"] == ["container.view_containerrepository"]
    with pytest.raises(ClientError, match="is not authorized"):
        reader.cli("container", "repository", "update", "--name", repository, "--description", "x")

    pulp_cli(
        "container",
        "repository",
        "role",
        "remove",
        "--name",
        repository,
        "--role",
        role,
        "--user",
        reader.name,
    )
    with pytest.raises(ClientError):
        reader.cli("container", "repository", "show", "--name", repository)


def test_namespace_roles_for_owner(users):  # noqa: F811
    owner = users.create("cliowner")
    reader = users.create("clireader")
    created = owner.cli("container", "namespace", "create", "--name", owner.name)
    assert created["name"] == owner.name
    with pytest.raises(ClientError, match="is not authorized"):
        reader.cli("container", "namespace", "create", "--name", owner.name + "x")

    role = "container.containernamespace_collaborator"
    owner.cli(
        "container",
        "namespace",
        "role",
        "add",
        "--name",
        owner.name,
        "--role",
        role,
        "--user",
        reader.name,
    )
    roles = owner.cli("container", "namespace", "role", "list", "--name", owner.name)
    assert {"role": role, "users": [reader.name], "groups": []} in roles["roles"]
    permissions = reader.cli(
        "container", "namespace", "role", "my-permissions", "--name", owner.name
    )
    assert "container.namespace_push_containerdistribution" in permissions["permissions"]

    owner.cli(
        "container",
        "namespace",
        "role",
        "remove",
        "--name",
        owner.name,
        "--role",
        role,
        "--user",
        reader.name,
    )
    assert reader.cli("container", "namespace", "list") == []


def test_task_list(pulp_cli, synced):
    tasks = pulp_cli(
        "container", "repository", "task", "list", "--repository", synced["repository"]
    )
    names = {task["name"] for task in tasks}
    assert "pulp_container.app.tasks.synchronize.synchronize" in names


@pytest.fixture(scope="module")
def pushed(stack, api) -> dict:
    """A push repository made by pushing two tags of one image and one other image."""
    client = RegistryClient(stack.content_origin, "admin", stack.admin_password)
    name = f"clipush/{_name('app')}"
    # Ask for a push token first, as docker and podman do; RegistryClient would otherwise
    # keep the pull-only token of its first HEAD request.
    challenge = client.session.get(f"{stack.content_origin}/v2/").headers["WWW-Authenticate"]
    client.tokens[name] = client.fetch_token(challenge, scope=f"repository:{name}:pull,push")
    first = build_image(seeds=("cli-push-1",))
    second = build_image(seeds=("cli-push-2",))
    digests = {
        "first": push_image(client, name, "one", first),
        "second": push_image(client, name, "two", second),
    }
    push_image(client, name, "also-one", first)
    return {"name": name, "digests": digests}


def _push_tags(pulp_cli, name: str) -> dict:
    version = pulp_cli("container", "repository", "-t", "push", "show", "--name", name)
    tags = pulp_cli(
        "container",
        "content",
        "-t",
        "tag",
        "list",
        "--repository-version",
        version["latest_version_href"],
    )
    return {tag["name"]: tag for tag in tags}


def test_push_repository_commands(pulp_cli, pushed):
    name = pushed["name"]
    listed = pulp_cli("container", "repository", "-t", "push", "list", "--limit", "1000")
    assert name in {item["name"] for item in listed}
    assert sorted(_push_tags(pulp_cli, name)) == ["also-one", "one", "two"]

    pulp_cli(
        "container",
        "repository",
        "-t",
        "push",
        "tag",
        "--name",
        name,
        "--tag",
        "latest",
        "--digest",
        pushed["digests"]["second"],
    )
    assert "latest" in _push_tags(pulp_cli, name)

    pulp_cli("container", "repository", "-t", "push", "untag", "--name", name, "--tag", "two")
    assert "two" not in _push_tags(pulp_cli, name)

    unknown = "sha256:" + "0" * 64
    rejected = pulp_cli.run(
        "container", "repository", "-t", "push", "tag",
        "--name", name, "--tag", "other", "--digest", unknown,
        check=False,
    )  # fmt: skip
    assert rejected.returncode != 0
    assert f"No manifest with digest {unknown}" in rejected.stderr

    pulp_cli(
        "container",
        "repository",
        "-t",
        "push",
        "remove-image",
        "--name",
        name,
        "--digest",
        pushed["digests"]["first"],
    )
    assert sorted(_push_tags(pulp_cli, name)) == ["latest"]

    versions = pulp_cli(
        "container", "repository", "-t", "push", "version", "list", "--repository", name
    )
    assert len(versions) >= 4


def test_push_repository_sign_not_supported(api, pushed):
    repository = api.list_all(
        "/pulp/api/v3/repositories/container/container-push/", name=pushed["name"]
    )[0]
    for action in ("sign", "remove_signatures"):
        response = api.session.post(api.url(f"{repository['pulp_href']}{action}/"), json={})
        assert response.status_code == 501
        assert "not supported" in response.json()["detail"]

"""The stack itself: status, and the upstream registry fixtures the other tests rely on."""

from pulp_container.tests.functional.images import build_image, push_image


def test_status_lists_container(api):
    status = api.get("/pulp/api/v3/status/")
    versions = {component["component"]: component["version"] for component in status["versions"]}
    assert versions["container"] == "2.31.0"
    assert len(status["online_workers"]) == 2
    assert len(status["online_content_apps"]) >= 1


def test_cli_reaches_stack(pulp_cli):
    status = pulp_cli("status")
    components = [component["component"] for component in status["versions"]]
    assert "container" in components


def test_upstream_push_anonymous(upstream_registry):
    registry = upstream_registry("none")
    image = build_image(seeds=("one",))
    push_image(registry.client(), "team/app", "1.0", image)
    reply = registry.client().get(
        "/v2/team/app/manifests/1.0", headers={"Accept": image.media_type}
    )
    assert reply.status_code == 200
    assert reply.content == image.manifest_bytes
    assert registry.request_counts()["manifest_put"] == 1


def test_upstream_token_auth(upstream_registry):
    registry = upstream_registry("token")
    image = build_image(seeds=("token",), fmt="oci")
    client = registry.client()
    push_image(client, "team/app", "1.0", image)
    anonymous = registry.client().__class__(registry.url)
    reply = anonymous.get("/v2/team/app/manifests/1.0", headers={"Accept": image.media_type})
    assert reply.status_code == 200
    assert reply.headers["Docker-Content-Digest"] == image.digest
    denied = anonymous.put(
        "/v2/team/app/manifests/2.0",
        data=image.manifest_bytes,
        headers={"Content-Type": image.media_type},
    )
    assert denied.status_code == 401


def test_skopeo_reads_upstream(upstream_registry, container_tools):
    registry = upstream_registry("basic")
    image = build_image(seeds=("skopeo",))
    push_image(registry.client(), "team/app", "1.0", image)
    result = container_tools.skopeo(
        "inspect",
        "--raw",
        "--creds",
        f"{registry.username}:{registry.password}",
        f"docker://{registry.host}/team/app:1.0",
    )
    assert result.stdout.encode() == image.manifest_bytes

"""Pulls through the registry API: token flow, clients, negotiation, Range, errors, rollback."""

import hashlib
import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from cryptography.hazmat.primitives import serialization

from pulp_container.tests.functional.images import build_image, build_index, push_image
from pulp_container.tests.functional.registry_client import RegistryClient
from pulp_container.tests.functional.schema1_jws import jwk_public_key, verify_schema1

DOCKER_V2 = "application/vnd.docker.distribution.manifest.v2+json"
SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
REMOTES = "/pulp/api/v3/remotes/container/container/"
REPOSITORIES = "/pulp/api/v3/repositories/container/container/"
DISTRIBUTIONS = "/pulp/api/v3/distributions/container/container/"


def _sync(api, upstream, upstream_name, policy="immediate"):
    remote = api.post(
        REMOTES,
        {
            "name": f"{upstream_name}-{policy}",
            "url": upstream.url,
            "upstream_name": upstream_name,
            "policy": policy,
        },
    )
    repository = api.post(
        REPOSITORIES, {"name": f"{upstream_name}-{policy}", "remote": remote["pulp_href"]}
    )
    api.run_task("POST", f"{repository['pulp_href']}sync/", {})
    return api.get(repository["pulp_href"])


def _distribute(api, base_path, repository, private=False):
    task = api.run_task(
        "POST",
        DISTRIBUTIONS,
        {
            "name": base_path,
            "base_path": base_path,
            "repository": repository["pulp_href"],
            "private": private,
        },
    )
    return api.get(api.created(task))


@pytest.fixture(scope="module")
def images(upstream_registry):
    upstream = upstream_registry("none")
    client = upstream.client()
    docker = build_image(seeds=("pull-base", "pull-top"))
    oci = build_image(seeds=("pull-oci",), fmt="oci")
    arm = build_image(seeds=("pull-arm",), architecture="arm64")
    manifest_list = build_index([docker, arm])
    oci_arm = build_image(seeds=("pull-oci", "pull-oci-arm"), fmt="oci", architecture="arm64")
    oci_index = build_index([oci, oci_arm], fmt="oci", annotations={"pull.test": "index"})
    push_image(client, "pull/app", "1.0", docker)
    push_image(client, "pull/app", "oci", oci)
    push_image(client, "pull/app", "list", manifest_list)
    push_image(client, "pull/app", "oci-index", oci_index)
    return {
        "upstream": upstream,
        "docker": docker,
        "oci": oci,
        "list": manifest_list,
        "oci-index": oci_index,
    }


@pytest.fixture(scope="module")
def served(api, images):
    repository = _sync(api, images["upstream"], "pull/app")
    _distribute(api, "team/project/app", repository)
    _distribute(api, "private/app", repository, private=True)
    return repository


@pytest.fixture
def anonymous(stack):
    return RegistryClient(stack.content_origin)


@pytest.fixture
def admin(stack):
    return RegistryClient(stack.content_origin, "admin", stack.admin_password)


def test_base_challenge(stack):
    reply = requests.get(f"{stack.content_origin}/v2/")
    assert reply.status_code == 401
    challenge = reply.headers["WWW-Authenticate"]
    assert challenge.startswith(f'Bearer realm="{stack.content_origin}/token/"')
    assert reply.headers["Docker-Distribution-API-Version"] == "registry/2.0"


def test_token_response_fields(stack):
    reply = requests.get(
        f"{stack.content_origin}/token/",
        params={"service": stack.registry_host, "scope": "repository:team/project/app:pull"},
    )
    body = reply.json()
    assert reply.status_code == 200
    assert body["token"] == body["access_token"]
    assert body["expires_in"] > 0
    assert body["issued_at"].endswith("Z")


def test_token_bad_credentials(stack):
    reply = requests.get(f"{stack.content_origin}/token/", auth=("admin", "wrong"))
    assert reply.status_code == 401


@pytest.mark.parametrize(
    "reference,accept,kind",
    [
        ("1.0", DOCKER_V2, "docker"),
        ("oci", "application/vnd.oci.image.manifest.v1+json", "oci"),
        ("list", "application/vnd.docker.distribution.manifest.list.v2+json", "list"),
    ],
)
def test_manifest_exact_bytes(served, images, anonymous, reference, accept, kind):
    image = images[kind]
    reply = anonymous.get(f"/v2/team/project/app/manifests/{reference}", headers={"Accept": accept})
    assert reply.status_code == 200
    assert reply.content == image.manifest_bytes
    assert reply.headers["Content-Type"] == image.media_type
    assert reply.headers["Docker-Content-Digest"] == image.digest
    assert int(reply.headers["Content-Length"]) == len(image.manifest_bytes)
    head = anonymous.head(f"/v2/team/project/app/manifests/{reference}", headers={"Accept": accept})
    for header in ("Content-Type", "Docker-Content-Digest", "Content-Length"):
        assert head.headers[header] == reply.headers[header]


def test_manifest_by_digest(served, images, anonymous):
    image = images["docker"]
    reply = anonymous.get(
        f"/v2/team/project/app/manifests/{image.digest}", headers={"Accept": "*/*"}
    )
    assert reply.status_code == 200
    assert reply.content == image.manifest_bytes


def test_blob_range(served, images, anonymous):
    blob = images["docker"].blobs[-1]
    path = f"/v2/team/project/app/blobs/{blob.digest}"
    whole = anonymous.get(path)
    assert whole.content == blob.data
    assert whole.headers["Docker-Content-Digest"] == blob.digest
    partial = anonymous.get(path, headers={"Range": "bytes=2-5"})
    assert partial.status_code == 206
    assert partial.content == blob.data[2:6]
    suffix = anonymous.get(path, headers={"Range": "bytes=-4"})
    assert suffix.content == blob.data[-4:]
    beyond = anonymous.get(path, headers={"Range": f"bytes={len(blob.data) + 10}-"})
    assert beyond.status_code == 416


def test_tags_pagination(served, anonymous):
    everything = anonymous.get("/v2/team/project/app/tags/list").json()
    tags = ["1.0", "list", "oci", "oci-index"]
    assert everything == {"name": "team/project/app", "tags": tags}
    first = anonymous.get("/v2/team/project/app/tags/list", params={"n": 3})
    assert first.json()["tags"] == tags[:3]
    assert first.headers["Link"] == '</v2/team/project/app/tags/list?n=3&last=oci>; rel="next"'
    second = anonymous.get("/v2/team/project/app/tags/list", params={"n": 3, "last": "oci"})
    assert second.json()["tags"] == ["oci-index"]
    assert "Link" not in second.headers


def test_catalog_hides_private(served, anonymous, admin):
    public = anonymous.get("/v2/_catalog").json()["repositories"]
    assert "team/project/app" in public
    assert "private/app" not in public
    assert "private/app" in admin.get("/v2/_catalog").json()["repositories"]


def test_private_needs_credentials(served, anonymous, admin):
    denied = anonymous.get("/v2/private/app/tags/list")
    assert denied.status_code == 401
    assert denied.json()["errors"][0]["code"] == "UNAUTHORIZED"
    assert admin.get("/v2/private/app/tags/list").status_code == 200


@pytest.mark.parametrize(
    "path,status,code",
    [
        ("/v2/no/such/manifests/1.0", 404, "NAME_UNKNOWN"),
        ("/v2/team/project/app/manifests/nope", 404, "MANIFEST_UNKNOWN"),
        ("/v2/team/project/app/blobs/sha256:" + "0" * 64, 404, "BLOB_UNKNOWN"),
        ("/v2/Bad_Name/tags/list", 400, "NAME_INVALID"),
    ],
)
def test_error_codes(served, admin, path, status, code):
    reply = admin.get(path)
    assert reply.status_code == status
    assert reply.json()["errors"][0]["code"] == code


def test_schema1_for_old_client(served, images, stack, anonymous):
    reply = anonymous.get("/v2/team/project/app/manifests/1.0", headers={"Accept": SCHEMA1_SIGNED})
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == SCHEMA1_SIGNED
    payload, signatures = verify_schema1(reply.content)
    digest = "sha256:" + hashlib.sha256(payload).hexdigest()
    assert reply.headers["Docker-Content-Digest"] == digest
    assert b'"signatures"' not in payload
    assert json.loads(payload)["tag"] == "1.0"
    signing_key = serialization.load_pem_public_key(
        (stack.state_dir / "token-public.pem").read_bytes()
    )
    embedded_key = jwk_public_key(signatures[0]["header"]["jwk"])
    assert embedded_key.public_numbers() == signing_key.public_numbers()


def test_schema1_layers_pull(served, images, anonymous):
    reply = anonymous.get("/v2/team/project/app/manifests/1.0", headers={"Accept": SCHEMA1_SIGNED})
    body = reply.json()
    stored = {blob.digest: blob.data for blob in images["docker"].blobs}
    layer_digests = [layer["blobSum"] for layer in body["fsLayers"]]
    assert set(stored) - {images["docker"].manifest["config"]["digest"]} <= set(layer_digests)
    for digest in layer_digests:
        blob = anonymous.get(f"/v2/team/project/app/blobs/{digest}")
        assert blob.status_code == 200
        assert blob.headers["Docker-Content-Digest"] == digest
        assert "sha256:" + hashlib.sha256(blob.content).hexdigest() == digest
        if digest in stored:
            assert blob.content == stored[digest]
    again = anonymous.get(
        f"/v2/team/project/app/manifests/{reply.headers['Docker-Content-Digest']}",
        headers={"Accept": SCHEMA1_SIGNED},
    )
    assert again.status_code == 200
    assert again.content == reply.content


def test_skopeo_inspect(served, images, stack, container_tools):
    result = container_tools.skopeo(
        "inspect", "--raw", f"docker://{stack.registry_host}/team/project/app:1.0"
    )
    assert result.stdout.encode() == images["docker"].manifest_bytes


def test_skopeo_copy_all(served, images, stack, container_tools, tmp_path):
    container_tools.skopeo(
        "copy", "--all", f"docker://{stack.registry_host}/team/project/app:list", f"dir:{tmp_path}"
    )
    assert (tmp_path / "manifest.json").read_bytes() == images["list"].manifest_bytes
    for blob in images["list"].all_blobs():
        assert (tmp_path / blob.digest.split(":")[1]).read_bytes() == blob.data


def test_skopeo_copy_oci_index(served, images, stack, container_tools, tmp_path):
    index = images["oci-index"]
    source = f"docker://{stack.registry_host}/team/project/app:oci-index"
    container_tools.skopeo("copy", "--all", source, f"dir:{tmp_path}")
    assert (tmp_path / "manifest.json").read_bytes() == index.manifest_bytes
    for image in index.images:
        child = tmp_path / f"{image.digest.split(':')[1]}.manifest.json"
        assert child.read_bytes() == image.manifest_bytes
    for blob in index.all_blobs():
        assert (tmp_path / blob.digest.split(":")[1]).read_bytes() == blob.data


def test_oci_index_exact_bytes(served, images, anonymous):
    index = images["oci-index"]
    reply = anonymous.get(
        f"/v2/team/project/app/manifests/{index.digest}",
        headers={"Accept": "application/vnd.oci.image.index.v1+json"},
    )
    assert reply.status_code == 200
    assert reply.content == index.manifest_bytes
    assert reply.headers["Content-Type"] == "application/vnd.oci.image.index.v1+json"
    assert reply.headers["Docker-Content-Digest"] == index.digest


def test_skopeo_private_with_creds(served, images, stack, container_tools):
    result = container_tools.skopeo(
        "inspect",
        "--raw",
        "--creds",
        f"admin:{stack.admin_password}",
        f"docker://{stack.registry_host}/private/app:oci",
    )
    assert result.stdout.encode() == images["oci"].manifest_bytes
    denied = container_tools.skopeo(
        "inspect", "--raw", f"docker://{stack.registry_host}/private/app:oci", check=False
    )
    assert denied.returncode != 0


def test_podman_pull(served, stack, container_tools):
    reference = f"{stack.registry_host}/team/project/app:1.0"
    container_tools.podman("pull", reference)
    listed = container_tools.podman("images", "--format", "{{.Repository}}:{{.Tag}}")
    assert reference in listed.stdout


def test_on_demand_blob_intact(api, images, anonymous):
    repository = _sync(api, images["upstream"], "pull/app", policy="on_demand")
    _distribute(api, "ondemand/app", repository)
    for blob in images["docker"].blobs:
        reply = anonymous.get(f"/v2/ondemand/app/blobs/{blob.digest}")
        assert reply.status_code == 200
        assert reply.content == blob.data
    again = anonymous.get(f"/v2/ondemand/app/blobs/{images['docker'].blobs[-1].digest}")
    assert again.content == images["docker"].blobs[-1].data


def test_schema1_of_on_demand_image(api, images, anonymous):
    """The conversion fetches a config that the on_demand sync did not store."""
    upstream = images["upstream"]
    image = build_image(seeds=("pull-schema1-on-demand",), labels={"kind": "on-demand"})
    push_image(upstream.client(), "pull/schema1-on-demand", "1.0", image)
    repository = _sync(api, upstream, "pull/schema1-on-demand", policy="on_demand")
    _distribute(api, "ondemand/schema1", repository)
    config_digest = image.manifest["config"]["digest"]
    blob = api.list_all("/pulp/api/v3/content/container/blobs/", digest=config_digest)
    assert blob[0]["artifact"] is None

    reply = anonymous.get("/v2/ondemand/schema1/manifests/1.0", headers={"Accept": SCHEMA1_SIGNED})
    assert reply.status_code == 200
    payload, _ = verify_schema1(reply.content)
    newest = json.loads(json.loads(payload)["history"][0]["v1Compatibility"])
    assert newest["config"]["Labels"] == {"kind": "on-demand"}


def test_schema1_digest_gone_after_promote(api, served, anonymous):
    """A schema 1 digest is served only while its source manifest is in the served version."""
    distribution = _distribute(api, "s1promote/app", served)
    converted = anonymous.get("/v2/s1promote/app/manifests/1.0", headers={"Accept": SCHEMA1_SIGNED})
    schema1_digest = converted.headers["Docker-Content-Digest"]
    by_digest = f"/v2/s1promote/app/manifests/{schema1_digest}"
    assert anonymous.get(by_digest, headers={"Accept": SCHEMA1_SIGNED}).status_code == 200

    empty = api.post(REPOSITORIES, {"name": "s1promote-empty"})
    api.run_task("PATCH", distribution["pulp_href"], {"repository": empty["pulp_href"]})
    gone = anonymous.get(by_digest, headers={"Accept": SCHEMA1_SIGNED})
    assert gone.status_code == 404
    assert gone.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"


def _hang_on(port: int) -> socket.socket:
    """Listen on `port` and accept connections without ever replying, like a stuck server."""
    listener = socket.create_server(("127.0.0.1", port), reuse_port=True)
    accepted = []

    def accept_forever():
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept_forever, daemon=True).start()
    return listener


def test_schema1_with_stuck_remote(api, upstream_registry, anonymous, served):
    """A stuck remote delays only the conversion that needs it, within a time limit."""
    upstream = upstream_registry("none")
    push_image(upstream.client(), "pull/stuck", "1.0", build_image(seeds=("pull-stuck",)))
    repository = _sync(api, upstream, "pull/stuck", policy="on_demand")
    _distribute(api, "stuck/app", repository)
    upstream.stop()
    listener = _hang_on(upstream.port)

    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            started = time.monotonic()
            conversion = pool.submit(
                anonymous.get, "/v2/stuck/app/manifests/1.0", headers={"Accept": SCHEMA1_SIGNED}
            )
            time.sleep(1)
            listed = anonymous.get("/v2/team/project/app/tags/list")
            listed_after = time.monotonic() - started
            reply = conversion.result(timeout=120)
            replied_after = time.monotonic() - started
        again_started = time.monotonic()
        again = anonymous.get("/v2/stuck/app/manifests/1.0", headers={"Accept": SCHEMA1_SIGNED})
        again_after = time.monotonic() - again_started
    finally:
        listener.close()

    assert listed.status_code == 200
    assert listed_after < 10
    assert reply.status_code == 404
    assert reply.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"
    assert replied_after < 60
    assert again.status_code == 404
    assert again_after < 5


def test_rollback_serves_old_tag(api, images, anonymous):
    upstream = images["upstream"]
    repository = _sync(api, upstream, "pull/app", policy="streamed")
    distribution = _distribute(api, "rollback/app", repository)
    newer = build_image(seeds=("pull-newer",))
    push_image(upstream.client(), "pull/app", "1.0", newer)
    api.run_task("POST", f"{repository['pulp_href']}sync/", {})
    moved = anonymous.get("/v2/rollback/app/manifests/1.0", headers={"Accept": DOCKER_V2})
    assert moved.headers["Docker-Content-Digest"] == newer.digest
    first_version = f"{repository['pulp_href']}versions/1/"
    api.run_task(
        "PATCH",
        distribution["pulp_href"],
        {"repository": None, "repository_version": first_version},
    )
    old = anonymous.get("/v2/rollback/app/manifests/1.0", headers={"Accept": DOCKER_V2})
    assert old.headers["Docker-Content-Digest"] == images["docker"].digest
    push_image(upstream.client(), "pull/app", "1.0", images["docker"])

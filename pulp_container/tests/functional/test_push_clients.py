"""Push with real clients (skopeo, podman) and with ten concurrent HTTP clients."""

import hashlib
import json
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pulp_container.tests.functional.clients import ContainerTools
from pulp_container.tests.functional.images import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    build_image,
    build_index,
    push_image,
)
from pulp_container.tests.functional.push_clients import PushClient

PUSH_REPOSITORIES = "/pulp/api/v3/repositories/container/container-push/"
ACCEPT_ALL = ", ".join((DOCKER_MANIFEST, DOCKER_LIST, OCI_MANIFEST, OCI_INDEX))


@pytest.fixture(scope="module")
def push_client(stack) -> PushClient:
    return PushClient(stack.content_origin, "admin", stack.admin_password)


@pytest.fixture(scope="module")
def source(upstream_registry):
    """An anonymous upstream registry with a Docker image, an OCI image and both list kinds."""
    registry = upstream_registry("none")
    client = registry.client()
    docker_images = [build_image(seeds=("cli-d",), architecture=a) for a in ("amd64", "arm64")]
    oci_images = [
        build_image(seeds=("cli-o",), architecture=a, fmt="oci") for a in ("amd64", "arm64")
    ]
    content = {
        "docker": docker_images[0],
        "oci": oci_images[0],
        "docker-list": build_index(docker_images),
        "oci-index": build_index(oci_images, fmt="oci"),
    }
    for tag, image in content.items():
        push_image(client, "source/app", tag, image)
    return registry, content


@pytest.fixture(scope="module")
def podman_tools(stack, source):
    """
    Container tools in a short /tmp folder.

    podman rejects a --runroot longer than 50 characters, which pytest's tmp_path exceeds.
    """
    folder = Path(tempfile.mkdtemp(prefix="push-", dir="/tmp"))
    tools = ContainerTools(folder)
    tools.allow_insecure(stack.registry_host)
    tools.allow_insecure(source[0].host)
    yield tools
    tools.podman("system", "reset", "--force", check=False)
    shutil.rmtree(folder, ignore_errors=True)


def stack_ref(stack, name: str, tag: str) -> str:
    return f"docker://{stack.registry_host}/{name}:{tag}"


def check_pulled_back(client: PushClient, name: str, tag: str, image) -> None:
    """Check that the manifest and every blob come back byte-identical."""
    reply = client.get(f"/v2/{name}/manifests/{tag}", headers={"Accept": ACCEPT_ALL})
    assert reply.status_code == 200, reply.text
    assert reply.content == image.manifest_bytes
    assert reply.headers["Docker-Content-Digest"] == image.digest
    for listed in image.images:
        check_pulled_back(client, name, listed.digest, listed)
    for blob in image.blobs:
        data = client.get(f"/v2/{name}/blobs/{blob.digest}").content
        assert "sha256:" + hashlib.sha256(data).hexdigest() == blob.digest


@pytest.mark.parametrize("tag", ["docker", "oci", "docker-list", "oci-index"])
def test_skopeo_copy(tag, source, stack, container_tools, push_client, unique_name):
    registry, content = source
    name = f"{unique_name('skopeo')}/app"
    container_tools.skopeo(
        "copy",
        "--all",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        "--dest-creds",
        f"admin:{stack.admin_password}",
        f"docker://{registry.host}/source/app:{tag}",
        stack_ref(stack, name, tag),
    )
    check_pulled_back(push_client, name, tag, content[tag])


def test_podman_push(source, stack, podman_tools, push_client, unique_name, api):
    registry, content = source
    name = f"{unique_name('podman')}/app"
    local = f"{registry.host}/source/app:docker"
    podman_tools.podman("pull", "--tls-verify=false", local)
    target = f"{stack.registry_host}/{name}:pushed"
    podman_tools.podman("tag", local, target)
    podman_tools.podman(
        "push", "--tls-verify=false", "--creds", f"admin:{stack.admin_password}", target
    )

    reply = push_client.get(f"/v2/{name}/manifests/pushed", headers={"Accept": ACCEPT_ALL})
    assert reply.status_code == 200, reply.text
    manifest = json.loads(reply.content)
    for descriptor in [manifest["config"], *manifest["layers"]]:
        data = push_client.get(f"/v2/{name}/blobs/{descriptor['digest']}").content
        assert len(data) == descriptor["size"]
        assert "sha256:" + hashlib.sha256(data).hexdigest() == descriptor["digest"]
    repositories = api.get(PUSH_REPOSITORIES, name=name)["results"]
    assert [repository["name"] for repository in repositories] == [name]


def test_concurrent_push_keeps_every_tag(stack, push_client, unique_name, api):
    name = unique_name("concurrent")
    images = {f"t{i}": build_image(seeds=(f"concurrent-{i}",)) for i in range(10)}
    # One client per thread, each with its own connection pool and token.
    push_client.get(f"/v2/{name}/tags/list")

    def push(tag: str) -> str:
        client = PushClient(stack.content_origin, "admin", stack.admin_password)
        return push_image(client, name, tag, images[tag])

    with ThreadPoolExecutor(max_workers=10) as pool:
        digests = dict(zip(images, pool.map(push, images)))

    for tag, image in images.items():
        assert digests[tag] == image.digest
        reply = push_client.get(f"/v2/{name}/manifests/{tag}", headers={"Accept": ACCEPT_ALL})
        assert reply.status_code == 200, f"tag {tag}: {reply.status_code} {reply.text}"
        assert reply.headers["Docker-Content-Digest"] == image.digest
    repository = api.get(PUSH_REPOSITORIES, name=name)["results"][0]
    version = api.get(repository["latest_version_href"])
    assert version["content_summary"]["present"]["container.tag"]["count"] == 10
    assert version["content_summary"]["present"]["container.manifest"]["count"] == 10


def test_concurrent_retries_no_duplicates(stack, push_client, unique_name, api):
    name = unique_name("retry")
    image = build_image(seeds=("retry",))

    def push(_):
        client = PushClient(stack.content_origin, "admin", stack.admin_password)
        return push_image(client, name, "same", image)

    with ThreadPoolExecutor(max_workers=5) as pool:
        assert set(pool.map(push, range(5))) == {image.digest}

    manifests = api.get("/pulp/api/v3/content/container/manifests/", digest=image.digest)
    assert manifests["count"] == 1
    tags = api.get("/pulp/api/v3/content/container/tags/", name="same", digest=image.digest)
    assert tags["count"] == 1
    repository = api.get(PUSH_REPOSITORIES, name=name)["results"][0]
    version = api.get(repository["latest_version_href"])
    assert version["content_summary"]["present"]["container.tag"]["count"] == 1

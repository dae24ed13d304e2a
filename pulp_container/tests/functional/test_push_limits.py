"""
Push over HTTP: the insufficient_scope challenge, owner roles of a pusher, size checks,
protected deletes, and a large chunked upload with bounded content app memory.
"""

import hashlib
import json
import os
import urllib.parse
import uuid
from pathlib import Path

import pytest
import requests

from pulp_container.tests.functional.images import (
    DOCKER_MANIFEST,
    build_image,
    build_index,
    push_image,
)
from pulp_container.tests.functional.push_clients import PushClient
from pulp_container.tests.functional.registry_client import RegistryClient

DISTRIBUTIONS = "/pulp/api/v3/distributions/container/container/"
PUSH_REPOSITORIES = "/pulp/api/v3/repositories/container/container-push/"
MIB = 1024 * 1024
LARGE_LAYER_MIB = 200
CHUNK_MIB = 8
# Growth of the content workers' peak RSS (VmHWM) that a streamed 200 MiB upload may cause.
RSS_GROWTH_LIMIT_MIB = 64


@pytest.fixture(scope="module")
def push_client(stack) -> PushClient:
    return PushClient(stack.content_origin, "admin", stack.admin_password)


def error_codes(reply) -> list:
    return [error["code"] for error in reply.json()["errors"]]


def new_user(api, prefix: str) -> tuple[str, str]:
    username = f"{prefix}{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    api.post("/pulp/api/v3/users/", {"username": username, "password": password})
    return username, password


def test_pull_token_push_gets_challenge(stack, push_client, unique_name):
    name = unique_name("scope")
    token = push_client.token_for(f"repository:{name}:pull")
    reply = requests.post(
        f"{stack.content_origin}/v2/{name}/blobs/uploads/",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert reply.status_code == 401
    assert error_codes(reply) == ["UNAUTHORIZED"]
    challenge = reply.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert f'scope="repository:{name}:pull,push"' in challenge

    # A client that follows the challenge gets a push token and succeeds.
    client = RegistryClient(stack.content_origin, "admin", stack.admin_password)
    client.tokens[(name, True)] = token
    assert client.post(f"/v2/{name}/blobs/uploads/").status_code == 202


def test_pull_token_push_denied_without_permission(api, stack, unique_name):
    username, password = new_user(api, "nopush")
    client = PushClient(stack.content_origin, username, password)
    name = unique_name("notmine")
    token = client.token_for(f"repository:{name}:pull")
    reply = requests.post(
        f"{stack.content_origin}/v2/{name}/blobs/uploads/",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert reply.status_code == 403
    assert error_codes(reply) == ["DENIED"]


def test_pusher_owns_what_push_creates(api, stack):
    username, password = new_user(api, "owner")
    name = f"{username}/app"
    client = PushClient(stack.content_origin, username, password)
    push_image(client, name, "1", build_image(seeds=("owner",)))

    session = requests.Session()
    session.auth = (username, password)
    repositories = session.get(f"{stack.api_url}{PUSH_REPOSITORIES}", params={"name": name})
    assert repositories.status_code == 200
    assert [entry["name"] for entry in repositories.json()["results"]] == [name]
    repository_href = repositories.json()["results"][0]["pulp_href"]
    roles = session.get(f"{stack.api_url}{repository_href}list_roles/")
    assert roles.status_code == 200
    role_names = {entry["role"] for entry in roles.json()["roles"]}
    assert "container.containerpushrepository_owner" in role_names

    distribution = session.get(f"{stack.api_url}{DISTRIBUTIONS}", params={"base_path": name})
    distribution_href = distribution.json()["results"][0]["pulp_href"]
    deleted = session.delete(f"{stack.api_url}{distribution_href}")
    assert deleted.status_code == 202, deleted.text
    api.wait_task(deleted.json()["task"])
    assert api.get(DISTRIBUTIONS, base_path=name)["count"] == 0


def test_layer_size_mismatch(push_client, unique_name):
    name = unique_name("sizes")
    image = build_image(seeds=("sizes",))
    for blob in image.blobs:
        push_client.upload_blob(name, blob.data, blob.digest)
    body = json.loads(image.manifest_bytes)
    body["layers"][0]["size"] += 7
    reply = push_client.put(
        f"/v2/{name}/manifests/1",
        data=json.dumps(body).encode(),
        headers={"Content-Type": DOCKER_MANIFEST},
    )
    assert reply.status_code == 400
    assert error_codes(reply) == ["SIZE_INVALID"]
    detail = reply.json()["errors"][0]["detail"]
    assert detail["digest"] == body["layers"][0]["digest"]
    assert detail["stored_size"] == body["layers"][0]["size"] - 7


def test_delete_listed_manifest_rejected(push_client, unique_name):
    name = unique_name("listed")
    images = [build_image(seeds=("listed",), architecture=arch) for arch in ("amd64", "arm64")]
    index = build_index(images)
    push_image(push_client, name, "multi", index)

    reply = push_client.delete(f"/v2/{name}/manifests/{images[0].digest}")
    assert reply.status_code == 409
    assert error_codes(reply) == ["UNSUPPORTED"]
    assert reply.json()["errors"][0]["detail"]["manifest_lists"] == [index.digest]
    still = push_client.get(
        f"/v2/{name}/manifests/{images[0].digest}", headers={"Accept": images[0].media_type}
    )
    assert still.status_code == 200

    assert push_client.delete(f"/v2/{name}/manifests/{index.digest}").status_code == 202
    assert push_client.delete(f"/v2/{name}/manifests/{images[0].digest}").status_code == 202


def content_worker_peaks_kib(state_dir: Path) -> dict[int, int]:
    """Return {pid: VmHWM in KiB} of this stack's content app processes."""
    peaks = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes()
            if b"pulpcore-content" not in command:
                continue
            if str(state_dir).encode() not in (proc / "environ").read_bytes():
                continue
            status = (proc / "status").read_text()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peaks[int(proc.name)] = int(line.split()[1])
    return peaks


def test_large_chunked_upload_memory(api, stack, push_client, unique_name):
    name = unique_name("large")
    pattern = os.urandom(MIB)
    chunk = pattern * CHUNK_MIB
    digest = hashlib.sha256()
    reply = push_client.post(f"/v2/{name}/blobs/uploads/")
    assert reply.status_code == 202
    before = content_worker_peaks_kib(stack.state_dir)
    assert before, "no content app process of this stack found"

    offset = 0
    location = reply.headers["Location"]
    for _ in range(LARGE_LAYER_MIB // CHUNK_MIB):
        reply = push_client.patch(
            location,
            data=chunk,
            headers={
                "Content-Range": f"{offset}-{offset + len(chunk) - 1}",
                "Content-Type": "application/octet-stream",
            },
        )
        assert reply.status_code == 202, reply.text
        digest.update(chunk)
        offset += len(chunk)
        location = reply.headers["Location"]
    url = urllib.parse.urljoin(push_client.base_url + "/", location)
    done = push_client.put(f"{url}?digest=sha256:{digest.hexdigest()}")
    assert done.status_code == 201, done.text
    assert offset == LARGE_LAYER_MIB * MIB

    after = content_worker_peaks_kib(stack.state_dir)
    growth_mib = max(after.get(pid, 0) - peak for pid, peak in before.items()) / 1024
    assert growth_mib < RSS_GROWTH_LIMIT_MIB, f"content app peak RSS grew by {growth_mib:.0f} MiB"
    assert done.headers["Docker-Content-Digest"] == f"sha256:{digest.hexdigest()}"
    artifacts = api.get("/pulp/api/v3/artifacts/", sha256=digest.hexdigest())["results"]
    assert [artifact["size"] for artifact in artifacts] == [LARGE_LAYER_MIB * MIB]

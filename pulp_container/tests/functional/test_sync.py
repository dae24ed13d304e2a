"""Sync from real `docker-registry` upstreams: policies, filters, mirror, re-sync and auth."""

import uuid

import pytest

from pulp_container.tests.functional.images import (
    build_artifact,
    build_image,
    build_index,
    make_layer,
    push_image,
)

REPOSITORIES = "/pulp/api/v3/repositories/container/container/"
REMOTES = "/pulp/api/v3/remotes/container/container/"
DISTRIBUTIONS = "/pulp/api/v3/distributions/container/container/"


def upstream_images() -> dict:
    """Return tag -> image for every manifest kind, sharing a base layer."""
    base = make_layer("shared-base")
    docker = build_image(seeds=("docker",), base_layers=[base], labels={"kind": "docker"})
    oci = build_image(seeds=("oci",), fmt="oci", base_layers=[base])
    docker_list = build_index(
        [build_image(seeds=("list",), architecture=arch) for arch in ("amd64", "arm64")]
    )
    oci_index = build_index(
        [
            build_image(seeds=("index",), fmt="oci", architecture=arch)
            for arch in ("amd64", "s390x")
        ],
        fmt="oci",
    )
    return {
        "docker": docker,
        "oci": oci,
        "list": docker_list,
        "index": oci_index,
        "sbom": build_artifact(subject=oci),
        "rc-1": build_image(seeds=("rc",)),
    }


@pytest.fixture(scope="module")
def anonymous_upstream(upstream_registry):
    registry = upstream_registry("none")
    images = upstream_images()
    client = registry.client()
    for tag, image in images.items():
        push_image(client, "sync/images", tag, image)
    return registry, images


def sync(api, remote_fields: dict, repository_href: str = None, mirror: bool = False, **fields):
    """Create a remote (and a repository unless given), sync, and return the repository."""
    remote = api.post(REMOTES, {"name": str(uuid.uuid4()), **remote_fields, **fields})
    if repository_href is None:
        repository_href = api.post(REPOSITORIES, {"name": str(uuid.uuid4())})["pulp_href"]
    task = api.run_task(
        "POST", f"{repository_href}sync/", {"remote": remote["pulp_href"], "mirror": mirror}
    )
    repository = api.get(repository_href)
    repository["task"] = task
    repository["remote"] = remote
    return repository


def tag_digests(api, version_href: str) -> dict:
    tags = api.list_all("/pulp/api/v3/content/container/tags/", repository_version=version_href)
    manifests = {
        manifest["pulp_href"]: manifest
        for manifest in api.list_all(
            "/pulp/api/v3/content/container/manifests/", repository_version=version_href
        )
    }
    return {tag["name"]: manifests[tag["tagged_manifest"]]["digest"] for tag in tags}


def content_digests(api, kind: str, version_href: str) -> set:
    return {
        item["digest"]
        for item in api.list_all(
            f"/pulp/api/v3/content/container/{kind}/", repository_version=version_href
        )
    }


def expected_content(images: dict, tags) -> tuple:
    manifests, blobs = set(), set()
    for tag in tags:
        image = images[tag]
        manifests.add(image.digest)
        manifests |= {listed.digest for listed in image.images}
        blobs |= {blob.digest for blob in image.all_blobs()}
    return manifests, blobs


@pytest.mark.parametrize("policy", ["immediate", "on_demand", "streamed"])
def test_sync_every_media_type(api, anonymous_upstream, policy):
    registry, images = anonymous_upstream
    repository = sync(api, {"url": registry.url, "upstream_name": "sync/images", "policy": policy})
    version = repository["latest_version_href"]
    expected_manifests, expected_blobs = expected_content(images, images)

    assert tag_digests(api, version) == {tag: image.digest for tag, image in images.items()}
    assert content_digests(api, "manifests", version) == expected_manifests
    assert content_digests(api, "blobs", version) == expected_blobs

    blobs = api.list_all("/pulp/api/v3/content/container/blobs/", repository_version=version)
    with_artifact = [blob for blob in blobs if blob["artifact"]]
    if policy == "immediate":
        assert len(with_artifact) == len(expected_blobs)
    if policy == "streamed":
        assert with_artifact == [] or all(blob["digest"] in expected_blobs for blob in blobs)


def test_sync_manifest_metadata(api, anonymous_upstream):
    registry, images = anonymous_upstream
    repository = sync(api, {"url": registry.url, "upstream_name": "sync/images"})
    manifests = {
        manifest["digest"]: manifest
        for manifest in api.list_all(
            "/pulp/api/v3/content/container/manifests/",
            repository_version=repository["latest_version_href"],
        )
    }
    docker = manifests[images["docker"].digest]
    assert docker["type"] == "image"
    assert docker["architecture"] == "amd64"
    assert docker["labels"] == {"kind": "docker"}
    sbom = manifests[images["sbom"].digest]
    assert sbom["type"] == "artifact"
    assert sbom["subject"] == images["oci"].digest
    assert manifests[images["index"].digest]["type"] == "list"


@pytest.mark.parametrize("policy", ["on_demand", "streamed"])
def test_deferred_sync_reads_config_metadata(api, anonymous_upstream, policy):
    """Deferred policies read the config in memory and leave its blob without an artifact."""
    registry, _ = anonymous_upstream
    # A new image, so that Pulp has neither its manifest nor its config from another test.
    label = str(uuid.uuid4())
    image = build_image(seeds=(f"metadata-{label}",), architecture="arm64", labels={"id": label})
    push_image(registry.client(), f"sync/metadata-{policy}", "1.0", image)
    fields = {"url": registry.url, "upstream_name": f"sync/metadata-{policy}", "policy": policy}
    version = sync(api, fields)["latest_version_href"]

    manifests = api.list_all(
        "/pulp/api/v3/content/container/manifests/", repository_version=version
    )
    assert [manifest["digest"] for manifest in manifests] == [image.digest]
    assert manifests[0]["architecture"] == "arm64"
    assert manifests[0]["os"] == "linux"
    assert manifests[0]["labels"] == {"id": label}
    blobs = api.list_all("/pulp/api/v3/content/container/blobs/", repository_version=version)
    assert len(blobs) == 2
    assert [blob["artifact"] for blob in blobs] == [None, None]


def test_resync_unchanged_gets_no_manifest(api, anonymous_upstream):
    registry, images = anonymous_upstream
    fields = {"url": registry.url, "upstream_name": "sync/images", "policy": "on_demand"}
    first = sync(api, fields)
    start = len(registry.requests_seen())

    second = sync(api, fields, repository_href=first["pulp_href"])

    counts = registry.request_counts(since=start)
    assert counts["manifest_get"] == 0
    assert counts["manifest_head"] == len(images)
    assert counts["blob_get"] == 0
    assert second["latest_version_href"] == first["latest_version_href"]


def test_sync_include_exclude(api, anonymous_upstream):
    registry, images = anonymous_upstream
    repository = sync(
        api,
        {"url": registry.url, "upstream_name": "sync/images"},
        include_tags=["*c*"],
        exclude_tags=["oci"],
    )
    version = repository["latest_version_href"]
    expected_manifests, expected_blobs = expected_content(images, ["docker", "rc-1"])

    assert set(tag_digests(api, version)) == {"docker", "rc-1"}
    assert content_digests(api, "manifests", version) == expected_manifests
    assert content_digests(api, "blobs", version) == expected_blobs


def test_sync_additive_then_mirror(api, upstream_registry):
    registry = upstream_registry("none")
    client = registry.client()
    kept, dropped = build_image(seeds=("kept",)), build_image(seeds=("dropped",))
    push_image(client, "sync/mirror", "kept", kept)
    push_image(client, "sync/mirror", "dropped", dropped)
    fields = {"url": registry.url, "upstream_name": "sync/mirror"}
    repository = sync(api, fields)
    assert set(tag_digests(api, repository["latest_version_href"])) == {"kept", "dropped"}

    deleted = client.delete(f"/v2/sync/mirror/manifests/{dropped.digest}")
    assert deleted.status_code == 202

    additive = sync(api, fields, repository_href=repository["pulp_href"])
    assert set(tag_digests(api, additive["latest_version_href"])) == {"kept", "dropped"}

    mirrored = sync(api, fields, repository_href=repository["pulp_href"], mirror=True)
    version = mirrored["latest_version_href"]
    assert tag_digests(api, version) == {"kept": kept.digest}
    assert content_digests(api, "manifests", version) == {kept.digest}
    assert content_digests(api, "blobs", version) == {blob.digest for blob in kept.blobs}


def test_sync_moved_tag(api, upstream_registry):
    registry = upstream_registry("none")
    client = registry.client()
    old, new = build_image(seeds=("old",)), build_image(seeds=("new",))
    push_image(client, "sync/moved", "latest", old)
    fields = {"url": registry.url, "upstream_name": "sync/moved"}
    repository = sync(api, fields)

    push_image(client, "sync/moved", "latest", new)
    moved = sync(api, fields, repository_href=repository["pulp_href"])

    assert tag_digests(api, moved["latest_version_href"]) == {"latest": new.digest}
    assert content_digests(api, "manifests", moved["latest_version_href"]) == {
        old.digest,
        new.digest,
    }


@pytest.mark.parametrize("auth", ["basic", "token"])
def test_sync_with_auth(api, upstream_registry, auth):
    registry = upstream_registry(auth)
    image = build_image(seeds=(auth,))
    push_image(registry.client(), "sync/private", "v1", image)

    repository = sync(api, {**registry.remote_credentials(), "upstream_name": "sync/private"})

    assert tag_digests(api, repository["latest_version_href"]) == {"v1": image.digest}
    if auth == "token":
        # One token for the whole sync, not one per request.
        assert registry.token_issuer.issued <= 3


def test_sync_anonymous_token(api, upstream_registry):
    registry = upstream_registry("token")
    image = build_image(seeds=("anonymous",))
    push_image(registry.client(), "sync/public", "v1", image)

    repository = sync(api, {"url": registry.url, "upstream_name": "sync/public"})

    assert tag_digests(api, repository["latest_version_href"]) == {"v1": image.digest}


def test_sync_from_pulp_registry(api, stack, anonymous_upstream):
    registry, _ = anonymous_upstream
    images = {
        "docker": build_image(seeds=("pulp-source",)),
        "index": build_index(
            [build_image(seeds=("pulp-index",), fmt="oci", architecture="arm64")], fmt="oci"
        ),
    }
    for tag, image in images.items():
        push_image(registry.client(), "sync/pulp-source", tag, image)
    # on_demand leaves layers without artifacts, so the immediate copy must fetch them
    # through the source's registry API, which streams them from the upstream.
    source = sync(
        api, {"url": registry.url, "upstream_name": "sync/pulp-source", "policy": "on_demand"}
    )
    base_path = f"sync/source-{uuid.uuid4().hex[:8]}"
    api.run_task(
        "POST",
        DISTRIBUTIONS,
        {"name": base_path, "base_path": base_path, "repository": source["pulp_href"]},
    )

    copy = sync(
        api,
        {
            "url": stack.content_origin,
            "upstream_name": base_path,
            "username": "admin",
            "password": stack.admin_password,
            "policy": "immediate",
        },
    )

    source_version = source["latest_version_href"]
    copy_version = copy["latest_version_href"]
    assert tag_digests(api, copy_version) == {tag: image.digest for tag, image in images.items()}
    assert tag_digests(api, source_version) == tag_digests(api, copy_version)
    for kind in ("manifests", "blobs"):
        assert content_digests(api, kind, copy_version) == content_digests(
            api, kind, source_version
        )
    blobs = api.list_all("/pulp/api/v3/content/container/blobs/", repository_version=copy_version)
    assert len(blobs) == len(expected_content(images, images)[1])
    assert [blob["digest"] for blob in blobs if not blob["artifact"]] == []


def test_syncs_of_one_remote_run_one_after_another(api, anonymous_upstream):
    """Two syncs of one remote into two repositories both complete, one after the other."""
    registry, _ = anonymous_upstream
    remote = api.post(
        REMOTES,
        {"name": str(uuid.uuid4()), "url": registry.url, "upstream_name": "sync/images"},
    )
    hrefs = [api.post(REPOSITORIES, {"name": str(uuid.uuid4())})["pulp_href"] for _ in range(2)]
    replies = [
        api.session.post(api.url(f"{href}sync/"), json={"remote": remote["pulp_href"]})
        for href in hrefs
    ]
    tasks = [api.wait_task(reply.json()["task"]) for reply in replies]
    windows = sorted((task["started_at"], task["finished_at"]) for task in tasks)
    assert windows[0][1] <= windows[1][0]
    for href in hrefs:
        assert api.get(href)["latest_version_href"].endswith("/versions/1/")

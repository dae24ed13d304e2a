"""
Shared content of the curation tests: one upstream with a Docker image and an OCI image that
share a base layer, a Docker manifest list and an OCI index, synced once per session.
"""

import uuid

import pytest

from pulp_container.tests.functional.images import build_image, build_index, make_layer, push_image

REPOSITORIES = "/pulp/api/v3/repositories/container/container/"
REMOTES = "/pulp/api/v3/remotes/container/container/"
TAGS = "/pulp/api/v3/content/container/tags/"
MANIFESTS = "/pulp/api/v3/content/container/manifests/"


def build_upstream_images() -> dict:
    base = make_layer("curation-base")
    return {
        "docker": build_image(seeds=("curation-docker",), base_layers=[base]),
        "oci": build_image(seeds=("curation-oci",), fmt="oci", base_layers=[base]),
        "list": build_index(
            [build_image(seeds=("curation-list",), architecture=a) for a in ("amd64", "arm64")]
        ),
        "index": build_index(
            [
                build_image(seeds=("curation-index",), fmt="oci", architecture=a)
                for a in ("amd64", "s390x")
            ],
            fmt="oci",
        ),
        "base": base,
    }


@pytest.fixture(scope="session")
def images(upstream_registry):
    upstream = upstream_registry("none")
    built = build_upstream_images()
    client = upstream.client()
    for tag in ("docker", "oci", "list", "index"):
        push_image(client, "curation/app", tag, built[tag])
    built["upstream"] = upstream
    return built


@pytest.fixture(scope="session")
def source(api, images):
    """The synced source repository, with all four tags."""
    upstream = images["upstream"]
    remote = api.post(
        REMOTES,
        {
            "name": f"curation-{uuid.uuid4().hex[:8]}",
            "url": upstream.url,
            "upstream_name": "curation/app",
        },
    )
    repository = api.post(REPOSITORIES, {"name": f"curation-source-{uuid.uuid4().hex[:8]}"})
    api.run_task("POST", f"{repository['pulp_href']}sync/", {"remote": remote["pulp_href"]})
    return api.get(repository["pulp_href"])


def latest(api, repository: dict) -> str:
    return api.get(repository["pulp_href"])["latest_version_href"]


def counts(api, version_href: str) -> dict:
    """Return the number of tags, manifests and blobs present in a version."""
    present = api.get(version_href)["content_summary"]["present"]
    return {
        kind: present.get(f"container.{kind}", {}).get("count", 0)
        for kind in ("tag", "manifest", "blob")
    }


def tag_map(api, version_href: str) -> dict:
    """Return tag name -> manifest digest of a version."""
    manifests = {
        manifest["pulp_href"]: manifest["digest"]
        for manifest in api.list_all(MANIFESTS, repository_version=version_href)
    }
    tags = api.list_all(TAGS, repository_version=version_href)
    return {tag["name"]: manifests[tag["tagged_manifest"]] for tag in tags}


def href_of(api, endpoint: str, version_href: str, **filters) -> str:
    results = api.list_all(endpoint, repository_version=version_href, **filters)
    assert len(results) == 1, results
    return results[0]["pulp_href"]

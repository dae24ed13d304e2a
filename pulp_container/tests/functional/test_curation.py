"""
Curation through the REST API: add, remove, copy, tag and untag with dependencies, the 400s
of bad requests, and promote and rollback served to skopeo.

The source repository comes from curation_fixtures; every test builds its own destination
from there.
"""

import hashlib
import json
import uuid

import pytest

from pulp_container.tests.functional import curation_fixtures
from pulp_container.tests.functional.curation_fixtures import counts, href_of, latest, tag_map

# Session fixtures shared with the pulp-cli curation tests.
images = curation_fixtures.images
source = curation_fixtures.source

REPOSITORIES = "/pulp/api/v3/repositories/container/container/"
REMOTES = "/pulp/api/v3/remotes/container/container/"
DISTRIBUTIONS = "/pulp/api/v3/distributions/container/container/"
TAGS = "/pulp/api/v3/content/container/tags/"
MANIFESTS = "/pulp/api/v3/content/container/manifests/"
BLOBS = "/pulp/api/v3/content/container/blobs/"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_V2 = "application/vnd.docker.distribution.manifest.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@pytest.fixture
def destination(api):
    return api.post(REPOSITORIES, {"name": f"curation-{uuid.uuid4().hex[:10]}"})


def post_400(api, path: str, body: dict) -> str:
    """Post a body that must be rejected with 400, and return the response text."""
    response = api.session.post(api.url(path), json=body)
    assert response.status_code == 400, response.text
    return response.text


def distribute(api, base_path: str, **target) -> dict:
    task = api.run_task(
        "POST", DISTRIBUTIONS, {"name": base_path, "base_path": base_path, **target}
    )
    return api.get(api.created(task))


def served_digest(container_tools, stack, base_path: str, tag: str) -> str:
    result = container_tools.skopeo(
        "inspect", "--raw", f"docker://{stack.registry_host}/{base_path}:{tag}"
    )
    return "sha256:" + hashlib.sha256(result.stdout.encode()).hexdigest()


def test_source_counts(api, source, images):
    version = source["latest_version_href"]

    # Manifests: 2 images, 1 list + 2, 1 index + 2. Blobs: base, 2 configs, 2 own layers,
    # and a config and a layer for each of the 4 listed images.
    assert counts(api, version) == {"tag": 4, "manifest": 8, "blob": 13}
    assert tag_map(api, version)["list"] == images["list"].digest


def test_copy_tags_manifest_list(api, source, destination, images, stack, container_tools):
    api.run_task(
        "POST",
        f"{destination['pulp_href']}copy_tags/",
        {"source_repository": source["pulp_href"], "names": ["list"]},
    )
    version = latest(api, destination)

    assert version.endswith("/versions/1/")
    assert counts(api, version) == {"tag": 1, "manifest": 3, "blob": 4}

    base_path = f"curation/list-{uuid.uuid4().hex[:6]}"
    distribute(api, base_path, repository=destination["pulp_href"])
    assert served_digest(container_tools, stack, base_path, "list") == images["list"].digest


def test_copy_all_tags_from_version(api, source, destination):
    api.run_task(
        "POST",
        f"{destination['pulp_href']}copy_tags/",
        {"source_repository_version": source["latest_version_href"]},
    )

    assert counts(api, latest(api, destination)) == {"tag": 4, "manifest": 8, "blob": 13}


def test_copy_manifests_oci_index(api, source, destination, images):
    api.run_task(
        "POST",
        f"{destination['pulp_href']}copy_manifests/",
        {"source_repository": source["pulp_href"], "media_types": [OCI_INDEX]},
    )
    version = latest(api, destination)

    assert counts(api, version) == {"tag": 0, "manifest": 3, "blob": 4}
    listed = {
        manifest["digest"] for manifest in api.list_all(MANIFESTS, repository_version=version)
    }
    assert listed == {images["index"].digest} | {image.digest for image in images["index"].images}


def test_copy_manifests_by_digest(api, source, destination, images):
    api.run_task(
        "POST",
        f"{destination['pulp_href']}copy_manifests/",
        {"source_repository": source["pulp_href"], "digests": [images["docker"].digest]},
    )

    assert counts(api, latest(api, destination)) == {"tag": 0, "manifest": 1, "blob": 3}


def test_add_then_remove_keeps_shared_blob(api, source, destination, images):
    source_version = source["latest_version_href"]
    docker_tag = href_of(api, TAGS, source_version, name="docker")
    oci_tag = href_of(api, TAGS, source_version, name="oci")

    api.run_task(
        "POST", f"{destination['pulp_href']}add/", {"content_units": [docker_tag, oci_tag]}
    )
    assert counts(api, latest(api, destination)) == {"tag": 2, "manifest": 2, "blob": 5}

    api.run_task("POST", f"{destination['pulp_href']}remove/", {"content_units": [docker_tag]})
    version = latest(api, destination)

    assert counts(api, version) == {"tag": 1, "manifest": 1, "blob": 3}
    blobs = {blob["digest"] for blob in api.list_all(BLOBS, repository_version=version)}
    assert images["base"].digest in blobs


def test_add_index_brings_images(api, source, destination):
    index = href_of(api, MANIFESTS, source["latest_version_href"], media_type=OCI_INDEX)

    api.run_task("POST", f"{destination['pulp_href']}add/", {"content_units": [index]})

    assert counts(api, latest(api, destination)) == {"tag": 0, "manifest": 3, "blob": 4}


def test_remove_tagged_manifest_needs_force(api, source, destination, images):
    api.run_task(
        "POST", f"{destination['pulp_href']}copy_tags/", {"source_repository": source["pulp_href"]}
    )
    version = latest(api, destination)
    listed_image = images["list"].images[0].digest
    manifest = href_of(api, MANIFESTS, version, digest=listed_image)

    message = post_400(api, f"{destination['pulp_href']}remove/", {"content_units": [manifest]})
    assert listed_image in message
    assert images["list"].digest in message
    assert latest(api, destination) == version

    api.run_task(
        "POST", f"{destination['pulp_href']}remove/", {"content_units": [manifest], "force": True}
    )
    after = latest(api, destination)
    assert counts(api, after) == {"tag": 3, "manifest": 5, "blob": 9}
    assert "list" not in tag_map(api, after)


def test_remove_all(api, source, destination):
    api.run_task(
        "POST", f"{destination['pulp_href']}copy_tags/", {"source_repository": source["pulp_href"]}
    )

    api.run_task("POST", f"{destination['pulp_href']}remove/", {"content_units": ["*"]})

    version = latest(api, destination)
    assert version.endswith("/versions/2/")
    assert counts(api, version) == {"tag": 0, "manifest": 0, "blob": 0}


def test_tag_moves_and_untag(api, source, destination, images, stack, container_tools):
    api.run_task(
        "POST",
        f"{destination['pulp_href']}copy_tags/",
        {"source_repository": source["pulp_href"], "names": ["docker", "oci"]},
    )
    path = destination["pulp_href"]
    base_path = f"curation/tags-{uuid.uuid4().hex[:6]}"
    distribute(api, base_path, repository=path)

    api.run_task("POST", f"{path}tag/", {"tag": "stable", "digest": images["docker"].digest})
    assert tag_map(api, latest(api, destination))["stable"] == images["docker"].digest

    api.run_task("POST", f"{path}tag/", {"tag": "stable", "digest": images["oci"].digest})
    assert tag_map(api, latest(api, destination))["stable"] == images["oci"].digest
    assert served_digest(container_tools, stack, base_path, "stable") == images["oci"].digest

    api.run_task("POST", f"{path}untag/", {"tag": "docker"})
    version = latest(api, destination)
    assert version.endswith("/versions/4/")
    assert counts(api, version) == {"tag": 2, "manifest": 2, "blob": 5}


def test_promote_and_rollback(api, source, images, stack, container_tools):
    staging = api.post(REPOSITORIES, {"name": f"staging-{uuid.uuid4().hex[:8]}"})
    production = api.post(REPOSITORIES, {"name": f"production-{uuid.uuid4().hex[:8]}"})
    api.run_task(
        "POST",
        f"{staging['pulp_href']}copy_tags/",
        {"source_repository": source["pulp_href"], "names": ["docker", "oci"]},
    )
    base_path = f"curation/prod-{uuid.uuid4().hex[:6]}"
    distribute(api, base_path, repository=production["pulp_href"])

    # Promote: one copy_tags call from staging into production.
    api.run_task(
        "POST",
        f"{production['pulp_href']}copy_tags/",
        {"source_repository": staging["pulp_href"], "names": ["docker"]},
    )
    first = latest(api, production)
    assert served_digest(container_tools, stack, base_path, "docker") == images["docker"].digest

    api.run_task(
        "POST", f"{staging['pulp_href']}tag/", {"tag": "docker", "digest": images["oci"].digest}
    )
    api.run_task(
        "POST",
        f"{production['pulp_href']}copy_tags/",
        {"source_repository": staging["pulp_href"], "names": ["docker"]},
    )
    assert served_digest(container_tools, stack, base_path, "docker") == images["oci"].digest

    # Rollback: one modify call that makes a new version from the first one.
    api.run_task("POST", f"{production['pulp_href']}modify/", {"base_version": first})
    rolled_back = latest(api, production)
    assert rolled_back.endswith("/versions/3/")
    assert counts(api, rolled_back) == {"tag": 1, "manifest": 1, "blob": 3}
    assert served_digest(container_tools, stack, base_path, "docker") == images["docker"].digest


def test_distribution_points_at_version(api, source, images, stack, container_tools):
    base_path = f"curation/pinned-{uuid.uuid4().hex[:6]}"
    distribution = distribute(api, base_path, repository_version=source["latest_version_href"])

    assert served_digest(container_tools, stack, base_path, "index") == images["index"].digest
    assert distribution["repository_version"] == source["latest_version_href"]


def test_distribution_switches_target(api, source, images, stack, container_tools, pulp_cli):
    repository = api.post(REPOSITORIES, {"name": f"switch-{uuid.uuid4().hex[:8]}"})
    api.run_task(
        "POST",
        f"{repository['pulp_href']}copy_tags/",
        {"source_repository": source["pulp_href"], "names": ["docker", "oci"]},
    )
    pinned = latest(api, repository)
    api.run_task(
        "POST", f"{repository['pulp_href']}tag/", {"tag": "docker", "digest": images["oci"].digest}
    )
    base_path = f"curation/switch-{uuid.uuid4().hex[:6]}"
    distribution = distribute(api, base_path, repository=repository["pulp_href"])
    assert served_digest(container_tools, stack, base_path, "docker") == images["oci"].digest

    # Rollback: one PATCH pins the older version and drops the repository.
    api.run_task("PATCH", distribution["pulp_href"], {"repository_version": pinned})
    rolled_back = api.get(distribution["pulp_href"])
    assert rolled_back["repository"] is None
    assert rolled_back["repository_version"] == pinned
    assert served_digest(container_tools, stack, base_path, "docker") == images["docker"].digest

    # Promote again: one PATCH serves the latest version of the repository.
    api.run_task("PATCH", distribution["pulp_href"], {"repository": repository["pulp_href"]})
    promoted = api.get(distribution["pulp_href"])
    assert promoted["repository_version"] is None
    assert served_digest(container_tools, stack, base_path, "docker") == images["oci"].digest

    # pulp-cli pins a version number of the repository the distribution serves.
    pulp_cli("container", "distribution", "update", "--name", base_path, "--version", "1")
    assert api.get(distribution["pulp_href"])["repository_version"] == pinned
    assert served_digest(container_tools, stack, base_path, "docker") == images["docker"].digest


@pytest.mark.parametrize(
    "action, body, expected",
    [
        ("tag", {"tag": "-bad", "digest": "sha256:" + "a" * 64}, "Enter a valid tag"),
        ("tag", {"tag": "ok", "digest": "sha256:" + "a" * 64}, "sha256:" + "a" * 64),
        ("untag", {"tag": "missing"}, "'missing'"),
        ("copy_tags", {"names": ["nope"]}, "'nope'"),
        ("copy_manifests", {"digests": ["sha256:" + "b" * 64]}, "sha256:" + "b" * 64),
        ("copy_manifests", {"media_types": ["text/plain"]}, "text/plain"),
        ("add", {"content_units": ["/pulp/api/v3/content/container/tags/nope/"]}, "nope"),
        ("remove", {"content_units": ["*", "x"]}, "'*'"),
    ],
)
def test_bad_input_rejected(api, source, destination, action, body, expected):
    if action.startswith("copy_"):
        body = {"source_repository": source["pulp_href"], **body}

    message = post_400(api, f"{destination['pulp_href']}{action}/", body)

    assert expected in message
    assert latest(api, destination).endswith("/versions/0/")


def test_copy_into_same_repository_rejected(api, source):
    message = post_400(
        api, f"{source['pulp_href']}copy_tags/", {"source_repository": source["pulp_href"]}
    )

    assert source["name"] in message
    assert latest(api, source) == source["latest_version_href"]


def test_unknown_content_href_rejected(api, destination):
    href = f"/pulp/api/v3/content/container/tags/{uuid.uuid4()}/"

    message = post_400(api, f"{destination['pulp_href']}add/", {"content_units": [href]})

    assert href in json.loads(message)["content_units"][0]


@pytest.mark.parametrize("action,field", [("copy_tags", "names"), ("copy_manifests", "digests")])
def test_copy_empty_selection_rejected(api, source, destination, action, field):
    path = f"{destination['pulp_href']}{action}/"
    message = post_400(api, path, {"source_repository": source["pulp_href"], field: []})
    assert field in message
    assert "empty" in message
    assert api.get(destination["pulp_href"])["latest_version_href"].endswith("/versions/0/")

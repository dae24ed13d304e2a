"""Curation with `pulp container ...` commands, and the content list filters they use."""

import uuid

import pytest

from pulp_container.tests.functional import curation_fixtures
from pulp_container.tests.functional.curation_fixtures import counts, latest, tag_map

# Session fixtures shared with the REST curation tests.
images = curation_fixtures.images
source = curation_fixtures.source

MANIFESTS = "/pulp/api/v3/content/container/manifests/"
TAGS = "/pulp/api/v3/content/container/tags/"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


@pytest.fixture(scope="module", autouse=True)
def fresh_api_schema(pulp_cli):
    """Make pulp-cli reload the API schema, which it caches per server URL across sessions."""
    pulp_cli("--refresh-api", "status")


def digests(results: list) -> set:
    return {result["digest"] for result in results}


def test_cli_curation_steps(api, pulp_cli, source, images):
    name = f"cli-curation-{uuid.uuid4().hex[:8]}"
    repository = pulp_cli("container", "repository", "create", "--name", name)
    on_repository = ("container", "repository")
    target = ("--repository", name)

    pulp_cli(
        *on_repository, "copy-tag", "--name", name, "--source", source["name"], "--tag", "list"
    )
    assert counts(api, latest(api, repository)) == {"tag": 1, "manifest": 3, "blob": 4}

    pulp_cli(
        *on_repository,
        "copy-manifest",
        "--name",
        name,
        "--source",
        source["name"],
        "--media-type",
        OCI_INDEX,
    )
    assert counts(api, latest(api, repository)) == {"tag": 1, "manifest": 6, "blob": 8}

    docker = images["docker"].digest
    pulp_cli(
        *on_repository,
        "content",
        "-t",
        "tag",
        "add",
        *target,
        "--name",
        "docker",
        "--digest",
        docker,
    )
    assert counts(api, latest(api, repository)) == {"tag": 2, "manifest": 7, "blob": 11}

    pulp_cli(*on_repository, "tag", "--name", name, "--tag", "stable", "--digest", docker)
    assert tag_map(api, latest(api, repository))["stable"] == docker

    pulp_cli(*on_repository, "untag", "--name", name, "--tag", "stable")
    assert "stable" not in tag_map(api, latest(api, repository))

    pulp_cli(
        *on_repository,
        "content",
        "-t",
        "tag",
        "remove",
        *target,
        "--name",
        "docker",
        "--digest",
        docker,
    )
    assert counts(api, latest(api, repository)) == {"tag": 1, "manifest": 6, "blob": 8}

    index = images["index"].digest
    pulp_cli(*on_repository, "content", "-t", "manifest", "remove", *target, "--digest", index)
    assert counts(api, latest(api, repository)) == {"tag": 1, "manifest": 3, "blob": 4}

    listed = pulp_cli(*on_repository, "content", "-t", "tag", "list", *target)
    assert [tag["name"] for tag in listed] == ["list"]

    pulp_cli(*on_repository, "content", "remove", *target, "--all")
    version = latest(api, repository)
    assert version.endswith("/versions/8/")
    assert counts(api, version) == {"tag": 0, "manifest": 0, "blob": 0}


def test_cli_content_list_filters(pulp_cli, source, images):
    version = source["latest_version_href"]
    content = ("container", "content")

    lists = pulp_cli(
        *content,
        "-t",
        "manifest",
        "list",
        "--repository-version",
        version,
        "--media-type",
        DOCKER_LIST,
    )
    assert digests(lists) == {images["list"].digest}

    tags = pulp_cli(
        *content,
        "-t",
        "tag",
        "list",
        "--repository-version",
        version,
        "--name-in",
        "docker",
        "--name-in",
        "oci",
    )
    assert sorted(tag["name"] for tag in tags) == ["docker", "oci"]

    tag = pulp_cli(
        *content, "-t", "tag", "show", "--name", "index", "--digest", images["index"].digest
    )
    assert tag["name"] == "index"

    wanted = [images["docker"].digest, images["oci"].digest]
    found = pulp_cli(
        *content, "-t", "manifest", "list", "--digest-in", wanted[0], "--digest-in", wanted[1]
    )
    assert digests(found) == set(wanted)


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"media_type": [DOCKER_LIST, OCI_INDEX]}, {"list", "index"}),
        ({"type": "list"}, {"list", "index"}),
        ({"tag": "docker"}, {"docker"}),
        ({"architecture": "s390x"}, {"index/s390x"}),
        ({"is_bootable": "false", "media_type": [OCI_INDEX]}, {"index"}),
    ],
)
def test_manifest_filters(api, source, images, params, expected):
    names = {
        "docker": images["docker"].digest,
        "list": images["list"].digest,
        "index": images["index"].digest,
        "index/s390x": images["index"].images[1].digest,
    }

    found = api.list_all(MANIFESTS, repository_version=source["latest_version_href"], **params)

    assert digests(found) == {names[name] for name in expected}


def test_image_filter_counts(api, source):
    version = source["latest_version_href"]

    images_found = api.list_all(MANIFESTS, repository_version=version, type="image")
    added = api.list_all(MANIFESTS, repository_version_added=version)

    assert len(images_found) == 6
    assert len(added) == 8


def test_tag_filters(api, source, images):
    version = source["latest_version_href"]
    by_digest = [images["docker"].digest, images["list"].digest]

    found = api.list_all(TAGS, repository_version=version, digest=by_digest)
    by_type = api.list_all(TAGS, repository_version=version, media_type=OCI_INDEX)
    by_names = api.list_all(TAGS, repository_version=version, name__in="oci,list")

    assert sorted(tag["name"] for tag in found) == ["docker", "list"]
    assert [tag["name"] for tag in by_type] == ["index"]
    assert sorted(tag["name"] for tag in by_names) == ["list", "oci"]

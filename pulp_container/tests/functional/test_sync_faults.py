"""
Sync from an upstream that misbehaves: errors name the cause, and no partial version is left.

Each case syncs one good tag, then publishes a tag `new` with a fault on it and syncs again.
That sync must fail, or skip the tag for a 404, and the repository must still end at the
good version. Then the fault is removed and the next sync must add `new`.
"""

import uuid

import pytest

from pulp_container.tests.functional.conftest import TaskFailed
from pulp_container.tests.functional.faulty_registry import Fault, FaultyRegistry
from pulp_container.tests.functional.images import build_image
from pulp_container.tests.functional.test_sync import REMOTES, REPOSITORIES, tag_digests

UNKNOWN_MEDIA_TYPE = "application/vnd.example.unknown+json"


@pytest.fixture(scope="module")
def faulty():
    registry = FaultyRegistry()
    yield registry
    registry.stop()


def manifest_path(name: str) -> str:
    return f"/v2/{name}/manifests/new"


def fault_table(name: str, new) -> dict:
    """Return case -> (faults by path, strings the task error must contain)."""
    layer_path = f"/v2/{name}/blobs/{new.blobs[-1].digest}"
    tag_path = manifest_path(name)
    wrong_digest = "sha256:" + "0" * 64
    return {
        "server_error": (
            {tag_path: Fault(status=500)},
            ["CTR0003", tag_path, "tag 'new'", "HTTP 500"],
        ),
        "truncated_blob": (
            {layer_path: Fault(truncate=True)},
            ["CTR0003", layer_path, new.blobs[-1].digest, "cut short"],
        ),
        "digest_mismatch": (
            {tag_path: Fault(digest_header=wrong_digest)},
            ["CTR0002", tag_path, wrong_digest, new.digest],
        ),
        "invalid_json": (
            {tag_path: Fault(body=b'{"schemaVersion": 2,')},
            ["CTR0001", tag_path, "not valid JSON"],
        ),
        "unknown_media_type": (
            {
                tag_path: Fault(
                    body=b'{"schemaVersion": 2, "mediaType": "%s"}' % UNKNOWN_MEDIA_TYPE.encode(),
                    content_type=UNKNOWN_MEDIA_TYPE,
                )
            },
            ["CTR0001", tag_path, f"unknown media type '{UNKNOWN_MEDIA_TYPE}'"],
        ),
        "slow_body": (
            {tag_path: Fault(stall_seconds=6)},
            ["CTR0003", tag_path, "timed out"],
        ),
        "dead_connection": (
            {f"/v2/{name}/tags/list": Fault(hang_seconds=6)},
            ["CTR0003", f"/v2/{name}/tags/list", "timed out"],
        ),
    }


def create_synced_repository(api, faulty: FaultyRegistry, name: str) -> tuple:
    """Publish tag `good`, sync it, and return (repository, remote, good image)."""
    good = build_image(seeds=(f"{name}-good",))
    faulty.add(name, "good", good)
    remote = api.post(
        REMOTES,
        {
            "name": str(uuid.uuid4()),
            "url": faulty.url,
            "upstream_name": name,
            "policy": "immediate",
            # Retries back off for seconds; one retry keeps the cases fast.
            "max_retries": 1,
            "sock_read_timeout": 1,
            "total_timeout": 4,
        },
    )
    repository = api.post(REPOSITORIES, {"name": str(uuid.uuid4())})
    run_sync(api, repository, remote)
    return api.get(repository["pulp_href"]), remote, good


def run_sync(api, repository: dict, remote: dict) -> dict:
    return api.run_task("POST", f"{repository['pulp_href']}sync/", {"remote": remote["pulp_href"]})


@pytest.mark.parametrize("case", list(fault_table("name", build_image()).keys()))
def test_sync_fault_fails_cleanly(api, faulty, case):
    name = f"faults/{case.replace('_', '-')}"
    repository, remote, good = create_synced_repository(api, faulty, name)
    good_version = repository["latest_version_href"]
    new = build_image(seeds=(f"{name}-new",))
    faulty.add(name, "new", new)
    faults, expected_parts = fault_table(name, new)[case]
    faulty.faults.update(faults)

    with pytest.raises(TaskFailed) as failure:
        run_sync(api, repository, remote)

    description = failure.value.task["error"]["description"]
    for part in expected_parts:
        assert part in description
    assert api.get(f"{repository['pulp_href']}versions/")["count"] == 2
    assert api.get(repository["pulp_href"])["latest_version_href"] == good_version
    assert tag_digests(api, good_version) == {"good": good.digest}

    for path in faults:
        faulty.faults.pop(path, None)
    run_sync(api, repository, remote)
    fixed_version = api.get(repository["pulp_href"])["latest_version_href"]
    assert tag_digests(api, fixed_version) == {"good": good.digest, "new": new.digest}


def test_sync_missing_tag_skipped(api, faulty):
    name = "faults/missing-tag"
    repository, remote, good = create_synced_repository(api, faulty, name)
    good_version = repository["latest_version_href"]
    new = build_image(seeds=(f"{name}-new",))
    faulty.add(name, "new", new)
    faulty.faults[manifest_path(name)] = Fault(status=404)

    task = run_sync(api, repository, remote)

    reports = {report["code"]: report for report in task["progress_reports"]}
    assert reports["sync.skipping.missing_tags"]["done"] == 1
    assert api.get(repository["pulp_href"])["latest_version_href"] == good_version

    faulty.faults.pop(manifest_path(name), None)
    run_sync(api, repository, remote)
    fixed_version = api.get(repository["pulp_href"])["latest_version_href"]
    assert tag_digests(api, fixed_version) == {"good": good.digest, "new": new.digest}


def test_sync_retries_transient_error(api, faulty):
    name = "faults/transient"
    repository, remote, good = create_synced_repository(api, faulty, name)
    new = build_image(seeds=(f"{name}-new",))
    faulty.add(name, "new", new)
    faulty.faults[manifest_path(name)] = Fault(status=503, times=1)

    run_sync(api, repository, remote)

    version = api.get(repository["pulp_href"])["latest_version_href"]
    assert tag_digests(api, version) == {"good": good.digest, "new": new.digest}
    gets = [path for method, path in faulty.requests if path == manifest_path(name)]
    assert len(gets) == 2

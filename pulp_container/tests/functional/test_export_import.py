"""
Pulp export from one stack and import into a second stack with its own ports and database.

The second stack reads PULP_TEST_IMPORT_API_PORT, PULP_TEST_IMPORT_CONTENT_PORT,
PULP_TEST_IMPORT_DB_NAME and PULP_TEST_IMPORT_STATE_DIR (defaults: the first stack's ports
plus 7000, `<db>_import`, `.state-test-import`). Export files are copied from the first
stack's exports folder into the second stack's imports folder, as a disconnected site would.
"""

import io
import os
import shutil
import tarfile
import time
from pathlib import Path

import pytest

from dev.stack import REPO_ROOT, StackConfig
from pulp_container.tests.functional.conftest import PulpAPI, RunningStack
from pulp_container.tests.functional.images import build_image, build_index, push_image

REMOTES = "/pulp/api/v3/remotes/container/container/"
REPOSITORIES = "/pulp/api/v3/repositories/container/container/"
DISTRIBUTIONS = "/pulp/api/v3/distributions/container/container/"
EXPORTERS = "/pulp/api/v3/exporters/core/pulp/"
IMPORTERS = "/pulp/api/v3/importers/core/pulp/"
REPOSITORY_NAME = "export-app"


def _import_stack_environment() -> dict:
    environ = dict(os.environ)
    api_port = int(os.environ.get("PULP_TEST_API_PORT", "24827"))
    content_port = int(os.environ.get("PULP_TEST_CONTENT_PORT", "24826"))
    database = os.environ.get("PULP_TEST_DB_NAME", "pulp_container_test")
    environ["PULP_STATE_DIR"] = os.environ.get(
        "PULP_TEST_IMPORT_STATE_DIR", str(REPO_ROOT / ".state-test-import")
    )
    environ["PULP_API_PORT"] = os.environ.get("PULP_TEST_IMPORT_API_PORT", str(api_port + 7000))
    environ["PULP_CONTENT_PORT"] = os.environ.get(
        "PULP_TEST_IMPORT_CONTENT_PORT", str(content_port + 7000)
    )
    environ["PULP_DB_NAME"] = os.environ.get("PULP_TEST_IMPORT_DB_NAME", f"{database}_import")
    environ["PULP_WORKERS"] = "1"
    return environ


@pytest.fixture(scope="module")
def import_stack():
    """A second stack, started from an empty database, that receives the exports."""
    environ = _import_stack_environment()
    running = RunningStack(StackConfig.from_environment(environ), environ)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def import_api(import_stack) -> PulpAPI:
    return PulpAPI(import_stack.api_url, "admin", import_stack.admin_password)


@pytest.fixture(scope="module")
def upstream_images(upstream_registry):
    upstream = upstream_registry("none")
    images = {
        "1.0": build_image(seeds=("export-base", "export-top")),
        "oci": build_image(seeds=("export-oci",), fmt="oci"),
        "multi": build_index(
            [
                build_image(seeds=("export-multi",), architecture="amd64"),
                build_image(seeds=("export-multi",), architecture="arm64"),
            ]
        ),
    }
    for tag, image in images.items():
        push_image(upstream.client(), "export/app", tag, image)
    return upstream, images


@pytest.fixture(scope="module")
def source(api, upstream_images):
    """A synced repository on the first stack, at version 1."""
    upstream, _ = upstream_images
    remote = api.post(
        REMOTES,
        {"name": "export-app", "url": upstream.url, "upstream_name": "export/app"},
    )
    repository = api.post(REPOSITORIES, {"name": REPOSITORY_NAME, "remote": remote["pulp_href"]})
    api.run_task("POST", f"{repository['pulp_href']}sync/", {})
    return api.get(repository["pulp_href"])


def content_summary(api: PulpAPI, version_href: str) -> dict:
    """Return tags, manifest digests and blob digests of a repository version."""
    tags = api.list_all("/pulp/api/v3/content/container/tags/", repository_version=version_href)
    manifests = api.list_all(
        "/pulp/api/v3/content/container/manifests/", repository_version=version_href
    )
    blobs = api.list_all("/pulp/api/v3/content/container/blobs/", repository_version=version_href)
    return {
        "tags": sorted((tag["name"], _tagged_digest(api, tag)) for tag in tags),
        "manifests": sorted(manifest["digest"] for manifest in manifests),
        "blobs": sorted(blob["digest"] for blob in blobs),
    }


def _tagged_digest(api: PulpAPI, tag: dict) -> str:
    return api.get(tag["tagged_manifest"])["digest"]


def wait_task_group(api: PulpAPI, group_href: str, timeout: int = 600) -> dict:
    """
    Wait until the pulp_import task and the tasks it dispatched have ended; fail on a failure.

    pulpcore 3.123 leaves `all_tasks_dispatched` false on import groups, so the end is when
    the pulp_import task (which dispatches the others before it ends) and all others ended.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        group = api.get(group_href)
        tasks = group["tasks"]
        ended = [task for task in tasks if task["state"] in ("completed", "failed", "canceled")]
        importer_done = any(
            task["name"].endswith(".pulp_import") and task in ended for task in tasks
        )
        if importer_done and len(ended) == len(tasks):
            failed = [task for task in tasks if task["state"] != "completed"]
            assert not failed, [api.get(task["pulp_href"])["error"] for task in failed]
            return group
        time.sleep(0.5)
    raise AssertionError(f"task group {group_href} did not end within {timeout} s")


def run_pulp_export(api, stack, name: str, repository: dict, start_version=None) -> dict:
    path = str(Path(stack.state_dir) / "exports" / name)
    exporter = api.post(
        EXPORTERS, {"name": name, "repositories": [repository["pulp_href"]], "path": path}
    )
    body = {"chunk_size": "2KB", "full": start_version is None}
    if start_version:
        body["start_versions"] = [start_version]
    task = api.run_task("POST", f"{exporter['pulp_href']}exports/", body)
    return api.get(api.created(task))


def export_chunks(export: dict) -> list:
    """Return the chunk paths of an export in order; `output_file_info` also lists the toc."""
    return sorted(path for path in export["output_file_info"] if path != export["toc_info"]["file"])


def exported_artifacts(export: dict) -> list:
    """Return the sha256 of each artifact file in an export, read from its joined chunks."""
    data = b"".join(Path(chunk).read_bytes() for chunk in export_chunks(export))
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        names = [member.name for member in archive.getmembers() if member.isfile()]
    return sorted(
        name.replace("/", "")[len("artifact") :] for name in names if name.startswith("artifact/")
    )


def carry_to_import_stack(export: dict, import_stack, name: str) -> str:
    """Copy the export's chunks and table of contents into the second stack's imports folder."""
    target = Path(import_stack.state_dir) / "imports" / name
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    toc = Path(export["toc_info"]["file"])
    for chunk in export_chunks(export):
        shutil.copy(chunk, target)
    shutil.copy(toc, target)
    return str(target / toc.name)


def run_pulp_import(import_api: PulpAPI, importer_name: str, toc: str, mapping=None) -> None:
    body = {"name": importer_name}
    if mapping:
        body["repo_mapping"] = mapping
    importer = import_api.post(IMPORTERS, body)
    # pulpcore rejects create_repositories together with a repo_mapping.
    started = import_api.post(
        f"{importer['pulp_href']}imports/", {"toc": toc, "create_repositories": not mapping}
    )
    wait_task_group(import_api, started["task_group"])


@pytest.fixture(scope="module")
def full_import(api, stack, import_api, import_stack, source):
    export = run_pulp_export(api, stack, "export-full", source)
    toc = carry_to_import_stack(export, import_stack, "export-full")
    run_pulp_import(import_api, "import-full", toc)
    return export


def imported_repository(import_api: PulpAPI, name: str = REPOSITORY_NAME) -> dict:
    found = import_api.get(REPOSITORIES, name=name)["results"]
    assert len(found) == 1, f"no repository {name!r} on the import stack"
    return found[0]


def test_export_is_chunked(full_import):
    chunks = export_chunks(full_import)
    assert len(chunks) > 1
    assert all(Path(chunk).stat().st_size <= 2048 for chunk in chunks)


def test_import_recreates_repository(api, import_api, source, full_import):
    repository = imported_repository(import_api)

    expected = content_summary(api, source["latest_version_href"])
    actual = content_summary(import_api, repository["latest_version_href"])

    assert actual["tags"] == expected["tags"]
    assert actual["manifests"] == expected["manifests"]
    assert actual["blobs"] == expected["blobs"]
    assert [tag for tag, _ in actual["tags"]] == ["1.0", "multi", "oci"]
    assert len(actual["manifests"]) == 5


def test_import_keeps_links(import_api, upstream_images, full_import):
    _, images = upstream_images
    repository = imported_repository(import_api)
    manifests = import_api.list_all(
        "/pulp/api/v3/content/container/manifests/",
        repository_version=repository["latest_version_href"],
    )
    by_digest = {manifest["digest"]: manifest for manifest in manifests}

    listed = by_digest[images["multi"].digest]["listed_manifests"]
    listed_digests = sorted(import_api.get(href)["digest"] for href in listed)
    assert listed_digests == sorted(image.digest for image in images["multi"].images)
    image = by_digest[images["1.0"].digest]
    assert import_api.get(image["config_blob"])["digest"] == images["1.0"].blobs[0].digest
    blob_digests = sorted(import_api.get(href)["digest"] for href in image["blobs"])
    assert blob_digests == sorted(blob.digest for blob in images["1.0"].blobs)


def test_import_serves_pulls(
    import_api, import_stack, upstream_images, full_import, container_tools, tmp_path
):
    _, images = upstream_images
    repository = imported_repository(import_api)
    import_api.run_task(
        "POST",
        DISTRIBUTIONS,
        {"name": "export-app", "base_path": "export/app", "repository": repository["pulp_href"]},
    )
    container_tools.allow_insecure(import_stack.registry_host)
    credentials = f"admin:{import_stack.admin_password}"

    for tag in ("1.0", "oci"):
        target = tmp_path / tag
        container_tools.skopeo(
            "copy",
            "--src-tls-verify=false",
            "--src-creds",
            credentials,
            f"docker://{import_stack.registry_host}/export/app:{tag}",
            f"dir:{target}",
        )
        assert (target / "manifest.json").read_bytes() == images[tag].manifest_bytes
        for blob in images[tag].blobs:
            assert (target / blob.digest[7:]).read_bytes() == blob.data


def test_incremental_export(
    api, stack, import_api, import_stack, source, upstream_images, full_import
):
    upstream, _ = upstream_images
    first_version = source["latest_version_href"]
    added = build_image(seeds=("export-added",), fmt="oci")
    push_image(upstream.client(), "export/app", "2.0", added)
    api.run_task("POST", f"{source['pulp_href']}sync/", {})
    latest = api.get(source["pulp_href"])["latest_version_href"]
    assert latest != first_version

    export = run_pulp_export(api, stack, "export-incremental", source, start_version=first_version)
    toc = carry_to_import_stack(export, import_stack, "export-incremental")
    run_pulp_import(import_api, "import-incremental", toc)

    expected = content_summary(api, latest)
    actual = content_summary(import_api, imported_repository(import_api)["latest_version_href"])
    assert actual == expected
    assert ("2.0", added.digest) in actual["tags"]
    assert exported_artifacts(export) == sorted(blob.digest[7:] for blob in added.blobs)


def test_import_repo_mapping(api, stack, import_api, import_stack, source, full_import):
    target = import_api.post(REPOSITORIES, {"name": "mapped-app"})
    toc = carry_to_import_stack(full_import, import_stack, "export-mapped")

    run_pulp_import(import_api, "import-mapped", toc, mapping={REPOSITORY_NAME: "mapped-app"})

    mapped = import_api.get(target["pulp_href"])
    assert mapped["latest_version_href"].endswith("/versions/1/")
    actual = content_summary(import_api, mapped["latest_version_href"])
    expected = content_summary(api, source["versions_href"] + "1/")
    assert actual == expected

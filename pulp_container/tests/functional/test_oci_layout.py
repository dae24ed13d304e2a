"""OCI image layout export read by skopeo, re-import, on_demand blobs and bad layouts."""

import json
import shutil
import uuid
from pathlib import Path

import pytest

from pulp_container.tests.functional.conftest import TaskFailed
from pulp_container.tests.functional.images import build_image, build_index, push_image

# Paths under the stack's exports and imports folders are unique per run, because a layout
# export needs a new or empty directory and the state folder outlives a test session.
RUN = uuid.uuid4().hex[:8]
REMOTES = "/pulp/api/v3/remotes/container/container/"
REPOSITORIES = "/pulp/api/v3/repositories/container/container/"


@pytest.fixture(scope="module")
def upstream_images(upstream_registry):
    upstream = upstream_registry("none")
    images = {
        "1.0": build_image(seeds=("layout-base", "layout-top")),
        "oci": build_image(seeds=("layout-oci",), fmt="oci"),
        "multi": build_index(
            [
                build_image(seeds=("layout-multi",), architecture="amd64", fmt="oci"),
                build_image(seeds=("layout-multi",), architecture="arm64", fmt="oci"),
            ],
            fmt="oci",
        ),
    }
    for tag, image in images.items():
        push_image(upstream.client(), "layout/app", tag, image)
    return upstream, images


def synced_repository(api, upstream, name: str, policy: str = "immediate") -> dict:
    remote = api.post(
        REMOTES,
        {"name": name, "url": upstream.url, "upstream_name": "layout/app", "policy": policy},
    )
    repository = api.post(REPOSITORIES, {"name": name, "remote": remote["pulp_href"]})
    api.run_task("POST", f"{repository['pulp_href']}sync/", {})
    return api.get(repository["pulp_href"])


@pytest.fixture(scope="module")
def source(api, upstream_images):
    return synced_repository(api, upstream_images[0], "layout-source")


@pytest.fixture(scope="module")
def exported(api, stack, source) -> Path:
    path = Path(stack.state_dir) / "exports" / f"layout-all-{RUN}"
    api.run_task("POST", f"{source['pulp_href']}export_oci_layout/", {"path": str(path)})
    return path


def version_digests(api, version_href: str) -> dict:
    tags = api.list_all("/pulp/api/v3/content/container/tags/", repository_version=version_href)
    manifests = api.list_all(
        "/pulp/api/v3/content/container/manifests/", repository_version=version_href
    )
    blobs = api.list_all("/pulp/api/v3/content/container/blobs/", repository_version=version_href)
    return {
        "tags": sorted((tag["name"], api.get(tag["tagged_manifest"])["digest"]) for tag in tags),
        "manifests": sorted(manifest["digest"] for manifest in manifests),
        "blobs": sorted(blob["digest"] for blob in blobs),
    }


def test_layout_files(exported, upstream_images):
    _, images = upstream_images
    index = json.loads((exported / "index.json").read_text())
    refs = {
        entry["annotations"]["org.opencontainers.image.ref.name"]: entry["digest"]
        for entry in index["manifests"]
    }
    assert refs == {tag: image.digest for tag, image in images.items()}
    assert json.loads((exported / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    stored = sorted(path.name for path in (exported / "blobs" / "sha256").iterdir())
    expected = {image.digest for image in images.values()}
    expected |= {listed.digest for listed in images["multi"].images}
    expected |= {blob.digest for image in images.values() for blob in image.all_blobs()}
    assert stored == sorted(digest[7:] for digest in expected)


def test_skopeo_reads_layout(exported, upstream_images, container_tools, tmp_path):
    # skopeo 1.9 selects only OCI manifests and indexes by ref.name, so the Docker schema 2
    # tag "1.0" is checked through the layout files above instead.
    _, images = upstream_images
    target = tmp_path / "copy"

    container_tools.skopeo("copy", f"oci:{exported}:oci", f"dir:{target}")

    assert (target / "manifest.json").read_bytes() == images["oci"].manifest_bytes
    for blob in images["oci"].blobs:
        assert (target / blob.digest[7:]).read_bytes() == blob.data


def test_skopeo_reads_index(exported, upstream_images, container_tools, tmp_path):
    _, images = upstream_images
    target = tmp_path / "multi"

    container_tools.skopeo("copy", "--all", f"oci:{exported}:multi", f"dir:{target}")

    assert (target / "manifest.json").read_bytes() == images["multi"].manifest_bytes


def test_reimport_keeps_digests(api, stack, source, exported):
    imports = Path(stack.state_dir) / "imports" / f"layout-all-{RUN}"
    shutil.copytree(exported, imports)
    repository = api.post(REPOSITORIES, {"name": "layout-reimport"})

    api.run_task("POST", f"{repository['pulp_href']}import_oci_layout/", {"path": str(imports)})

    latest = api.get(repository["pulp_href"])["latest_version_href"]
    assert version_digests(api, latest) == version_digests(api, source["latest_version_href"])


def test_export_selected_tags(api, stack, source, upstream_images):
    _, images = upstream_images
    path = Path(stack.state_dir) / "exports" / f"layout-one-{RUN}"

    api.run_task(
        "POST",
        f"{source['pulp_href']}export_oci_layout/",
        {"path": str(path), "tags": ["oci"], "repository_version": source["latest_version_href"]},
    )

    stored = {f"sha256:{p.name}" for p in (path / "blobs" / "sha256").iterdir()}
    assert stored == {images["oci"].digest} | {blob.digest for blob in images["oci"].blobs}


def test_path_outside_allowed(api, source, tmp_path):
    response = api.session.post(
        api.url(f"{source['pulp_href']}export_oci_layout/"), json={"path": str(tmp_path / "out")}
    )

    assert response.status_code == 400
    assert "ALLOWED_EXPORT_PATHS" in response.json()["path"][0]
    assert not (tmp_path / "out").exists()


def test_import_outside_allowed(api, source, exported):
    response = api.session.post(
        api.url(f"{source['pulp_href']}import_oci_layout/"), json={"path": str(exported)}
    )

    assert response.status_code == 400
    assert "ALLOWED_IMPORT_PATHS" in response.json()["path"][0]


def test_import_corrupt_blob(api, stack, exported, upstream_images):
    _, images = upstream_images
    layout = Path(stack.state_dir) / "imports" / f"layout-corrupt-{RUN}"
    shutil.copytree(exported, layout)
    layer = images["1.0"].blobs[2]
    (layout / "blobs" / "sha256" / layer.digest[7:]).write_bytes(b"tampered")
    repository = api.post(REPOSITORIES, {"name": "layout-corrupt"})

    with pytest.raises(TaskFailed) as failure:
        api.run_task("POST", f"{repository['pulp_href']}import_oci_layout/", {"path": str(layout)})

    assert layer.digest in failure.value.task["error"]["description"]
    assert api.get(repository["pulp_href"])["latest_version_href"].endswith("/versions/0/")


def test_on_demand_export(api, stack, upstream_images):
    upstream, _ = upstream_images
    # Blobs are shared between repositories, so an image no other repository synced keeps
    # its layers undownloaded.
    lazy = build_image(seeds=("layout-lazy",))
    push_image(upstream.client(), "layout/app", "lazy", lazy)
    remote = api.post(
        REMOTES,
        {
            "name": "layout-on-demand",
            "url": upstream.url,
            "upstream_name": "layout/app",
            "policy": "on_demand",
            "include_tags": ["lazy"],
        },
    )
    repository = api.post(REPOSITORIES, {"name": "layout-on-demand", "remote": remote["pulp_href"]})
    api.run_task("POST", f"{repository['pulp_href']}sync/", {})
    rejected = Path(stack.state_dir) / "exports" / f"layout-on-demand-rejected-{RUN}"
    fetched = Path(stack.state_dir) / "exports" / f"layout-on-demand-fetched-{RUN}"
    layer = lazy.blobs[1]

    with pytest.raises(TaskFailed) as failure:
        api.run_task(
            "POST", f"{repository['pulp_href']}export_oci_layout/", {"path": str(rejected)}
        )
    assert layer.digest in failure.value.task["error"]["description"]
    assert not rejected.exists()

    api.run_task(
        "POST",
        f"{repository['pulp_href']}export_oci_layout/",
        {"path": str(fetched), "fetch_missing": True},
    )
    assert (fetched / "blobs" / "sha256" / layer.digest[7:]).read_bytes() == layer.data
    assert (fetched / "blobs" / "sha256" / lazy.digest[7:]).read_bytes() == lazy.manifest_bytes

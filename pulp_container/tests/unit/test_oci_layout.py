"""OCI image layout import and export tasks, run against the unit database and storage."""

import json
from pathlib import Path

import pytest

from pulp_container.app.models import Blob, ContainerRepository, Manifest, Tag
from pulp_container.app.tasks import export_oci_layout, import_oci_layout
from pulp_container.app.tasks.oci_layout import REF_NAME_ANNOTATION, OCILayoutError
from pulp_container.tests.functional.images import build_image, build_index, sha256_digest

pytestmark = pytest.mark.django_db


def write_layout(root: Path, tagged: dict) -> Path:
    """Write images (and their listed images and blobs) as an OCI layout; return `root`."""
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def put(data: bytes) -> None:
        (blobs / sha256_digest(data)[7:]).write_bytes(data)

    entries = []
    for tag, image in tagged.items():
        for listed in [image, *image.images]:
            put(listed.manifest_bytes)
        for blob in image.all_blobs():
            put(blob.data)
        entries.append(
            {
                "mediaType": image.media_type,
                "digest": image.digest,
                "size": len(image.manifest_bytes),
                "annotations": {REF_NAME_ANNOTATION: tag},
            }
        )
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": entries}))
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    return root


@pytest.fixture
def folders(tmp_path, settings, monkeypatch):
    """Allowed export and import folders, and a task working directory."""
    exports, imports, work = tmp_path / "exports", tmp_path / "imports", tmp_path / "work"
    for folder in (exports, imports, work):
        folder.mkdir()
    settings.ALLOWED_EXPORT_PATHS = [str(exports)]
    settings.ALLOWED_IMPORT_PATHS = [str(imports)]
    monkeypatch.chdir(work)
    return {"exports": exports, "imports": imports}


@pytest.fixture
def images():
    base = build_image(seeds=("base",), fmt="oci")
    amd = build_image(seeds=("multi",), fmt="oci", architecture="amd64")
    arm = build_image(seeds=("multi",), fmt="oci", architecture="arm64")
    return {"1.0": base, "multi": build_index([amd, arm], fmt="oci")}


@pytest.fixture
def repository():
    return ContainerRepository.objects.create(name="unit-oci-layout")


def version_digests(version) -> dict:
    content = version.content
    return {
        "tags": sorted(
            Tag.objects.filter(pk__in=content).values_list("name", "tagged_manifest__digest")
        ),
        "manifests": sorted(
            Manifest.objects.filter(pk__in=content).values_list("digest", flat=True)
        ),
        "blobs": sorted(Blob.objects.filter(pk__in=content).values_list("digest", flat=True)),
    }


def test_import_creates_version(folders, images, repository):
    layout = write_layout(folders["imports"] / "app", images)

    import_oci_layout(repository.pk, str(layout))

    content = version_digests(repository.latest_version())
    assert content["tags"] == sorted(
        [("1.0", images["1.0"].digest), ("multi", images["multi"].digest)]
    )
    assert len(content["manifests"]) == 4
    expected_blobs = {blob.digest for image in images.values() for blob in image.all_blobs()}
    assert content["blobs"] == sorted(expected_blobs)
    image = Manifest.objects.get(digest=images["1.0"].digest)
    assert image.architecture == "amd64"
    assert image.config_blob.digest == images["1.0"].blobs[0].digest


def test_export_matches_source(folders, images, repository):
    source = write_layout(folders["imports"] / "app", images)
    import_oci_layout(repository.pk, str(source))
    target = folders["exports"] / "out"

    export_oci_layout(repository.latest_version().pk, str(target))

    source_files = sorted(p.name for p in (source / "blobs" / "sha256").iterdir())
    target_files = sorted(p.name for p in (target / "blobs" / "sha256").iterdir())
    assert target_files == source_files
    for name in source_files:
        assert (target / "blobs" / "sha256" / name).read_bytes() == (
            source / "blobs" / "sha256" / name
        ).read_bytes()
    index = json.loads((target / "index.json").read_text())
    names = {e["annotations"][REF_NAME_ANNOTATION]: e["digest"] for e in index["manifests"]}
    assert names == {tag: image.digest for tag, image in images.items()}
    assert json.loads((target / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}


def test_export_selected_tag(folders, images, repository):
    import_oci_layout(repository.pk, str(write_layout(folders["imports"] / "app", images)))
    target = folders["exports"] / "one"

    export_oci_layout(repository.latest_version().pk, str(target), tags=["1.0"])

    index = json.loads((target / "index.json").read_text())
    assert [e["digest"] for e in index["manifests"]] == [images["1.0"].digest]
    expected = {images["1.0"].digest} | {blob.digest for blob in images["1.0"].blobs}
    assert {f"sha256:{p.name}" for p in (target / "blobs" / "sha256").iterdir()} == expected


def test_import_selected_tag(folders, images, repository):
    layout = write_layout(folders["imports"] / "app", images)

    import_oci_layout(repository.pk, str(layout), tags=["multi"])

    content = version_digests(repository.latest_version())
    assert content["tags"] == [("multi", images["multi"].digest)]
    assert len(content["manifests"]) == 3


def _corrupt_blob(layout: Path, image) -> str:
    layer = image.blobs[1]
    (layout / "blobs" / "sha256" / layer.digest[7:]).write_bytes(b"not the layer")
    return layer.digest


def _remove_blob(layout: Path, image) -> str:
    layer = image.blobs[1]
    (layout / "blobs" / "sha256" / layer.digest[7:]).unlink()
    return layer.digest


def _break_index(layout: Path, image) -> str:
    (layout / "index.json").write_text("{not json")
    return "index.json"


def _index_without_manifests(layout: Path, image) -> str:
    (layout / "index.json").write_text('{"schemaVersion": 2}')
    return "'manifests'"


def _corrupt_manifest(layout: Path, image) -> str:
    (layout / "blobs" / "sha256" / image.digest[7:]).write_bytes(image.manifest_bytes + b" ")
    return image.digest[7:]


@pytest.mark.parametrize(
    "damage",
    [_corrupt_blob, _remove_blob, _break_index, _index_without_manifests, _corrupt_manifest],
)
def test_import_bad_layout(folders, images, repository, damage):
    layout = write_layout(folders["imports"] / "app", images)
    named = damage(layout, images["1.0"])
    manifests_before = Manifest.objects.count()

    with pytest.raises(OCILayoutError) as error:
        import_oci_layout(repository.pk, str(layout))

    assert named in str(error.value)
    assert repository.latest_version().number == 0
    assert Manifest.objects.count() == manifests_before
    assert not Blob.objects.filter(digest=images["1.0"].blobs[1].digest).exists()


def test_paths_outside_allowed(folders, images, repository, tmp_path):
    elsewhere = write_layout(tmp_path / "elsewhere", images)

    with pytest.raises(OCILayoutError, match="ALLOWED_IMPORT_PATHS"):
        import_oci_layout(repository.pk, str(elsewhere))
    with pytest.raises(OCILayoutError, match="ALLOWED_EXPORT_PATHS"):
        export_oci_layout(repository.latest_version().pk, str(tmp_path / "out"))
    with pytest.raises(OCILayoutError, match="ALLOWED_EXPORT_PATHS"):
        export_oci_layout(repository.latest_version().pk, str(folders["exports"] / ".." / "x"))
    assert not (tmp_path / "out").exists()


def test_blob_link_outside_layout(folders, images, repository, tmp_path):
    layout = write_layout(folders["imports"] / "app", images)
    layer = images["1.0"].blobs[1]
    outside = tmp_path / "secret"
    outside.write_bytes(layer.data)
    target = layout / "blobs" / "sha256" / layer.digest[7:]
    target.unlink()
    target.symlink_to(outside)

    with pytest.raises(OCILayoutError, match="outside the layout"):
        import_oci_layout(repository.pk, str(layout))


def test_export_missing_artifact(folders, images, repository):
    import_oci_layout(repository.pk, str(write_layout(folders["imports"] / "app", images)))
    layer = Blob.objects.get(digest=images["1.0"].blobs[1].digest)
    layer.contentartifact_set.update(artifact=None)
    target = folders["exports"] / "missing"

    with pytest.raises(OCILayoutError) as error:
        export_oci_layout(repository.latest_version().pk, str(target))

    assert layer.digest in str(error.value)
    assert "fetch_missing" in str(error.value)
    assert not target.exists()


def test_export_into_nonempty(folders, images, repository):
    import_oci_layout(repository.pk, str(write_layout(folders["imports"] / "app", images)))
    target = folders["exports"] / "used"
    target.mkdir()
    (target / "keep").write_text("x")

    with pytest.raises(OCILayoutError, match="not an empty directory"):
        export_oci_layout(repository.latest_version().pk, str(target))

    assert sorted(p.name for p in target.iterdir()) == ["keep"]


def test_export_unknown_tag(folders, images, repository):
    import_oci_layout(repository.pk, str(write_layout(folders["imports"] / "app", images)))

    with pytest.raises(OCILayoutError, match="Tags nope are not in version 1"):
        export_oci_layout(repository.latest_version().pk, str(folders["exports"] / "t"), ["nope"])


def test_reimport_adds_nothing(folders, images, repository):
    layout = write_layout(folders["imports"] / "app", images)
    import_oci_layout(repository.pk, str(layout))
    counts = Manifest.objects.count(), Blob.objects.count()

    import_oci_layout(repository.pk, str(layout))

    assert (Manifest.objects.count(), Blob.objects.count()) == counts
    assert repository.latest_version().number == 1

"""Push over raw HTTP: upload flows, mounts, manifest PUT, deletes, and every error case."""

import hashlib
import json
import urllib.parse
import uuid

import pytest

from pulp_container.tests.functional.images import (
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    build_artifact,
    build_image,
    build_index,
    dump_json,
    push_image,
    sha256_digest,
)
from pulp_container.tests.functional.push_clients import PushClient
from pulp_container.tests.functional.registry_client import RegistryClient

PUSH_REPOSITORIES = "/pulp/api/v3/repositories/container/container-push/"
DISTRIBUTIONS = "/pulp/api/v3/distributions/container/container/"
NAMESPACES = "/pulp/api/v3/pulp_container/namespaces/"


@pytest.fixture(scope="module")
def push_client(stack) -> PushClient:
    return PushClient(stack.content_origin, "admin", stack.admin_password)


def start_session(client, name: str):
    reply = client.post(f"/v2/{name}/blobs/uploads/")
    assert reply.status_code == 202, reply.text
    return reply


def absolute(client, location: str) -> str:
    return urllib.parse.urljoin(client.base_url + "/", location)


def with_digest(location: str, digest: str) -> str:
    separator = "&" if "?" in location else "?"
    return f"{location}{separator}digest={digest}"


def error_codes(reply) -> list:
    return [error["code"] for error in reply.json()["errors"]]


def push_repository(api, name: str) -> dict:
    results = api.get(PUSH_REPOSITORIES, name=name)["results"]
    assert len(results) == 1, f"expected one push repository named {name}, got {results}"
    return results[0]


def latest_version_number(api, name: str) -> int:
    return int(push_repository(api, name)["latest_version_href"].rstrip("/").rsplit("/", 1)[1])


def test_upload_session_headers(push_client, unique_name):
    name = unique_name("session")
    reply = start_session(push_client, name)
    upload_id = reply.headers["Docker-Upload-UUID"]
    assert reply.headers["Location"] == f"/v2/{name}/blobs/uploads/{upload_id}"
    assert reply.headers["Range"] == "0-0"

    status = push_client.get(reply.headers["Location"])
    assert status.status_code == 204
    assert status.headers["Range"] == "0-0"
    assert status.headers["Docker-Upload-UUID"] == upload_id


def test_chunked_upload(push_client, unique_name):
    name = unique_name("chunked")
    data = bytes(range(256)) * 40
    digest = sha256_digest(data)
    location = start_session(push_client, name).headers["Location"]

    first = push_client.patch(
        location,
        data=data[:4000],
        headers={"Content-Range": "0-3999", "Content-Type": "application/octet-stream"},
    )
    assert first.status_code == 202, first.text
    assert first.headers["Range"] == "0-3999"
    status = push_client.get(first.headers["Location"])
    assert status.headers["Range"] == "0-3999"

    second = push_client.patch(
        first.headers["Location"],
        data=data[4000:9000],
        headers={"Content-Range": "4000-8999"},
    )
    assert second.status_code == 202, second.text
    assert second.headers["Range"] == "0-8999"

    done = push_client.put(
        with_digest(absolute(push_client, second.headers["Location"]), digest),
        data=data[9000:],
        headers={"Content-Range": f"9000-{len(data) - 1}"},
    )
    assert done.status_code == 201, done.text
    assert done.headers["Docker-Content-Digest"] == digest
    assert done.headers["Location"] == f"/v2/{name}/blobs/{digest}"


def test_streamed_chunk_upload(push_client, unique_name):
    name = unique_name("streamed")
    data = b"streamed layer " * 100000
    digest = sha256_digest(data)
    location = start_session(push_client, name).headers["Location"]

    def body():
        for start in range(0, len(data), 65536):
            yield data[start : start + 65536]

    streamed = push_client.patch(location, data=body())
    assert streamed.status_code == 202, streamed.text
    assert streamed.headers["Range"] == f"0-{len(data) - 1}"
    done = push_client.put(with_digest(absolute(push_client, location), digest))
    assert done.status_code == 201, done.text


def test_monolithic_post(push_client, unique_name):
    name = unique_name("monopost")
    data = b"monolithic post"
    digest = sha256_digest(data)
    reply = push_client.post(
        f"/v2/{name}/blobs/uploads/?digest={digest}",
        data=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert reply.status_code == 201, reply.text
    assert reply.headers["Docker-Content-Digest"] == digest
    pulled = push_client.get(reply.headers["Location"])
    assert pulled.status_code == 200
    assert pulled.content == data


def test_monolithic_post_digest_mismatch(push_client, unique_name, api):
    name = unique_name("monomismatch")
    wrong = sha256_digest(b"q")
    reply = push_client.post(
        f"/v2/{name}/blobs/uploads/?digest={wrong}",
        data=b"zzz",
        headers={"Content-Type": "application/octet-stream"},
    )
    assert reply.status_code == 400
    assert error_codes(reply) == ["DIGEST_INVALID"]
    assert reply.json()["errors"][0]["detail"]["actual"] == sha256_digest(b"zzz")
    assert api.get("/pulp/api/v3/content/container/blobs/", digest=wrong)["count"] == 0


def test_monolithic_put(push_client, unique_name):
    name = unique_name("monoput")
    data = b"monolithic put"
    digest = sha256_digest(data)
    location = start_session(push_client, name).headers["Location"]
    reply = push_client.put(with_digest(absolute(push_client, location), digest), data=data)
    assert reply.status_code == 201, reply.text
    assert reply.headers["Docker-Content-Digest"] == digest


def test_cancel_upload(push_client, unique_name):
    name = unique_name("cancel")
    location = start_session(push_client, name).headers["Location"]
    assert push_client.delete(location).status_code == 204
    status = push_client.get(location)
    assert status.status_code == 404
    assert error_codes(status) == ["BLOB_UPLOAD_UNKNOWN"]


def test_unknown_upload_id(push_client, unique_name):
    name = unique_name("unknown")
    start_session(push_client, name)
    for upload_id in ("00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        reply = push_client.patch(f"/v2/{name}/blobs/uploads/{upload_id}", data=b"x")
        assert reply.status_code == 404
        assert error_codes(reply) == ["BLOB_UPLOAD_UNKNOWN"]


def test_out_of_order_chunk(push_client, unique_name):
    name = unique_name("order")
    location = start_session(push_client, name).headers["Location"]
    first = push_client.patch(location, data=b"a" * 10, headers={"Content-Range": "0-9"})
    assert first.status_code == 202

    gap = push_client.patch(location, data=b"b" * 10, headers={"Content-Range": "20-29"})
    assert gap.status_code == 416
    assert gap.headers["Range"] == "0-9"
    assert error_codes(gap) == ["BLOB_UPLOAD_INVALID"]
    again = push_client.patch(location, data=b"c" * 10, headers={"Content-Range": "0-9"})
    assert again.status_code == 416
    assert push_client.get(location).headers["Range"] == "0-9"


def test_chunk_size_mismatch(push_client, unique_name):
    name = unique_name("size")
    location = start_session(push_client, name).headers["Location"]
    reply = push_client.patch(location, data=b"a" * 5, headers={"Content-Range": "0-9"})
    assert reply.status_code == 400
    assert error_codes(reply) == ["SIZE_INVALID"]
    assert push_client.get(location).headers["Range"] == "0-0"


def test_digest_mismatch_stores_nothing(push_client, unique_name, api):
    name = unique_name("digest")
    data = b"real data"
    wrong = sha256_digest(b"other data")
    location = start_session(push_client, name).headers["Location"]
    reply = push_client.put(with_digest(absolute(push_client, location), wrong), data=data)
    assert reply.status_code == 400
    assert error_codes(reply) == ["DIGEST_INVALID"]
    assert push_client.get(location).status_code == 404
    blobs = api.get("/pulp/api/v3/content/container/blobs/", digest=wrong)
    assert blobs["count"] == 0
    real = api.get("/pulp/api/v3/content/container/blobs/", digest=sha256_digest(data))
    assert real["count"] == 0


def test_invalid_name(push_client):
    reply = push_client.post("/v2/Bad_Name/blobs/uploads/")
    assert reply.status_code == 400
    assert error_codes(reply) == ["NAME_INVALID"]


def test_push_image_round_trip(push_client, unique_name, api):
    name = f"{unique_name('ns')}/app"
    image = build_image(seeds=("round-trip",))
    digest = push_image(push_client, name, "1.0", image)

    manifest = push_client.get(f"/v2/{name}/manifests/1.0", headers={"Accept": image.media_type})
    assert manifest.status_code == 200
    assert manifest.content == image.manifest_bytes
    assert manifest.headers["Docker-Content-Digest"] == digest
    for blob in image.blobs:
        reply = push_client.get(f"/v2/{name}/blobs/{blob.digest}")
        assert reply.status_code == 200
        assert hashlib.sha256(reply.content).hexdigest() == blob.digest.split(":")[1]

    repository = push_repository(api, name)
    assert repository["latest_version_href"].endswith("/versions/1/")
    distribution = api.get(DISTRIBUTIONS, base_path=name)["results"][0]
    assert distribution["repository"] == repository["pulp_href"]
    namespaces = api.get(NAMESPACES, name=name.split("/")[0])["results"]
    assert [namespace["name"] for namespace in namespaces] == [name.split("/")[0]]


def test_push_manifest_headers(push_client, unique_name):
    name = unique_name("headers")
    image = build_image(seeds=("headers",), fmt="oci")
    for blob in image.blobs:
        push_client.upload_blob(name, blob.data, blob.digest)
    reply = push_client.put(
        f"/v2/{name}/manifests/latest",
        data=image.manifest_bytes,
        headers={"Content-Type": OCI_MANIFEST},
    )
    assert reply.status_code == 201, reply.text
    assert reply.headers["Docker-Content-Digest"] == image.digest
    assert reply.headers["Location"] == f"/v2/{name}/manifests/{image.digest}"


def test_push_by_digest_and_index(push_client, unique_name):
    name = unique_name("index")
    images = [
        build_image(seeds=("idx",), architecture=arch, fmt="oci") for arch in ("amd64", "arm64")
    ]
    index = build_index(images, fmt="oci")
    push_image(push_client, name, "multi", index)
    reply = push_client.get(f"/v2/{name}/manifests/multi", headers={"Accept": index.media_type})
    assert reply.status_code == 200
    assert reply.content == index.manifest_bytes


def test_push_subject_header(push_client, unique_name):
    name = unique_name("subject")
    image = build_image(seeds=("subject",), fmt="oci")
    push_image(push_client, name, "1", image)
    artifact = build_artifact(subject=image)
    for blob in artifact.blobs:
        push_client.upload_blob(name, blob.data, blob.digest)
    reply = push_client.put(
        f"/v2/{name}/manifests/{artifact.digest}",
        data=artifact.manifest_bytes,
        headers={"Content-Type": OCI_MANIFEST},
    )
    assert reply.status_code == 201, reply.text
    assert reply.headers["OCI-Subject"] == image.digest

    referrers = push_client.get(f"/v2/{name}/referrers/{image.digest}")
    assert referrers.status_code == 200
    assert referrers.headers["Content-Type"] == OCI_INDEX
    index = referrers.json()
    assert index["mediaType"] == OCI_INDEX
    assert index["manifests"] == [
        {
            "mediaType": OCI_MANIFEST,
            "digest": artifact.digest,
            "size": len(artifact.manifest_bytes),
            "artifactType": "application/vnd.example.sbom.v1+json",
        }
    ]
    other_type = push_client.get(
        f"/v2/{name}/referrers/{image.digest}", params={"artifactType": "application/x-other"}
    )
    assert other_type.json()["manifests"] == []
    assert other_type.headers["OCI-Filters-Applied"] == "artifactType"
    unknown = push_client.get(f"/v2/{name}/referrers/{sha256_digest(b'no such subject')}")
    assert unknown.status_code == 200
    assert unknown.json()["manifests"] == []
    invalid = push_client.get(f"/v2/{name}/referrers/sha256:XYZ")
    assert invalid.status_code == 400
    assert error_codes(invalid) == ["DIGEST_INVALID"]


def test_tag_moves(push_client, unique_name, api):
    name = unique_name("move")
    first = build_image(seeds=("move-1",))
    second = build_image(seeds=("move-2",))
    push_image(push_client, name, "stable", first)
    push_image(push_client, name, "stable", second)
    reply = push_client.get(f"/v2/{name}/manifests/stable", headers={"Accept": DOCKER_MANIFEST})
    assert reply.headers["Docker-Content-Digest"] == second.digest
    version = push_repository(api, name)["latest_version_href"]
    tags = api.get(
        "/pulp/api/v3/content/container/tags/", repository_version=version, name="stable"
    )
    assert tags["count"] == 1


def test_repeat_push_no_new_version(push_client, unique_name, api):
    name = unique_name("repeat")
    image = build_image(seeds=("repeat",))
    push_image(push_client, name, "1", image)
    number = latest_version_number(api, name)
    push_image(push_client, name, "1", image)
    assert latest_version_number(api, name) == number


def test_manifest_missing_blob(push_client, unique_name, api):
    name = unique_name("missing")
    image = build_image(seeds=("missing",))
    push_client.upload_blob(name, image.blobs[0].data, image.blobs[0].digest)
    reply = push_client.put(
        f"/v2/{name}/manifests/1",
        data=image.manifest_bytes,
        headers={"Content-Type": DOCKER_MANIFEST},
    )
    assert reply.status_code == 400
    assert error_codes(reply) == ["MANIFEST_BLOB_UNKNOWN"]
    assert reply.json()["errors"][0]["detail"]["digest"] == image.blobs[1].digest
    manifests = api.get("/pulp/api/v3/content/container/manifests/", digest=image.digest)
    assert manifests["count"] == 0
    assert latest_version_number(api, name) == 0


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"{not json", DOCKER_MANIFEST),
        (b'{"schemaVersion": 2, "mediaType": "%s"}' % DOCKER_MANIFEST.encode(), DOCKER_MANIFEST),
        (b'{"schemaVersion": 2, "config": {}, "layers": []}', OCI_MANIFEST),
    ],
)
def test_manifest_invalid(push_client, unique_name, body, content_type):
    name = unique_name("invalid")
    reply = push_client.put(
        f"/v2/{name}/manifests/1", data=body, headers={"Content-Type": content_type}
    )
    assert reply.status_code == 400
    assert error_codes(reply) == ["MANIFEST_INVALID"]


def test_manifest_media_type_conflict(push_client, unique_name):
    name = unique_name("conflict")
    image = build_image(seeds=("conflict",))
    push_image(push_client, name, "1", image)
    reply = push_client.put(
        f"/v2/{name}/manifests/2",
        data=image.manifest_bytes,
        headers={"Content-Type": OCI_MANIFEST},
    )
    assert reply.status_code == 400
    assert error_codes(reply) == ["MANIFEST_INVALID"]


def test_manifest_digest_reference_mismatch(push_client, unique_name):
    name = unique_name("refdigest")
    image = build_image(seeds=("refdigest",))
    push_image(push_client, name, "1", image)
    wrong = sha256_digest(b"nothing")
    reply = push_client.put(
        f"/v2/{name}/manifests/{wrong}",
        data=image.manifest_bytes,
        headers={"Content-Type": DOCKER_MANIFEST},
    )
    assert reply.status_code == 400
    assert error_codes(reply) == ["DIGEST_INVALID"]


def test_manifest_bad_tag(push_client, unique_name):
    name = unique_name("badtag")
    reply = push_client.put(
        f"/v2/{name}/manifests/-bad", data=b"{}", headers={"Content-Type": DOCKER_MANIFEST}
    )
    assert reply.status_code == 400
    assert error_codes(reply) == ["TAG_INVALID"]


def test_manifest_too_large(push_client, unique_name):
    name = unique_name("large")
    body = dump_json({"schemaVersion": 2, "padding": "x" * (4 * 1024 * 1024)})
    reply = push_client.put(
        f"/v2/{name}/manifests/1", data=body, headers={"Content-Type": DOCKER_MANIFEST}
    )
    assert reply.status_code == 413
    assert error_codes(reply) == ["MANIFEST_INVALID"]


def test_mount_from_readable_repository(push_client, unique_name, api):
    source = unique_name("source")
    target = unique_name("target")
    image = build_image(seeds=("mount",))
    push_image(push_client, source, "1", image)
    layer = image.blobs[1]
    token = push_client.token_for(f"repository:{target}:pull,push", f"repository:{source}:pull")
    reply = push_client.session.post(
        f"{push_client.base_url}/v2/{target}/blobs/uploads/?mount={layer.digest}&from={source}",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert reply.status_code == 201, reply.text
    assert reply.headers["Location"] == f"/v2/{target}/blobs/{layer.digest}"
    assert reply.headers["Docker-Content-Digest"] == layer.digest
    push_client.upload_blob(target, image.blobs[0].data, image.blobs[0].digest)
    push_client.put_manifest(target, "1", image.manifest_bytes, image.media_type)
    pulled = push_client.get(f"/v2/{target}/blobs/{layer.digest}")
    assert pulled.content == layer.data


def test_mount_unknown_blob_starts_upload(push_client, unique_name):
    source = unique_name("source")
    target = unique_name("target")
    push_image(push_client, source, "1", build_image(seeds=("mount-src",)))
    missing = sha256_digest(b"never pushed")
    reply = push_client.post(f"/v2/{target}/blobs/uploads/?mount={missing}&from={source}")
    assert reply.status_code == 202
    assert reply.headers["Range"] == "0-0"
    assert reply.headers["Location"].startswith(f"/v2/{target}/blobs/uploads/")


def test_mount_from_invalid_name_starts_upload(push_client, unique_name):
    target = unique_name("target")
    digest = sha256_digest(b"never pushed")
    reply = push_client.post(f"/v2/{target}/blobs/uploads/?mount={digest}&from=bad%00name")
    assert reply.status_code == 202
    assert reply.headers["Location"].startswith(f"/v2/{target}/blobs/uploads/")


def test_delete_tag_manifest_blob(push_client, unique_name, api):
    name = unique_name("delete")
    image = build_image(seeds=("delete",))
    push_image(push_client, name, "1", image)
    push_image(push_client, name, "2", image)

    assert push_client.delete(f"/v2/{name}/manifests/1").status_code == 202
    assert push_client.get(f"/v2/{name}/manifests/1").status_code == 404
    still = push_client.get(f"/v2/{name}/manifests/2", headers={"Accept": DOCKER_MANIFEST})
    assert still.status_code == 200

    assert push_client.delete(f"/v2/{name}/manifests/{image.digest}").status_code == 202
    gone = push_client.get(f"/v2/{name}/manifests/{image.digest}")
    assert gone.status_code == 404
    assert push_client.get(f"/v2/{name}/manifests/2").status_code == 404
    again = push_client.delete(f"/v2/{name}/manifests/{image.digest}")
    assert again.status_code == 404
    assert error_codes(again) == ["MANIFEST_UNKNOWN"]

    blob = sha256_digest(b"lonely blob")
    push_client.upload_blob(name, b"lonely blob", blob)
    assert push_client.delete(f"/v2/{name}/blobs/{blob}").status_code == 202
    missing = push_client.delete(f"/v2/{name}/blobs/{blob}")
    assert missing.status_code == 404
    assert error_codes(missing) == ["BLOB_UNKNOWN"]


def test_delete_blob_of_tagged_image_refused(push_client, unique_name):
    name = unique_name("blobinuse")
    image = build_image(seeds=("blob-in-use",))
    push_image(push_client, name, "1", image)
    layer = image.blobs[-1].digest
    reply = push_client.delete(f"/v2/{name}/blobs/{layer}")
    assert reply.status_code == 409
    assert error_codes(reply) == ["UNSUPPORTED"]
    assert reply.json()["errors"][0]["detail"]["manifests"] == [image.digest]
    assert push_client.head(f"/v2/{name}/blobs/{layer}").status_code == 200


def test_anonymous_push_unauthorized(stack, unique_name):
    anonymous = RegistryClient(stack.content_origin)
    reply = anonymous.post(f"/v2/{unique_name('anon')}/blobs/uploads/")
    assert reply.status_code == 401
    assert error_codes(reply) == ["UNAUTHORIZED"]
    assert reply.headers["WWW-Authenticate"].startswith("Bearer ")


def test_version_content_after_push(push_client, unique_name, api):
    name = unique_name("content")
    image = build_image(seeds=("content-a", "content-b"))
    push_image(push_client, name, "v1", image)
    version_href = push_repository(api, name)["latest_version_href"]
    version = api.get(version_href)
    summary = version["content_summary"]["present"]
    assert summary["container.blob"]["count"] == 3
    assert summary["container.manifest"]["count"] == 1
    assert summary["container.tag"]["count"] == 1
    manifest = api.get("/pulp/api/v3/content/container/manifests/", digest=image.digest)["results"][
        0
    ]
    assert json.loads(image.manifest_bytes)["config"]["digest"] == image.blobs[0].digest
    assert manifest["digest"] == image.digest


def test_push_without_permission_denied(api, stack, unique_name):
    username = unique_name("pusher")
    password = uuid.uuid4().hex
    api.post("/pulp/api/v3/users/", {"username": username, "password": password})
    client = PushClient(stack.content_origin, username, password)
    reply = client.post(f"/v2/{unique_name('denied')}/blobs/uploads/")
    assert reply.status_code == 403
    assert error_codes(reply) == ["DENIED"]

"""Unit tests of manifest parsing, validation and digests."""

import base64
import hashlib
import json

import pytest

from pulp_container.app.manifests import (
    ManifestDigestMismatch,
    ManifestError,
    build_manifest,
    parse_image_config,
    parse_manifest,
)
from pulp_container.constants import (
    DOCKER_CONFIG,
    DOCKER_FOREIGN_LAYER,
    DOCKER_LAYER_GZIP,
    DOCKER_MANIFEST_LIST,
    DOCKER_MANIFEST_V1,
    DOCKER_MANIFEST_V1_SIGNED,
    DOCKER_MANIFEST_V2,
    OCI_CONFIG,
    OCI_EMPTY,
    OCI_INDEX,
    OCI_LAYER_ZSTD,
    OCI_MANIFEST,
)

DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64
DIGEST_C = "sha256:" + "c" * 64


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def encode(document: dict) -> bytes:
    return json.dumps(document, indent=3).encode()


def image_body(media_type=DOCKER_MANIFEST_V2, config_type=DOCKER_CONFIG, layers=None) -> dict:
    body = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": {"mediaType": config_type, "size": 7, "digest": DIGEST_A},
        "layers": (
            layers
            if layers is not None
            else [{"mediaType": DOCKER_LAYER_GZIP, "size": 10, "digest": DIGEST_B}]
        ),
    }
    if media_type is None:
        del body["mediaType"]
    return body


def test_docker_image_fields():
    data = encode(image_body())
    parsed = parse_manifest(data, expected_digest=digest_of(data))
    assert parsed.media_type == DOCKER_MANIFEST_V2
    assert parsed.type == "image"
    assert parsed.schema_version == 2
    assert parsed.digest == digest_of(data)
    assert parsed.config.digest == DIGEST_A
    assert [layer.digest for layer in parsed.layers] == [DIGEST_B]
    assert parsed.compressed_image_size == 17
    assert parsed.artifact_type is None


def test_digest_mismatch_names_both_digests():
    data = encode(image_body())
    with pytest.raises(ManifestDigestMismatch) as error:
        parse_manifest(data, expected_digest=DIGEST_C)
    assert DIGEST_C in str(error.value)
    assert digest_of(data) in str(error.value)
    assert error.value.error_code == "CTR0002"


def test_digest_over_exact_bytes():
    compact = json.dumps(image_body()).encode()
    indented = encode(image_body())
    assert parse_manifest(compact).digest == digest_of(compact)
    assert parse_manifest(indented).digest == digest_of(indented)
    assert digest_of(compact) != digest_of(indented)


def test_sha512_expected_digest():
    data = encode(image_body())
    expected = "sha512:" + hashlib.sha512(data).hexdigest()
    assert parse_manifest(data, expected_digest=expected).digest == expected


def test_media_type_from_content_type():
    data = encode(image_body(media_type=None))
    parsed = parse_manifest(data, content_type=f"{DOCKER_MANIFEST_V2}; charset=utf-8")
    assert parsed.media_type == DOCKER_MANIFEST_V2


def test_media_type_from_shape_without_header():
    data = encode(image_body(media_type=None, config_type=OCI_CONFIG))
    assert parse_manifest(data, content_type="application/json").media_type == OCI_MANIFEST


def test_unknown_media_type_rejected():
    data = encode(image_body(media_type="application/vnd.example+json"))
    with pytest.raises(ManifestError) as error:
        parse_manifest(data, reference="repo:latest")
    assert "application/vnd.example+json" in str(error.value)
    assert "repo:latest" in str(error.value)


@pytest.mark.parametrize(
    "data,fragment",
    [
        (b"{not json", "not valid JSON"),
        (json.dumps(image_body()).encode("utf-16"), "not UTF-8"),
        (b"\xef\xbb\xbf" + encode(image_body()), "not valid JSON"),
        (
            encode(
                image_body(layers=[{"mediaType": "x", "size": 1, "digest": "sha256:" + "B" * 64}])
            ),
            "layers[0].digest",
        ),
        (b"[1, 2]", "not a JSON object"),
        (encode({**image_body(), "schemaVersion": 3}), "schemaVersion"),
        (encode({**image_body(), "config": {"size": 1, "digest": DIGEST_A}}), "config.mediaType"),
        (
            encode(image_body(layers=[{"mediaType": "x", "size": -1, "digest": DIGEST_B}])),
            "layers[0].size",
        ),
        (
            encode(image_body(layers=[{"mediaType": "x", "size": 1, "digest": "sha256:XY Z"}])),
            "layers[0].digest",
        ),
        (encode({**image_body(), "layers": "nope"}), "'layers'"),
        (encode({**image_body(), "annotations": {"a": 1}}), "annotations"),
    ],
)
def test_invalid_manifest_names_field(data, fragment):
    with pytest.raises(ManifestError) as error:
        parse_manifest(data, reference=DIGEST_C)
    assert fragment in str(error.value)
    assert DIGEST_C in str(error.value)
    assert error.value.error_code == "CTR0001"


def test_oci_artifact_with_empty_config():
    body = image_body(
        media_type=OCI_MANIFEST,
        config_type=OCI_EMPTY,
        layers=[{"mediaType": "application/vnd.example.sbom", "size": 3, "digest": DIGEST_B}],
    )
    body["artifactType"] = "application/vnd.example.sbom"
    body["subject"] = {"mediaType": OCI_MANIFEST, "size": 5, "digest": DIGEST_C}
    body["annotations"] = {"org.example": "yes"}
    parsed = parse_manifest(encode(body))
    assert parsed.type == "artifact"
    assert parsed.artifact_type == "application/vnd.example.sbom"
    assert parsed.subject == DIGEST_C
    assert parsed.annotations == {"org.example": "yes"}


def test_artifact_type_from_config_media_type():
    body = image_body(media_type=OCI_MANIFEST, config_type="application/vnd.cncf.helm.config")
    parsed = parse_manifest(encode(body))
    assert parsed.type == "artifact"
    assert parsed.artifact_type == "application/vnd.cncf.helm.config"


def test_oci_artifact_without_layers():
    body = image_body(media_type=OCI_MANIFEST, config_type=OCI_EMPTY)
    del body["layers"]
    assert parse_manifest(encode(body)).layers == []


def test_foreign_and_zstd_layers():
    layers = [
        {"mediaType": OCI_LAYER_ZSTD, "size": 4, "digest": DIGEST_B},
        {
            "mediaType": DOCKER_FOREIGN_LAYER,
            "size": 9,
            "digest": DIGEST_C,
            "urls": ["https://example.com/layer"],
        },
    ]
    parsed = parse_manifest(encode(image_body(layers=layers)))
    assert [layer.is_foreign for layer in parsed.layers] == [False, True]
    assert parsed.layers[1].urls == ("https://example.com/layer",)


@pytest.mark.parametrize("list_type", [DOCKER_MANIFEST_LIST, OCI_INDEX])
def test_list_with_mixed_entries(list_type):
    body = {
        "schemaVersion": 2,
        "mediaType": list_type,
        "manifests": [
            {
                "mediaType": DOCKER_MANIFEST_V2,
                "size": 100,
                "digest": DIGEST_A,
                "platform": {
                    "architecture": "arm64",
                    "os": "linux",
                    "variant": "v8",
                    "os.features": ["f1"],
                },
            },
            {"mediaType": OCI_MANIFEST, "size": 200, "digest": DIGEST_B},
        ],
    }
    parsed = parse_manifest(encode(body))
    assert parsed.type == "list"
    assert parsed.compressed_image_size is None
    first, second = parsed.listed_manifests
    assert first.platform.architecture == "arm64"
    assert first.platform.variant == "v8"
    assert first.platform.os_features == ("f1",)
    assert second.descriptor.media_type == OCI_MANIFEST
    assert second.platform.architecture == ""


def test_index_without_media_type():
    body = {"schemaVersion": 2, "manifests": []}
    assert parse_manifest(encode(body)).media_type == OCI_INDEX


def schema1_body() -> dict:
    return {
        "schemaVersion": 1,
        "name": "library/test",
        "tag": "latest",
        "architecture": "amd64",
        "fsLayers": [{"blobSum": DIGEST_B}, {"blobSum": DIGEST_A}, {"blobSum": DIGEST_B}],
        "history": [{"v1Compatibility": "{}"}] * 3,
    }


def sign_schema1(payload: bytes) -> bytes:
    """Sign the way Docker did: cut the closing brace and splice in `signatures`."""
    length = payload.rindex(b"\n}")
    tail = payload[length:]
    protected = {
        "formatLength": length,
        "formatTail": base64.urlsafe_b64encode(tail).decode().rstrip("="),
        "time": "2026-01-01T00:00:00Z",
    }
    signature = {
        "header": {"alg": "ES256"},
        "signature": "c2lnbmF0dXJl",
        "protected": base64.urlsafe_b64encode(json.dumps(protected).encode()).decode().rstrip("="),
    }
    signatures = json.dumps([signature], indent=3).replace("\n", "\n   ")
    return payload[:length] + b',\n   "signatures": ' + signatures.encode() + tail


def test_schema1_signed_digest_over_payload():
    payload = encode(schema1_body())
    signed = sign_schema1(payload)
    parsed = parse_manifest(signed, expected_digest=digest_of(payload))
    assert json.loads(signed)["signatures"]
    assert parsed.media_type == DOCKER_MANIFEST_V1_SIGNED
    assert parsed.type == "schema1"
    assert parsed.digest == digest_of(payload)
    assert parsed.data == signed
    assert [layer.digest for layer in parsed.layers] == [DIGEST_A, DIGEST_B]
    assert parsed.architecture == "amd64"


def test_schema1_signed_rejects_body_digest():
    signed = sign_schema1(encode(schema1_body()))
    with pytest.raises(ManifestDigestMismatch):
        parse_manifest(signed, expected_digest=digest_of(signed))


def test_schema1_unsigned():
    data = encode(schema1_body())
    parsed = parse_manifest(data, content_type=DOCKER_MANIFEST_V1)
    assert parsed.media_type == DOCKER_MANIFEST_V1
    assert parsed.digest == digest_of(data)


def test_schema1_bad_protected_header():
    body = {**schema1_body(), "signatures": [{"protected": "!!"}]}
    with pytest.raises(ManifestError) as error:
        parse_manifest(encode(body), reference="repo:v1")
    assert "protected" in str(error.value)


def test_image_config_metadata():
    config = {"architecture": "arm64", "os": "linux", "config": {"Labels": {"a": "b"}}}
    assert parse_image_config(json.dumps(config).encode()) == {
        "architecture": "arm64",
        "os": "linux",
        "labels": {"a": "b"},
    }
    assert parse_image_config(b"not json") == {"architecture": None, "os": None, "labels": {}}


@pytest.mark.django_db
def test_build_manifest_model():
    data = encode(image_body())
    parsed = parse_manifest(data)
    manifest = build_manifest(parsed, {"architecture": "amd64", "os": "linux", "labels": {}})
    assert manifest.digest == digest_of(data)
    assert manifest.data == data.decode()
    assert manifest.architecture == "amd64"
    assert manifest.os == "linux"
    assert manifest.compressed_image_size == 17
    assert manifest._state.adding


def test_digest_mismatch_names_reference():
    error = ManifestDigestMismatch(DIGEST_A, DIGEST_B)
    error.reference = "library/app:latest (http://h/v2/library/app/manifests/latest)"
    message = str(error)
    assert "library/app:latest (http://h/v2/library/app/manifests/latest)" in message
    assert f"expected {DIGEST_A}" in message
    assert f"digest {DIGEST_B}" in message

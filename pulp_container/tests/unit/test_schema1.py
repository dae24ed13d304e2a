"""Schema 1 conversion: layout, empty layers, v1 ids, and a JWS that verifies."""

import base64
import gzip
import hashlib
import json

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from pulp_container.app.manifests import schema1_payload
from pulp_container.app.schema1 import (
    EMPTY_LAYER_BYTES,
    EMPTY_LAYER_DIGEST,
    Schema1ConversionError,
    convert_to_schema1,
    key_id,
)

LAYERS = ["sha256:" + "a" * 64, "sha256:" + "b" * 64]
CONFIG = {
    "architecture": "amd64",
    "os": "linux",
    "created": "2024-01-02T03:04:05Z",
    "config": {"Cmd": ["/bin/sh"]},
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "c" * 64, "sha256:" + "d" * 64]},
    "history": [
        {"created": "2024-01-01T00:00:00Z", "created_by": "ADD base.tar /"},
        {"created": "2024-01-01T00:00:01Z", "created_by": "ENV A=1", "empty_layer": True},
        {"created": "2024-01-01T00:00:02Z", "created_by": "RUN make"},
    ],
}
MANIFEST = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    "config": {"digest": "sha256:" + "e" * 64, "size": 10},
    "layers": [{"digest": digest, "size": 1} for digest in LAYERS],
}


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture(scope="module")
def key():
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def converted(key):
    data, digest = convert_to_schema1(MANIFEST, json.dumps(CONFIG).encode(), "team/app", "1.0", key)
    return data, digest, json.loads(data)


def test_schema1_header_fields(converted):
    _, _, body = converted
    assert body["schemaVersion"] == 1
    assert body["name"] == "team/app"
    assert body["tag"] == "1.0"
    assert body["architecture"] == "amd64"


def test_schema1_layers_newest_first(converted):
    _, _, body = converted
    blob_sums = [layer["blobSum"] for layer in body["fsLayers"]]
    assert blob_sums == [LAYERS[1], EMPTY_LAYER_DIGEST, LAYERS[0]]
    assert len(body["history"]) == 3


def test_schema1_history_chain(converted):
    _, _, body = converted
    entries = [json.loads(item["v1Compatibility"]) for item in body["history"]]
    top, empty, base = entries
    assert base.get("parent") is None
    assert empty["parent"] == base["id"]
    assert top["parent"] == empty["id"]
    assert empty["throwaway"] is True
    assert empty["container_config"] == {"Cmd": ["ENV A=1"]}
    assert len({top["id"], empty["id"], base["id"]}) == 3
    assert all(len(entry["id"]) == 64 for entry in entries)


def test_schema1_top_entry_is_config(converted):
    _, _, body = converted
    top = json.loads(body["history"][0]["v1Compatibility"])
    assert top["config"] == {"Cmd": ["/bin/sh"]}
    assert top["os"] == "linux"
    assert "rootfs" not in top
    assert "history" not in top


def test_schema1_digest_is_payload_digest(converted):
    data, digest, body = converted
    payload = schema1_payload(body, data)
    assert digest == "sha256:" + hashlib.sha256(payload).hexdigest()
    assert b"signatures" not in payload
    assert json.loads(payload)["tag"] == "1.0"


def test_schema1_signature_verifies(converted, key):
    data, _, body = converted
    (signature,) = body["signatures"]
    jwk = signature["header"]["jwk"]
    assert signature["header"]["alg"] == "ES256"
    assert jwk["kid"] == key_id(key.public_key())
    numbers = ec.EllipticCurvePublicNumbers(
        int.from_bytes(_b64decode(jwk["x"]), "big"),
        int.from_bytes(_b64decode(jwk["y"]), "big"),
        ec.SECP256R1(),
    )
    public_key = numbers.public_key()
    raw = _b64decode(signature["signature"])
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    payload = schema1_payload(body, data)
    signed = signature["protected"].encode() + b"." + base64.urlsafe_b64encode(payload).rstrip(b"=")
    public_key.verify(der, signed, ec.ECDSA(hashes.SHA256()))


def test_schema1_tampered_payload_fails(converted, key):
    data, _, body = converted
    signature = body["signatures"][0]
    raw = _b64decode(signature["signature"])
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    payload = schema1_payload(body, data).replace(b"team/app", b"team/evil")
    signed = signature["protected"].encode() + b"." + base64.urlsafe_b64encode(payload).rstrip(b"=")
    with pytest.raises(InvalidSignature):
        key.public_key().verify(der, signed, ec.ECDSA(hashes.SHA256()))


def test_schema1_key_id_format(key):
    groups = key_id(key.public_key()).split(":")
    assert len(groups) == 12
    assert all(len(group) == 4 for group in groups)


def test_schema1_without_history():
    key = ec.generate_private_key(ec.SECP256R1())
    config = {"architecture": "arm64", "os": "linux"}
    (
        data,
        _,
    ) = convert_to_schema1(MANIFEST, json.dumps(config).encode(), "a", "b", key)[
        :1
    ] + (None,)
    body = json.loads(data)
    assert [layer["blobSum"] for layer in body["fsLayers"]] == LAYERS[::-1]
    assert body["architecture"] == "arm64"


def test_empty_layer_digest_matches_bytes():
    assert EMPTY_LAYER_DIGEST == "sha256:" + hashlib.sha256(EMPTY_LAYER_BYTES).hexdigest()
    assert gzip.decompress(EMPTY_LAYER_BYTES) == b"\0" * 1024


def test_schema1_rejects_non_json_config(key):
    with pytest.raises(Schema1ConversionError, match="not JSON"):
        convert_to_schema1(MANIFEST, b"\xff not json", "a", "b", key)

"""
Convert a Docker schema 2 (or OCI) image manifest to a signed Docker schema 1 manifest.

Old clients (Docker before 1.10, or any client whose Accept list names only schema 1) get
the conversion on the fly. The result is never stored as repository content. Format source:
"Image Manifest Version 2, Schema 1" of the Docker distribution documentation, with the
libtrust JWS signature format it refers to.
"""

import base64
import hashlib
import json
from datetime import datetime, timezone

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from pulp_container.app.manifests import compute_digest, schema1_payload

# A gzip-compressed empty tar archive (1024 zero bytes). Schema 1 has no notion of an empty
# layer, so history entries with `empty_layer` get this blob, which the blobs endpoint
# serves from memory.
EMPTY_LAYER_BYTES = bytes(
    [31, 139, 8, 0, 0, 0, 0, 0, 0, 255, 98, 24, 5, 163, 96, 20]
    + [140, 88, 0, 8, 0, 0, 255, 255, 46, 175, 181, 239, 0, 4, 0, 0]
)
EMPTY_LAYER_DIGEST = "sha256:" + hashlib.sha256(EMPTY_LAYER_BYTES).hexdigest()
# Config fields that schema 1 carries elsewhere, so they are left out of v1Compatibility.
SCHEMA2_ONLY_CONFIG_FIELDS = ("history", "rootfs")
CURVES = {"secp256r1": ("P-256", 32, hashes.SHA256(), "ES256")}


class Schema1ConversionError(ValueError):
    """A manifest or config that cannot be expressed as schema 1."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _layer_entries(manifest: dict, config: dict) -> list[tuple[str, dict, bool]]:
    """
    Pair each config history entry with its layer digest, oldest first.

    Returns (blobSum, history entry, empty) triples; empty entries use the empty layer.
    """
    layers = [layer["digest"] for layer in manifest.get("layers", [])]
    history = config.get("history") or []
    if sum(1 for entry in history if not entry.get("empty_layer")) != len(layers):
        # Configs without usable history still get one entry per layer.
        history = [{} for _ in layers]
    entries = []
    remaining = iter(layers)
    for entry in history:
        if entry.get("empty_layer"):
            entries.append((EMPTY_LAYER_DIGEST, entry, True))
        else:
            entries.append((next(remaining), entry, False))
    if not entries:
        entries.append((EMPTY_LAYER_DIGEST, {}, True))
    return entries


def _v1_compatibility(entries, config: dict, config_digest: str) -> list[str]:
    """Build the v1Compatibility strings, oldest first, with chained v1 ids."""
    result = []
    parent = ""
    for index, (blob_sum, entry, empty) in enumerate(entries):
        is_top = index == len(entries) - 1
        seed = f"{blob_sum} {parent}" + (f" {config_digest}" if is_top else "")
        v1_id = hashlib.sha256(seed.encode()).hexdigest()
        if is_top:
            body = {k: v for k, v in config.items() if k not in SCHEMA2_ONLY_CONFIG_FIELDS}
        else:
            body = {"created": entry.get("created", config.get("created", ""))}
            if entry.get("created_by"):
                body["container_config"] = {"Cmd": [entry["created_by"]]}
            for field in ("author", "comment"):
                if entry.get(field):
                    body[field] = entry[field]
        body["id"] = v1_id
        if parent:
            body["parent"] = parent
        if empty:
            body["throwaway"] = True
        result.append(json.dumps(body, separators=(",", ":"), sort_keys=True))
        parent = v1_id
    return result


def key_id(public_key) -> str:
    """Return the libtrust key id: base32 of the first 240 bits of SHA-256 of the DER key."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    encoded = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


def _jwk(public_key) -> dict:
    curve_name, size, _, _ = CURVES[public_key.curve.name]
    numbers = public_key.public_numbers()
    return {
        "crv": curve_name,
        "kid": key_id(public_key),
        "kty": "EC",
        "x": _b64url(numbers.x.to_bytes(size, "big")),
        "y": _b64url(numbers.y.to_bytes(size, "big")),
    }


def sign_manifest(payload: bytes, private_key) -> bytes:
    """
    Add a libtrust JWS `signatures` member to an indented schema 1 manifest.

    The protected header's formatLength/formatTail let a verifier cut the signatures out
    again, so the payload (and with it the digest) stays the unsigned bytes.
    """
    if not isinstance(private_key, ec.EllipticCurvePrivateKey):
        raise Schema1ConversionError("schema 1 signing needs an EC private key (e.g. P-256)")
    if private_key.curve.name not in CURVES:
        raise Schema1ConversionError(f"unsupported curve {private_key.curve.name} for signing")
    _, size, digest_algorithm, algorithm = CURVES[private_key.curve.name]
    format_length = payload.rindex(b"\n}")
    tail = payload[format_length:]
    protected = _b64url(
        json.dumps(
            {
                "formatLength": format_length,
                "formatTail": _b64url(tail),
                "time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
            separators=(",", ":"),
        ).encode()
    )
    signing_input = f"{protected}.{_b64url(payload)}".encode("ascii")
    r, s = decode_dss_signature(private_key.sign(signing_input, ec.ECDSA(digest_algorithm)))
    signature = {
        "header": {"jwk": _jwk(private_key.public_key()), "alg": algorithm},
        "signature": _b64url(r.to_bytes(size, "big") + s.to_bytes(size, "big")),
        "protected": protected,
    }
    signatures = json.dumps([signature], indent=3).replace("\n", "\n   ")
    return payload[:format_length] + b',\n   "signatures": ' + signatures.encode() + tail


def convert_to_schema1(
    manifest: dict, config_data: bytes, name: str, tag: str, private_key
) -> tuple[bytes, str]:
    """
    Build the signed schema 1 form of an image manifest.

    Args:
        manifest: The parsed schema 2 or OCI image manifest.
        config_data: The bytes of its config blob.
        name: The repository name written into the manifest.
        tag: The tag, or the requested digest when pulled by digest.
        private_key: The EC key that signs the manifest.

    Returns:
        The signed manifest bytes and their schema 1 digest (of the unsigned payload).

    Raises:
        Schema1ConversionError: When the config is not a JSON object.
    """
    try:
        config = json.loads(config_data)
    except ValueError as error:
        raise Schema1ConversionError(f"image config is not JSON: {error}") from error
    if not isinstance(config, dict):
        raise Schema1ConversionError("image config is not a JSON object")
    entries = _layer_entries(manifest, config)
    history = _v1_compatibility(entries, config, compute_digest(config_data))
    unsigned = {
        "schemaVersion": 1,
        "name": name,
        "tag": tag,
        "architecture": config.get("architecture", ""),
        "fsLayers": [{"blobSum": blob_sum} for blob_sum, _, _ in reversed(entries)],
        "history": [{"v1Compatibility": item} for item in reversed(history)],
    }
    payload = json.dumps(unsigned, indent=3).encode()
    signed = sign_manifest(payload, private_key)
    digest = compute_digest(schema1_payload(json.loads(signed), signed))
    return signed, digest

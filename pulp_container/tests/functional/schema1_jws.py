"""Verify a libtrust JWS-signed Docker schema 1 manifest the way Docker clients do."""

import base64
import json

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

# JWS "alg" → (curve, hash, byte length of r and of s)
ALGORITHMS = {
    "ES256": (ec.SECP256R1(), hashes.SHA256(), 32),
    "ES384": (ec.SECP384R1(), hashes.SHA384(), 48),
    "ES512": (ec.SECP521R1(), hashes.SHA512(), 66),
}


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwk_public_key(jwk: dict) -> ec.EllipticCurvePublicKey:
    """Build the EC public key of a JWK with `crv`, `x` and `y`."""
    curve = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(), "P-521": ec.SECP521R1()}
    numbers = ec.EllipticCurvePublicNumbers(
        int.from_bytes(b64url_decode(jwk["x"]), "big"),
        int.from_bytes(b64url_decode(jwk["y"]), "big"),
        curve[jwk["crv"]],
    )
    return numbers.public_key()


def verify_schema1(signed: bytes) -> tuple[bytes, list[dict]]:
    """
    Check every signature of a signed schema 1 manifest against its embedded JWK.

    Returns:
        The payload (the manifest without `signatures`, whose sha256 is its digest) and the
        signature entries.

    Raises:
        cryptography.exceptions.InvalidSignature: When a signature does not verify.
        AssertionError: When the signatures disagree about the payload.
    """
    signatures = json.loads(signed)["signatures"]
    payloads = set()
    for entry in signatures:
        protected = json.loads(b64url_decode(entry["protected"]))
        payload = signed[: protected["formatLength"]] + b64url_decode(protected["formatTail"])
        payloads.add(payload)
        (
            curve,
            digest,
            size,
        ) = ALGORITHMS[entry["header"]["alg"]]
        raw = b64url_decode(entry["signature"])
        assert len(raw) == 2 * size, f"signature has {len(raw)} bytes, expected {2 * size}"
        der = encode_dss_signature(
            int.from_bytes(raw[:size], "big"), int.from_bytes(raw[size:], "big")
        )
        signing_input = f"{entry['protected']}.{b64url_encode(payload)}".encode("ascii")
        jwk_public_key(entry["header"]["jwk"]).verify(der, signing_input, ec.ECDSA(digest))
    assert len(payloads) == 1, "signatures cover different payloads"
    return payloads.pop(), signatures

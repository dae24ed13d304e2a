"""Checks of the repository names, tags and digests that push requests carry."""

import re

from pulp_container.app.registry.errors import RegistryError
from pulp_container.constants import NAME_PATTERN, TAG_PATTERN

NAME_RE = re.compile(NAME_PATTERN)
TAG_RE = re.compile(TAG_PATTERN)
# Many clients limit `<registry host>/<name>` to 255 characters (OCI distribution spec), so
# a longer name alone can never be pulled.
NAME_MAX_LENGTH = 255
# The digest algorithms that blobs and manifests may be pushed with, and their hex lengths.
# Artifacts store sha256 and sha512 checksums, so other algorithms cannot be verified.
BLOB_DIGEST_LENGTHS = {"sha256": 64, "sha512": 128}


def check_name(name: str) -> None:
    """
    Check a repository name against the grammar of the OCI distribution spec.

    Raises:
        RegistryError: NAME_INVALID, naming the rule that the name breaks.
    """
    if len(name) > NAME_MAX_LENGTH:
        raise RegistryError(
            "NAME_INVALID",
            detail={"name": name},
            message=f"Repository name is longer than {NAME_MAX_LENGTH} characters",
        )
    if not NAME_RE.fullmatch(name):
        raise RegistryError(
            "NAME_INVALID",
            detail={"name": name},
            message=(
                "Repository name must be lowercase path components of letters and digits, "
                "joined by '.', '_', '__' or '-'"
            ),
        )


def is_digest_reference(reference: str) -> bool:
    """Return whether a manifest reference is a digest (tags cannot contain ':')."""
    return ":" in reference


def check_tag(tag: str) -> None:
    """
    Check a tag against `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.

    Raises:
        RegistryError: TAG_INVALID with the tag.
    """
    if not TAG_RE.fullmatch(tag):
        raise RegistryError(
            "TAG_INVALID",
            detail={"tag": tag},
            message=(
                "Tag must be 1 to 128 letters, digits, '_', '.' or '-', and must not start "
                "with '.' or '-'"
            ),
        )


def parse_digest(digest: str) -> tuple[str, str]:
    """
    Split a `sha256:<hex>` or `sha512:<hex>` digest into algorithm and lowercase hex.

    Raises:
        RegistryError: DIGEST_INVALID when the digest is malformed or uses another algorithm.
    """
    algorithm, _, hex_digest = digest.partition(":")
    length = BLOB_DIGEST_LENGTHS.get(algorithm)
    if length is None:
        raise RegistryError(
            "DIGEST_INVALID",
            detail={"digest": digest},
            message="Digest algorithm is not supported; use sha256 or sha512",
        )
    if len(hex_digest) != length or not re.fullmatch("[0-9a-f]+", hex_digest):
        raise RegistryError(
            "DIGEST_INVALID",
            detail={"digest": digest},
            message=f"Digest must be '{algorithm}:' followed by {length} lowercase hex digits",
        )
    return algorithm, hex_digest

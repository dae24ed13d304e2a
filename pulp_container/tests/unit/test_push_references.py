"""Checks of repository names, tags and digests on push."""

import pytest

from pulp_container.app.registry.errors import RegistryError
from pulp_container.app.registry.push_references import (
    check_name,
    check_tag,
    is_digest_reference,
    parse_digest,
)

SHA256 = "sha256:" + "a" * 64
SHA512 = "sha512:" + "b" * 128


@pytest.mark.parametrize("name", ["app", "team/app", "a.b/c_d/e__f", "x-y--z/0", "a" * 255])
def test_name_valid(name):
    check_name(name)


@pytest.mark.parametrize(
    "name", ["App", "team//app", "/app", "app/", "-app", "app-", "a_-b", "a" * 256, "ns/Bad"]
)
def test_name_invalid(name):
    with pytest.raises(RegistryError) as raised:
        check_name(name)
    assert raised.value.code == "NAME_INVALID"
    assert raised.value.detail == {"name": name}


@pytest.mark.parametrize("tag", ["latest", "1.0", "_x", "A-b.c_d", "a" * 128])
def test_tag_valid(tag):
    check_tag(tag)


@pytest.mark.parametrize("tag", ["", "-x", ".x", "a/b", "a" * 129, "tag!"])
def test_tag_invalid(tag):
    with pytest.raises(RegistryError) as raised:
        check_tag(tag)
    assert raised.value.code == "TAG_INVALID"


def test_digest_reference():
    assert is_digest_reference(SHA256)
    assert not is_digest_reference("latest")


@pytest.mark.parametrize("digest", [SHA256, SHA512])
def test_digest_valid(digest):
    algorithm, hex_digest = parse_digest(digest)
    assert f"{algorithm}:{hex_digest}" == digest


@pytest.mark.parametrize(
    "digest",
    [
        "md5:" + "a" * 32,
        "sha256:" + "a" * 63,
        "sha256:" + "A" * 64,
        "sha256:" + "g" * 64,
        "sha512:" + "a" * 64,
        "sha256" + "a" * 64,
        "",
    ],
)
def test_digest_invalid(digest):
    with pytest.raises(RegistryError) as raised:
        parse_digest(digest)
    assert raised.value.code == "DIGEST_INVALID"
    assert raised.value.status == 400

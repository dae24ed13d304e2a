"""Accept header parsing: repeated and comma-joined headers, q-values, wildcards."""

import pytest

from pulp_container.app.registry.negotiation import parse_accept
from pulp_container.constants import (
    DOCKER_MANIFEST_LIST,
    DOCKER_MANIFEST_V1_SIGNED,
    DOCKER_MANIFEST_V2,
    OCI_INDEX,
    OCI_MANIFEST,
)


def test_accept_missing_means_legacy_client():
    accept = parse_accept([])
    assert accept.given is False
    assert accept.accepts_schema1() is True
    assert accept.accepts(DOCKER_MANIFEST_V2) is False


def test_accept_repeated_headers():
    accept = parse_accept([DOCKER_MANIFEST_V2, OCI_MANIFEST])
    assert accept.accepts(DOCKER_MANIFEST_V2)
    assert accept.accepts(OCI_MANIFEST)
    assert not accept.accepts(OCI_INDEX)
    assert not accept.accepts_schema1()


def test_accept_comma_joined_with_spaces():
    accept = parse_accept([f"{DOCKER_MANIFEST_LIST} , {OCI_INDEX};q=0.9"])
    assert accept.accepts(DOCKER_MANIFEST_LIST)
    assert accept.accepts(OCI_INDEX)
    assert not accept.accepts(DOCKER_MANIFEST_V2)


@pytest.mark.parametrize("value", ["*/*", "application/*", "*/*;q=0.1"])
def test_accept_wildcards(value):
    accept = parse_accept([value])
    assert accept.accepts(OCI_INDEX)
    assert accept.accepts(DOCKER_MANIFEST_V2)


def test_accept_zero_quality_excludes():
    accept = parse_accept([f"{DOCKER_MANIFEST_V2};q=0, {OCI_MANIFEST}; q=0.5"])
    assert not accept.accepts(DOCKER_MANIFEST_V2)
    assert accept.accepts(OCI_MANIFEST)
    assert accept.given is True


def test_accept_malformed_quality_excludes():
    accept = parse_accept([f"{DOCKER_MANIFEST_V2};q=abc"])
    assert not accept.accepts(DOCKER_MANIFEST_V2)


def test_accept_case_insensitive():
    accept = parse_accept([DOCKER_MANIFEST_V2.upper()])
    assert accept.accepts(DOCKER_MANIFEST_V2)


def test_accept_schema1_only():
    accept = parse_accept([DOCKER_MANIFEST_V1_SIGNED])
    assert accept.accepts_schema1() is True
    assert accept.accepts(DOCKER_MANIFEST_V2) is False


def test_accept_schema1_zero_quality():
    accept = parse_accept([f"{DOCKER_MANIFEST_V1_SIGNED};q=0"])
    assert accept.accepts_schema1() is False

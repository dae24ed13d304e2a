"""Validation of the names and references in pull requests."""

import pytest

from pulp_container.app.registry.errors import RegistryError
from pulp_container.app.registry.lookup import check_name
from pulp_container.app.registry.manifests import check_reference

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize("reference", ["1.0\n", DIGEST + "\n", "", "-tag", "a" * 129])
def test_invalid_reference_rejected(reference):
    with pytest.raises(RegistryError) as raised:
        check_reference(reference)
    assert raised.value.code == "MANIFEST_UNKNOWN"
    assert "invalid manifest reference" in raised.value.message


@pytest.mark.parametrize("reference", ["1.0", "latest", "v1_2-rc.3", DIGEST])
def test_valid_reference_accepted(reference):
    check_reference(reference)


@pytest.mark.parametrize("name", ["team/app\n", "Team/app", "team//app", "/team"])
def test_invalid_name_rejected(name):
    with pytest.raises(RegistryError) as raised:
        check_name(name)
    assert raised.value.code == "NAME_INVALID"

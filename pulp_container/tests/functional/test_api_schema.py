"""The served OpenAPI schema offers every operation of the published container API."""

from pathlib import Path

import pytest

OPERATIONS_FILE = Path(__file__).parent / "data" / "container-api-operations.txt"
METHODS = ("get", "post", "put", "patch", "delete")


def _published_operations() -> set:
    operations = set()
    for line in OPERATIONS_FILE.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        method, path, operation_id = line.split("\t")
        operations.add((method, path, operation_id))
    return operations


@pytest.fixture(scope="module")
def served_operations(api) -> set:
    schema = api.get("/pulp/api/v3/docs/api.json")
    operations = set()
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                operations.add((method.upper(), path, item[method]["operationId"]))
    return operations


def test_schema_has_published_operations(served_operations):
    published = _published_operations()
    assert len(published) == 115
    missing = sorted(published - served_operations)
    assert missing == [], f"{len(missing)} published operations are missing: {missing}"


@pytest.mark.parametrize("action", ["build_image", "sign"])
def test_unbuilt_action_not_supported(api, unique_name, action):
    endpoint = "/pulp/api/v3/repositories/container/container/"
    href = api.post(endpoint, {"name": unique_name("unbuilt")})["pulp_href"]

    response = api.session.post(api.url(f"{href}{action}/"), json={})

    assert response.status_code == 501
    assert "not supported" in response.json()["detail"]

"""Range parsing for blobs served from memory: closed, open-ended, suffix, unsatisfiable."""

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from pulp_container.app.registry.ranges import parse_range, serve_bytes

DATA = bytes(range(100))


def _request(value: str | None):
    headers = {} if value is None else {"Range": value}
    return make_mocked_request("GET", "/v2/a/blobs/sha256:x", headers=headers)


@pytest.mark.parametrize(
    "value,expected",
    [
        (None, None),
        ("bytes=0-9", (0, 10)),
        ("bytes=90-", (90, 100)),
        ("bytes=-10", (90, 100)),
        ("bytes=95-200", (95, 100)),
        ("bytes=-500", (0, 100)),
    ],
)
def test_range_parsed(value, expected):
    assert parse_range(_request(value), len(DATA)) == expected


@pytest.mark.parametrize("value", ["bytes=100-", "bytes=200-300", "bytes=5-2", "items=1-2"])
def test_range_unsatisfiable(value):
    with pytest.raises(web.HTTPRequestRangeNotSatisfiable) as error:
        parse_range(_request(value), len(DATA))
    assert error.value.headers["Content-Range"] == "bytes */100"


def test_range_response_partial():
    response = serve_bytes(_request("bytes=10-19"), DATA, {})
    assert response.status == 206
    assert response.body == DATA[10:20]
    assert response.headers["Content-Range"] == "bytes 10-19/100"


def test_range_response_whole():
    response = serve_bytes(_request(None), DATA, {"X": "1"})
    assert response.status == 200
    assert response.body == DATA
    assert "Content-Range" not in response.headers

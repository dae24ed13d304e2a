"""Page parameters (n, last) and the Link header of tags/list and _catalog."""

import pytest
from aiohttp.test_utils import make_mocked_request

from pulp_container.app.registry.errors import RegistryError
from pulp_container.app.registry.pagination import (
    MAX_PAGE_SIZE,
    paginate,
    parse_page,
)


def _page(query: str):
    return parse_page(make_mocked_request("GET", f"/v2/a/tags/list{query}"))


def test_page_without_n_is_all():
    assert _page("") == (None, None)


def test_page_n_and_last():
    assert _page("?n=5&last=v1") == (5, "v1")


def test_page_n_capped():
    assert _page(f"?n={MAX_PAGE_SIZE * 10}") == (MAX_PAGE_SIZE, None)


@pytest.mark.parametrize("value", ["-1", "x", "1.5"])
def test_page_invalid_n(value):
    with pytest.raises(RegistryError) as error:
        _page(f"?n={value}")
    assert error.value.status == 400
    assert error.value.detail == {"n": value}


def test_paginate_more_pages():
    page, headers = paginate(["a", "b", "c"], 2, "/v2/x/tags/list")
    assert page == ["a", "b"]
    assert headers == {"Link": '</v2/x/tags/list?n=2&last=b>; rel="next"'}


def test_paginate_last_page():
    page, headers = paginate(["a", "b"], 2, "/v2/x/tags/list")
    assert page == ["a", "b"]
    assert headers == {}


def test_paginate_all():
    page, headers = paginate(["a", "b", "c"], None, "/v2/_catalog")
    assert page == ["a", "b", "c"]
    assert headers == {}


def test_paginate_zero():
    page, headers = paginate(["a"], 0, "/v2/_catalog")
    assert page == []
    assert headers == {}


def test_paginate_escapes_last():
    _, headers = paginate(["a/b", "c"], 1, "/v2/_catalog")
    assert headers["Link"] == '</v2/_catalog?n=1&last=a%2Fb>; rel="next"'

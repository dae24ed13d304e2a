"""The `n` and `last` query parameters and the `Link` header of tag and catalog listings."""

from urllib.parse import urlencode

from aiohttp import web

from pulp_container.app.registry.errors import RegistryError

# NOTE: a bound on `n`, so that one request cannot ask for an unlimited page; the spec
# lets a registry return fewer entries than asked for, with a Link to the rest.
MAX_PAGE_SIZE = 10000


def parse_page(request: web.Request) -> tuple[int | None, str | None]:
    """
    Return (n, last) from the query; n is None when the client asked for all entries.

    Raises:
        RegistryError: UNSUPPORTED (400) when `n` is not a non-negative integer.
    """
    last = request.query.get("last") or None
    raw = request.query.get("n")
    if raw is None or raw == "":
        return None, last
    try:
        size = int(raw)
    except ValueError:
        size = -1
    if size < 0:
        raise RegistryError(
            "UNSUPPORTED",
            status=400,
            detail={"n": raw},
            message="invalid page size: n must be a non-negative integer",
        )
    return min(size, MAX_PAGE_SIZE), last


def page_link(path: str, size: int, last: str) -> str:
    """Build the `Link` header value that points to the next page."""
    return f'<{path}?{urlencode({"n": size, "last": last})}>; rel="next"'


def paginate(names: list[str], size: int | None, path: str) -> tuple[list[str], dict[str, str]]:
    """
    Cut a sorted list (fetched with one entry more than `size`) to a page.

    Returns:
        The page and the response headers (with `Link` when another page follows).
    """
    if size is None or len(names) <= size:
        return names, {}
    page = names[:size]
    if not page:
        return page, {}
    return page, {"Link": page_link(path, size, page[-1])}

"""Serve in-memory bytes with HTTP Range support (RFC 9110, section 14)."""

from aiohttp import web


def parse_range(request: web.Request, size: int) -> tuple[int, int] | None:
    """
    Return the [start, stop) slice the request's Range header asks for, or None for all.

    Raises:
        HTTPRequestRangeNotSatisfiable: With `Content-Range: bytes */<size>`, as
            aiohttp's FileResponse does for stored blobs.
    """
    if "Range" not in request.headers:
        return None
    unsatisfiable = web.HTTPRequestRangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"})
    try:
        requested = request.http_range
    except ValueError:
        raise unsatisfiable from None
    start, stop = requested.start, requested.stop
    if start is None and stop is None:
        return None
    if start is None:
        start = 0
    if start < 0:
        start = max(size + start, 0)
    stop = size if stop is None else min(stop, size)
    if start >= size or start >= stop:
        raise unsatisfiable
    return start, stop


def serve_bytes(request: web.Request, data: bytes, headers: dict[str, str]) -> web.Response:
    """Return `data` whole (200) or the requested range of it (206)."""
    window = parse_range(request, len(data))
    if window is None:
        return web.Response(body=data, headers=headers)
    start, stop = window
    headers = {**headers, "Content-Range": f"bytes {start}-{stop - 1}/{len(data)}"}
    return web.Response(status=206, body=data[start:stop], headers=headers)

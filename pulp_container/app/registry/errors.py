"""
Registry error codes and the `{"errors": [...]}` envelope of the distribution spec.

Handlers raise `RegistryError`; the middleware in `registry.middleware` renders it.
"""

import json
from http import HTTPStatus

from aiohttp import web

from pulp_container.constants import API_VERSION_HEADER, API_VERSION_VALUE

# Spec code → (HTTP status, default message), from the OCI distribution spec's error table.
ERROR_CODES = {
    "BLOB_UNKNOWN": (HTTPStatus.NOT_FOUND, "blob unknown to registry"),
    "BLOB_UPLOAD_INVALID": (HTTPStatus.BAD_REQUEST, "blob upload invalid"),
    "BLOB_UPLOAD_UNKNOWN": (HTTPStatus.NOT_FOUND, "blob upload unknown to registry"),
    "DIGEST_INVALID": (HTTPStatus.BAD_REQUEST, "provided digest did not match uploaded content"),
    "MANIFEST_BLOB_UNKNOWN": (
        HTTPStatus.BAD_REQUEST,
        "manifest references a manifest or blob unknown to registry",
    ),
    "MANIFEST_INVALID": (HTTPStatus.BAD_REQUEST, "manifest invalid"),
    "MANIFEST_UNKNOWN": (HTTPStatus.NOT_FOUND, "manifest unknown to registry"),
    "NAME_INVALID": (HTTPStatus.BAD_REQUEST, "invalid repository name"),
    "NAME_UNKNOWN": (HTTPStatus.NOT_FOUND, "repository name not known to registry"),
    "SIZE_INVALID": (HTTPStatus.BAD_REQUEST, "provided length did not match content length"),
    "UNAUTHORIZED": (HTTPStatus.UNAUTHORIZED, "authentication required"),
    "DENIED": (HTTPStatus.FORBIDDEN, "requested access to the resource is denied"),
    "UNSUPPORTED": (HTTPStatus.METHOD_NOT_ALLOWED, "the operation is unsupported"),
    "TOOMANYREQUESTS": (HTTPStatus.TOO_MANY_REQUESTS, "too many requests"),
    # Not in the OCI table, but used by the Docker registry API for tags and 5xx errors.
    "TAG_INVALID": (HTTPStatus.BAD_REQUEST, "manifest tag did not match URI"),
    "UNKNOWN": (HTTPStatus.INTERNAL_SERVER_ERROR, "unknown error"),
}


class RegistryError(Exception):
    """
    An error that the registry returns to the client in the spec's envelope.

    Args:
        code: A key of ERROR_CODES.
        detail: The digest, name or reference involved, or a dict with more facts.
        message: Replaces the default message of the code.
        status: Replaces the default HTTP status of the code, where the spec names another.
        headers: Extra response headers, e.g. `Range` on 416 or `WWW-Authenticate` on 401.
    """

    def __init__(self, code, detail=None, message=None, status=None, headers=None):
        default_status, default_message = ERROR_CODES[code]
        self.code = code
        self.detail = detail
        self.message = message or default_message
        self.status = int(status or default_status)
        self.headers = headers or {}
        super().__init__(f"{code}: {self.message} ({detail})")

    def to_response(self, method: str = "GET") -> web.Response:
        """Render the error envelope with its status and headers."""
        body = {"errors": [{"code": self.code, "message": self.message, "detail": self.detail}]}
        headers = {API_VERSION_HEADER: API_VERSION_VALUE, **self.headers}
        if method == "HEAD":
            return web.Response(status=self.status, headers=headers)
        return web.Response(
            status=self.status,
            headers=headers,
            body=json.dumps(body),
            content_type="application/json",
        )

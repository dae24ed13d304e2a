"""
A v2 registry imitation on 127.0.0.1 that serves in-memory images and injects faults.

It serves the read side a sync uses: tag list, manifest HEAD/GET by tag or digest, and
blob GET. A path with a registered `Fault` misbehaves instead, with an HTTP error, a body
cut short, a wrong `Docker-Content-Digest`, a replaced body, or a stall.
"""

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional
from urllib.parse import urlsplit

from pulp_container.tests.functional.images import Image
from pulp_container.tests.functional.upstream import free_port


@dataclass
class Fault:
    """
    How the registry misbehaves on one path.

    Fields:
        status: Respond with this HTTP status and a registry error body.
        truncate: Send the full Content-Length but only half the body, then close.
        digest_header: Send this `Docker-Content-Digest` instead of the real one.
        body: Send these bytes as the body (with `content_type`) instead of the real one.
        stall_seconds: Send the headers, then wait this long before the body.
        hang_seconds: Wait this long before sending anything.
        times: Misbehave this many times, then answer normally; None means always.
    """

    status: Optional[int] = None
    truncate: bool = False
    digest_header: Optional[str] = None
    body: Optional[bytes] = None
    content_type: Optional[str] = None
    stall_seconds: float = 0
    hang_seconds: float = 0
    times: Optional[int] = None


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    digest: Optional[str] = None


class FaultyRegistry:
    """
    A threaded HTTP server that imitates a v2 registry without auth.

    `add(name, tag, image)` publishes an image; `faults[path] = Fault(...)` makes `path`
    (e.g. `/v2/name/manifests/tag`) misbehave; `requests` lists (method, path) seen.
    """

    def __init__(self) -> None:
        self.tags: dict[str, dict[str, Image]] = {}
        self.manifests: dict[str, dict[str, Image]] = {}
        self.blobs: dict[str, dict[str, bytes]] = {}
        self.faults: dict[str, Fault] = {}
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler_class())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add(self, name: str, tag: str, image: Image) -> None:
        """Publish `image` (and the images it lists) as `name:tag`."""
        with self.lock:
            self.tags.setdefault(name, {})[tag] = image
            self._add_manifest(name, image)

    def _add_manifest(self, name: str, image: Image) -> None:
        self.manifests.setdefault(name, {})[image.digest] = image
        for blob in image.blobs:
            self.blobs.setdefault(name, {})[blob.digest] = blob.data
        for listed in image.images:
            self._add_manifest(name, listed)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def take_fault(self, path: str) -> Optional[Fault]:
        """Return the fault of `path` and count one use of it."""
        with self.lock:
            fault = self.faults.get(path)
            if fault is None:
                return None
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    del self.faults[path]
            return fault

    def route(self, path: str) -> Response:
        """Return the normal response for a GET of `path`."""
        parts = urlsplit(path).path.split("/")
        if path.rstrip("/") == "/v2":
            return Response(200, b"{}")
        if len(parts) < 5 or parts[1] != "v2":
            return _error(404, "NAME_UNKNOWN")
        kind, reference = parts[-2], parts[-1]
        name = "/".join(parts[2:-2])
        with self.lock:
            if parts[-2:] == ["tags", "list"]:
                tags = sorted(self.tags.get(name, {}))
                return Response(200, json.dumps({"name": name, "tags": tags}).encode())
            if kind == "manifests":
                image = self.tags.get(name, {}).get(reference)
                image = image or self.manifests.get(name, {}).get(reference)
                if image is None:
                    return _error(404, "MANIFEST_UNKNOWN")
                return Response(200, image.manifest_bytes, image.media_type, image.digest)
            if kind == "blobs":
                data = self.blobs.get(name, {}).get(reference)
                if data is None:
                    return _error(404, "BLOB_UNKNOWN")
                return Response(200, data, "application/octet-stream", reference)
        return _error(404, "NAME_UNKNOWN")

    def _handler_class(self):
        registry = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                self.answer(send_body=True)

            def do_HEAD(self):
                self.answer(send_body=False)

            def answer(self, send_body: bool) -> None:
                path = urlsplit(self.path).path
                with registry.lock:
                    registry.requests.append((self.command, path))
                fault = registry.take_fault(path) or Fault()
                if fault.hang_seconds:
                    time.sleep(fault.hang_seconds)
                response = registry.route(self.path)
                if fault.status is not None:
                    response = _error(fault.status, "UNKNOWN")
                if fault.body is not None:
                    response.body = fault.body
                    response.content_type = fault.content_type or response.content_type
                digest = fault.digest_header or response.digest

                self.send_response(response.status)
                self.send_header("Content-Type", response.content_type)
                self.send_header("Content-Length", str(len(response.body)))
                self.send_header("Docker-Distribution-API-Version", "registry/2.0")
                if digest and response.status == 200:
                    self.send_header("Docker-Content-Digest", digest)
                if fault.truncate:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                if not send_body:
                    return
                self.wfile.flush()
                if fault.stall_seconds:
                    time.sleep(fault.stall_seconds)
                body = response.body[: len(response.body) // 2] if fault.truncate else response.body
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            def log_message(self, format, *args):
                pass

        return Handler


def _error(status: int, code: str) -> Response:
    body = {"errors": [{"code": code, "message": f"injected {code.lower()}", "detail": None}]}
    return Response(status, json.dumps(body).encode())

"""
Real upstream registries for sync tests: Debian's `docker-registry` (CNCF distribution 2.8).

Each registry runs on 127.0.0.1 with its own storage and one of three auth modes: none,
basic (htpasswd) or token (a small token issuer in this module signs the tokens).
"""

import base64
import datetime
import json
import re
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ACCESS_LOG_LINE = re.compile(r'"(GET|HEAD|PUT|POST|PATCH|DELETE) (\S+) HTTP/[\d.]+" (\d{3})')
TOKEN_SERVICE = "upstream-registry"
TOKEN_ISSUER = "upstream-token-issuer"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class TokenIssuer:
    """
    A Docker token server for the upstream registry.

    Anonymous callers get `pull` only; callers with the right basic-auth credentials get every
    action they ask for. Tokens live `lifetime` seconds, so tests can make them expire.
    """

    def __init__(self, folder: Path, username: str, password: str, lifetime: int = 300):
        self.username = username
        self.password = password
        self.lifetime = lifetime
        self.issued = 0
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, TOKEN_ISSUER)])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(self.key, hashes.SHA256())
        )
        self.bundle_path = folder / "token-root.pem"
        self.bundle_path.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))
        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler_class())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def issue(self, authorization: str | None, scopes: list) -> str:
        """Sign a token granting `scopes`, reduced to pull for anonymous callers."""
        authenticated = False
        if authorization and authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization[6:]).decode()
            authenticated = decoded == f"{self.username}:{self.password}"
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            granted = actions.split(",") if authenticated else ["pull"]
            access.append({"type": kind, "name": name, "actions": granted})
        now = int(time.time())
        claims = {
            "iss": TOKEN_ISSUER,
            "sub": self.username if authenticated else "",
            "aud": TOKEN_SERVICE,
            "iat": now,
            "nbf": now - 5,
            "exp": now + self.lifetime,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        chain = [
            base64.b64encode(self.certificate.public_bytes(serialization.Encoding.DER)).decode()
        ]
        self.issued += 1
        return jwt.encode(claims, self.key, algorithm="ES256", headers={"x5c": chain})

    def _handler_class(self):
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                query = parse_qs(urlsplit(self.path).query)
                authorization = self.headers.get("Authorization")
                if authorization and not _valid_basic(authorization, issuer):
                    self.send_response(401)
                    self.end_headers()
                    return
                token = issuer.issue(authorization, query.get("scope", []))
                body = json.dumps(
                    {"token": token, "access_token": token, "expires_in": issuer.lifetime}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format, *args):
                pass

        return Handler


def _valid_basic(authorization: str, issuer: TokenIssuer) -> bool:
    if not authorization.startswith("Basic "):
        return False
    decoded = base64.b64decode(authorization[6:]).decode()
    return decoded == f"{issuer.username}:{issuer.password}"


class UpstreamRegistry:
    """
    One `docker-registry` process with its config, storage and access log.

    Args:
        folder: A folder of its own for config, storage and logs.
        auth: `none`, `basic` or `token`.
    """

    def __init__(self, folder: Path, auth: str = "none", token_lifetime: int = 300):
        if shutil.which("docker-registry") is None:
            raise RuntimeError(
                "docker-registry is not installed. Run dev/install-system-packages.sh test."
            )
        self.folder = folder
        self.auth = auth
        self.username = "upstream-user"
        self.password = "upstream-password"
        self.port = free_port()
        self.token_issuer = None
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "config.yml").write_text(json.dumps(self._config(token_lifetime), indent=2))
        self.log_path = folder / "registry.log"
        self.process = subprocess.Popen(
            ["docker-registry", "serve", str(folder / "config.yml")],
            stdout=self.log_path.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_until_ready()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def _config(self, token_lifetime: int) -> dict:
        config = {
            "version": 0.1,
            "log": {"level": "info", "accesslog": {"disabled": False}, "formatter": "text"},
            "storage": {
                "filesystem": {"rootdirectory": str(self.folder / "storage")},
                "delete": {"enabled": True},
            },
            "http": {"addr": self.host, "secret": uuid.uuid4().hex},
            "compatibility": {"schema1": {"enabled": True}},
            "validation": {"manifests": {"urls": {"allow": ["^https?://"]}}},
        }
        if self.auth == "basic":
            htpasswd = self.folder / "htpasswd"
            output = subprocess.run(
                ["htpasswd", "-Bbn", self.username, self.password],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            htpasswd.write_text(output)
            config["auth"] = {"htpasswd": {"realm": "upstream", "path": str(htpasswd)}}
        elif self.auth == "token":
            self.token_issuer = TokenIssuer(
                self.folder, self.username, self.password, lifetime=token_lifetime
            )
            config["auth"] = {
                "token": {
                    "realm": self.token_issuer.realm,
                    "service": TOKEN_SERVICE,
                    "issuer": TOKEN_ISSUER,
                    "rootcertbundle": str(self.token_issuer.bundle_path),
                }
            }
        return config

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"docker-registry exited at start-up: {self.log_path.read_text()[-2000:]}"
                )
            try:
                requests.get(f"{self.url}/v2/", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError(f"docker-registry did not answer on {self.url} within 30 s")

    def client(self):
        """Return a RegistryClient with push rights on this registry."""
        from pulp_container.tests.functional.registry_client import RegistryClient

        if self.auth == "none":
            return RegistryClient(self.url)
        return RegistryClient(self.url, self.username, self.password)

    def remote_credentials(self) -> dict:
        """Return the fields a Pulp remote needs to sync from this registry."""
        if self.auth == "none":
            return {"url": self.url}
        return {"url": self.url, "username": self.username, "password": self.password}

    def requests_seen(self) -> list:
        """Return (method, path, status) for every request in the access log so far."""
        lines = self.log_path.read_text(errors="replace").splitlines()
        return [
            (match.group(1), match.group(2), int(match.group(3)))
            for line in lines
            if (match := ACCESS_LOG_LINE.search(line))
        ]

    def request_counts(self, since: int = 0) -> Counter:
        """Count requests by kind (tags_list, manifest_get, manifest_head, blob_get, ...)."""
        counts = Counter()
        for method, path, _ in self.requests_seen()[since:]:
            if path.startswith("/v2/") and "/tags/list" in path:
                counts["tags_list"] += 1
            elif "/manifests/" in path:
                counts[f"manifest_{method.lower()}"] += 1
            elif "/blobs/" in path:
                counts[f"blob_{method.lower()}"] += 1
            else:
                counts["other"] += 1
        return counts

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if self.token_issuer:
            self.token_issuer.stop()

"""A small v2 registry client for tests: raw HTTP with basic or Bearer token auth."""

import re
import urllib.parse

import requests

CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


class RegistryClient:
    """
    Send registry requests, answering a 401 Bearer challenge with a token from its realm.

    Args:
        base_url: The registry origin, e.g. `http://127.0.0.1:5000`.
        username: Credentials for basic auth and for the token server; anonymous when None.
        password: The password of `username`.
    """

    def __init__(self, base_url: str, username: str | None = None, password: str | None = None):
        self.base_url = base_url.rstrip("/")
        self.auth = (username, password) if username else None
        self.session = requests.Session()
        self.tokens = {}
        self.token_requests = 0

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        """Send a request; on a 401 with a challenge, authenticate once and resend it."""
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        headers = dict(kwargs.pop("headers", {}) or {})
        # Writes get a token of their own, because a pull token lacks the push scope.
        scope_key = (self._scope_key(url), method not in ("GET", "HEAD"))
        if scope_key in self.tokens:
            headers["Authorization"] = f"Bearer {self.tokens[scope_key]}"
        elif self.auth:
            headers.setdefault("Authorization", requests.auth._basic_auth_str(*self.auth))
        response = self.session.request(method, url, headers=headers, **kwargs)
        challenge = response.headers.get("WWW-Authenticate", "")
        if response.status_code != 401 or not challenge.startswith("Bearer "):
            return response
        token = self.fetch_token(challenge)
        self.tokens[scope_key] = token
        headers["Authorization"] = f"Bearer {token}"
        return self.session.request(method, url, headers=headers, **kwargs)

    def fetch_token(self, challenge: str, scope: str | None = None) -> str:
        """Ask the realm of a Bearer challenge for a token, as docker and skopeo do."""
        params = dict(CHALLENGE_PARAM.findall(challenge))
        realm = params.pop("realm")
        params.pop("error", None)
        if scope:
            params["scope"] = scope
        self.token_requests += 1
        reply = self.session.get(realm, params=params, auth=self.auth, timeout=30)
        reply.raise_for_status()
        body = reply.json()
        return body.get("token") or body["access_token"]

    @staticmethod
    def _scope_key(url: str) -> str:
        path = urllib.parse.urlsplit(url).path
        match = re.match(r"/v2/(.+?)/(manifests|blobs|tags)/", path)
        return match.group(1) if match else path

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def head(self, path: str, **kwargs) -> requests.Response:
        return self.request("HEAD", path, **kwargs)

    def put(self, path: str, **kwargs) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def upload_blob(self, name: str, data: bytes, digest: str) -> None:
        """Upload one blob monolithically (POST, then PUT with the digest)."""
        if self.head(f"/v2/{name}/blobs/{digest}").status_code == 200:
            return
        start = self.post(f"/v2/{name}/blobs/uploads/")
        assert start.status_code == 202, f"upload start failed: {start.status_code} {start.text}"
        location = urllib.parse.urljoin(self.base_url + "/", start.headers["Location"])
        separator = "&" if "?" in location else "?"
        done = self.put(
            f"{location}{separator}digest={digest}",
            data=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        assert done.status_code == 201, f"upload of {digest} failed: {done.status_code} {done.text}"

    def put_manifest(self, name: str, reference: str, body: bytes, media_type: str) -> str:
        """PUT a manifest and return the Docker-Content-Digest of the reply."""
        reply = self.put(
            f"/v2/{name}/manifests/{reference}", data=body, headers={"Content-Type": media_type}
        )
        assert reply.status_code == 201, f"manifest PUT failed: {reply.status_code} {reply.text}"
        return reply.headers.get("Docker-Content-Digest")

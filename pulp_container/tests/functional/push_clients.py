"""A registry client for push tests that requests push and delete scope up front."""

import re
import urllib.parse

from pulp_container.tests.functional.registry_client import RegistryClient

PUSH_SCOPE_ACTIONS = "pull,push,delete"


class PushClient(RegistryClient):
    """
    A RegistryClient that fetches one `pull,push,delete` token per repository name.

    Docker and skopeo request the push scope before the first request of a push. The base
    client only reacts to challenges, so a pull token from a HEAD would be reused for the
    following POST, which the registry rejects.
    """

    def request(self, method: str, path: str, **kwargs):
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        key = self._scope_key(url)
        if self.auth and not key.startswith("/") and key not in self.tokens:
            self.tokens[key] = self.fetch_token(
                self.challenge(), scope=f"repository:{key}:{PUSH_SCOPE_ACTIONS}"
            )
        return super().request(method, url, **kwargs)

    def challenge(self) -> str:
        """Return the Bearer challenge of `GET /v2/` (realm and service of the token server)."""
        reply = self.session.get(f"{self.base_url}/v2/")
        return reply.headers["WWW-Authenticate"]

    def token_for(self, *scopes: str) -> str:
        """Fetch a token for several `repository:<name>:<actions>` scopes, as docker does."""
        challenge = dict(re.findall(r'(\w+)="([^"]*)"', self.challenge()))
        params = [("service", challenge["service"])] + [("scope", scope) for scope in scopes]
        reply = self.session.get(challenge["realm"], params=params, auth=self.auth, timeout=30)
        reply.raise_for_status()
        return reply.json()["token"]

    @staticmethod
    def _scope_key(url: str) -> str:
        path = urllib.parse.urlsplit(url).path
        for keyword in ("/manifests/", "/blobs/", "/tags/"):
            if path.startswith("/v2/") and keyword in path:
                return path[len("/v2/") : path.index(keyword)]
        return path

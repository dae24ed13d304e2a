"""Issue and verify the bearer tokens of the Docker token protocol (JWT signed by Pulp)."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import jwt
from django.conf import settings

from pulp_container.app.auth.keys import private_key, public_key
from pulp_container.app.auth.scopes import Scope

TOKEN_ISSUER = "pulp_container"
# Clock difference between token server and registry that verification tolerates, in seconds.
LEEWAY_SECONDS = 10


class InvalidToken(Exception):
    """A bearer token that is malformed, expired, or signed or addressed wrongly."""


@dataclass(frozen=True)
class TokenClaims:
    """
    The verified claims of a token.

    Fields:
        username: The Pulp user the token was issued to, or "" for an anonymous caller.
        access: The granted actions, keyed by (type, name).
    """

    username: str
    access: dict[tuple[str, str], frozenset[str]]

    def granted(self, resource_type: str, name: str) -> frozenset[str]:
        """Return the actions granted on one resource."""
        return self.access.get((resource_type, name), frozenset())


def registry_service() -> str:
    """Return the service name of this registry, the `host:port` of CONTENT_ORIGIN."""
    return urlsplit(settings.CONTENT_ORIGIN).netloc


def token_server_url() -> str:
    """Return the token server URL that the Bearer challenge names as realm."""
    return settings.TOKEN_SERVER or settings.CONTENT_ORIGIN.rstrip("/") + "/token/"


def issue_token(username: str, service: str, scopes: list[Scope]) -> dict:
    """
    Sign a token for the granted scopes and return the token server's JSON response body.

    The caller has already reduced `scopes` to what the user may do.
    """
    issued_at = datetime.now(timezone.utc).replace(microsecond=0)
    lifetime = int(settings.TOKEN_EXPIRATION_TIME)
    claims = {
        "iss": TOKEN_ISSUER,
        "sub": username,
        "aud": service,
        "iat": issued_at,
        "nbf": issued_at,
        "exp": issued_at + timedelta(seconds=lifetime),
        "jti": uuid.uuid4().hex,
        "access": [scope.to_claim() for scope in scopes if scope.actions],
    }
    token = jwt.encode(claims, private_key(), algorithm=settings.TOKEN_SIGNATURE_ALGORITHM)
    return {
        "token": token,
        "access_token": token,
        "expires_in": lifetime,
        "issued_at": issued_at.isoformat().replace("+00:00", "Z"),
    }


def verify_token(token: str, service: str) -> TokenClaims:
    """
    Check signature (with the pinned algorithm), expiry, issuer and audience of a token.

    Raises:
        InvalidToken: With the reason, for logging only; clients get the generic code.
    """
    try:
        claims = jwt.decode(
            token,
            public_key(),
            algorithms=[settings.TOKEN_SIGNATURE_ALGORITHM],
            audience=service,
            issuer=TOKEN_ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud"]},
        )
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error)) from error
    access: dict[tuple[str, str], frozenset[str]] = {}
    for entry in claims.get("access") or []:
        try:
            key = (str(entry["type"]), str(entry["name"]))
            access[key] = access.get(key, frozenset()) | frozenset(entry["actions"])
        except (KeyError, TypeError) as error:
            raise InvalidToken(f"malformed access entry {entry!r}") from error
    return TokenClaims(username=str(claims.get("sub") or ""), access=access)

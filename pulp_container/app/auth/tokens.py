"""Issue and verify the bearer tokens of the Docker token protocol (JWT signed by Pulp)."""

import time
import uuid
from collections import OrderedDict
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
# Maximum number of verified tokens that each process keeps, because clients reuse a token.
VERIFIED_TOKENS_KEPT = 4096


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


# Tokens whose signature, issuer and audience this process has checked, with their expiry.
# Keyed by token, service, key file and algorithm, with the least recently used first.
_verified: OrderedDict[tuple[str, ...], tuple[float, "TokenClaims"]] = OrderedDict()


def verify_token(token: str, service: str) -> TokenClaims:
    """
    Check signature (with the pinned algorithm), expiry, issuer and audience of a token.

    A token that passed once is remembered until its expiry, so that the many requests of
    one pull pay for one signature check. The expiry is checked again on every call.

    Raises:
        InvalidToken: With the reason, for logging only; clients get the generic code.
    """
    key = (token, service, settings.PUBLIC_KEY_PATH, settings.TOKEN_SIGNATURE_ALGORITHM)
    remembered = _verified.get(key)
    if remembered is not None:
        expires_at, claims = remembered
        if time.time() <= expires_at + LEEWAY_SECONDS:
            _verified.move_to_end(key)
            return claims
        del _verified[key]
        raise InvalidToken("Signature has expired")
    expires_at, claims = _verify_signed_token(token, service)
    _verified[key] = (expires_at, claims)
    if len(_verified) > VERIFIED_TOKENS_KEPT:
        _verified.popitem(last=False)
    return claims


def _verify_signed_token(token: str, service: str) -> tuple[float, TokenClaims]:
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
    username = str(claims.get("sub") or "")
    return float(claims["exp"]), TokenClaims(username=username, access=access)

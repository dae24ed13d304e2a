"""
The registry's authorization entry point: `authorize(request, name, actions) -> Access`.

Handlers of pull and push call `authorize` before touching a repository. It reads the
Bearer token (or, with TOKEN_AUTH_DISABLED, the Pulp user of HTTP basic auth) and either
returns the granted `Access` or raises the RegistryError that the client must see.
"""

import logging
from dataclasses import dataclass, field

from aiohttp import web
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model

from pulp_container.app.auth.permissions import permitted_actions
from pulp_container.app.auth.scopes import REPOSITORY, Scope, expand_actions
from pulp_container.app.auth.tokens import (
    InvalidToken,
    TokenClaims,
    registry_service,
    token_server_url,
    verify_token,
)
from pulp_container.app.registry.errors import RegistryError

log = logging.getLogger(__name__)

# Key of the verified token claims in the aiohttp request, set once per request.
CLAIMS_KEY = "container_token_claims"


@dataclass
class Access:
    """
    What a caller may do on one resource, as granted by `authorize`.

    Fields:
        username: The Pulp user, or "" for an anonymous caller.
        resource_type: `repository` or `registry`.
        name: The repository name (or `catalog`).
        actions: The granted actions; `pull` is included whenever `push` is.
        user: The Django user when already loaded; use `aget_user()` to load it.
    """

    username: str
    resource_type: str
    name: str
    actions: frozenset[str]
    user: object = field(default=None, repr=False)

    async def aget_user(self):
        """Return the Django user (AnonymousUser for ""), loading it from the database once."""
        if self.user is None:
            self.user = await _aget_user(self.username)
        return self.user


async def _aget_user(username: str):
    from django.contrib.auth.models import AnonymousUser

    if not username:
        return AnonymousUser()
    user = await get_user_model().objects.filter(username=username, is_active=True).afirst()
    return user or AnonymousUser()


async def _would_grant(username: str, needed: Scope) -> bool:
    """
    Tell whether the token server would grant `needed` to `username` now.

    Only the failure path of `authorize` asks, to choose between a 401 challenge (the client
    fetches a token with the missing scope) and 403 DENIED (the user lacks the permission).
    """
    user = await _aget_user(username)
    if not user.is_authenticated:
        return False
    permitted = await sync_to_async(permitted_actions)(user, needed)
    return needed.actions <= expand_actions(permitted)


def token_auth_enabled() -> bool:
    """Tell whether the registry requires Bearer tokens (the default) or basic auth."""
    return not settings.TOKEN_AUTH_DISABLED


def bearer_challenge(scope: Scope | None = None, error: str | None = None) -> str:
    """Build the WWW-Authenticate value that sends clients to the token server."""
    parts = [f'realm="{token_server_url()}"', f'service="{registry_service()}"']
    if scope is not None:
        parts.append(f'scope="{scope}"')
    if error:
        parts.append(f'error="{error}"')
    return "Bearer " + ",".join(parts)


def basic_challenge() -> str:
    """Build the WWW-Authenticate value of basic-auth mode."""
    return f'Basic realm="{registry_service()}"'


def _unauthorized(scope: Scope | None, error: str | None = None) -> RegistryError:
    if token_auth_enabled():
        challenge = bearer_challenge(scope, error)
    else:
        challenge = basic_challenge()
    detail = None if scope is None else [scope.to_claim()]
    return RegistryError("UNAUTHORIZED", detail=detail, headers={"WWW-Authenticate": challenge})


def request_claims(request: web.Request, scope: Scope | None = None) -> TokenClaims:
    """
    Verify the request's Bearer token once and return its claims.

    Raises:
        RegistryError: UNAUTHORIZED with a Bearer challenge for `scope` when the token is
            missing or invalid.
    """
    claims = request.get(CLAIMS_KEY)
    if claims is not None:
        return claims
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized(scope)
    try:
        claims = verify_token(token.strip(), registry_service())
    except InvalidToken as error:
        log.info("Rejected bearer token: path=%s reason=%s", request.path, error)
        raise _unauthorized(scope, "invalid_token") from error
    request[CLAIMS_KEY] = claims
    return claims


async def authenticate(request: web.Request) -> Access:
    """
    Identify the caller of `GET /v2/` without asking for any scope.

    Token mode needs a valid token of any scope. Basic-auth mode admits anonymous callers,
    because anonymous users may pull public content.
    """
    if token_auth_enabled():
        claims = request_claims(request)
        return Access(claims.username, "registry", "", frozenset())
    user = request.get("user")
    username = user.username if user is not None and user.is_authenticated else ""
    return Access(username, "registry", "", frozenset(), user=user)


async def authorize(
    request: web.Request,
    name: str,
    actions: set[str],
    resource_type: str = REPOSITORY,
    distribution=...,
) -> Access:
    """
    Check that the caller may take `actions` on `resource_type:name`, and return the grant.

    Token mode (the default) runs no database query: the token server already decided the
    grant, and the token's signature, expiry, audience and `access` claim are checked here.
    With TOKEN_AUTH_DISABLED the Pulp user of HTTP basic auth (request["user"], set by
    pulpcore's content middleware) is checked by `permissions.permitted_actions`.
    `distribution` may pass an already loaded ContainerDistribution (or None) to save a
    query in basic-auth mode.

    Args:
        request: The aiohttp request.
        name: The repository name, e.g. "team/app", or "catalog" for the registry type.
        actions: The needed actions, e.g. {"pull"} or {"pull", "push"}.

    Returns:
        The Access with all granted actions on the resource, `pull` included with `push`.

    Raises:
        RegistryError: UNAUTHORIZED (401, with a Bearer or Basic challenge naming the scope)
            when the caller is anonymous, the token is missing or invalid, or the token lacks
            a scope that its user would be granted (`error="insufficient_scope"`), and DENIED
            (403) when an authenticated user lacks the permission.
    """
    needed = Scope(resource_type, name, frozenset(actions))
    if token_auth_enabled():
        claims = request_claims(request, needed)
        granted = expand_actions(claims.granted(resource_type, name))
        if not needed.actions <= granted:
            log.info(
                "Token lacks scope: user=%s scope=%s granted=%s",
                claims.username or "<anonymous>",
                needed,
                sorted(granted),
            )
            if claims.username and not await _would_grant(claims.username, needed):
                raise RegistryError("DENIED", detail=[needed.to_claim()])
            raise _unauthorized(needed, "insufficient_scope")
        return Access(claims.username, resource_type, name, granted)

    user = request.get("user")
    granted = expand_actions(
        await sync_to_async(permitted_actions)(user, needed, distribution=distribution)
    )
    if not needed.actions <= granted:
        if not user.is_authenticated:
            raise _unauthorized(needed)
        raise RegistryError("DENIED", detail=[needed.to_claim()])
    return Access(user.username, resource_type, name, granted, user=user)

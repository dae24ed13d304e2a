"""The built-in token server of the Docker token protocol, served at `/token/`."""

import logging

from aiohttp import web
from asgiref.sync import sync_to_async

from pulp_container.app.auth.access import basic_challenge
from pulp_container.app.auth.permissions import permitted_actions
from pulp_container.app.auth.scopes import Scope, parse_scopes
from pulp_container.app.auth.tokens import issue_token, registry_service
from pulp_container.app.registry.errors import RegistryError

log = logging.getLogger(__name__)


def _grant_scopes(user, scopes: list[Scope]) -> list[Scope]:
    return [Scope(s.type, s.name, permitted_actions(user, s)) for s in scopes]


async def token_view(request: web.Request) -> web.Response:
    """
    Issue a token for the `scope` parameters, reduced to what the caller may do.

    The caller is the Pulp user of the basic `Authorization` header, or anonymous without
    one. Bad credentials get 401; scopes the user may not have are left out of the token
    (the registry then rejects the request), as the Docker token protocol specifies.
    """
    try:
        scopes = parse_scopes(request.query.getall("scope", []))
    except ValueError as error:
        raise RegistryError("UNSUPPORTED", detail=str(error), message=str(error), status=400)
    service = request.query.get("service") or registry_service()

    user = request["user"]
    if request.headers.get("Authorization") and not user.is_authenticated:
        log.info("Token request with invalid credentials: account=%s", request.query.get("account"))
        raise RegistryError(
            "UNAUTHORIZED",
            message="invalid username or password",
            headers={"WWW-Authenticate": basic_challenge()},
        )

    granted = await sync_to_async(_grant_scopes)(user, scopes)
    username = user.username if user.is_authenticated else ""
    log.debug("Issued token: user=%s scopes=%s", username, [str(s) for s in granted])
    return web.json_response(issue_token(username, service, granted))

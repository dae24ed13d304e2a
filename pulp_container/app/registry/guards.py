"""
Content guards of distributions, applied to pulls through the registry API.

A distribution's `content_guard` protects its content on `/pulp/content/` and, through
`load_guarded`, on `/v2/<name>/manifests`, `/blobs` and `/tags/list` as well. The guard
runs after the registry's own `authorize()`, so a pull needs both. In token mode the DRF
request that guards read (e.g. the RBAC content guard) carries the user named by the token.
"""

import logging

from aiohttp import web
from asgiref.sync import sync_to_async

from pulp_container.app.auth.access import Access
from pulp_container.app.auth.authentication import ensure_drf_request
from pulp_container.app.models import ContainerDistribution
from pulp_container.app.registry.errors import RegistryError
from pulp_container.app.registry.lookup import (
    ContentGuardCheckNeeded,
    permitted_guarded_distribution,
)

log = logging.getLogger(__name__)


def _permit(request: web.Request, distribution: ContainerDistribution) -> None:
    guard = distribution.content_guard.cast()
    try:
        guard.permit(request)
    except PermissionError as error:
        log.info(
            "Content guard denied a registry request: guard=%s path=%s reason=%s",
            guard.name,
            request.path,
            error,
        )
        raise RegistryError(
            "DENIED",
            detail={"name": distribution.base_path, "content_guard": guard.name},
            message="the content guard of this distribution denied the request",
        ) from error


async def check_content_guard(
    request: web.Request, access: Access, distribution: ContainerDistribution
) -> None:
    """
    Run the distribution's content guard on the request.

    Raises:
        RegistryError: DENIED (403) when the guard rejects the request.
    """
    drf_request = await ensure_drf_request(request)
    if access.username and not drf_request.user.is_authenticated:
        # A Bearer token names the user; DRF's authentication classes do not read tokens.
        drf_request.user = await access.aget_user()
    await sync_to_async(_permit)(request, distribution)


async def load_guarded(request: web.Request, access: Access, load, *args):
    """
    Call the synchronous `load(*args)` in a thread, running the content guard when needed.

    `load` must look its distribution up with `lookup.get_served_version`. Distributions
    without a guard cost one thread hop; guarded ones are checked, then loaded again.
    """
    # NOTE: asgiref runs every thread-sensitive call of the process in one shared thread, so
    # lookups wait for each other's database round trips.
    threaded_load = sync_to_async(load)
    try:
        return await threaded_load(*args)
    except ContentGuardCheckNeeded as needed:
        distribution = needed.distribution
    await check_content_guard(request, access, distribution)
    permitted_guarded_distribution.set(distribution.pk)
    return await threaded_load(*args)

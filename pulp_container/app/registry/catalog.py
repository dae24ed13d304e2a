"""`GET /v2/_catalog`: the repository names the caller may pull, with n/last paging."""

from aiohttp import web
from asgiref.sync import sync_to_async

from pulp_container.app.auth.access import authorize
from pulp_container.app.auth.permissions import pullable_distributions
from pulp_container.app.auth.scopes import ALL_ACTIONS, CATALOG, REGISTRY
from pulp_container.app.models import ContainerDistribution
from pulp_container.app.registry.pagination import paginate, parse_page
from pulp_container.constants import API_VERSION_HEADER, API_VERSION_VALUE


def _load_names(user, size: int | None, last: str | None) -> list[str]:
    distributions = pullable_distributions(user, ContainerDistribution.objects.all())
    names = distributions.order_by("base_path").values_list("base_path", flat=True)
    if last:
        names = names.filter(base_path__gt=last)
    if size is not None:
        names = names[: size + 1]
    return list(names)


async def get_catalog(request: web.Request) -> web.Response:
    """Return `{"repositories": [...]}`, listing only what the caller may pull."""
    size, last = parse_page(request)
    access = await authorize(request, CATALOG, {ALL_ACTIONS}, resource_type=REGISTRY)
    user = await access.aget_user()
    names = await sync_to_async(_load_names)(user, size, last)
    page, headers = paginate(names, size, request.path)
    headers[API_VERSION_HEADER] = API_VERSION_VALUE
    return web.json_response({"repositories": page}, headers=headers)

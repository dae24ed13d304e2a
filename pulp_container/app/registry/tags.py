"""`GET /v2/<name>/tags/list`: the tags of a repository, sorted, with n/last paging."""

from aiohttp import web

from pulp_container.app.auth.access import authorize
from pulp_container.app.auth.scopes import PULL
from pulp_container.app.models import Tag
from pulp_container.app.registry.guards import load_guarded
from pulp_container.app.registry.lookup import check_name, get_served_version
from pulp_container.app.registry.pagination import paginate, parse_page
from pulp_container.constants import API_VERSION_HEADER, API_VERSION_VALUE


def _load_tag_names(name: str, size: int | None, last: str | None) -> list[str]:
    served = get_served_version(name)
    names = served.content(Tag.objects).order_by("name").values_list("name", flat=True)
    if last:
        names = names.filter(name__gt=last)
    if size is not None:
        names = names[: size + 1]
    return list(names)


async def list_tags(request: web.Request) -> web.Response:
    """Return `{"name", "tags"}`; all tags unless `n` is given."""
    name = request.match_info["path"]
    check_name(name)
    size, last = parse_page(request)
    access = await authorize(request, name, {PULL})
    names = await load_guarded(request, access, _load_tag_names, name, size, last)
    page, headers = paginate(names, size, request.path)
    headers[API_VERSION_HEADER] = API_VERSION_VALUE
    return web.json_response({"name": name, "tags": page}, headers=headers)

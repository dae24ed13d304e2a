"""Registry handler stub; the implementation follows."""

from pulp_container.app.registry.errors import RegistryError


async def get_manifest(request):
    """Not implemented yet."""
    raise RegistryError("UNSUPPORTED")

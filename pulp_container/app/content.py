"""
Registry routes on pulpcore's content app.

pulpcore imports `<plugin>.app.content` when the content app starts, before it adds its own
catch-all route, so the registry's `/v2/` and `/token/` routes are added here.
"""

from pulpcore.plugin.content import app

from pulp_container.app.auth.authentication import install_registry_authentication
from pulp_container.app.registry.middleware import registry_errors
from pulp_container.app.registry.routes import add_registry_routes

install_registry_authentication(app)
app.middlewares.append(registry_errors)
add_registry_routes(app)

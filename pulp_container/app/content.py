"""
Registry routes on pulpcore's content app.

pulpcore imports `<plugin>.app.content` when the content app starts, before it adds its own
catch-all route, so the registry's `/v2/` and `/token/` routes are added here.
"""

from pulpcore.plugin.content import app

from pulp_container.app.auth.credentials import restore_cached_user, use_cached_credentials
from pulp_container.app.registry.middleware import registry_errors
from pulp_container.app.registry.routes import add_registry_routes

# The credentials cache must run before pulpcore's authentication middleware (which checks
# the password) and restore the user after it, so it wraps that middleware.
app.middlewares.insert(0, use_cached_credentials)
app.middlewares.append(restore_cached_user)
app.middlewares.append(registry_errors)
add_registry_routes(app)

"""Default settings of the container plugin. Override them in the Pulp settings file."""

# URL of the token server that registry clients are sent to by the 401 Bearer challenge.
# When unset, the content app serves the token server at CONTENT_ORIGIN + "/token/".
TOKEN_SERVER = None
# Serve the registry without tokens; pulls and pushes then use HTTP basic auth.
TOKEN_AUTH_DISABLED = False
TOKEN_SIGNATURE_ALGORITHM = "ES256"
PUBLIC_KEY_PATH = None
PRIVATE_KEY_PATH = None
# Lifetime of an issued token, in seconds.
TOKEN_EXPIRATION_TIME = 300

# Hours after its last received chunk when an unfinished blob upload session counts as
# abandoned; it is then removed with its partial file (see docs/push.md).
UPLOAD_SESSION_TIMEOUT = 24

# Adds the conditions of the container access policies to pulpcore's.
DRF_ACCESS_POLICY = {
    "dynaconf_merge_unique": True,
    "reusable_conditions": ["pulp_container.app.global_access_conditions"],
}

"""Access policies of the container REST endpoints."""

# NOTE: every authenticated user may do everything until per-object roles are defined;
# anonymous users get 401 from pulpcore's authentication before any policy runs.
AUTHENTICATED_ALLOW_ALL = {
    "statements": [
        {"action": "*", "principal": "authenticated", "effect": "allow"},
    ],
    "queryset_scoping": {"function": "scope_queryset"},
}

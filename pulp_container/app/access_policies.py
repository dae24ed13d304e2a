"""
Default access policies and locked roles of the container REST endpoints.

Each viewset sets `DEFAULT_ACCESS_POLICY` and `LOCKED_ROLES` to one pair of constants from this
module. pulpcore copies both into the database on migrate, where administrators may change the
policies. The conditions that are not pulpcore's live in `global_access_conditions`.

Role names and their permissions follow the published container API, so that role assignments
made for it keep their meaning here.
"""

# The statement shared by most endpoints: any authenticated user may list, and the queryset
# scoping limits the list to what the user may view.
_LIST_FOR_AUTHENTICATED = {
    "action": ["list", "my_permissions"],
    "principal": "authenticated",
    "effect": "allow",
}


def _owner_hook(role: str) -> list:
    """Return creation hooks that give the user who creates an object the given role on it."""
    return [{"function": "add_roles_for_object_creator", "parameters": {"roles": role}}]


def _allow(actions: list, *conditions: str) -> dict:
    """Return a statement that allows authenticated users the actions when all conditions hold."""
    return {
        "action": actions,
        "principal": "authenticated",
        "effect": "allow",
        "condition": list(conditions),
    }


# Content: blobs, manifests, tags and signatures. Listing is scoped to the repositories the user
# can view, and labels need pulpcore's content labeler role.
CONTENT_ACCESS_POLICY = {
    "statements": [
        {"action": ["list", "retrieve"], "principal": "authenticated", "effect": "allow"},
        _allow(
            ["set_label", "unset_label"], "has_model_or_domain_perms:core.manage_content_labels"
        ),
    ],
    "queryset_scoping": {"function": "scope_queryset"},
}

# Remotes of synced repositories.
REMOTE_ACCESS_POLICY = {
    "statements": [
        _LIST_FOR_AUTHENTICATED,
        _allow(["retrieve"], "has_model_or_domain_or_obj_perms:container.view_containerremote"),
        _allow(["create"], "has_model_or_domain_perms:container.add_containerremote"),
        _allow(
            ["update", "partial_update", "set_label", "unset_label"],
            "has_model_or_domain_or_obj_perms:container.change_containerremote",
            "has_model_or_domain_or_obj_perms:container.view_containerremote",
        ),
        _allow(
            ["destroy"],
            "has_model_or_domain_or_obj_perms:container.delete_containerremote",
            "has_model_or_domain_or_obj_perms:container.view_containerremote",
        ),
        _allow(
            ["list_roles", "add_role", "remove_role"],
            "has_model_or_domain_or_obj_perms:container.manage_roles_containerremote",
        ),
    ],
    "creation_hooks": _owner_hook("container.containerremote_owner"),
    "queryset_scoping": {"function": "scope_queryset"},
}

REMOTE_LOCKED_ROLES = {
    "container.containerremote_creator": ["container.add_containerremote"],
    "container.containerremote_owner": [
        "container.view_containerremote",
        "container.change_containerremote",
        "container.delete_containerremote",
        "container.manage_roles_containerremote",
    ],
    "container.containerremote_viewer": ["container.view_containerremote"],
}

# Remotes of pull-through caches.
PULL_THROUGH_REMOTE_ACCESS_POLICY = {
    "statements": [
        _LIST_FOR_AUTHENTICATED,
        _allow(
            ["retrieve"],
            "has_model_or_domain_or_obj_perms:container.view_containerpullthroughremote",
        ),
        _allow(["create"], "has_model_or_domain_perms:container.add_containerpullthroughremote"),
        _allow(
            ["update", "partial_update", "set_label", "unset_label"],
            "has_model_or_domain_or_obj_perms:container.change_containerpullthroughremote",
            "has_model_or_domain_or_obj_perms:container.view_containerpullthroughremote",
        ),
        _allow(
            ["destroy"],
            "has_model_or_domain_or_obj_perms:container.delete_containerpullthroughremote",
            "has_model_or_domain_or_obj_perms:container.view_containerpullthroughremote",
        ),
        _allow(
            ["list_roles", "add_role", "remove_role"],
            "has_model_or_domain_or_obj_perms:container.manage_roles_containerpullthroughremote",
        ),
    ],
    "creation_hooks": _owner_hook("container.containerpullthroughremote_owner"),
    "queryset_scoping": {"function": "scope_queryset"},
}

PULL_THROUGH_REMOTE_LOCKED_ROLES = {
    "container.containerpullthroughremote_creator": ["container.add_containerpullthroughremote"],
    "container.containerpullthroughremote_owner": [
        "container.view_containerpullthroughremote",
        "container.change_containerpullthroughremote",
        "container.delete_containerpullthroughremote",
        "container.manage_roles_containerpullthroughremote",
    ],
    "container.containerpullthroughremote_viewer": ["container.view_containerpullthroughremote"],
}

# Repositories that are synced and curated through the REST API.
_REPOSITORY_VIEW = "has_model_or_domain_or_obj_perms:container.view_containerrepository"
_REPOSITORY_MODIFY = "has_model_or_domain_or_obj_perms:container.modify_content_containerrepository"
_REMOTE_PARAM_VIEW = "has_remote_param_model_or_domain_or_obj_perms:container.view_containerremote"

REPOSITORY_ACCESS_POLICY = {
    "statements": [
        _LIST_FOR_AUTHENTICATED,
        _allow(["retrieve"], _REPOSITORY_VIEW),
        _allow(
            ["create"],
            "has_model_or_domain_perms:container.add_containerrepository",
            _REMOTE_PARAM_VIEW,
        ),
        _allow(
            ["update", "partial_update", "set_label", "unset_label"],
            "has_model_or_domain_or_obj_perms:container.change_containerrepository",
            _REPOSITORY_VIEW,
            _REMOTE_PARAM_VIEW,
        ),
        _allow(
            ["destroy"],
            "has_model_or_domain_or_obj_perms:container.delete_containerrepository",
            _REPOSITORY_VIEW,
        ),
        _allow(
            ["sync"],
            "has_model_or_domain_or_obj_perms:container.sync_containerrepository",
            _REPOSITORY_VIEW,
            _REMOTE_PARAM_VIEW,
        ),
        _allow(
            ["add", "remove", "modify"],
            _REPOSITORY_MODIFY,
            _REPOSITORY_VIEW,
            "has_base_version_param_perms",
        ),
        _allow(["tag", "untag"], _REPOSITORY_MODIFY, _REPOSITORY_VIEW),
        _allow(
            ["copy_tags", "copy_manifests"],
            _REPOSITORY_MODIFY,
            _REPOSITORY_VIEW,
            "has_source_repository_param_perms",
        ),
        _allow(
            ["build_image"],
            "has_model_or_domain_or_obj_perms:container.build_image_containerrepository",
            _REPOSITORY_VIEW,
        ),
        _allow(
            ["sign"],
            "has_model_or_domain_or_obj_perms:container.sign_containerrepository",
            _REPOSITORY_VIEW,
        ),
        _allow(
            ["list_roles", "add_role", "remove_role"],
            "has_model_or_domain_or_obj_perms:container.manage_roles_containerrepository",
        ),
        # OCI layout export and import read and write files on the server, like pulpcore's
        # exporters, so only administrators may start them.
        {
            "action": ["export_oci_layout", "import_oci_layout"],
            "principal": "admin",
            "effect": "allow",
        },
    ],
    "creation_hooks": _owner_hook("container.containerrepository_owner"),
    "queryset_scoping": {"function": "scope_queryset"},
}

REPOSITORY_LOCKED_ROLES = {
    "container.containerrepository_creator": ["container.add_containerrepository"],
    "container.containerrepository_owner": [
        "container.view_containerrepository",
        "container.change_containerrepository",
        "container.delete_containerrepository",
        "container.delete_containerrepository_versions",
        "container.sync_containerrepository",
        "container.modify_content_containerrepository",
        "container.build_image_containerrepository",
        "container.sign_containerrepository",
        "container.repair_containerrepository",
        "container.manage_roles_containerrepository",
    ],
    "container.containerrepository_content_manager": [
        "container.view_containerrepository",
        "container.delete_containerrepository_versions",
        "container.sync_containerrepository",
        "container.modify_content_containerrepository",
        "container.build_image_containerrepository",
        "container.sign_containerrepository",
    ],
    "container.containerrepository_viewer": ["container.view_containerrepository"],
}

_VERSION_REPOSITORY_VIEW = (
    "has_repository_model_or_domain_or_obj_perms:container.view_containerrepository"
)

REPOSITORY_VERSION_ACCESS_POLICY = {
    "statements": [
        _allow(["list", "retrieve"], _VERSION_REPOSITORY_VIEW),
        _allow(
            ["destroy"],
            "has_repository_model_or_domain_or_obj_perms:"
            "container.delete_containerrepository_versions",
            _VERSION_REPOSITORY_VIEW,
        ),
        _allow(
            ["repair"],
            "has_repository_model_or_domain_or_obj_perms:container.repair_containerrepository",
            _VERSION_REPOSITORY_VIEW,
        ),
    ],
}

# Repositories that the registry makes on the first push. Besides roles on the repository
# itself, the roles on the namespace of the distribution that serves it count.
_PUSH_REPOSITORY_VIEW = "has_namespace_or_obj_perms:container.view_containerpushrepository"

PUSH_REPOSITORY_ACCESS_POLICY = {
    "statements": [
        _LIST_FOR_AUTHENTICATED,
        _allow(["retrieve"], _PUSH_REPOSITORY_VIEW),
        _allow(
            ["update", "partial_update", "set_label", "unset_label"],
            "has_namespace_or_obj_perms:container.change_containerpushrepository",
            _PUSH_REPOSITORY_VIEW,
        ),
        _allow(
            ["tag", "untag", "remove_image", "sign", "remove_signatures"],
            "has_namespace_or_obj_perms:container.modify_content_containerpushrepository",
            _PUSH_REPOSITORY_VIEW,
        ),
        _allow(
            ["list_roles", "add_role", "remove_role"],
            "has_model_or_domain_or_obj_perms:container.manage_roles_containerpushrepository",
        ),
        # `migrate` has no statement, so only administrators reach it.
    ],
    "creation_hooks": _owner_hook("container.containerpushrepository_owner"),
    "queryset_scoping": {"function": "scope_queryset"},
}

PUSH_REPOSITORY_LOCKED_ROLES = {
    "container.containerpushrepository_owner": [
        "container.view_containerpushrepository",
        "container.change_containerpushrepository",
        "container.modify_content_containerpushrepository",
        "container.delete_containerpushrepository_versions",
        "container.sign_containerpushrepository",
        "container.repair_containerpushrepository",
        "container.manage_roles_containerpushrepository",
    ],
    "container.containerpushrepository_collaborator": [
        "container.view_containerpushrepository",
        "container.change_containerpushrepository",
        "container.modify_content_containerpushrepository",
        "container.sign_containerpushrepository",
    ],
    "container.containerpushrepository_consumer": ["container.view_containerpushrepository"],
}

PUSH_REPOSITORY_VERSION_ACCESS_POLICY = {
    "statements": [
        _allow(
            ["list", "retrieve"], "has_push_repository_perms:container.view_containerpushrepository"
        ),
        _allow(
            ["destroy"],
            "has_push_repository_perms:container.delete_containerpushrepository_versions",
            "has_push_repository_perms:container.view_containerpushrepository",
        ),
        _allow(
            ["repair"],
            "has_push_repository_perms:container.repair_containerpushrepository",
            "has_push_repository_perms:container.view_containerpushrepository",
        ),
    ],
}

# Distributions: the registry repository names. Public distributions are visible to everyone;
# roles on the namespace of the first path segment count like roles on the distribution.
# The `repository` or `repository_version` of the body may be a container or a push repository.
_REPOSITORY_PARAM_VIEW = "has_repository_param_perms"

DISTRIBUTION_ACCESS_POLICY = {
    "statements": [
        _LIST_FOR_AUTHENTICATED,
        _allow(["retrieve"], "distribution_is_public"),
        _allow(["retrieve"], "has_namespace_or_obj_perms:container.view_containerdistribution"),
        _allow(["create"], "has_namespace_model_perms", _REPOSITORY_PARAM_VIEW),
        _allow(
            ["create"],
            "has_namespace_param_perms:container.namespace_add_containerdistribution",
            _REPOSITORY_PARAM_VIEW,
        ),
        _allow(["create"], "namespace_is_username", _REPOSITORY_PARAM_VIEW),
        _allow(
            ["update", "partial_update", "set_label", "unset_label"],
            "has_namespace_or_obj_perms:container.change_containerdistribution",
            "has_namespace_or_obj_perms:container.view_containerdistribution",
            _REPOSITORY_PARAM_VIEW,
        ),
        _allow(
            ["destroy"],
            "has_namespace_or_obj_perms:container.delete_containerdistribution",
            "has_namespace_or_obj_perms:container.view_containerdistribution",
        ),
        _allow(
            ["list_roles", "add_role", "remove_role"],
            "has_model_or_domain_or_obj_perms:container.manage_roles_containerdistribution",
        ),
    ],
    "creation_hooks": _owner_hook("container.containerdistribution_owner"),
    "queryset_scoping": {"function": "scope_queryset"},
}

DISTRIBUTION_LOCKED_ROLES = {
    "container.containerdistribution_creator": ["container.add_containerdistribution"],
    "container.containerdistribution_owner": [
        "container.view_containerdistribution",
        "container.pull_containerdistribution",
        "container.push_containerdistribution",
        "container.delete_containerdistribution",
        "container.change_containerdistribution",
        "container.manage_roles_containerdistribution",
    ],
    "container.containerdistribution_collaborator": [
        "container.view_containerdistribution",
        "container.pull_containerdistribution",
        "container.push_containerdistribution",
    ],
    "container.containerdistribution_consumer": [
        "container.view_containerdistribution",
        "container.pull_containerdistribution",
    ],
}

# Distributions of pull-through caches.
_PULL_THROUGH_DISTRIBUTION_VIEW = (
    "has_model_or_domain_or_obj_perms:container.view_containerpullthroughdistribution"
)
_PULL_THROUGH_REMOTE_PARAM_VIEW = (
    "has_remote_param_model_or_domain_or_obj_perms:container.view_containerpullthroughremote"
)

PULL_THROUGH_DISTRIBUTION_ACCESS_POLICY = {
    "statements": [
        _LIST_FOR_AUTHENTICATED,
        _allow(["retrieve"], _PULL_THROUGH_DISTRIBUTION_VIEW),
        _allow(
            ["create"],
            "has_model_or_domain_perms:container.add_containerpullthroughdistribution",
            _PULL_THROUGH_REMOTE_PARAM_VIEW,
        ),
        _allow(
            ["update", "partial_update", "set_label", "unset_label"],
            "has_model_or_domain_or_obj_perms:container.change_containerpullthroughdistribution",
            _PULL_THROUGH_DISTRIBUTION_VIEW,
            _PULL_THROUGH_REMOTE_PARAM_VIEW,
        ),
        _allow(
            ["destroy"],
            "has_model_or_domain_or_obj_perms:container.delete_containerpullthroughdistribution",
            _PULL_THROUGH_DISTRIBUTION_VIEW,
        ),
        _allow(
            ["list_roles", "add_role", "remove_role"],
            "has_model_or_domain_or_obj_perms:"
            "container.manage_roles_containerpullthroughdistribution",
        ),
    ],
    "creation_hooks": _owner_hook("container.containerpullthroughdistribution_owner"),
    "queryset_scoping": {"function": "scope_queryset"},
}

PULL_THROUGH_DISTRIBUTION_LOCKED_ROLES = {
    "container.containerpullthroughdistribution_creator": [
        "container.add_containerpullthroughdistribution"
    ],
    "container.containerpullthroughdistribution_owner": [
        "container.view_containerpullthroughdistribution",
        "container.change_containerpullthroughdistribution",
        "container.delete_containerpullthroughdistribution",
        "container.manage_roles_containerpullthroughdistribution",
        "container.pull_new_containerdistribution",
    ],
    "container.containerpullthroughdistribution_collaborator": [
        "container.view_containerpullthroughdistribution",
        "container.pull_new_containerdistribution",
    ],
    "container.containerpullthroughdistribution_consumer": [
        "container.view_containerpullthroughdistribution",
    ],
}

# Namespaces: the first path segment of registry repository names. A user may create the
# namespace that is named like their user name without the creator role.
NAMESPACE_ACCESS_POLICY = {
    "statements": [
        _LIST_FOR_AUTHENTICATED,
        _allow(["retrieve"], "has_model_or_domain_or_obj_perms:container.view_containernamespace"),
        _allow(["create"], "has_model_or_domain_perms:container.add_containernamespace"),
        _allow(["create"], "namespace_is_username"),
        _allow(
            ["destroy"],
            "has_model_or_domain_or_obj_perms:container.delete_containernamespace",
            "has_model_or_domain_or_obj_perms:container.view_containernamespace",
        ),
        _allow(
            ["list_roles", "add_role", "remove_role"],
            "has_model_or_domain_or_obj_perms:container.manage_roles_containernamespace",
        ),
    ],
    "creation_hooks": _owner_hook("container.containernamespace_owner"),
    "queryset_scoping": {"function": "scope_queryset"},
}

# The permissions that a namespace role grants on every distribution and push repository in it.
_NAMESPACE_COLLABORATOR_PERMISSIONS = [
    "container.view_containernamespace",
    "container.namespace_add_containerdistribution",
    "container.namespace_delete_containerdistribution",
    "container.namespace_view_containerdistribution",
    "container.namespace_pull_containerdistribution",
    "container.namespace_push_containerdistribution",
    "container.namespace_change_containerdistribution",
    "container.namespace_view_containerpushrepository",
    "container.namespace_modify_content_containerpushrepository",
    "container.namespace_change_containerpushrepository",
]

NAMESPACE_LOCKED_ROLES = {
    "container.containernamespace_creator": ["container.add_containernamespace"],
    "container.containernamespace_owner": _NAMESPACE_COLLABORATOR_PERMISSIONS
    + [
        "container.delete_containernamespace",
        "container.manage_roles_containernamespace",
    ],
    "container.containernamespace_collaborator": _NAMESPACE_COLLABORATOR_PERMISSIONS,
    "container.containernamespace_consumer": [
        "container.view_containernamespace",
        "container.namespace_view_containerdistribution",
        "container.namespace_pull_containerdistribution",
        "container.namespace_view_containerpushrepository",
    ],
}

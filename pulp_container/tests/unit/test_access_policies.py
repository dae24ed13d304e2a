"""Checks that the access policies, locked roles and conditions fit together."""

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from rest_access_policy import AccessPolicy

from pulp_container.app import access_policies, viewsets

VIEWSETS = [
    viewsets.BlobViewSet,
    viewsets.ManifestViewSet,
    viewsets.TagViewSet,
    viewsets.ManifestSignatureViewSet,
    viewsets.ContainerRemoteViewSet,
    viewsets.ContainerPullThroughRemoteViewSet,
    viewsets.ContainerRepositoryViewSet,
    viewsets.ContainerRepositoryVersionViewSet,
    viewsets.ContainerPushRepositoryViewSet,
    viewsets.ContainerPushRepositoryVersionViewSet,
    viewsets.ContainerDistributionViewSet,
    viewsets.ContainerPullThroughDistributionViewSet,
    viewsets.ContainerNamespaceViewSet,
]

# Role names of the published container API, which role assignments refer to.
PUBLISHED_ROLES = {
    "container.containerremote_creator",
    "container.containerremote_owner",
    "container.containerremote_viewer",
    "container.containerrepository_creator",
    "container.containerrepository_owner",
    "container.containerrepository_content_manager",
    "container.containerrepository_viewer",
    "container.containerpushrepository_owner",
    "container.containerpushrepository_collaborator",
    "container.containerpushrepository_consumer",
    "container.containerdistribution_creator",
    "container.containerdistribution_owner",
    "container.containerdistribution_collaborator",
    "container.containerdistribution_consumer",
    "container.containernamespace_creator",
    "container.containernamespace_owner",
    "container.containernamespace_collaborator",
    "container.containernamespace_consumer",
    "container.containerpullthroughremote_creator",
    "container.containerpullthroughremote_owner",
    "container.containerpullthroughremote_viewer",
    "container.containerpullthroughdistribution_creator",
    "container.containerpullthroughdistribution_owner",
    "container.containerpullthroughdistribution_collaborator",
    "container.containerpullthroughdistribution_consumer",
}


def _locked_roles() -> dict:
    roles = {}
    for viewset in VIEWSETS:
        roles.update(getattr(viewset, "LOCKED_ROLES", {}))
    return roles


def _conditions(policy: dict):
    for statement in policy["statements"]:
        conditions = statement.get("condition", [])
        if isinstance(conditions, str):
            conditions = [conditions]
        yield from conditions


def test_viewsets_use_module_policies():
    module_policies = [
        value
        for name, value in vars(access_policies).items()
        if name.endswith("_ACCESS_POLICY") and isinstance(value, dict)
    ]
    for viewset in VIEWSETS:
        assert any(viewset.DEFAULT_ACCESS_POLICY is policy for policy in module_policies), viewset


def test_no_viewset_allows_everything():
    for viewset in VIEWSETS:
        for statement in viewset.DEFAULT_ACCESS_POLICY["statements"]:
            assert statement["action"] != "*", viewset
            assert "*" not in statement["action"], viewset


def test_published_role_names_defined():
    assert set(_locked_roles()) == PUBLISHED_ROLES


@pytest.mark.django_db
def test_locked_role_permissions_exist():
    for role, permissions in _locked_roles().items():
        for permission in permissions:
            app_label, codename = permission.split(".", 1)
            exists = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).exists()
            assert exists, f"{role} names the unknown permission {permission}"


def test_policy_permissions_exist_in_models():
    # Only the permission arguments of conditions are checked here, without a database.
    codenames = set()
    for permissions in _locked_roles().values():
        codenames.update(permissions)
    for viewset in VIEWSETS:
        for condition in _conditions(viewset.DEFAULT_ACCESS_POLICY):
            if ":" not in condition:
                continue
            argument = condition.split(":", 1)[1]
            for permission in argument.split(","):
                if permission.startswith("core."):
                    continue
                assert permission in codenames, f"{viewset.__name__}: {permission} in no role"


def test_conditions_resolve():
    assert "pulp_container.app.global_access_conditions" in (
        settings.DRF_ACCESS_POLICY["reusable_conditions"]
    )
    policy = AccessPolicy()
    for viewset in VIEWSETS:
        for condition in _conditions(viewset.DEFAULT_ACCESS_POLICY):
            name = condition.split(":", 1)[0]
            assert callable(policy._get_condition_method(name)), condition


def test_creation_hooks_name_owner_roles():
    roles = _locked_roles()
    for viewset in VIEWSETS:
        for hook in viewset.DEFAULT_ACCESS_POLICY.get("creation_hooks", []):
            assert hook["function"] == "add_roles_for_object_creator"
            assert hook["parameters"]["roles"] in roles
            assert hook["parameters"]["roles"].endswith("_owner")


def test_namespace_roles_nest():
    owner = set(access_policies.NAMESPACE_LOCKED_ROLES["container.containernamespace_owner"])
    collaborator = set(
        access_policies.NAMESPACE_LOCKED_ROLES["container.containernamespace_collaborator"]
    )
    consumer = set(access_policies.NAMESPACE_LOCKED_ROLES["container.containernamespace_consumer"])
    assert consumer < collaborator < owner
    assert "container.namespace_push_containerdistribution" in collaborator
    assert "container.namespace_push_containerdistribution" not in consumer
    assert "container.manage_roles_containernamespace" not in collaborator

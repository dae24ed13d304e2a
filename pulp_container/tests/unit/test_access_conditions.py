"""Namespace-aware permission checks of the access policies and the registry."""

import uuid
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model

from pulpcore.plugin.util import assign_role, get_url

from pulp_container.app import models
from pulp_container.app.auth.permissions import may_push
from pulp_container.app.global_access_conditions import (
    has_base_version_param_perms,
    has_source_repository_param_perms,
    namespace_is_username,
    namespace_of,
    namespace_permission,
    user_has_namespace_or_obj_perm,
)
from pulp_container.app.viewsets import ContainerDistributionViewSet, ContainerNamespaceViewSet
from pulp_container.app.viewsets.scoping import scope_distributions, scope_push_repositories


def _user(prefix: str = "user"):
    return get_user_model().objects.create(username=f"{prefix}{uuid.uuid4().hex[:6]}")


def _request(user, data=None):
    return SimpleNamespace(user=user, data=data or {})


@pytest.fixture
def namespace_setup(db):
    namespace = models.ContainerNamespace.objects.create(name=f"ns{uuid.uuid4().hex[:6]}")
    repository = models.ContainerPushRepository.objects.create(name=f"{namespace.name}/app")
    private = models.ContainerDistribution.objects.create(
        name=f"{namespace.name}/app",
        base_path=f"{namespace.name}/app",
        repository=repository,
        namespace=namespace,
        private=True,
    )
    public = models.ContainerDistribution.objects.create(
        name=f"{namespace.name}/pub", base_path=f"{namespace.name}/pub", namespace=namespace
    )
    return SimpleNamespace(
        namespace=namespace, repository=repository, private=private, public=public
    )


def test_namespace_permission_name():
    assert (
        namespace_permission("container.view_containerdistribution")
        == "container.namespace_view_containerdistribution"
    )


@pytest.mark.django_db
def test_push_repository_namespace(namespace_setup):
    assert namespace_of(namespace_setup.repository) == namespace_setup.namespace
    assert namespace_of(namespace_setup.private) == namespace_setup.namespace


@pytest.mark.django_db
def test_namespace_role_grants_distribution(namespace_setup):
    consumer = _user()
    stranger = _user()
    assign_role("container.containernamespace_consumer", consumer, namespace_setup.namespace)
    view = "container.view_containerdistribution"
    change = "container.change_containerdistribution"

    assert user_has_namespace_or_obj_perm(_request(consumer), namespace_setup.private, view)
    assert not user_has_namespace_or_obj_perm(_request(consumer), namespace_setup.private, change)
    assert not user_has_namespace_or_obj_perm(_request(stranger), namespace_setup.private, view)


@pytest.mark.django_db
def test_namespace_role_grants_push_repository(namespace_setup):
    collaborator = _user()
    assign_role(
        "container.containernamespace_collaborator", collaborator, namespace_setup.namespace
    )
    permission = "container.modify_content_containerpushrepository"

    assert user_has_namespace_or_obj_perm(
        _request(collaborator), namespace_setup.repository, permission
    )


@pytest.mark.django_db
def test_distribution_scoping(namespace_setup):
    consumer = _user()
    stranger = _user()
    assign_role("container.containernamespace_consumer", consumer, namespace_setup.namespace)
    queryset = models.ContainerDistribution.objects.filter(namespace=namespace_setup.namespace)

    assert set(scope_distributions(stranger, queryset)) == {namespace_setup.public}
    assert set(scope_distributions(consumer, queryset)) == {
        namespace_setup.public,
        namespace_setup.private,
    }


@pytest.mark.django_db
def test_push_repository_scoping(namespace_setup):
    consumer = _user()
    stranger = _user()
    assign_role("container.containernamespace_consumer", consumer, namespace_setup.namespace)
    queryset = models.ContainerPushRepository.objects.all()

    assert list(scope_push_repositories(stranger, queryset)) == []
    assert list(scope_push_repositories(consumer, queryset)) == [namespace_setup.repository]


@pytest.mark.django_db
def test_namespace_is_username():
    user = _user("alice")
    namespace_view = SimpleNamespace(queryset=ContainerNamespaceViewSet.queryset)
    distribution_view = SimpleNamespace(queryset=ContainerDistributionViewSet.queryset)

    assert namespace_is_username(_request(user, {"name": user.username}), namespace_view, "create")
    assert not namespace_is_username(_request(user, {"name": "other"}), namespace_view, "create")
    body = {"base_path": f"{user.username}/app"}
    assert namespace_is_username(_request(user, body), distribution_view, "create")

    models.ContainerNamespace.objects.create(name=user.username)
    assert not namespace_is_username(_request(user, body), distribution_view, "create")


@pytest.mark.django_db
def test_push_new_namespace(namespace_setup):
    user = _user("bob")
    creator = _user("carol")
    assign_role("container.containernamespace_creator", creator)

    assert may_push(user, f"{user.username}/app", None)
    assert not may_push(user, f"other{uuid.uuid4().hex[:6]}/app", None)
    assert may_push(creator, f"other{uuid.uuid4().hex[:6]}/app", None)
    assert not may_push(creator, f"{namespace_setup.namespace.name}/new", None)


@pytest.mark.django_db
def test_push_namespace_owner(namespace_setup):
    owner = _user("dave")
    assign_role("container.containernamespace_owner", owner, namespace_setup.namespace)
    stranger = _user("erin")

    assert may_push(owner, f"{namespace_setup.namespace.name}/new", None)
    assert may_push(owner, namespace_setup.private.base_path, namespace_setup.private)
    assert not may_push(stranger, f"{namespace_setup.namespace.name}/new", None)


@pytest.fixture
def hidden_source(db):
    """A repository with one version that a new user without roles cannot view."""
    repository = models.ContainerRepository.objects.create(name=f"src{uuid.uuid4().hex[:6]}")
    with repository.new_version():
        pass
    return repository


@pytest.mark.parametrize(
    "field,condition",
    [
        ("source_repository_version", has_source_repository_param_perms),
        ("base_version", has_base_version_param_perms),
    ],
)
def test_version_of_hidden_repository_denied(hidden_source, field, condition):
    href = f"{get_url(hidden_source)}versions/{hidden_source.latest_version().number}/"
    assert not condition(_request(_user(), {field: href}), None, "modify")
    viewer = _user("viewer")
    assign_role("container.containerrepository_viewer", viewer, hidden_source)
    assert condition(_request(viewer, {field: href}), None, "modify")


def test_hidden_source_repository_denied(hidden_source):
    href = get_url(hidden_source)
    request = _request(_user(), {"source_repository": href})
    assert not has_source_repository_param_perms(request, None, "copy_tags")


def test_no_base_version_allowed():
    assert has_base_version_param_perms(_request(None, {}), None, "modify")

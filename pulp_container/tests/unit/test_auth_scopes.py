"""Scope parsing and implied actions."""

import pytest

from pulp_container.app.auth.scopes import Scope, expand_actions, parse_scope, parse_scopes


def test_scope_parse_repository():
    scope = parse_scope("repository:team/app:pull,push")
    assert scope == Scope("repository", "team/app", frozenset({"pull", "push"}))


def test_scope_name_with_colon():
    scope = parse_scope("repository:host:5000/app:pull")
    assert scope.name == "host:5000/app"
    assert scope.actions == frozenset({"pull"})


def test_scope_catalog():
    assert parse_scope("registry:catalog:*") == Scope("registry", "catalog", frozenset({"*"}))


@pytest.mark.parametrize(
    "text",
    [
        "repository",
        "repository:app",
        ":app:pull",
        "repository::pull",
        "repository:a\x00b:pull",
        "repository:caf\u00e9:pull",
    ],
)
def test_scope_invalid(text):
    with pytest.raises(ValueError, match="Invalid scope"):
        parse_scope(text)


def test_scopes_repeated_and_space_joined():
    scopes = parse_scopes(["repository:a:pull", "repository:a:push repository:b:pull"])
    assert sorted(map(str, scopes)) == ["repository:a:pull,push", "repository:b:pull"]


def test_push_implies_pull():
    assert expand_actions({"push"}) == frozenset({"push", "pull"})
    assert expand_actions({"delete"}) == frozenset({"delete", "pull"})
    assert expand_actions({"pull"}) == frozenset({"pull"})

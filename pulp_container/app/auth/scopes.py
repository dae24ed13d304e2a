"""Parse and format the `type:name:actions` scopes of the Docker token protocol."""

from dataclasses import dataclass

REPOSITORY = "repository"
REGISTRY = "registry"
CATALOG = "catalog"
PULL = "pull"
PUSH = "push"
DELETE = "delete"
ALL_ACTIONS = "*"


@dataclass(frozen=True)
class Scope:
    """
    One resource and the actions requested or granted on it.

    Fields:
        type: `repository` or `registry`.
        name: The repository name, or `catalog` for the `registry` type.
        actions: The actions, e.g. {"pull", "push"}.
    """

    type: str
    name: str
    actions: frozenset[str]

    def __str__(self) -> str:
        return f"{self.type}:{self.name}:{','.join(sorted(self.actions))}"

    def to_claim(self) -> dict:
        """Return the entry of the token's `access` claim."""
        return {"type": self.type, "name": self.name, "actions": sorted(self.actions)}


def parse_scope(text: str) -> Scope:
    """
    Parse one `type:name:actions` scope; the name may contain ':' but the type and actions not.

    Raises:
        ValueError: When the text has fewer than three parts or an empty part.
    """
    resource_type, _, rest = text.partition(":")
    name, _, actions = rest.rpartition(":")
    if not resource_type or not name or not actions:
        raise ValueError(
            f"Invalid scope {text!r}: expected 'type:name:actions', e.g. 'repository:team/app:pull'"
        )
    if not name.isprintable() or not name.isascii():
        raise ValueError(f"Invalid scope {text!r}: the name must be printable ASCII")
    return Scope(resource_type, name, frozenset(a for a in actions.split(",") if a))


def parse_scopes(values: list[str]) -> list[Scope]:
    """
    Parse the `scope` query values of a token request, merging repeats of one resource.

    Docker sends one `scope` parameter per resource, and some clients join several scopes
    with spaces in one parameter, as OAuth2 does, so both forms are accepted.
    """
    merged: dict[tuple[str, str], set[str]] = {}
    for value in values:
        for text in value.split():
            scope = parse_scope(text)
            merged.setdefault((scope.type, scope.name), set()).update(scope.actions)
    return [Scope(t, n, frozenset(a)) for (t, n), a in merged.items()]


def expand_actions(actions: set[str] | frozenset[str]) -> frozenset[str]:
    """Add the actions that others imply: `push` and `delete` imply `pull`."""
    expanded = set(actions)
    if PUSH in expanded or DELETE in expanded:
        expanded.add(PULL)
    return frozenset(expanded)

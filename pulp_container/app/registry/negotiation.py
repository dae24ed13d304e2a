"""
Choose what manifest to return for the request's Accept headers.

Clients send one or several Accept headers, each possibly a comma-joined list with
q-values. A media type with q=0 is not acceptable (RFC 9110, section 12.5.1).
"""

from dataclasses import dataclass

from aiohttp import web

from pulp_container.constants import SCHEMA1_MEDIA_TYPES


@dataclass(frozen=True)
class AcceptedTypes:
    """
    The media types a client accepts.

    Fields:
        types: The explicitly accepted media types (q > 0).
        wildcard: Whether `*/*` or `application/*` was accepted.
        given: Whether the request had an Accept header at all.
    """

    types: frozenset[str]
    wildcard: bool
    given: bool

    def accepts(self, media_type: str) -> bool:
        """Tell whether `media_type` may be returned as is."""
        return self.wildcard or media_type in self.types

    def accepts_schema1(self) -> bool:
        """
        Tell whether a converted schema 1 manifest should be returned.

        Docker before 1.10 sent no Accept header and understood only schema 1.
        """
        return not self.given or any(t in self.types for t in SCHEMA1_MEDIA_TYPES)


def _quality(params: list[str]) -> float:
    for param in params:
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "q":
            try:
                return float(value.strip())
            except ValueError:
                return 0.0
    return 1.0


def parse_accept(values: list[str]) -> AcceptedTypes:
    """Parse the values of all Accept headers of a request."""
    types = set()
    wildcard = False
    given = False
    for value in values:
        for item in value.split(","):
            media_type, *params = item.split(";")
            media_type = media_type.strip().lower()
            if not media_type:
                continue
            given = True
            if _quality(params) <= 0:
                continue
            if media_type in ("*/*", "application/*"):
                wildcard = True
            else:
                types.add(media_type)
    return AcceptedTypes(frozenset(types), wildcard, given)


def request_accept(request: web.Request) -> AcceptedTypes:
    """Parse the Accept headers of an aiohttp request."""
    return parse_accept(request.headers.getall("Accept", []))

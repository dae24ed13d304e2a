"""Users with roles for the RBAC tests: REST sessions and pulp-cli configs of their own."""

import uuid
from dataclasses import dataclass

import pytest
import requests

from pulp_container.tests.functional.clients import PulpCLI


@dataclass
class TestUser:
    """A Pulp user with a REST session and a pulp-cli of its own."""

    __test__ = False

    name: str
    password: str
    href: str
    session: requests.Session
    cli: PulpCLI


class UserFactory:
    """Create users through the admin REST client and give them roles."""

    def __init__(self, api, folder, api_url: str):
        self.api = api
        self.folder = folder
        self.api_url = api_url

    def create(self, prefix: str) -> TestUser:
        name = f"{prefix}{uuid.uuid4().hex[:6]}"
        password = uuid.uuid4().hex
        user = self.api.post("/pulp/api/v3/users/", {"username": name, "password": password})
        session = requests.Session()
        session.auth = (name, password)
        cli = PulpCLI(self.folder / name, self.api_url, name, password)
        return TestUser(name, password, user["pulp_href"], session, cli)

    def grant(self, user: TestUser, role: str, content_object: str | None = None) -> None:
        """Give the user a role on one object, or on every object when none is named."""
        self.api.post(f"{user.href}roles/", {"role": role, "content_object": content_object})


@pytest.fixture(scope="session")
def users(api, stack, session_folder) -> UserFactory:
    return UserFactory(api, session_folder / "users", stack.api_url)

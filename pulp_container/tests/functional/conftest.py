"""
Fixtures that run the real stack, real upstream registries and the real clients.

The stack runs with ports, database and state folder of its own, set by PULP_TEST_API_PORT,
PULP_TEST_CONTENT_PORT, PULP_TEST_DB_NAME and PULP_TEST_STATE_DIR, and starts from an
empty database on every session.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from dev.stack import REPO_ROOT, StackConfig, die_with_parent
from pulp_container.tests.functional.clients import ContainerTools, PulpCLI
from pulp_container.tests.functional.registry_client import RegistryClient
from pulp_container.tests.functional.upstream import UpstreamRegistry

TASK_TIMEOUT = 600
# Seconds between task polls. Polls are cheap with a session cookie.
TASK_POLL_INTERVAL = 0.05


class TaskFailed(AssertionError):
    """A Pulp task ended in a state other than completed."""

    def __init__(self, task: dict):
        self.task = task
        super().__init__(f"task {task['pulp_href']} {task['state']}: {task.get('error')}")


class PulpAPI:
    """
    An admin REST client of the stack, signed in with a session cookie.

    Each basic-auth request runs Django's password hasher, about 0.3 s of CPU on a test
    machine, so the client signs in once at `/login/` and sends the session cookie and its
    CSRF token instead. pulp-cli tests still use basic auth.
    """

    def __init__(self, base_url: str, username: str, password: str):
        self.base_url = base_url
        self.session = requests.Session()
        login = self.session.post(self.url("/pulp/api/v3/login/"), auth=(username, password))
        self._checked(login)
        self.session.headers["X-CSRFToken"] = self.session.cookies["csrftoken"]

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base_url}{path}"

    def _checked(self, response: requests.Response) -> dict:
        if response.status_code >= 400:
            raise AssertionError(
                f"{response.request.method} {response.url} returned {response.status_code}: "
                f"{response.text[:2000]}"
            )
        return response.json() if response.content else {}

    def get(self, path: str, **params) -> dict:
        return self._checked(self.session.get(self.url(path), params=params))

    def post(self, path: str, json=None) -> dict:
        return self._checked(self.session.post(self.url(path), json=json or {}))

    def patch(self, path: str, json=None) -> dict:
        return self._checked(self.session.patch(self.url(path), json=json or {}))

    def delete(self, path: str) -> dict:
        return self._checked(self.session.delete(self.url(path)))

    def list_all(self, path: str, **params) -> list:
        """Return every result of a paginated list."""
        page = self.get(path, limit=1000, **params)
        results = list(page["results"])
        while page.get("next"):
            page = self._checked(self.session.get(page["next"]))
            results += page["results"]
        return results

    def wait_task(self, task_href: str, timeout: int = TASK_TIMEOUT) -> dict:
        """Poll a task until it ends; raise TaskFailed unless it completed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            task = self.get(task_href)
            if task["state"] in ("completed", "failed", "canceled", "skipped"):
                if task["state"] != "completed":
                    raise TaskFailed(task)
                return task
            time.sleep(TASK_POLL_INTERVAL)
        raise AssertionError(f"task {task_href} did not end within {timeout} s")

    def run_task(self, method: str, path: str, json=None) -> dict:
        """
        Call an endpoint that returns 202 with a task, and wait for the task.

        An update that changes nothing returns 200 and the object without a task, and then
        that object is returned.
        """
        response = self.session.request(method, self.url(path), json=json or {})
        body = self._checked(response)
        if response.status_code == 200 and "task" not in body:
            return body
        return self.wait_task(body["task"])

    def created(self, task: dict) -> str:
        """Return the first created resource of a completed task."""
        return task["created_resources"][0]


def _stack_config() -> StackConfig:
    environ = dict(os.environ)
    environ["PULP_STATE_DIR"] = os.environ.get(
        "PULP_TEST_STATE_DIR", str(REPO_ROOT / ".state-test")
    )
    environ["PULP_API_PORT"] = os.environ.get("PULP_TEST_API_PORT", "24827")
    environ["PULP_CONTENT_PORT"] = os.environ.get("PULP_TEST_CONTENT_PORT", "24826")
    environ["PULP_DB_NAME"] = os.environ.get("PULP_TEST_DB_NAME", "pulp_container_test")
    environ.setdefault("PULP_WORKERS", "2")
    return StackConfig.from_environment(environ), environ


class RunningStack:
    """The stack started by `dev/stack.py run --fresh` for this test session."""

    def __init__(self, config: StackConfig, environ: dict):
        self.config = config
        ready_file = config.state_dir / "ready"
        ready_file.unlink(missing_ok=True)
        config.state_dir.mkdir(parents=True, exist_ok=True)
        self.output_path = config.state_dir / "stack-output.log"
        self.process = subprocess.Popen(
            [sys.executable, str(REPO_ROOT / "dev" / "stack.py"), "run", "--fresh"],
            env=environ,
            stdout=self.output_path.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        deadline = time.monotonic() + 300
        while not ready_file.exists():
            if self.process.poll() is not None:
                raise RuntimeError(f"The stack did not start:\n{self.output_path.read_text()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"The stack did not start in 300 s:\n{self.output_path.read_text()}"
                )
            time.sleep(0.5)

    api_url = property(lambda self: self.config.api_url)
    content_origin = property(lambda self: self.config.content_origin)
    registry_host = property(lambda self: self.config.content_origin.split("://", 1)[1])
    admin_password = property(lambda self: self.config.admin_password)
    state_dir = property(lambda self: self.config.state_dir)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def stack():
    config, environ = _stack_config()
    running = RunningStack(config, environ)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def api(stack) -> PulpAPI:
    return PulpAPI(stack.api_url, "admin", stack.admin_password)


@pytest.fixture(scope="session")
def session_folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("session")


@pytest.fixture(scope="session")
def container_tools(session_folder, stack) -> ContainerTools:
    """skopeo and podman that reach the stack's registry and the upstreams over plain HTTP."""
    tools = ContainerTools(session_folder / "containers")
    tools.allow_insecure(stack.registry_host)
    return tools


@pytest.fixture(scope="session")
def pulp_cli(session_folder, stack) -> PulpCLI:
    return PulpCLI(session_folder / "cli", stack.api_url, "admin", stack.admin_password)


@pytest.fixture(scope="session")
def upstream_registry(tmp_path_factory, container_tools):
    """Return a factory of upstream registries: `upstream_registry(auth="none")`."""
    started = []

    def start(auth: str = "none", **options) -> UpstreamRegistry:
        registry = UpstreamRegistry(tmp_path_factory.mktemp(f"upstream-{auth}"), auth, **options)
        container_tools.allow_insecure(registry.host)
        started.append(registry)
        return registry

    yield start
    for registry in started:
        registry.stop()


@pytest.fixture(scope="session")
def registry_client(stack) -> RegistryClient:
    """A registry client of the stack, authenticated as admin."""
    return RegistryClient(stack.content_origin, "admin", stack.admin_password)


@pytest.fixture
def unique_name():
    """Return a new lowercase name that is valid as a registry repository name."""
    return lambda prefix="test": f"{prefix}-{uuid.uuid4().hex[:10]}"

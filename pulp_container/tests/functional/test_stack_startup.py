"""Start-up of `dev/stack.py run` with a broken setting: one clear message, exit code 2."""

import os
import socket
import subprocess
import sys

from dev.stack import REPO_ROOT


def run_stack(tmp_path, **variables):
    environ = dict(os.environ)
    environ.update(
        PULP_STATE_DIR=str(tmp_path / "state"),
        PULP_API_PORT="24897",
        PULP_CONTENT_PORT="24896",
        PULP_DB_NAME="pulp_container_startup",
    )
    environ.update(variables)
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "dev" / "stack.py"), "run"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_startup_port_in_use(tmp_path):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        result = run_stack(tmp_path, PULP_CONTENT_PORT=str(port))
    assert result.returncode == 2
    assert f"Port {port} on 127.0.0.1 is in use" in result.stderr
    assert "PULP_CONTENT_PORT" in result.stderr


def test_startup_missing_key_file(tmp_path):
    missing = tmp_path / "no-such.key"
    result = run_stack(tmp_path, PULP_DB_ENCRYPTION_KEY=str(missing))
    assert result.returncode == 2
    assert f"PULP_DB_ENCRYPTION_KEY={missing} names a file that does not exist" in result.stderr


def test_startup_database_unreachable(tmp_path):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    result = run_stack(tmp_path, PULP_DB_PORT=str(port))
    assert result.returncode == 2
    assert f"PostgreSQL does not respond on 127.0.0.1:{port}" in result.stderr
    assert "PULP_DB_PORT" in result.stderr


def test_startup_bad_port_number(tmp_path):
    result = run_stack(tmp_path, PULP_API_PORT="eighty")
    assert result.returncode == 2
    assert "PULP_API_PORT='eighty' is not a number" in result.stderr

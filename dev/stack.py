"""
Prepare and run the whole Pulp stack for development and tests.

`python dev/stack.py run` writes settings and keys under the state folder, creates the
database, migrates, sets the admin password, starts the REST API, the content app and the
task workers, and stays in the foreground until Ctrl-C or SIGTERM stops them all.

Every setting comes from an environment variable, so that two stacks can run side by side:

    PULP_STATE_DIR      state folder (settings, keys, storage, logs)   default: .state
    PULP_API_PORT       REST API port                                   default: 24817
    PULP_CONTENT_PORT   content app and registry port                   default: 24816
    PULP_DB_NAME        PostgreSQL database                             default: pulp_container
    PULP_DB_HOST        PostgreSQL host                                 default: 127.0.0.1
    PULP_DB_PORT        PostgreSQL port                                 default: 5432
    PULP_DB_USER        PostgreSQL role                                 default: pulp
    PULP_DB_PASSWORD    password given to that role                     default: pulp
    PULP_WORKERS        number of task workers                          default: 2
    PULP_ADMIN_PASSWORD admin password                                  default: random, kept in
                                                                        <state>/admin-password
"""

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STARTUP_TIMEOUT = 120
STACK_VARIABLES = {
    "PULP_STATE_DIR",
    "PULP_API_PORT",
    "PULP_CONTENT_PORT",
    "PULP_DB_NAME",
    "PULP_DB_HOST",
    "PULP_DB_PORT",
    "PULP_DB_USER",
    "PULP_DB_PASSWORD",
    "PULP_WORKERS",
    "PULP_ADMIN_PASSWORD",
}


class StackError(Exception):
    """A start-up problem, with a message that tells the user what to do."""


@dataclass
class StackConfig:
    """The state folder, ports and database of one stack."""

    state_dir: Path
    api_port: int
    content_port: int
    db_name: str
    db_host: str
    db_port: int
    db_user: str
    workers: int

    @classmethod
    def from_environment(cls, environ=os.environ) -> "StackConfig":
        """Read the configuration from the PULP_* variables listed in the module docstring."""
        state_dir = Path(environ.get("PULP_STATE_DIR", REPO_ROOT / ".state"))
        return cls(
            state_dir=state_dir.resolve(),
            api_port=_int_variable(environ, "PULP_API_PORT", 24817),
            content_port=_int_variable(environ, "PULP_CONTENT_PORT", 24816),
            db_name=environ.get("PULP_DB_NAME", "pulp_container"),
            db_host=environ.get("PULP_DB_HOST", "127.0.0.1"),
            db_port=_int_variable(environ, "PULP_DB_PORT", 5432),
            db_user=environ.get("PULP_DB_USER", "pulp"),
            workers=_int_variable(environ, "PULP_WORKERS", 2),
        )

    @property
    def settings_path(self) -> Path:
        return self.state_dir / "settings.py"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def content_origin(self) -> str:
        return f"http://127.0.0.1:{self.content_port}"

    @property
    def db_password(self) -> str:
        return os.environ.get("PULP_DB_PASSWORD") or "pulp"

    @property
    def admin_password(self) -> str:
        return (self.state_dir / "admin-password").read_text().strip()

    def environment(self) -> dict:
        """Return the process environment that points pulpcore at this stack."""
        # pulpcore reads every PULP_* variable as a setting, so the stack's own are left out.
        environ = {name: value for name, value in os.environ.items() if name not in STACK_VARIABLES}
        environ["PULP_SETTINGS"] = str(self.settings_path)
        environ["DJANGO_SETTINGS_MODULE"] = "pulpcore.app.settings"
        environ["PATH"] = f"{BIN}{os.pathsep}{environ.get('PATH', '')}"
        return environ


def _int_variable(environ, name: str, default: int) -> int:
    value = environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise StackError(f"{name}={value!r} is not a number. Set it to an integer or unset it.")


def _run(command, **kwargs):
    return subprocess.run(command, check=True, **kwargs)


def _postgres_answers(config: StackConfig) -> bool:
    try:
        with socket.create_connection((config.db_host, config.db_port), timeout=2):
            return True
    except OSError:
        return False


def ensure_postgres(config: StackConfig) -> None:
    """Use the PostgreSQL server on db_host:db_port, or install and start a local one."""
    if _postgres_answers(config):
        return
    if config.db_host not in ("127.0.0.1", "localhost"):
        raise StackError(
            f"PostgreSQL does not respond on {config.db_host}:{config.db_port}. Start it, or "
            "set PULP_DB_HOST and PULP_DB_PORT to a server that runs."
        )
    if shutil.which("pg_ctlcluster") is None:
        print(f"PostgreSQL does not respond on port {config.db_port}; installing it.", flush=True)
        _run([str(REPO_ROOT / "dev" / "install-system-packages.sh"), "postgresql"])
    clusters = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    if not clusters:
        raise StackError("PostgreSQL is installed but has no cluster in /etc/postgresql.")
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", clusters[-1], "main", "start"],
        capture_output=True,
    )
    for _ in range(10):
        if _postgres_answers(config):
            return
        time.sleep(1)
    raise StackError(
        f"PostgreSQL does not respond on {config.db_host}:{config.db_port}, even after starting "
        f"cluster {clusters[-1]}/main. Set PULP_DB_PORT to the port in "
        f"/etc/postgresql/{clusters[-1]}/main/postgresql.conf."
    )


def _psql_as_admin(config: StackConfig, sql: str) -> str:
    """Run SQL as a PostgreSQL superuser: the current role, or `postgres` through sudo."""
    base = ["psql", "-h", config.db_host, "-p", str(config.db_port), "-d", "postgres"]
    command = base + ["-tAc", sql]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0 and os.geteuid() == 0:
        socket_command = ["runuser", "-u", "postgres", "--", "psql", "-p", str(config.db_port)]
        result = subprocess.run(socket_command + ["-tAc", sql], capture_output=True, text=True)
    if result.returncode != 0:
        raise StackError(
            f"Running SQL on PostgreSQL at {config.db_host}:{config.db_port} failed: "
            f"{result.stderr.strip()}. Check that the server accepts this user, or set "
            "PULP_DB_HOST and PULP_DB_PORT."
        )
    return result.stdout.strip()


def ensure_database(config: StackConfig, fresh: bool = False) -> None:
    """Create the role and the database; drop the database first when `fresh` is set."""
    role = config.db_user
    password = config.db_password.replace("'", "''")
    if not _psql_as_admin(config, f"SELECT 1 FROM pg_roles WHERE rolname = '{role}'"):
        _psql_as_admin(config, f'CREATE ROLE "{role}" LOGIN CREATEDB')
    # Servers with password authentication on TCP need it; trust authentication ignores it.
    _psql_as_admin(config, f"ALTER ROLE \"{role}\" PASSWORD '{password}'")
    if fresh:
        _psql_as_admin(config, f'DROP DATABASE IF EXISTS "{config.db_name}" WITH (FORCE)')
    exists = _psql_as_admin(config, f"SELECT 1 FROM pg_database WHERE datname = '{config.db_name}'")
    if not exists:
        _psql_as_admin(config, f'CREATE DATABASE "{config.db_name}" OWNER "{role}"')


def _write_if_missing(path: Path, make_content) -> None:
    if not path.exists():
        path.write_bytes(make_content())
        path.chmod(0o600)


def _fernet_key() -> bytes:
    from cryptography.fernet import Fernet

    return Fernet.generate_key()


def _ec_key_pair(state_dir: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    private_path = state_dir / "token-private.pem"
    public_path = state_dir / "token-public.pem"
    if private_path.exists() and public_path.exists():
        return
    key = ec.generate_private_key(ec.SECP256R1())
    private_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    private_path.chmod(0o600)
    public_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def write_state(config: StackConfig) -> None:
    """Write the settings file, the keys and the storage folders under the state folder."""
    state = config.state_dir
    for folder in ("media", "tmp", "upload-tmp", "static", "logs", "exports", "imports"):
        (state / folder).mkdir(parents=True, exist_ok=True)
    _write_if_missing(state / "database_fields.symmetric.key", _fernet_key)
    _write_if_missing(state / "secret-key", lambda: secrets.token_urlsafe(48).encode())
    _ec_key_pair(state)
    password = os.environ.get("PULP_ADMIN_PASSWORD")
    if password:
        (state / "admin-password").write_text(password)
    _write_if_missing(state / "admin-password", lambda: secrets.token_urlsafe(12).encode())

    settings = f"""\
# Written by dev/stack.py on every start; edit the PULP_* variables instead.
SECRET_KEY = {(state / "secret-key").read_text().strip()!r}
DATABASES = {{
    "default": {{
        "ENGINE": "django.db.backends.postgresql",
        "NAME": {config.db_name!r},
        "USER": {config.db_user!r},
        "PASSWORD": {config.db_password!r},
        "HOST": {config.db_host!r},
        "PORT": {config.db_port},
    }}
}}
CONTENT_ORIGIN = {config.content_origin!r}
MEDIA_ROOT = {str(state / "media")!r}
WORKING_DIRECTORY = {str(state / "tmp")!r}
FILE_UPLOAD_TEMP_DIR = {str(state / "upload-tmp")!r}
STATIC_ROOT = {str(state / "static")!r}
DB_ENCRYPTION_KEY = {str(state / "database_fields.symmetric.key")!r}
ALLOWED_EXPORT_PATHS = [{str(state / "exports")!r}]
ALLOWED_IMPORT_PATHS = [{str(state / "imports")!r}]
ANALYTICS = False
TOKEN_SERVER = {config.content_origin + "/token/"!r}
TOKEN_SIGNATURE_ALGORITHM = "ES256"
PUBLIC_KEY_PATH = {str(state / "token-public.pem")!r}
PRIVATE_KEY_PATH = {str(state / "token-private.pem")!r}
"""
    config.settings_path.write_text(settings)


def check_key_files(config: StackConfig) -> None:
    """Stop when a key file named by a PULP_* override is missing."""
    for name in ("PULP_DB_ENCRYPTION_KEY", "PULP_PUBLIC_KEY_PATH", "PULP_PRIVATE_KEY_PATH"):
        path = os.environ.get(name)
        if path and not Path(path).is_file():
            raise StackError(
                f"{name}={path} names a file that does not exist. Create the key there, "
                "or unset the variable to use the keys under the state folder."
            )


def check_ports_free(config: StackConfig) -> None:
    """Stop when the API or content port is taken, naming the variable that moves it."""
    for variable, port in (
        ("PULP_API_PORT", config.api_port),
        ("PULP_CONTENT_PORT", config.content_port),
    ):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                raise StackError(
                    f"Port {port} on 127.0.0.1 is in use. Stop what listens there, or set "
                    f"{variable} to a free port."
                )


def _manager(config: StackConfig, *arguments, **kwargs):
    command = [str(BIN / "pulpcore-manager"), *arguments]
    return subprocess.run(command, env=config.environment(), **kwargs)


def _migrations_fingerprint(config: StackConfig) -> str:
    """Return a hash of the database, the admin password and every migration file."""
    import hashlib
    import importlib.util

    digest = hashlib.sha256(config.db_name.encode())
    digest.update(config.admin_password.encode())
    for package in ("pulpcore", "pulp_file", "pulp_certguard", "pulp_container"):
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        root = Path(spec.submodule_search_locations[0])
        for path in sorted(root.glob("**/migrations/*.py")):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(str(path.stat().st_mtime_ns).encode())
    return digest.hexdigest()


def _applied_migrations(config: StackConfig) -> int:
    """Return the number of applied migrations in the database, 0 when it has none."""
    command = [
        "psql", "-h", config.db_host, "-p", str(config.db_port), "-U", config.db_user,
        "-d", config.db_name, "-tAc", "SELECT count(*) FROM django_migrations",
    ]  # fmt: skip
    environ = {**os.environ, "PGPASSWORD": config.db_password}
    result = subprocess.run(command, capture_output=True, text=True, env=environ)
    return int(result.stdout.strip()) if result.returncode == 0 else 0


def migrate(config: StackConfig) -> None:
    """
    Apply migrations and set the admin password, unless nothing changed since the last run.

    The marker contains a hash of the migration files and the number of migrations the database
    had then, so a database that was dropped or replaced is migrated again.
    """
    marker = config.state_dir / "migrated"
    fingerprint = _migrations_fingerprint(config)
    if marker.exists() and marker.read_text() == f"{fingerprint}:{_applied_migrations(config)}":
        return
    result = _manager(config, "migrate", "--noinput", capture_output=True, text=True)
    if result.returncode != 0:
        raise StackError(
            "Database migration failed. Its output ends with:\n"
            + "\n".join((result.stdout + result.stderr).splitlines()[-15:])
        )
    result = _manager(
        config,
        "reset-admin-password",
        "--password",
        config.admin_password,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise StackError(f"Setting the admin password failed: {result.stderr.strip()}")
    marker.write_text(f"{fingerprint}:{_applied_migrations(config)}")


def _process_commands(config: StackConfig) -> dict:
    commands = {
        "api": [
            str(BIN / "pulpcore-api"),
            "--bind", f"127.0.0.1:{config.api_port}",
            "--workers", "2",
            "--timeout", "300",
            "--no-control-socket",
        ],
        "content": [
            str(BIN / "pulpcore-content"),
            "--bind", f"127.0.0.1:{config.content_port}",
            "--workers", "2",
            "--timeout", "300",
            "--no-control-socket",
        ],
    }  # fmt: skip
    for number in range(1, config.workers + 1):
        commands[f"worker-{number}"] = [str(BIN / "pulpcore-worker")]
    return commands


def die_with_parent() -> None:
    """Ask Linux to send SIGTERM to this child when the stack runner dies, even by SIGKILL."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start_processes(config: StackConfig) -> dict:
    """Start every service in its own process group, logging under <state>/logs."""
    processes = {}
    for name, command in _process_commands(config).items():
        log = open(config.state_dir / "logs" / f"{name}.log", "ab")
        processes[name] = subprocess.Popen(
            command,
            env=config.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=config.state_dir,
            preexec_fn=die_with_parent,
        )
    return processes


def stop_processes(processes: dict) -> None:
    """Send SIGTERM to every process group, then SIGKILL to what is left after 15 s."""
    for process in processes.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _status_ready(config: StackConfig) -> bool:
    """Return whether the status lists the content app and every worker as online."""
    import json

    try:
        with urllib.request.urlopen(f"{config.api_url}/pulp/api/v3/status/", timeout=5) as reply:
            status = json.load(reply)
    except (urllib.error.URLError, OSError, ValueError):
        return False
    return (
        len(status.get("online_workers", [])) >= config.workers
        and len(status.get("online_content_apps", [])) >= 1
    )


def wait_until_ready(config: StackConfig, processes: dict) -> None:
    """Wait for the status endpoint; stop with the log's tail when a process dies."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        for name, process in processes.items():
            if process.poll() is not None:
                log_path = config.state_dir / "logs" / f"{name}.log"
                tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-20:])
                raise StackError(f"The {name} process exited during start-up. {log_path}:\n{tail}")
        if _status_ready(config):
            return
        time.sleep(0.5)
    raise StackError(
        f"{config.api_url}/pulp/api/v3/status/ did not report the content app and "
        f"{config.workers} workers within {STARTUP_TIMEOUT} s. See the logs in "
        f"{config.state_dir / 'logs'}."
    )


def prepare(config: StackConfig, fresh: bool = False) -> None:
    """Do every step before the services start: database, state folder, migrations."""
    check_key_files(config)
    ensure_postgres(config)
    ensure_database(config, fresh=fresh)
    if fresh and config.state_dir.exists():
        for folder in ("media", "tmp", "upload-tmp", "logs"):
            shutil.rmtree(config.state_dir / folder, ignore_errors=True)
        (config.state_dir / "migrated").unlink(missing_ok=True)
    write_state(config)
    migrate(config)


def print_banner(config: StackConfig) -> None:
    registry = config.content_origin.split("://", 1)[1]
    print(
        f"""
Pulp with the container plugin is running. Ctrl-C stops it.
  REST API:       {config.api_url}/pulp/api/v3/
  Registry:       {config.content_origin}/v2/
  Admin:          admin / {config.admin_password}
  Settings:       {config.settings_path}
  Logs:           {config.state_dir / "logs"}
Try it (after a push or a sync and distribution, the name can be inspected):
  {BIN / "pulp"} --base-url {config.api_url} --username admin \\
      --password '{config.admin_password}' container distribution list
  skopeo login --tls-verify=false -u admin -p '{config.admin_password}' {registry}
  skopeo inspect --tls-verify=false docker://{registry}/<name>:<tag>
""",
        flush=True,
    )


def run(config: StackConfig, fresh: bool) -> int:
    """Prepare, start, wait for readiness and then serve until a signal arrives."""
    check_ports_free(config)
    prepare(config, fresh=fresh)
    processes = start_processes(config)

    stopping = []

    def request_stop(signum, frame):
        stopping.append(signum)

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        wait_until_ready(config, processes)
        print_banner(config)
        (config.state_dir / "ready").write_text(str(os.getpid()))
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    print(f"The {name} process exited with code {process.returncode}; stopping.")
                    return 1
            time.sleep(0.5)
        return 0
    finally:
        (config.state_dir / "ready").unlink(missing_ok=True)
        print("Stopping every process of the stack.", flush=True)
        stop_processes(processes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["run", "prepare"])
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="Drop the database and the stored content before starting.",
    )
    arguments = parser.parse_args()
    try:
        config = StackConfig.from_environment()
        if arguments.command == "prepare":
            prepare(config, fresh=arguments.fresh)
            return 0
        return run(config, fresh=arguments.fresh)
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""Run the real clients (skopeo, podman, pulp-cli) against test registries and the stack."""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

PULP_CLI = str(Path(sys.executable).parent / "pulp")


class ClientError(AssertionError):
    """A client command exited non-zero; the message carries its output."""


def _run(command: list, environ: dict, check: bool = True, timeout: int = 300):
    result = subprocess.run(command, env=environ, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise ClientError(
            f"{' '.join(command)} exited with {result.returncode}:\n"
            f"stdout: {result.stdout[-3000:]}\nstderr: {result.stderr[-3000:]}"
        )
    return result


class ContainerTools:
    """
    skopeo and podman with a registries.conf that marks the test registries insecure.

    Args:
        folder: A folder of its own for registries.conf, auth files and podman storage.
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self.hosts = set()
        folder.mkdir(parents=True, exist_ok=True)
        # podman rejects a --runroot path longer than 50 characters, so it goes under /tmp.
        self.runroot = Path(tempfile.mkdtemp(prefix="podman-run-", dir="/tmp"))
        self.registries_conf = folder / "registries.conf"
        self.auth_file = folder / "auth.json"
        self.auth_file.write_text("{}")
        self._write_registries_conf()

    def allow_insecure(self, host: str) -> None:
        """Add a host:port that skopeo and podman reach over plain HTTP."""
        self.hosts.add(host)
        self._write_registries_conf()

    def _write_registries_conf(self) -> None:
        lines = ["unqualified-search-registries = []", ""]
        for host in sorted(self.hosts):
            lines += ["[[registry]]", f'location = "{host}"', "insecure = true", ""]
        self.registries_conf.write_text("\n".join(lines))

    def environment(self) -> dict:
        environ = dict(os.environ)
        environ["CONTAINERS_REGISTRIES_CONF"] = str(self.registries_conf)
        environ["REGISTRY_AUTH_FILE"] = str(self.auth_file)
        return environ

    def skopeo(self, *arguments, check: bool = True):
        """Run skopeo; raise ClientError with its output when it fails and `check` is set."""
        # skopeo 1.9 (Debian 12) ignores CONTAINERS_REGISTRIES_CONF, so pass the file.
        command = ["skopeo", "--registries-conf", str(self.registries_conf), *arguments]
        return _run(command, self.environment(), check=check)

    def podman(self, *arguments, check: bool = True):
        """Run podman as root with vfs storage kept in this folder."""
        command = [
            "podman",
            "--root", str(self.folder / "podman-root"),
            "--runroot", str(self.runroot),
            "--storage-driver", "vfs",
            *arguments,
        ]  # fmt: skip
        return _run(command, self.environment(), check=check)

    def login(self, host: str, username: str, password: str) -> None:
        self.skopeo("login", "--tls-verify=false", "-u", username, "-p", password, host)

    def logout(self, host: str) -> None:
        self.skopeo("logout", host, check=False)


class PulpCLI:
    """pulp-cli pointed at the stack through a config file of its own."""

    def __init__(self, folder: Path, api_url: str, username: str, password: str):
        folder.mkdir(parents=True, exist_ok=True)
        self.config_path = folder / "cli.toml"
        # pulp-cli caches the server's API schema per URL; a cache of its own keeps a schema
        # from an earlier test run, on the same ports, out of this one.
        self.cache_home = folder / "cache"
        self.write_config(username, password, api_url)

    def write_config(self, username: str, password: str, api_url: str) -> None:
        self.config_path.write_text(
            "[cli]\n"
            f'base_url = "{api_url}"\n'
            f'username = "{username}"\n'
            f'password = "{password}"\n'
            "verify_ssl = false\n"
            'format = "json"\n'
        )

    def __call__(self, *arguments, check: bool = True):
        """Run `pulp <arguments>` and return its JSON output (or None when it printed none)."""
        result = self.run(*arguments, check=check)
        output = result.stdout.strip()
        if not output:
            return None
        try:
            return json.loads(output)
        except ValueError:
            return output

    def run(self, *arguments, check: bool = True):
        command = [PULP_CLI, "--config", str(self.config_path), *arguments]
        return _run(command, {**os.environ, "XDG_CACHE_HOME": str(self.cache_home)}, check=check)

"""
Benchmark sync, pull, push and listing against a real `docker-registry`, and write the results.

`make bench` runs it: it starts its own stack (ports 24837/24836, database
pulp_container_bench, state folder .state-bench) and an upstream `docker-registry` on a free
port, generates the data once (kept in .state-bench/upstream), measures, and writes
docs/benchmarks.md and .state-bench/results.json.
"""

import datetime
import os
import platform
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from dev import bench_tools  # noqa: E402
from dev.bench_report import write_report  # noqa: E402
from dev.stack import StackConfig  # noqa: E402
from pulp_container.tests.functional.conftest import PulpAPI, RunningStack  # noqa: E402
from pulp_container.tests.functional.images import Blob, build_image, push_image  # noqa: E402
from pulp_container.tests.functional.registry_client import RegistryClient  # noqa: E402
from pulp_container.tests.functional.upstream import UpstreamRegistry  # noqa: E402

STATE_DIR = REPO_ROOT / ".state-bench"
SMALL = ("bench/small", 2000, 300)
LARGE = ("bench/large", 8000, 1000)
BIG_NAME = "bench/big"
BIG_LAYER_MIB = 300
CATALOG_REPOSITORIES = 2000
MANIFEST_ACCEPT = (
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.oci.image.manifest.v1+json"
)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def generate_tagged_repository(client: RegistryClient, name: str, tags: int, manifests: int):
    """Push `manifests` distinct small images and point `tags` tags at them, round robin."""
    images = [build_image(seeds=(f"{name}-{number}",)) for number in range(manifests)]

    def push_tag(number):
        image = images[number % manifests]
        if number < manifests:
            push_image(client, name, f"tag-{number:05d}", image)
        else:
            client.put_manifest(name, f"tag-{number:05d}", image.manifest_bytes, image.media_type)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(push_tag, range(manifests)))
        list(pool.map(push_tag, range(manifests, tags)))


def generate_big_image(client: RegistryClient) -> None:
    """Push one image with an incompressible layer of BIG_LAYER_MIB MiB."""
    layer = Blob(
        data=os.urandom(BIG_LAYER_MIB * 1024 * 1024),
        media_type="application/vnd.docker.image.rootfs.diff.tar.gzip",
    )
    image = build_image(seeds=("big",), base_layers=[layer])
    push_image(client, BIG_NAME, "latest", image)


def generate_catalog(client: RegistryClient) -> None:
    image = build_image(seeds=("catalog",))

    def push_repository(number):
        push_image(client, f"catalog/repo-{number:05d}", "latest", image)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(push_repository, range(CATALOG_REPOSITORIES)))


def start_upstream() -> UpstreamRegistry:
    """Start the upstream on the data kept in the state folder, generating it the first time."""
    folder = STATE_DIR / "upstream"
    generated = folder / "generated"
    upstream = UpstreamRegistry(folder, "none")
    if generated.exists():
        return upstream
    log("Generating upstream data (first run only)")
    client = upstream.client()
    generate_tagged_repository(client, *SMALL)
    generate_tagged_repository(client, *LARGE)
    generate_big_image(client)
    generate_catalog(client)
    generated.write_text("done")
    return upstream


def start_stack() -> RunningStack:
    environ = dict(os.environ)
    environ.update(
        PULP_STATE_DIR=str(STATE_DIR),
        PULP_API_PORT="24837",
        PULP_CONTENT_PORT="24836",
        PULP_DB_NAME="pulp_container_bench",
        PULP_WORKERS="2",
    )
    return RunningStack(StackConfig.from_environment(environ), environ)


def timed_sync(api: PulpAPI, upstream: UpstreamRegistry, repository: dict, remote: dict) -> dict:
    """Sync and return wall time, task time, worker peak RSS and upstream requests."""
    log_position = len(upstream.requests_seen())
    with bench_tools.RSSSampler("pulpcore-worker", str(STATE_DIR)) as sampler:
        start = time.perf_counter()
        task = api.run_task(
            "POST", f"{repository['pulp_href']}sync/", {"remote": remote["pulp_href"]}
        )
        wall = time.perf_counter() - start
    started = datetime.datetime.fromisoformat(task["started_at"])
    finished = datetime.datetime.fromisoformat(task["finished_at"])
    return {
        "wall_s": round(wall, 2),
        "task_s": round((finished - started).total_seconds(), 2),
        "worker_peak_rss_mib": round(sampler.peak_mib, 1),
        "upstream_requests": dict(upstream.request_counts(since=log_position)),
    }


def idle_worker_rss_mib() -> float:
    """Return the largest RSS of the stack's task workers while no task runs."""
    with bench_tools.RSSSampler("pulpcore-worker", str(STATE_DIR)) as sampler:
        time.sleep(1)
    return round(sampler.peak_mib, 1)


def pulpcore_only_worker_rss_mib(stack: RunningStack) -> float:
    """
    Return the RSS of an idle task worker of pulpcore alone, without this plugin.

    The worker runs from a virtual environment with only pulpcore installed (created once
    under the state folder) and the stack's settings. It must run while no task is
    dispatched, because it cannot run container tasks.
    """
    from importlib.metadata import version

    venv = STATE_DIR / "pulpcore-only"
    worker = venv / "bin" / "pulpcore-worker"
    if not worker.exists():
        log("Installing pulpcore alone for the idle worker figure (first run only)")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "pip"), "install", "--quiet", f"pulpcore=={version('pulpcore')}"]
        installed = subprocess.run(pip, capture_output=True, text=True)
        if installed.returncode != 0:
            raise RuntimeError(f"Installing pulpcore alone failed:\n{installed.stderr}")
    process = subprocess.Popen(
        [str(worker)],
        env=stack.config.environment(),
        cwd=STATE_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(8)
        with bench_tools.RSSSampler("pulpcore-only/bin/pulpcore-worker", str(STATE_DIR)) as sampler:
            time.sleep(1)
    finally:
        process.terminate()
        process.wait(timeout=30)
    return round(sampler.peak_mib, 1)


def measure_sync(api: PulpAPI, upstream: UpstreamRegistry, name: str, policy: str) -> dict:
    remote = api.post(
        "/pulp/api/v3/remotes/container/container/",
        {"name": name, "url": upstream.url, "upstream_name": name, "policy": policy},
    )
    repository = api.post("/pulp/api/v3/repositories/container/container/", {"name": name})
    log(f"Syncing {name} ({policy})")
    first = timed_sync(api, upstream, repository, remote)
    log(f"Re-syncing {name} unchanged")
    again = timed_sync(api, upstream, repository, remote)
    api.run_task(
        "POST",
        "/pulp/api/v3/distributions/container/container/",
        {"name": name, "base_path": name, "repository": repository["pulp_href"]},
    )
    return {"first": first, "resync": again}


def pull_token(stack: RunningStack, name: str) -> str:
    """Get a pull token for `name` the way clients do: from the 401 challenge's realm."""
    client = RegistryClient(stack.content_origin)
    challenge = client.session.get(f"{stack.content_origin}/v2/{name}/manifests/tag-00000")
    header = challenge.headers.get("WWW-Authenticate", "")
    if challenge.status_code != 401 or not header.startswith("Bearer "):
        return ""
    return client.fetch_token(header)


def measure_token(stack: RunningStack, name: str) -> dict:
    client = RegistryClient(stack.content_origin)
    header = client.session.get(f"{stack.content_origin}/v2/").headers.get("WWW-Authenticate", "")
    scope = f"repository:{name}:pull"
    admin = RegistryClient(stack.content_origin, "admin", stack.admin_password)
    return {
        "anonymous_ms": round(
            bench_tools.median_ms(lambda: client.fetch_token(header, scope), 50), 2
        ),
        "basic_auth_ms": round(
            bench_tools.median_ms(lambda: admin.fetch_token(header, scope), 50), 2
        ),
    }


def measure_pulls(stack: RunningStack, upstream: UpstreamRegistry) -> dict:
    name = SMALL[0]
    token = pull_token(stack, name)
    ours_headers = {"Accept": MANIFEST_ACCEPT}
    if token:
        ours_headers["Authorization"] = f"Bearer {token}"
    theirs_headers = {"Accept": MANIFEST_ACCEPT}
    results = {}
    path = f"/v2/{name}/manifests/tag-00001"
    log("Loading manifest GET by tag with wrk for 20 s, twice")
    results["manifest_get"] = {
        "pulp": vars(bench_tools.run_wrk(stack.content_origin + path, ours_headers, "GET")),
        "distribution": vars(bench_tools.run_wrk(upstream.url + path, theirs_headers, "GET")),
    }
    log("Loading manifest HEAD by tag with a Python client for 20 s, twice")
    results["manifest_head"] = {
        "pulp": vars(bench_tools.run_python_load(stack.content_origin + path, ours_headers)),
        "distribution": vars(bench_tools.run_python_load(upstream.url + path, theirs_headers)),
    }
    results["token"] = measure_token(stack, name)
    return results


def measure_big_blob(api: PulpAPI, stack: RunningStack, upstream: UpstreamRegistry) -> dict:
    remote = api.post(
        "/pulp/api/v3/remotes/container/container/",
        {"name": BIG_NAME, "url": upstream.url, "upstream_name": BIG_NAME, "policy": "immediate"},
    )
    repository = api.post("/pulp/api/v3/repositories/container/container/", {"name": BIG_NAME})
    api.run_task("POST", f"{repository['pulp_href']}sync/", {"remote": remote["pulp_href"]})
    api.run_task(
        "POST",
        "/pulp/api/v3/distributions/container/container/",
        {"name": BIG_NAME, "base_path": BIG_NAME, "repository": repository["pulp_href"]},
    )
    manifest = (
        RegistryClient(upstream.url)
        .get(f"/v2/{BIG_NAME}/manifests/latest", headers={"Accept": MANIFEST_ACCEPT})
        .json()
    )
    digest = max(manifest["layers"], key=lambda layer: layer["size"])["digest"]
    path = f"/v2/{BIG_NAME}/blobs/{digest}"
    token = pull_token(stack, BIG_NAME)
    ours_headers = {"Authorization": f"Bearer {token}"} if token else {}
    log("Downloading the big blob, 3 times from each registry")
    ours = sorted(
        bench_tools.download_mib_per_second(stack.content_origin + path, ours_headers)
        for _ in range(3)
    )
    theirs = sorted(bench_tools.download_mib_per_second(upstream.url + path, {}) for _ in range(3))
    return {"pulp_mib_s": round(ours[1], 1), "distribution_mib_s": round(theirs[1], 1)}


def measure_pushes(stack: RunningStack) -> dict:
    auth = ("admin", stack.admin_password)
    log("Pushing 20 small images one after the other")
    client = bench_tools.CountingClient(stack.content_origin, *auth)
    start = time.perf_counter()
    failures = sum(
        not bench_tools.push_small_image(client, f"push/sequential-{n}", "1.0", f"seq-{n}")
        for n in range(20)
    )
    sequential = time.perf_counter() - start
    bench_tools.CountingClient.retries = 0
    log("Pushing 10 tags into one repository at the same time")
    wall, parallel_failures = bench_tools.parallel_pushes(
        stack.content_origin, auth, "push/parallel", 10
    )
    return {
        "sequential_20_s": round(sequential, 2),
        "sequential_failures": failures,
        "parallel_10_s": round(wall, 2),
        "parallel_failures": parallel_failures,
        "parallel_retries": bench_tools.CountingClient.retries,
    }


def create_catalog_distributions(stack: RunningStack) -> None:
    """Create CATALOG_REPOSITORIES distributions of one repository through the ORM."""
    code = (
        "from pulp_container.app.models import ContainerDistribution, ContainerRepository\n"
        "repository = ContainerRepository.objects.create(name='catalog')\n"
        f"for number in range({CATALOG_REPOSITORIES}):\n"
        "    ContainerDistribution.objects.create(name=f'catalog-{number:05d}', "
        "base_path=f'catalog/repo-{number:05d}', repository=repository)\n"
    )
    subprocess.run(
        [str(Path(sys.executable).parent / "pulpcore-manager"), "shell", "-c", code],
        env=stack.config.environment(),
        check=True,
    )


def measure_listing(stack: RunningStack, upstream: UpstreamRegistry) -> dict:
    log("Timing tags/list and _catalog")
    create_catalog_distributions(stack)
    ours = RegistryClient(stack.content_origin, "admin", stack.admin_password)
    theirs = RegistryClient(upstream.url)
    tags_path = f"/v2/{LARGE[0]}/tags/list"
    catalog_path = "/v2/_catalog?n=100"
    ours.get(tags_path)
    ours.get(catalog_path)
    return {
        "tags_list_8000_p50_ms": {
            "pulp": round(bench_tools.median_ms(lambda: ours.get(tags_path), 20), 1),
            "distribution": round(bench_tools.median_ms(lambda: theirs.get(tags_path), 20), 1),
        },
        "catalog_n100_p50_ms": {
            "pulp": round(bench_tools.median_ms(lambda: ours.get(catalog_path), 20), 1),
            "distribution": round(bench_tools.median_ms(lambda: theirs.get(catalog_path), 20), 1),
        },
    }


def machine_facts(upstream: UpstreamRegistry) -> dict:
    from importlib.metadata import version

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_kib = int(Path("/proc/meminfo").read_text().split()[1])
    registry_version = subprocess.run(
        ["docker-registry", "--version"], capture_output=True, text=True
    ).stdout.strip()
    return {
        "date": datetime.date.today().isoformat(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "pulpcore": version("pulpcore"),
        "pulp_container": version("pulp-container"),
        "docker_registry": registry_version,
    }


def main() -> int:
    STATE_DIR.mkdir(exist_ok=True)
    started = time.perf_counter()
    upstream = start_upstream()
    stack = start_stack()
    try:
        api = PulpAPI(stack.api_url, "admin", stack.admin_password)
        results = {"machine": machine_facts(upstream)}
        results["idle_worker_rss_mib"] = idle_worker_rss_mib()
        results["pulpcore_only_worker_rss_mib"] = pulpcore_only_worker_rss_mib(stack)
        results["sync_small"] = measure_sync(api, upstream, SMALL[0], "on_demand")
        results["sync_large"] = measure_sync(api, upstream, LARGE[0], "on_demand")
        results["pull"] = measure_pulls(stack, upstream)
        results["big_blob"] = measure_big_blob(api, stack, upstream)
        results["push"] = measure_pushes(stack)
        results["listing"] = measure_listing(stack, upstream)
        results["total_minutes"] = round((time.perf_counter() - started) / 60, 1)
    finally:
        stack.stop()
        upstream.stop()
    bench_tools.write_json(STATE_DIR / "results.json", results)
    write_report(results, REPO_ROOT / "docs" / "benchmarks.md")
    log(f"Wrote docs/benchmarks.md in {results['total_minutes']} minutes")
    return 0


if __name__ == "__main__":
    sys.exit(main())

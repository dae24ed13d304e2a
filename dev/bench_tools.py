"""Measuring tools of the benchmark: HTTP load with wrk, RSS sampling, timing, pushes."""

import json
import re
import statistics
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import requests

from pulp_container.tests.functional.images import build_image
from pulp_container.tests.functional.registry_client import RegistryClient

WRK_LATENCY_LINE = re.compile(r"^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$")
WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass
class LoadResult:
    """The figures of one wrk run: throughput, latency percentiles in ms, errors."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def run_wrk(url: str, headers: dict, method: str = "GET", seconds: int = 20) -> LoadResult:
    """Load `url` with 32 connections on 2 threads for `seconds`, as wrk measures it."""
    script = Path("/tmp/pulp-bench-wrk.lua")
    script.write_text(f'wrk.method = "{method}"\n')
    command = ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", "-s", str(script)]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    percentiles = {}
    for line in output.splitlines():
        match = WRK_LATENCY_LINE.match(line)
        if match:
            percentiles[match.group(1)] = float(match.group(2)) * WRK_UNITS[match.group(3)]
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    errors = 0
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        errors += int(non_2xx.group(1))
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if socket_errors:
        errors += sum(int(value) for value in socket_errors.groups())
    return LoadResult(rate, percentiles.get("50", 0.0), percentiles.get("99", 0.0), errors)


def run_python_load(url: str, headers: dict, method: str = "HEAD", seconds: int = 20) -> LoadResult:
    """
    Load `url` with 32 concurrent aiohttp connections for `seconds`.

    Used for HEAD, because wrk 4.1 waits for a body after a HEAD reply that carries a
    Content-Length and then times out. The client runs in Python on the same 2 cores, so its
    ceiling is lower than wrk's; both registries are measured with it.
    """
    import asyncio

    import aiohttp

    latencies = []
    errors = 0

    async def worker(session, deadline):
        nonlocal errors
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                async with session.request(method, url, headers=headers) as reply:
                    await reply.read()
                    if reply.status >= 400:
                        errors += 1
            except aiohttp.ClientError:
                errors += 1
            latencies.append((time.perf_counter() - start) * 1000)

    async def main():
        connector = aiohttp.TCPConnector(limit=32)
        async with aiohttp.ClientSession(connector=connector) as session:
            deadline = time.perf_counter() + seconds
            await asyncio.gather(*(worker(session, deadline) for _ in range(32)))

    asyncio.run(main())
    latencies.sort()
    return LoadResult(
        round(len(latencies) / seconds, 2),
        round(latencies[len(latencies) // 2], 2),
        round(latencies[int(len(latencies) * 0.99)], 2),
        errors,
    )


class RSSSampler:
    """Sample the resident set size of matching processes every 100 ms; keep each peak."""

    def __init__(self, match: str, marker: str):
        self.match = match
        self.marker = marker
        self.peaks = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()

    @property
    def peak_mib(self) -> float:
        return max(self.peaks.values(), default=0) / 1024

    def _loop(self):
        while not self._stop.is_set():
            for proc in Path("/proc").iterdir():
                if proc.name.isdigit():
                    self._sample(proc)
            time.sleep(0.1)

    def _sample(self, proc: Path) -> None:
        try:
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if self.match not in command:
                return
            if self.marker.encode() not in (proc / "environ").read_bytes():
                return
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    kib = int(line.split()[1])
                    self.peaks[proc.name] = max(self.peaks.get(proc.name, 0), kib)
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            return


def median_ms(action, repeat: int) -> float:
    """Run `action` `repeat` times and return the median duration in milliseconds."""
    durations = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        durations.append((time.perf_counter() - start) * 1000)
    return statistics.median(durations)


def download_mib_per_second(url: str, headers: dict) -> float:
    """Stream `url` to nowhere and return MiB/s."""
    start = time.perf_counter()
    size = 0
    with requests.get(url, headers=headers, stream=True, timeout=600) as reply:
        reply.raise_for_status()
        for chunk in reply.iter_content(chunk_size=1024 * 1024):
            size += len(chunk)
    return size / (1024 * 1024) / (time.perf_counter() - start)


class CountingClient(RegistryClient):
    """A registry client that retries 429 and 5xx replies up to 5 times and counts retries."""

    retries = 0

    def request(self, method, path, **kwargs):
        for attempt in range(6):
            reply = super().request(method, path, **kwargs)
            if reply.status_code != 429 and reply.status_code < 500:
                return reply
            CountingClient.retries += 1
            time.sleep(float(reply.headers.get("Retry-After", 0.2 * (attempt + 1))))
        return reply


def push_small_image(client: RegistryClient, name: str, tag: str, seed: str) -> bool:
    """Push one small image through the push protocol; return whether it succeeded."""
    from pulp_container.tests.functional.images import push_image

    try:
        push_image(client, name, tag, build_image(seeds=(seed,)))
        return True
    except AssertionError:
        return False


def parallel_pushes(base_url: str, auth: tuple, name: str, count: int) -> tuple:
    """Push `count` images with different tags into one repository at once."""

    def push(number):
        client = CountingClient(base_url, *auth)
        return push_small_image(client, name, f"parallel-{number}", f"parallel-{number}")

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=count) as pool:
        results = list(pool.map(push, range(count)))
    return time.perf_counter() - start, results.count(False)


def write_json(path: Path, document) -> None:
    path.write_text(json.dumps(document, indent=2, sort_keys=True))

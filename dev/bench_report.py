"""Render the benchmark results as docs/benchmarks.md, with each target met or missed."""

from pathlib import Path


def _ratio(ours: float, theirs: float) -> float:
    return round(ours / theirs, 2) if theirs else 0.0


def _check(met: bool) -> str:
    return "met" if met else "**missed**"


def _sync_rows(results: dict) -> list:
    rows = []
    for key, label in (("sync_small", "2,000 tags"), ("sync_large", "8,000 tags")):
        for run, run_label in (("first", "first sync"), ("resync", "re-sync, unchanged")):
            figures = results[key][run]
            requests = figures["upstream_requests"]
            rows.append(
                f"| {label}, {run_label} | {figures['wall_s']} | {figures['task_s']} | "
                f"{figures['worker_peak_rss_mib']} | {requests.get('tags_list', 0)} | "
                f"{requests.get('manifest_get', 0)} | {requests.get('manifest_head', 0)} | "
                f"{requests.get('blob_get', 0)} |"
            )
    return rows


def _targets(results: dict) -> list:
    small, large = results["sync_small"], results["sync_large"]
    get = results["pull"]["manifest_get"]
    big = results["big_blob"]
    push = results["push"]
    listing = results["listing"]
    rss_ratio = _ratio(large["first"]["worker_peak_rss_mib"], small["first"]["worker_peak_rss_mib"])
    resync = small["resync"]
    return [
        (
            "Sync 2,000 tags on_demand ≤ 14 s",
            small["first"]["wall_s"],
            small["first"]["wall_s"] <= 14,
        ),
        (
            "Sync 8,000 tags on_demand ≤ 56 s",
            large["first"]["wall_s"],
            large["first"]["wall_s"] <= 56,
        ),
        ("Re-sync 2,000 unchanged tags ≤ 3.5 s", resync["wall_s"], resync["wall_s"] <= 3.5),
        (
            "Re-sync: zero manifest GETs, at most one HEAD per tag",
            f"{resync['upstream_requests'].get('manifest_get', 0)} GET, "
            f"{resync['upstream_requests'].get('manifest_head', 0)} HEAD",
            resync["upstream_requests"].get("manifest_get", 0) == 0
            and resync["upstream_requests"].get("manifest_head", 0) <= 2000,
        ),
        (
            "Worker peak RSS ≤ 120 MiB during the 8,000-tag sync",
            large["first"]["worker_peak_rss_mib"],
            large["first"]["worker_peak_rss_mib"] <= 120,
        ),
        ("8,000-tag peak RSS ≤ 1.2 × the 2,000-tag peak", rss_ratio, rss_ratio <= 1.2),
        (
            "Manifest GET by tag ≥ 0.5 × distribution's requests/s",
            _ratio(get["pulp"]["requests_per_second"], get["distribution"]["requests_per_second"]),
            get["pulp"]["requests_per_second"] >= 0.5 * get["distribution"]["requests_per_second"],
        ),
        (
            "Manifest GET p99 ≤ 2 × distribution's",
            _ratio(get["pulp"]["p99_ms"], get["distribution"]["p99_ms"]),
            get["pulp"]["p99_ms"] <= 2 * get["distribution"]["p99_ms"],
        ),
        (
            "Token round trip ≤ 20 ms (with basic auth)",
            results["pull"]["token"]["basic_auth_ms"],
            results["pull"]["token"]["basic_auth_ms"] <= 20,
        ),
        (
            "300 MiB blob ≥ 0.9 × distribution's MiB/s",
            _ratio(big["pulp_mib_s"], big["distribution_mib_s"]),
            big["pulp_mib_s"] >= 0.9 * big["distribution_mib_s"],
        ),
        ("20 sequential pushes ≤ 6.4 s", push["sequential_20_s"], push["sequential_20_s"] <= 6.4),
        (
            "10 parallel pushes: 0 failures, 0 retries",
            f"{push['parallel_failures']} failures, {push['parallel_retries']} retries",
            push["parallel_failures"] == 0 and push["parallel_retries"] == 0,
        ),
        (
            "`_catalog?n=100` over 2,000 repositories p50 ≤ 50 ms",
            listing["catalog_n100_p50_ms"]["pulp"],
            listing["catalog_n100_p50_ms"]["pulp"] <= 50,
        ),
        (
            "`tags/list` of 8,000 tags p50 ≤ 50 ms",
            listing["tags_list_8000_p50_ms"]["pulp"],
            listing["tags_list_8000_p50_ms"]["pulp"] <= 50,
        ),
    ]


def render(results: dict, notes: str = "") -> str:
    machine = results["machine"]
    pull = results["pull"]
    lines = [
        "# Benchmarks",
        "",
        "Measured by `make bench` (`dev/bench.py`), which starts its own stack and a",
        "`docker-registry` (CNCF distribution) on the same machine, serving the same content.",
        "To rerun: `make bench`; it rewrites this page. The first run generates the upstream",
        "data under `.state-bench/upstream`.",
        "",
        f"- Date: {machine['date']}",
        f"- Machine: {machine['cores']} cores ({machine['cpu']}), {machine['memory_gib']} GiB",
        f"- Versions: pulp_container {machine['pulp_container']}, pulpcore {machine['pulpcore']},",
        f"  Python {machine['python']}, docker-registry {machine['docker_registry']}",
        f"- Whole run: {results['total_minutes']} minutes",
        "",
        "## Targets",
        "",
        "| target | measured | result |",
        "|---|---|---|",
    ]
    lines += [f"| {name} | {value} | {_check(met)} |" for name, value, met in _targets(results)]
    lines += [
        "",
        "## Sync (policy on_demand)",
        "",
        "Wall time runs from the sync POST to task completion, polled every 50 ms by a client",
        "signed in with a session cookie (a basic-auth request spends about 0.3 s in Django's",
        "password hasher). Upstream requests are counted from the upstream's access log.",
        f"A task worker with no task running has an RSS of {results['idle_worker_rss_mib']} MiB;",
        "a worker of pulpcore alone (without this plugin, in its own virtual environment, with",
        f"the same settings) has {results['pulpcore_only_worker_rss_mib']} MiB.",
        "",
        "| run | wall s | task s | worker peak RSS MiB | tags/list | manifest GET | "
        "manifest HEAD | blob GET |",
        "|---|---|---|---|---|---|---|---|",
        *_sync_rows(results),
        "",
        "## Pull",
        "",
        "32 connections for 20 s, by tag, with a token obtained from the 401 challenge's realm",
        "as clients do. GET runs under wrk (2 threads). HEAD runs under a Python aiohttp client,",
        "because wrk 4.1 times out on HEAD replies that carry a Content-Length; that client",
        "shares the 2 cores, so its figures are lower for both registries.",
        "",
        "| load | registry | requests/s | p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|",
    ]
    for kind in ("manifest_get", "manifest_head"):
        for registry in ("pulp", "distribution"):
            figures = pull[kind][registry]
            lines.append(
                f"| {kind.replace('_', ' ')} | {registry} | {figures['requests_per_second']} | "
                f"{figures['p50_ms']} | {figures['p99_ms']} | {figures['errors']} |"
            )
    big = results["big_blob"]
    push = results["push"]
    listing = results["listing"]
    lines += [
        "",
        f"Token round trip (median of 50): anonymous {pull['token']['anonymous_ms']} ms, "
        f"with basic auth {pull['token']['basic_auth_ms']} ms.",
        "",
        f"300 MiB blob GET (median of 3): pulp {big['pulp_mib_s']} MiB/s, distribution "
        f"{big['distribution_mib_s']} MiB/s.",
        "",
        "## Push",
        "",
        f"- 20 small images one after the other: {push['sequential_20_s']} s "
        f"({push['sequential_failures']} failures).",
        f"- 10 tags into one repository at the same time: {push['parallel_10_s']} s, "
        f"{push['parallel_failures']} failures, {push['parallel_retries']} retries.",
        "",
        "## Listing (median of 20)",
        "",
        "| request | pulp ms | distribution ms |",
        "|---|---|---|",
        f"| `tags/list` of 8,000 tags | {listing['tags_list_8000_p50_ms']['pulp']} | "
        f"{listing['tags_list_8000_p50_ms']['distribution']} |",
        f"| `_catalog?n=100` over 2,000 repositories | {listing['catalog_n100_p50_ms']['pulp']} | "
        f"{listing['catalog_n100_p50_ms']['distribution']} |",
        "",
    ]
    if notes:
        lines += ["## Notes", "", notes, ""]
    return "\n".join(lines)


def write_report(results: dict, path: Path) -> None:
    notes_path = path.parent / "benchmarks-notes.md"
    notes = notes_path.read_text().strip() if notes_path.exists() else ""
    path.write_text(render(results, notes))

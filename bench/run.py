"""Benchmark freshness against a bare Scrapy crawl and LinkChecker, side by side (issue 7).

For each N it builds a simulated web of N organisations (``bench/web.py``), serves it with
nginx on loopback addresses, and runs over the same 2N listed URLs, one after the other:

1. ``freshness import`` of the directory, then ``freshness run`` with its default politeness
   into a fresh SQLite store (the first pass);
2. ``freshness run`` again with the clock a day later, over the unchanged web (the revisit);
3. the bare Scrapy spider of ``bench/bare_spider.py`` (the baseline), then the same spider
   with freshness's politeness settings;
4. LinkChecker from PyPI (in its own virtualenv), through a forward proxy in the same nginx
   that maps the simulated host names to their addresses.

With ``--rounds K``, the first pass (1) and the bare crawl (3) are timed K times in pairs,
one after the other on fresh stores, and the speed target is judged on the median ratio;
LinkChecker, which runs once, is set against the median first pass.

Each figure is measured, never estimated: wall and CPU time of the whole command, peak RSS
summed over its process tree, and the requests and bytes nginx logged for it. Results go to
``bench/results/*.json``; ``docs/benchmarks.md`` and its plot are rendered from them.

    .venv/bin/python -m bench.run --orgs 1000 10000
    .venv/bin/python -m bench.run --orgs 1000 10000 --rounds 3 --no-linkchecker --no-docs
    .venv/bin/python -m bench.run --quick --results /tmp/out --no-docs   # about 50 orgs
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import sites, web
from bench.contenders import (
    LINKCHECKER_VENV,
    ROOT,
    SOURCE,
    T0,
    ensure_linkchecker,
    fresh_first_pass,
    fresh_store,
    freshness_defaults,
    freshness_pass,
    import_directory,
    linkchecker_version,
    run_bare,
    run_linkchecker,
    snapshot_source,
    store_census,
    write_freshness_config,
)
from bench.pyspy import profile_pass

BENCH = ROOT / "bench"
DEFAULT_RESULTS = BENCH / "results"
DEFAULT_DOCS = ROOT / "docs"
LINKCHECKER_BUDGET_S = 20 * 60  # skip LinkChecker where a linear projection exceeds this
SCHEMA = 1


# --------------------------------------------------------------------------------- machine


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    os_name = platform.platform()
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    nginx = web.find_nginx()
    nginx_version = None
    if nginx:
        result = subprocess.run([nginx, "-v"], capture_output=True, text=True)
        nginx_version = result.stderr.strip().split("/")[-1] or None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(mem_kb / 2**20, 1),
        "os": os_name,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "scrapy": _version("scrapy"),
        "twisted": _version("twisted"),
        "lxml": _version("lxml"),
        "sqlalchemy": _version("sqlalchemy"),
        "nginx": nginx_version,
        "linkchecker": linkchecker_version(),
    }


# --------------------------------------------------------------------------------- one N


def bench_one(n: int, args: argparse.Namespace, nginx_exe: str, lc: Path | None) -> dict[str, Any]:
    base = args.workdir / f"orgs-{n}"
    print(f"[bench] {n} organisations: building the web in {base}", flush=True)
    if base.exists():
        shutil.rmtree(base)  # a fresh store and fresh logs every time
    built = sites.build(base / "web", n)
    rundir = base / "freshness"
    rundir.mkdir(parents=True, exist_ok=True)
    hosts = built.hosts()
    urls = built.listed_urls()
    (base / "urls.txt").write_text("\n".join(urls) + "\n")
    (base / "hosts.json").write_text(json.dumps(hosts))
    write_freshness_config(rundir, hosts)
    db = rundir / "freshness.db"
    result: dict[str, Any] = {"orgs": n, "listed_urls": len(urls), "web": built.stats}
    with web.Nginx(nginx_exe, built) as nginx:
        result["nginx_pids"] = len(nginx.pids())
        print(f"[bench] {n}: nginx up; freshness import", flush=True)
        result["freshness_import"] = import_directory(built, rundir, db, args.timeout)
        result.update(_passes(n, args, base, built, rundir, db, nginx))
        result.update(_linkchecker(n, args, lc, urls, base, nginx))
        for k, override in enumerate(args.what_if):
            # Not freshness's defaults: what one setting changes, on a fresh store.
            print(f"[bench] {n}: what if {override}", flush=True)
            figures = fresh_first_pass(
                base, built, rundir, nginx, args.timeout, f"what-if-{k}", tuple(override.split())
            )
            result.setdefault("what_if", []).append({"settings": override, "first": figures})
            print(f"[bench] {n}: what if {override}: {figures['wall_s']} s", flush=True)
        if args.profile and n == min(args.orgs):
            print(f"[bench] {n}: profiling one more first pass with py-spy", flush=True)
            prof_dir, prof_db = fresh_store(base, built, rundir, "profile")
            result["profile"] = profile_pass(prof_dir, prof_db, n)
        errors = nginx.serious_errors()
        result["nginx_serious_errors"] = len(errors)
        if errors:
            print(
                f"[bench] {n}: WARNING nginx logged {len(errors)} serious errors, e.g. {errors[0]}"
            )
    result["ratios"] = ratios(result)
    return result


def _passes(
    n: int,
    args: argparse.Namespace,
    base: Path,
    built: web.BuiltWeb,
    rundir: Path,
    db: Path,
    nginx: web.Nginx,
) -> dict[str, Any]:
    """freshness's first and second passes, the bare crawls, and the rounds of pairs."""
    result: dict[str, Any] = {}
    print(f"[bench] {n}: freshness run (first pass)", flush=True)
    first = freshness_pass(rundir, db, T0, nginx, args.timeout, "first")
    print(f"[bench] {n}: first pass {first['wall_s']} s; second pass", flush=True)
    second = freshness_pass(rundir, db, T0 + dt.timedelta(days=1), nginx, args.timeout, "second")
    print(f"[bench] {n}: second pass {second['wall_s']} s; bare Scrapy", flush=True)
    result["freshness"] = {"first": first, "second": second, "census": store_census(db)}
    bare = run_bare(base, nginx, args.timeout, polite=False)
    result["bare_scrapy"] = bare
    print(f"[bench] {n}: bare {bare['wall_s']} s", flush=True)
    result["rounds"] = [_round(1, first, bare)]
    for number in range(2, args.rounds + 1):
        # The machine's speed drifts within minutes: pairs timed one after the other,
        # in the same order as the first, tell freshness's cost from the drift.
        again = fresh_first_pass(base, built, rundir, nginx, args.timeout, f"round-{number}")
        bare_again = run_bare(base, nginx, args.timeout, polite=False, label=f"bare-round-{number}")
        result["rounds"].append(_round(number, again, bare_again))
        print(
            f"[bench] {n}: round {number}: first pass {again['wall_s']} s, "
            f"bare {bare_again['wall_s']} s",
            flush=True,
        )
    if args.bare_polite:
        polite = run_bare(base, nginx, args.timeout, polite=True)
        result["bare_scrapy_polite"] = polite
        print(f"[bench] {n}: bare polite {polite['wall_s']} s", flush=True)
    else:
        result["bare_scrapy_polite"] = None
    return result


def _linkchecker(
    n: int,
    args: argparse.Namespace,
    lc: Path | None,
    urls: list[str],
    base: Path,
    nginx: web.Nginx,
) -> dict[str, Any]:
    """LinkChecker over the listed URLs, or why it was skipped."""
    result: dict[str, Any] = {"linkchecker": None}
    if lc is None:
        result["linkchecker_skipped"] = args.linkchecker_skip_reason or "not requested"
        return result
    projected = args.linkchecker_projection(n)
    if projected is not None and projected > LINKCHECKER_BUDGET_S:
        result["linkchecker_skipped"] = (
            f"projected {projected:.0f} s from the smaller run (linear), over the "
            f"{LINKCHECKER_BUDGET_S} s budget"
        )
        return result
    print(f"[bench] {n}: LinkChecker", flush=True)
    lcres = run_linkchecker(lc, urls, base / "linkchecker", nginx, args.timeout)
    result["linkchecker"] = lcres
    args.linkchecker_seen[n] = lcres["wall_s"]
    print(f"[bench] {n}: LinkChecker {lcres['wall_s']} s", flush=True)
    return result


def _round(number: int, first: dict[str, Any], bare: dict[str, Any]) -> dict[str, Any]:
    return {
        "round": number,
        "freshness_first_wall_s": first["wall_s"],
        "freshness_first_cpu_s": round(first["cpu_user_s"] + first["cpu_sys_s"], 2),
        "bare_wall_s": bare["wall_s"],
        "bare_cpu_s": round(bare["cpu_user_s"] + bare["cpu_sys_s"], 2),
        "freshness_over_bare_wall": _ratio(first["wall_s"], bare["wall_s"]),
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    if not a or not b:
        return None
    return round(a / b, 3)


def ratios(result: dict[str, Any]) -> dict[str, Any]:
    first = result["freshness"]["first"]
    second = result["freshness"]["second"]
    bare = result["bare_scrapy"]
    polite = result.get("bare_scrapy_polite") or {}
    lc = result.get("linkchecker") or {}
    per_round = [r["freshness_over_bare_wall"] for r in result.get("rounds", [])]
    per_round = [r for r in per_round if r is not None]
    first_walls = [r["freshness_first_wall_s"] for r in result.get("rounds", [])]
    first_walls = [w for w in first_walls if w]
    return {
        "freshness_over_bare_wall": _ratio(first["wall_s"], bare["wall_s"]),
        # Only with --rounds above 1: the median of each round's ratio.
        "freshness_over_bare_wall_median": (
            round(statistics.median(per_round), 3) if len(per_round) > 1 else None
        ),
        "freshness_over_bare_polite_wall": _ratio(first["wall_s"], polite.get("wall_s")),
        "linkchecker_over_freshness_wall": _ratio(lc.get("wall_s"), first["wall_s"]),
        # LinkChecker runs once; with --rounds it is set against the median first pass.
        "linkchecker_over_freshness_wall_median": (
            _ratio(lc.get("wall_s"), statistics.median(first_walls))
            if len(first_walls) > 1
            else None
        ),
        "second_over_first_wall": _ratio(second["wall_s"], first["wall_s"]),
        "second_over_first_bytes": _ratio(
            second["server"]["bytes_sent"], first["server"]["bytes_sent"]
        ),
        "second_over_first_requests": _ratio(
            second["server"]["requests"], first["server"]["requests"]
        ),
    }


def add_rates(result: dict[str, Any]) -> None:
    """Listed URLs per second and pages (requests nginx saw) per second, for every contender."""
    listed = result["listed_urls"]
    runs = [
        result["freshness"]["first"],
        result["freshness"]["second"],
        result["bare_scrapy"],
        result.get("bare_scrapy_polite"),
        result.get("linkchecker"),
        *(w["first"] for w in result.get("what_if", [])),
    ]
    for figures in runs:
        if not figures:
            continue
        wall = figures["wall_s"] or None
        figures["listed_urls_per_s"] = round(listed / wall, 1) if wall else None
        requests = figures["server"]["requests"]
        figures["pages_per_s"] = round(requests / wall, 1) if wall else None
        own = (figures.get("cpu_user_s") or 0) + (figures.get("cpu_sys_s") or 0)
        figures["other_cpu_s"] = round(
            figures["machine_cpu_s"] - own - figures.get("server_cpu_s", 0), 2
        )


# --------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--orgs", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--quick", action="store_true", help="about 50 organisations, no docs")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/freshness-bench"))
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    parser.add_argument("--docs", type=Path, default=DEFAULT_DOCS)
    parser.add_argument("--no-docs", action="store_true", help="write the JSON only")
    parser.add_argument("--no-linkchecker", action="store_true")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="time freshness's first pass and the bare crawl this many times, one pair after "
        "the other, and report the median ratio too (default 1)",
    )
    parser.add_argument("--no-bare-polite", dest="bare_polite", action="store_false")
    parser.add_argument("--profile", action="store_true", help="py-spy on the smallest N")
    parser.add_argument(
        "--what-if",
        action="append",
        default=[],
        metavar="'NAME=VALUE ...'",
        help="one more first pass with these settings (not the defaults); repeatable",
    )
    parser.add_argument("--no-install", action="store_true", help="never apt-get or pip install")
    parser.add_argument("--timeout", type=float, default=3600, help="per command, in seconds")
    parser.add_argument(
        "--port", type=int, help=f"the sites' port (default {web.PORT}, 18080 with --quick)"
    )
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error(f"--rounds must be 1 or more, got {args.rounds}")
    if args.port is None:
        args.port = 18080 if args.quick else web.PORT
    if args.quick:
        args.orgs = [50]
        args.no_linkchecker = True
        args.no_docs = True
    args.orgs = sorted(set(args.orgs))
    return args


def main(argv: list[str] | None = None) -> Path:
    args = parse_args(argv)
    web.use_ports(args.port)
    started = dt.datetime.now(dt.UTC)
    nginx_exe = web.ensure_nginx(install=not args.no_install)
    lc = None
    args.linkchecker_skip_reason = None
    if args.no_linkchecker:
        args.linkchecker_skip_reason = "--no-linkchecker" + (" (--quick)" if args.quick else "")
    else:
        lc = ensure_linkchecker(install=not args.no_install)
        if lc is None:
            args.linkchecker_skip_reason = f"LinkChecker is not installed in {LINKCHECKER_VENV}"
    args.linkchecker_seen = {}

    def projection(n: int) -> float | None:
        if not args.linkchecker_seen:
            return None
        smaller = max(k for k in args.linkchecker_seen if k <= n)
        return args.linkchecker_seen[smaller] * n / smaller

    args.linkchecker_projection = projection
    args.results.mkdir(parents=True, exist_ok=True)
    args.workdir.mkdir(parents=True, exist_ok=True)
    SOURCE.update(snapshot_source(args.workdir))
    if SOURCE.get("path"):
        sys.path.insert(0, SOURCE["path"])  # freshness_defaults() reads the measured settings
    print(f"[bench] measuring freshness at {SOURCE.get('commit')}", flush=True)
    runs: list[dict[str, Any]] = []
    argv_text = " ".join(argv if argv is not None else sys.argv[1:])
    name = "quick" if args.quick else "orgs-" + "-".join(str(n) for n in args.orgs)
    out = args.results / f"{started:%Y-%m-%d}-{name}.json"
    document: dict[str, Any] = {
        "schema": SCHEMA,
        "date": started.isoformat(timespec="seconds"),
        "finished": None,
        "command": f".venv/bin/python -m bench.run {argv_text}".strip(),
        "quick": args.quick,
        "freshness_source": SOURCE,
        "machine": machine(),
        "defaults": freshness_defaults(),
        "scenarios": [
            {"name": s, "share": share, "what": what} for s, share, what in web.SCENARIOS
        ],
        "runs": runs,
    }
    for n in args.orgs:
        result = bench_one(n, args, nginx_exe, lc)
        add_rates(result)
        runs.append(result)
        out.write_text(json.dumps(document, indent=2) + "\n")  # what is done so far
    document["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"[bench] results: {out}", flush=True)
    if not args.no_docs:
        from bench.report import render

        page = render(document, out, args.docs)
        print(f"[bench] report: {page}", flush=True)
    return out


if __name__ == "__main__":
    started_at = time.monotonic()
    main()
    print(f"[bench] done in {time.monotonic() - started_at:.0f} s", flush=True)

"""Using every core: one run's due organisations split over several crawler processes.

One Scrapy process keeps one core busy; parsing and judging pages is CPU work. With
``FRESHNESS_PROCESSES`` above 1 (or 0, "auto": one per core once at least
``FRESHNESS_PROCESSES_MIN_ORGS`` organisations are due), ``freshness run`` holds the lock,
starts the run, and hands each child process a shard of the organisations. An organisation's
URLs, and every organisation on the same registered domain, stay in one shard, so per-host
politeness holds. Children classify and record observations under the parent's run; the
parent then judges the whole run from the store, exactly as a distributed run is judged.

This module imports no Scrapy: the parent stays small, and only the children crawl.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from monitor.domains import registered_domain
from monitor.targets import RunPlan

ProgressCallback = Callable[[int, int, str], None]
PROGRESS_EVERY_S = 0.25  # how often a crawler process reports its progress, at most


def process_count(settings: Any, organisations: int) -> int:
    configured = int(settings.get("FRESHNESS_PROCESSES") or 0)
    if configured > 0:
        return max(1, min(configured, organisations))
    if organisations < int(settings.get("FRESHNESS_PROCESSES_MIN_ORGS") or 200):
        return 1  # starting another crawler costs more than it saves on a small run
    return max(1, min(os.cpu_count() or 1, 8, organisations))


def split(organisations: Sequence[tuple[str, str]], shards: int) -> list[list[str]]:
    """(id, homepage) pairs as shards of ids, by the homepage's registered domain: the same
    domain, the same shard (politeness); otherwise balanced by a stable hash."""
    out: list[list[str]] = [[] for _ in range(shards)]
    for org_id, homepage in organisations:
        domain = registered_domain(homepage)
        out[zlib.crc32(domain.encode()) % shards].append(org_id)
    return [shard for shard in out if shard]


def portable_settings(settings: Any) -> dict[str, Any]:
    """Every setting chosen above Scrapy's defaults (module, config file, command line)."""
    out = {}
    for name, value in settings.copy_to_dict().items():
        if settings.getpriority(name) and settings.getpriority(name) > 0:
            try:
                json.dumps(value)
            except TypeError:
                continue
            out[name] = value
    return out


def crawl_in_processes(
    settings: Any,
    run_id: int,
    plan: RunPlan,
    shards: list[list[str]],
    *,
    progress: ProgressCallback | None = None,
    canaries: list[str] | None = None,
) -> bool:
    """Run one child crawler per shard of organisation ids and wait for all. False if
    interrupted (SIGTERM). Each child loads its own shard's links from the store, so this
    process never holds the run's targets.

    The canary URLs' categories, reported by the children, are added to ``canaries``.
    """
    portable = portable_settings(settings)
    total = sum(len(shard) for shard in shards)
    done = [0] * len(shards)
    interrupted = threading.Event()
    with tempfile.TemporaryDirectory(prefix="freshness-shards-") as tmp:
        children = []
        for index, shard in enumerate(shards):
            job = Path(tmp) / f"shard-{index}.json"
            job.write_text(
                json.dumps(
                    {
                        "run_id": run_id,
                        "settings": portable,
                        "now": plan.now.isoformat(),
                        "organisations": shard,
                        "discover": [o for o in shard if o in plan.discover],
                        "selectors": {o: plan.selectors.get(o) for o in shard},
                        "canaries": plan.canaries if index == 0 else [],
                        "listed_domains": plan.listed_domains,
                    }
                )
            )
            children.append(
                subprocess.Popen(
                    [sys.executable, "-m", "monitor.shards", str(job)],
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )

        def forward(signum: int, _frame: Any) -> None:
            interrupted.set()
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)

        previous = signal.signal(signal.SIGTERM, forward)
        try:
            readers = [
                threading.Thread(
                    target=_read_progress, args=(c, i, done, total, progress, canaries)
                )
                for i, c in enumerate(children)
            ]
            for reader in readers:
                reader.start()
            for reader in readers:
                reader.join()
            codes = [child.wait() for child in children]
        finally:
            signal.signal(signal.SIGTERM, previous)
    if interrupted.is_set():
        return False
    if any(codes):
        raise RuntimeError(f"a crawler process failed (exit codes {codes}); rerun with -v")
    return True


_progress_lock = threading.Lock()


def _read_progress(
    child: subprocess.Popen[str],
    index: int,
    done: list[int],
    total: int,
    progress: ProgressCallback | None,
    canaries: list[str] | None,
) -> None:
    assert child.stdout is not None
    for line in child.stdout:
        parts = line.split()
        if len(parts) == 2 and parts[0] == "canary" and canaries is not None:
            with _progress_lock:
                canaries.append(parts[1])
        if len(parts) >= 2 and parts[0] == "progress":
            with _progress_lock:
                done[index] = int(parts[1])
                if progress is not None:
                    progress(sum(done), total, parts[2] if len(parts) > 2 else "")
    child.stdout.close()


def _child(job_path: str) -> int:
    """A child crawler: crawl one shard, record under the parent's run, report progress."""
    from monitor.crawl import build_settings, run_crawl
    from monitor.policy import parse_timestamp
    from monitor.targets import shard_targets

    job = json.loads(Path(job_path).read_text())
    settings = build_settings(job["settings"])
    targets = job.pop("canaries") + shard_targets(
        settings,
        job.pop("organisations"),
        discover=set(job.pop("discover")),
        selectors=job.pop("selectors"),
        now=parse_timestamp(job["now"]),
    )
    settings.set("ITEM_PIPELINES", {"monitor.crawl.ShardPipeline": 300}, priority="cmdline")
    settings.set("FRESHNESS_RUN_ID", job["run_id"], priority="cmdline")

    last_report = 0.0

    def report(done: int, total: int, host: str) -> None:
        # A few lines a second are plenty for a progress bar; one per organisation cost the
        # parent about 1% of a run's CPU to read. The last one always goes out.
        nonlocal last_report
        now = time.monotonic()
        if done < total and now - last_report < PROGRESS_EVERY_S:
            return
        last_report = now
        print(f"progress {done} {total} {host}", flush=True)

    _, stats = run_crawl(
        settings,
        targets=targets,  # emptied by the crawl: no target outlives its requests
        listed_domains=job.pop("listed_domains"),
        progress=report,
    )
    return 0 if stats.get("finish_reason") in ("finished", "shutdown") else 1


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1]))

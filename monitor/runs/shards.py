"""Using every core: one run's due organisations split over several crawler processes.

One Scrapy process keeps one core busy; parsing and judging pages is CPU work. With
``FRESHNESS_PROCESSES`` above 1 (or 0, "auto": one per core once at least
``FRESHNESS_PROCESSES_MIN_ORGS`` organisations are due), ``freshness run`` holds the lock,
starts the run, and hands each child process a shard of the organisations. An organisation's
URLs, and every organisation on the same registered domain, stay in one shard, so per-host
politeness holds. Children classify and record observations under the parent's run; the
parent then judges the whole run from the store, exactly as a distributed run is judged.

The parent writes each child's targets to a file, and records what the children observe:
each child classifies its observations and hands them over on stdout. So only the parent
opens the store, the children never load SQLAlchemy, and the parent never loads Scrapy.

``freshness run`` starts its crawler processes first of all (``WarmCrawlers``), before it
imports SQLAlchemy, opens the store and plans the run. A crawler takes about 0.6 s to import
Scrapy and its components, and the coordinator about 0.5 s to get to its plan: started first,
the two overlap. Each waits for its job on stdin; those the plan does not need are
stopped before they are given one.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.runs.plan import RunPlan
    from storage.db import Store
    from storage.records import Observation

logger = logging.getLogger("freshness.shards")
ProgressCallback = Callable[[int, int, str], None]
PROGRESS_EVERY_S = 0.25  # how often a crawler process reports its progress, at most


class WarmCrawlers:
    """Crawler processes started ahead of the plan, each importing what a crawl needs while
    the coordinator plans; ``crawl_in_processes`` takes them as it hands out the shards.

    Used as a context manager: on leaving it, every crawler not taken is stopped. It was
    never given a job, so nothing is lost.
    """

    def __init__(self, count: int) -> None:
        self._waiting = [start_crawler() for _ in range(count)]

    @classmethod
    def for_run(cls, settings: Any) -> WarmCrawlers:
        return cls(warm_count(settings))

    def __len__(self) -> int:
        return len(self._waiting)

    def take(self, job: Path) -> subprocess.Popen[str]:
        """A waiting crawler given ``job``, or a new one when none is waiting."""
        return give_job(self._waiting.pop(0) if self._waiting else start_crawler(), job)

    def close(self) -> None:
        """Stop every crawler not taken."""
        waiting, self._waiting = self._waiting, []
        for child in waiting:
            child.kill()  # it has done nothing but import
        for child in waiting:
            child.wait()
            for pipe in (child.stdin, child.stdout):
                if pipe is not None:
                    with contextlib.suppress(OSError):
                        pipe.close()

    def __enter__(self) -> WarmCrawlers:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def start_crawler() -> subprocess.Popen[str]:
    """A crawler process; it imports what a crawl needs, then waits for ``give_job``."""
    return subprocess.Popen(
        [sys.executable, "-m", "monitor.runs.shards", "--job-on-stdin"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def give_job(child: subprocess.Popen[str], job: Path) -> subprocess.Popen[str]:
    """Send a crawler from ``start_crawler`` the path of its job; it starts crawling."""
    assert child.stdin is not None
    # A crawler that died starting (a broken install) reads nothing; its exit code tells.
    with contextlib.suppress(BrokenPipeError):
        child.stdin.write(f"{job}\n")
    with contextlib.suppress(BrokenPipeError):
        child.stdin.close()
    return child


def warm_count(settings: Any) -> int:
    """How many crawlers to start ahead of a run: as many as it will use if enough
    organisations are due, none if it will crawl in this process. How many are due is known
    only from the store; when fewer are (a small directory under "auto"), the extra crawlers
    are stopped unused, about half a second into their imports."""
    named = settings.getlist("FRESHNESS_ORGS")
    count = process_count(settings, len(named) if named else sys.maxsize)
    return count if count > 1 else 0


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
    from monitor.pages.domains import registered_domain

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
    store: Store,
    run_id: int,
    plan: RunPlan,
    shards: list[list[str]],
    *,
    progress: ProgressCallback | None = None,
    canaries: list[str] | None = None,
    warm: WarmCrawlers | None = None,
) -> bool:
    """Run one child crawler per shard of organisation ids, record what they observe under
    ``run_id`` as they go, and wait for all. False if interrupted (SIGTERM): the children
    stop, and everything they observed until then is recorded.

    The canary URLs' categories, reported by the children, are added to ``canaries``. The
    shards go to ``warm`` crawlers first, then to new ones (``start_crawler``).
    """
    total = sum(len(shard) for shard in shards)
    batch_size = max(1, int(settings.get("FRESHNESS_BATCH_SIZE") or 100))
    with tempfile.TemporaryDirectory(prefix="freshness-shards-") as tmp:
        children = _start_children(settings, store, run_id, plan, shards, Path(tmp), warm)
        interrupted, codes = _watch_children(
            store, children, total, batch_size, progress=progress, canaries=canaries
        )
    if interrupted:
        return False
    if any(codes):
        raise RuntimeError(f"a crawler process failed (exit codes {codes}); rerun with -v")
    return True


def _watch_children(
    store: Store,
    children: list[subprocess.Popen[str]],
    total: int,
    batch_size: int,
    *,
    progress: ProgressCallback | None,
    canaries: list[str] | None,
) -> tuple[bool, list[int]]:
    """Record what the children observe until every one has ended, passing a SIGTERM on to
    them. Returns whether one came (interrupted), and the children's exit codes."""
    done = [0] * len(children)
    interrupted = threading.Event()
    # Bounded, so children wait (their stdout fills) rather than this process holding a
    # backlog of observations when the store is slower than the crawl.
    observed: queue.Queue[Observation | None] = queue.Queue(maxsize=4 * batch_size)

    def stop_children() -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    def forward(signum: int, _frame: Any) -> None:
        interrupted.set()
        stop_children()

    previous = signal.signal(signal.SIGTERM, forward)
    readers = [
        threading.Thread(target=_read_child, args=(c, i, done, total, progress, canaries, observed))
        for i, c in enumerate(children)
    ]
    try:
        for reader in readers:
            reader.start()
        try:
            _record_observed(store, observed, len(readers), batch_size)
        except BaseException:
            stop_children()
            _drain(observed, readers)
            raise
        for reader in readers:
            reader.join()
        codes = [child.wait() for child in children]
    finally:
        signal.signal(signal.SIGTERM, previous)
    return interrupted.is_set(), codes


def _start_children(
    settings: Any,
    store: Store,
    run_id: int,
    plan: RunPlan,
    shards: list[list[str]],
    tmp: Path,
    warm: WarmCrawlers | None,
) -> list[subprocess.Popen[str]]:
    """Write each shard's targets and job into ``tmp`` and give each job to a crawler, a warm
    one first; then stop the warm crawlers left over."""
    from monitor.runs.plan import write_shard_targets

    portable = portable_settings(settings)
    children = []
    for index, shard in enumerate(shards):
        targets = tmp / f"shard-{index}.targets"
        target_counts = write_shard_targets(
            store,
            settings,
            shard,
            targets,
            discover=plan.discover,
            selectors=plan.selectors,
            now=plan.now,
        )
        job = tmp / f"shard-{index}.json"
        job.write_text(
            json.dumps(
                {
                    "run_id": run_id,
                    "parent": os.getpid(),
                    "settings": portable,
                    "targets": str(targets),
                    "target_counts": target_counts,
                    "canaries": plan.canaries if index == 0 else [],
                    "listed_domains": plan.listed_domains,
                }
            )
        )
        children.append(warm.take(job) if warm is not None else give_job(start_crawler(), job))
    if warm is not None:
        warm.close()  # the plan needs no more: they would hold memory through the crawl
    return children


def _record_observed(
    store: Store, observed: queue.Queue[Observation | None], readers: int, batch_size: int
) -> None:
    """Record observations as they arrive, ``batch_size`` to a transaction (fewer after a
    quiet second or a child's end), until every reader has reported its child's end (None)."""
    batch: list[Observation] = []
    ended = 0
    while ended < readers:
        try:
            observation = observed.get(timeout=1.0)
        except queue.Empty:
            observation = _QUIET
        if observation is None:
            ended += 1
        elif observation is not _QUIET:
            batch.append(observation)
        if batch and (len(batch) >= batch_size or observation is None or observation is _QUIET):
            with store.transaction() as repo:
                repo.record_observations(batch)
            batch = []


def _drain(observed: queue.Queue[Observation | None], readers: list[threading.Thread]) -> None:
    """After a failure to record: let the readers finish (their children are stopping)."""
    while any(reader.is_alive() for reader in readers):
        with contextlib.suppress(queue.Empty):
            observed.get(timeout=0.1)


_progress_lock = threading.Lock()
_QUIET: Any = object()  # no observation for a second


def _read_child(
    child: subprocess.Popen[str],
    index: int,
    done: list[int],
    total: int,
    progress: ProgressCallback | None,
    canaries: list[str] | None,
    observed: queue.Queue[Observation | None],
) -> None:
    """One child's stdout: its observations, its progress and its canaries; then None."""
    from storage.records import Observation

    assert child.stdout is not None
    try:
        for line in child.stdout:
            kind, _, rest = line.partition(" ")
            if kind == "observation":
                try:
                    observation = Observation.from_plain(json.loads(rest))
                except (ValueError, TypeError, KeyError) as exc:  # a bug, not the web's doing
                    logger.error("crawler process %d: unreadable observation: %s", index, exc)
                    continue
                observed.put(observation)
            elif kind == "progress":
                parts = rest.split()
                with _progress_lock:
                    done[index] = int(parts[0])
                    if progress is not None:
                        progress(sum(done), total, parts[2] if len(parts) > 2 else "")
            elif kind == "canary" and canaries is not None:
                with _progress_lock:
                    canaries.append(rest.strip())
    finally:
        child.stdout.close()
        observed.put(None)


def _stop_with_parent(parent: int) -> None:
    """Ask Linux for a SIGTERM when the parent dies (a SIGKILLed ``freshness run``): its
    crawlers stop gracefully instead of crawling on with nobody to record for. Elsewhere, a
    crawler stops when its next observation finds the pipe to the parent broken."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() != parent:  # it died before the request was made
        os.kill(os.getpid(), signal.SIGTERM)


def _child(job_path: str) -> int:
    """A child crawler: crawl one shard under the parent's run, hand the parent each
    observation, report progress. It opens no store."""
    from monitor.crawl.layers import build_settings
    from monitor.crawl.process import run_crawl
    from monitor.runs.plan import iter_targets

    job = json.loads(Path(job_path).read_text())
    _stop_with_parent(job["parent"])
    settings = build_settings(job["settings"])
    # Read as the crawl schedules them, not all at once: see iter_targets.
    targets = itertools.chain(job.pop("canaries"), iter_targets(Path(job.pop("targets"))))
    settings.set(
        "ITEM_PIPELINES", {"monitor.crawl.pipelines.ToParentPipeline": 300}, priority="cmdline"
    )
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
        targets=targets,
        target_counts=job.pop("target_counts"),
        listed_domains=job.pop("listed_domains"),
        progress=report,
    )
    return 0 if stats.get("finish_reason") in ("finished", "shutdown") else 1


def _crawler() -> int:
    """A crawler process (``start_crawler``): import what a crawl needs, then wait on stdin for
    the job's path, which comes once the run is planned. An empty stdin means it is not
    needed."""
    _stop_with_parent(os.getppid())
    _import_crawl_components()
    job_path = sys.stdin.readline().strip()
    return _child(job_path) if job_path else 0


def _import_crawl_components() -> None:
    """Import Scrapy, the spider, and every component the default settings name: the slow part
    of a crawler's start, done while it waits. A job's own settings may name others; those
    are imported when its crawl starts, as always."""
    from scrapy.utils.misc import load_object

    from monitor.crawl.layers import build_settings
    from monitor.crawl.process import for_given_spider
    from spiders.sites import DirectorySpider  # noqa: F401

    settings = for_given_spider(build_settings({}))
    names = [
        settings.get(name)
        for name in ("SCHEDULER", "DOWNLOADER", "STATS_CLASS", "SCHEDULER_PRIORITY_QUEUE")
    ]
    for name in ("DOWNLOADER_MIDDLEWARES", "SPIDER_MIDDLEWARES", "EXTENSIONS", "ITEM_PIPELINES"):
        names += [path for path, on in settings.getwithbase(name).items() if on is not None]
    # Scrapy loads a scheme's handler when a URL first needs it: the web's two, not ftp or s3.
    handlers = settings.getwithbase("DOWNLOAD_HANDLERS")
    names += [handlers.get("http"), handlers.get("https")]
    for path in names:
        if isinstance(path, str):
            with contextlib.suppress(Exception):  # the crawl itself reports a broken one
                load_object(path)


def _exit_at_once(code: int) -> None:
    """End a crawler process that is done: what it had to say is written out (observations,
    progress, its log), and the coordinator waits for its exit before it concludes the run.
    Python's own exit would first take the finished crawl's heap apart, about 0.2 s at 1,000
    organisations, for nothing; ``multiprocessing`` ends its workers this way too."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    if sys.argv[1:] != ["--job-on-stdin"]:
        sys.exit("usage: python -m monitor.runs.shards --job-on-stdin (a crawler of freshness run)")
    _exit_at_once(_crawler())

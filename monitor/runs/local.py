"""A pass crawled by this machine: in this process, or over crawler processes (``shards``).

``run_pass`` holds the run lock, plans the pass and crawls it. In one process the pipeline
in ``recording`` starts and concludes the run; over several, the coordinator does, with the same
``lifecycle``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from monitor.errors import FreshnessError
from monitor.runs.lifecycle import conclude_recorded, holding_run_lock, started_run
from monitor.runs.plan import RunPlan, plan_run, plan_targets
from monitor.runs.shards import crawl_in_processes, process_count, split
from storage.db import Store

if TYPE_CHECKING:
    from monitor.runs.shards import WarmCrawlers


def run_pass(
    store: Store,
    settings: Any,
    *,
    wait: bool = False,
    progress: Callable[[int, int, str], None] | None = None,
    warm: WarmCrawlers | None = None,
) -> dict[str, Any] | None:
    """One monitoring pass over the due organisations, holding the run lock.

    Returns the run summary, or None when nothing was due. A run over several processes
    uses the ``warm`` crawlers first (``monitor.runs.shards.WarmCrawlers``); those it does not
    need are stopped as soon as the plan is known.
    """
    started = time.monotonic()
    with store.transaction() as repo:
        known = repo.active_organisation_ids()  # not whole entries: this process coordinates
    if not known:
        raise FreshnessError(
            "the directory is empty; load one first with `freshness import directory.yaml`"
        )
    unknown = set(settings.getlist("FRESHNESS_ORGS")) - known
    if unknown:
        raise FreshnessError(
            f"no active organisation with id {', '.join(sorted(unknown))}; "
            "`freshness orgs` lists them"
        )
    with holding_run_lock(store, wait=wait):
        plan = plan_run(settings)
        processes = process_count(settings, len(plan.organisations))
        if warm is not None and processes < 2:
            warm.close()  # as soon as it is known: they would hold memory through the crawl
        if not plan.organisations:
            return None
        if processes > 1:
            summary = _run_in_processes(store, settings, plan, processes, progress, warm)
        else:
            summary = _run_here(settings, plan, progress)
    if summary is None:
        raise FreshnessError(
            "the crawl ended without concluding the run; rerun with -v to see the Scrapy log"
        )
    summary["processes"] = processes
    summary["duration_s"] = round(time.monotonic() - started, 1)
    with store.transaction() as repo:
        repo.annotate_run(summary["run_id"], processes=processes, duration_s=summary["duration_s"])
    return summary


def _run_here(
    settings: Any, plan: RunPlan, progress: Callable[[int, int, str], None] | None
) -> dict[str, Any] | None:
    """Crawl in this process; ``RecordObservationsPipeline`` starts and concludes the run."""
    from monitor.crawl.process import run_crawl  # Scrapy only where it crawls

    _, stats = run_crawl(
        settings,
        targets=plan_targets(settings, plan),
        listed_domains=plan.listed_domains,
        progress=progress,
    )
    return stats.get("freshness/summary")


def _run_in_processes(
    store: Store,
    settings: Any,
    plan: RunPlan,
    processes: int,
    progress: Callable[[int, int, str], None] | None,
    warm: WarmCrawlers | None = None,
) -> dict[str, Any]:
    """Crawl the shards in child processes, then judge the whole run here."""
    canaries: list[str] = []
    with started_run(store, settings, fails_on=RuntimeError) as run_id:
        finished = crawl_in_processes(
            settings,
            store,
            run_id,
            plan,
            split(plan.organisations, processes),
            progress=progress,
            canaries=canaries,
            warm=warm,
        )
    return conclude_recorded(store, run_id, settings, interrupted=not finished, canaries=canaries)

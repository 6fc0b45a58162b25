"""Which URLs a run fetches: the listed URLs of the due organisations, and any canaries.

Kept free of Scrapy so a coordinating process (multi-process or distributed) stays small.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.crawl.layers import open_store, targets_by_organisation
from monitor.judging.policy import Policy, clock_from_settings, parse_timestamp
from monitor.judging.schedule import is_due
from monitor.pages.domains import domains_of

if TYPE_CHECKING:
    from storage.db import Store


def load_due_targets(settings: Any) -> list[dict[str, Any]]:
    """The listed URLs of every active organisation that is due (or of ``FRESHNESS_ORGS``)."""
    return load_run(settings)[0]


def listed_domains(settings: Any) -> list[str]:
    """The registered domain of every URL the directory lists, inactive entries included.

    Discovery skips links to these sites: they are checked as listed URLs already, and a site
    the directory lists can never be a *new* organisation (``monitor.judging.judge`` drops it anyway).
    """
    return plan_run(settings).listed_domains


@dataclass
class RunPlan:
    """Who a run crawls, without their links: enough to shard it, light enough for a
    coordinating process at any size. Each crawler loads its own share's links
    (``shard_targets``), so no process holds every target of a large run."""

    organisations: list[tuple[str, str]]  # (id, homepage) of each due organisation
    discover: set[str]  # those due for discovery
    selectors: dict[str, str | None]  # group_selector by organisation
    listed_domains: list[str]
    canaries: list[dict[str, Any]]
    now: dt.datetime


def plan_run(settings: Any) -> RunPlan:
    """The due organisations (or ``FRESHNESS_ORGS``) and the directory's listed domains."""
    now = clock_from_settings(settings)
    policy = Policy.from_settings(settings)
    chosen = set(settings.getlist("FRESHNESS_ORGS")) if hasattr(settings, "getlist") else set()
    store = open_store(settings)
    try:
        with store.transaction() as repo:
            orgs = repo.organisations_to_plan()
            domains = sorted(domains_of(repo.listed_urls()))
    finally:
        store.close()
    if chosen:
        due = [o for o in orgs if o.id in chosen]
    else:
        due = [o for o in orgs if is_due(o, now=now, default=policy.default_check_every)]
    return RunPlan(
        organisations=[(o.id, o.entry.url) for o in due],
        discover={
            o.id
            for o in due
            if o.discovered_at is None or now - o.discovered_at >= policy.discovery_every
        },
        selectors={o.id: o.entry.group_selector for o in due},
        listed_domains=domains,
        canaries=[
            {"org_id": None, "link_id": None, "role": "canary", "url": url}
            for url in policy.canary_urls
        ],
        now=now,
    )


def shard_targets(
    settings: Any,
    org_ids: Iterable[str],
    *,
    discover: Container[str],
    selectors: Mapping[str, str | None],
    now: dt.datetime,
) -> list[dict[str, Any]]:
    """The listed URLs of these organisations, as the spider's targets, in link order."""
    policy = Policy.from_settings(settings)
    store = open_store(settings)
    try:
        with store.transaction() as repo:
            return _targets(repo, list(org_ids), discover, selectors, now, policy)
    finally:
        store.close()


def write_shard_targets(
    store: Store,
    settings: Any,
    org_ids: Sequence[str],
    path: Path,
    *,
    discover: Container[str],
    selectors: Mapping[str, str | None],
    now: dt.datetime,
    chunk: int = 1000,
) -> dict[str, int]:
    """``shard_targets``, one JSON line each, read ``chunk`` organisations at a time: this
    process hands a crawler process its targets without holding them all.

    Returns how many targets each organisation got, which a crawler reading them one at a
    time (``iter_targets``) needs to tell when an organisation is done.
    """
    policy = Policy.from_settings(settings)
    counts: Counter[str] = Counter()
    with path.open("w", encoding="utf-8") as out, store.transaction() as repo:
        for start in range(0, len(org_ids), chunk):
            ids = list(org_ids[start : start + chunk])
            targets = _targets(repo, ids, discover, selectors, now, policy)
            out.writelines(json.dumps(target) + "\n" for target in targets)
            counts.update(targets_by_organisation(targets))
    return dict(counts)


def iter_targets(path: Path) -> Iterator[dict[str, Any]]:
    """The targets ``write_shard_targets`` wrote, one at a time: a crawler reads each as it
    schedules it, and never holds its whole shard (about 11 MB per 10,000 targets)."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def read_targets(path: Path) -> list[dict[str, Any]]:
    """The targets ``write_shard_targets`` wrote, all at once."""
    return list(iter_targets(path))


def _targets(
    repo: Any,
    org_ids: list[str],
    discover: Container[str],
    selectors: Mapping[str, str | None],
    now: dt.datetime,
    policy: Policy,
) -> list[dict[str, Any]]:
    return [
        {
            "org_id": link.org_id,
            "link_id": link.id,
            "role": link.role,
            "url": link.url,
            "etag": link.etag,
            "last_modified": link.last_modified,
            "group_selector": selectors.get(link.org_id) if link.role == "groups" else None,
            "probe_cache": _fresh_probe(link.probe, now, policy),
            "discover": link.role == "homepage" and link.org_id in discover,
        }
        for link in repo.links_to_crawl(org_ids)
    ]


def plan_targets(settings: Any, plan: RunPlan) -> list[dict[str, Any]]:
    """Every target of a planned run, canaries first, for a run crawled in one process."""
    return plan.canaries + shard_targets(
        settings,
        [org_id for org_id, _ in plan.organisations],
        discover=plan.discover,
        selectors=plan.selectors,
        now=plan.now,
    )


def load_run(settings: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """What a one-process run crawls: the due targets (``load_due_targets``), canaries
    first, and the directory's listed domains (``listed_domains``)."""
    plan = plan_run(settings)
    return plan_targets(settings, plan), plan.listed_domains


def _fresh_probe(probe: dict[str, Any] | None, now: Any, policy: Policy) -> dict[str, Any] | None:
    """A cached hard-404 probe still young enough to stand in for a new one."""
    if not probe or not probe.get("at"):
        return None
    try:
        at = parse_timestamp(probe["at"])
    except ValueError:
        return None
    return probe if now - at < policy.probe_ttl else None

"""What the commands do: one function each, over a store. The CLI only parses and prints.

Errors a user can fix are raised as ``FreshnessError`` with a message that says how.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.classify import Outcome
from monitor.judge import judge_run
from monitor.policy import Policy
from storage.db import Store
from storage.records import Finding, ImportDiff, Observation, Organisation


class FreshnessError(Exception):
    """A problem the user can fix; the message says how."""


# -- the directory -------------------------------------------------------------------------------


def import_directory(
    store: Store,
    source: str | Path,
    *,
    now: dt.datetime,
    fetch: Callable[[str], tuple[str, str]] | None = None,
) -> ImportDiff:
    """Validate the whole file first; then add, update and deactivate organisations by id."""
    from monitor.directory import load_directory

    entries = load_directory(source, fetch=fetch)  # raises DirectoryError, nothing written
    with store.transaction() as repo:
        return repo.sync_directory(entries, now)


def export_directory(store: Store) -> str:
    from monitor.directory import dump_directory

    with store.transaction() as repo:
        return dump_directory(repo.directory_entries())


def list_organisations(store: Store) -> list[Organisation]:
    with store.transaction() as repo:
        return repo.organisations(include_inactive=True)


def list_findings(
    store: Store, *, kind: str | None = None, org_id: str | None = None, everything: bool = False
) -> list[Finding]:
    with store.transaction() as repo:
        return repo.findings(statuses=None if everything else ("open",), kind=kind, org_id=org_id)


# -- runs ----------------------------------------------------------------------------------------


@dataclass
class RunSummary:
    run_id: int
    status: str  # completed | inconclusive | interrupted
    organisations: int = 0
    observations: int = 0
    opened: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    unverifiable: int = 0
    outage: str | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def start_run(store: Store, now: dt.datetime) -> int:
    with store.transaction() as repo:
        repo.interrupt_stale_runs(now)
        return repo.start_run(now)


def conclude_run(
    store: Store,
    run_id: int,
    judged: Sequence[tuple[Observation, Outcome]],
    *,
    now: dt.datetime,
    policy: Policy,
    interrupted: bool = False,
    finish_reason: str = "finished",
) -> dict[str, Any]:
    """Decide verdicts for one run and apply them, all in one transaction."""
    listed = [(o, out) for o, out in judged if o.facts.get("role") != "canary"]
    # Sites found by discovery are judged for new organisations, not counted as listed URLs.
    checked = [(o, out) for o, out in listed if o.facts.get("role") != "candidate"]
    canaries = [out for o, out in judged if o.facts.get("role") == "canary"]
    with store.transaction() as repo:
        entries = {org.id: org.entry for org in repo.organisations(include_inactive=True)}
        states = {s.id: s for s in repo.link_states()}
        previous = repo.latest_observations(
            [o.link_id for o, _ in listed if o.link_id is not None], before_run_id=run_id
        )
        groups_links = [o.link_id for o, _ in listed if o.facts.get("role") == "groups"]
        judgement = judge_run(
            listed,
            states,
            entries,
            previous=previous,
            groups_seen=repo.groups_seen(
                [i for i in groups_links if i is not None], before_run_id=run_id
            ),
            canaries=canaries,
            now=now,
            policy=policy,
        )
        summary = RunSummary(
            run_id=run_id,
            status="inconclusive" if judgement.outage else "completed",
            organisations=len({o.org_id for o, _ in checked}),
            observations=len(checked),
            outage=judgement.outage,
            counts=judgement.counts,
        )
        if interrupted and not judgement.outage:
            summary.status = "interrupted"
        if not judgement.outage:
            repo.save_link_states(judgement.states)
            repo.wake_snoozed(now)
            for org_id, kind, subject in judgement.resolve:
                for finding_id in repo.open_finding_ids(org_id, kind, subject):
                    repo.resolve_finding(finding_id, now, run_id)
                    summary.resolved.append(finding_id)
            for draft in judgement.open:
                finding = draft.finding
                latest = repo.latest_finding(finding.org_id, finding.kind, draft.subject)
                if (
                    latest is not None
                    and latest.status in ("dismissed", "accepted")
                    and latest.details.get("material", "") == draft.material
                ):
                    continue  # the curator has decided; only new evidence brings it back
                finding.details["material"] = draft.material
                stored, created = repo.open_finding(finding, subject=draft.subject, run_id=run_id)
                if created:
                    summary.opened.append(stored.id or 0)
                if stored.kind == "unverifiable":
                    summary.unverifiable += 1
            repo.mark_checked({o.org_id for o, _ in checked}, now)
        summary_dict = summary.to_dict()
        summary_dict["finish_reason"] = finish_reason
        repo.finish_run(run_id, now, summary.status, summary_dict)
    return summary_dict


def run_pass(store: Store, settings: Any) -> dict[str, Any] | None:
    """One monitoring pass over the due organisations. None when nothing was due."""
    from monitor.crawl import load_due_targets, run_crawl

    with store.transaction() as repo:
        known = repo.organisations()
    if not known:
        raise FreshnessError(
            "the directory is empty; load one first with `freshness import directory.yaml`"
        )
    unknown = set(settings.getlist("FRESHNESS_ORGS")) - {o.id for o in known}
    if unknown:
        raise FreshnessError(
            f"no active organisation with id {', '.join(sorted(unknown))}; "
            "`freshness orgs` lists them"
        )
    targets = load_due_targets(settings)
    if not targets:
        return None
    _, stats = run_crawl(settings, targets=targets)
    summary = stats.get("freshness/summary")
    if summary is None:
        raise FreshnessError(
            "the crawl ended without concluding the run; rerun with -v to see the Scrapy log"
        )
    return summary


def check(store_factory: Callable[[], Store], target: str, settings: Any) -> list[dict[str, Any]]:
    """Crawl one organisation or one ad-hoc URL now; return what each URL showed."""
    from monitor.classify import classify
    from monitor.crawl import item_to_observation, load_due_targets, run_crawl
    from monitor.judge import status_chain

    if target.startswith(("http://", "https://")):
        items, _ = run_crawl(
            settings,
            targets=[{"org_id": None, "link_id": None, "role": "link", "url": target}],
            record=False,
        )
    else:
        with store_factory().transaction() as repo:
            repo.organisation(target)  # raises NotFound with a hint
        settings = settings.copy()
        settings.set("FRESHNESS_ORGS", [target], priority="cmdline")
        items, _ = run_crawl(settings, targets=load_due_targets(settings))
    rows = []
    for item in items:
        if item.get("role") == "candidate":
            continue
        observation = item_to_observation(item)
        outcome = classify(observation)
        rows.append(
            {
                "url": observation.url,
                "status": observation.status,
                "final_url": observation.final_url,
                "chain": status_chain(observation),
                "category": outcome.category,
                "confidence": outcome.confidence,
                "evidence": list(outcome.evidence),
                "error": observation.error,
            }
        )
    return rows

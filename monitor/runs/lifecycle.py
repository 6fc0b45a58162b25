"""One run's life, the same for every way of crawling: start it, mark it interrupted if the
crawl fails, and conclude it (judge what it recorded and apply the verdicts).

A single-process crawl, crawler processes and Redis workers all record observations in the
store under one run; how they crawl differs (``local``, ``shards``, ``distributed``), how a
run starts, fails and concludes does not.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from monitor.errors import FreshnessError, RunLocked
from monitor.judging.classify import Outcome, classify
from monitor.judging.policy import Policy, clock_from_settings
from storage.db import Store
from storage.lock import LockHeld, run_lock
from storage.records import Observation

if TYPE_CHECKING:
    from monitor.judging.judge import Judgement


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


@contextlib.contextmanager
def holding_run_lock(store: Store, *, wait: bool) -> Iterator[None]:
    """The run lock for a pass; another run holding it is ``RunLocked``."""
    try:
        with run_lock(store, wait=wait):
            yield
    except LockHeld as exc:
        raise RunLocked(str(exc)) from exc


@contextlib.contextmanager
def started_run(
    store: Store, settings: Any, *, fails_on: type[Exception] | tuple[type[Exception], ...]
) -> Iterator[int]:
    """Start a run and give its id. If the crawl raises ``fails_on``, the run is marked
    interrupted with the error as its note, and the error becomes a ``FreshnessError``."""
    run_id = start_run(store, clock_from_settings(settings))
    try:
        yield run_id
    except fails_on as exc:
        with store.transaction() as repo:
            repo.finish_run(
                run_id, clock_from_settings(settings), "interrupted", {"note": str(exc)}
            )
        raise FreshnessError(str(exc)) from exc


def conclude_recorded(
    store: Store,
    run_id: int,
    settings: Any,
    *,
    interrupted: bool = False,
    canaries: Sequence[str] = (),
) -> dict[str, Any]:
    """Judge a run whose observations other processes recorded (shards or workers).

    ``canaries`` are the categories the crawlers reported for the canary URLs.
    """
    return conclude_run(
        store,
        run_id,
        [Outcome(category, ("canary",), 1.0) for category in canaries],
        now=clock_from_settings(settings),
        policy=Policy.from_settings(settings),
        interrupted=interrupted,
        finish_reason="shutdown" if interrupted else "finished",
    )


CONCLUDE_BATCH = 500  # organisations judged together: bounded memory, few queries


def conclude_run(
    store: Store,
    run_id: int,
    canaries: Sequence[Outcome] = (),
    *,
    now: dt.datetime,
    policy: Policy,
    interrupted: bool = False,
    finish_reason: str = "finished",
    batch: int = CONCLUDE_BATCH,
) -> dict[str, Any]:
    """Decide verdicts for one run from what it recorded in the store, and apply them.

    Every crawler (in-process, shards, distributed workers) records observations with their
    category and the classifier's reasons, judged on the full page text. Here the run is
    first checked as a whole (outage guard, counts) from a light census, then judged
    ``batch`` organisations at a time, without page text, so memory stays bounded however
    large the directory. It is all one transaction: a conclusion is applied whole or not at
    all. ``canaries`` are the outcomes of the canary URLs, which are not stored.
    """
    # Imported here: a coordinating process needs the judge (and lxml under it) only once
    # its crawlers are done, not in the memory it holds while they crawl.
    from monitor.judging.judge import run_health

    with store.transaction() as repo:
        census = repo.run_census(run_id)
        checked = [o for o in census if o.facts.get("role") not in ("candidate", "canary")]
        unjudged = {
            o.id: classify(o)
            for o in repo.observations_by_id(
                [o.id for o in checked if o.category is None and o.id is not None], slim=False
            )
        }
        # The error message stands in for the evidence: the outage guard reads it to tell an
        # offline machine from a dead site.
        outcomes = {
            o.id: unjudged.get(o.id)
            or Outcome(o.category or "ok", (o.error_message,) if o.error_message else (), 0.0)
            for o in checked
        }
        counts, outage = run_health([(o.url, outcomes[o.id]) for o in checked], canaries, policy)
        summary = RunSummary(
            run_id=run_id,
            status="inconclusive" if outage else "completed",
            organisations=len({o.org_id for o in checked}),
            observations=len(checked),
            outage=outage,
            counts=counts,
        )
        if interrupted and not outage:
            summary.status = "interrupted"
        if not outage:  # an inconclusive run changes no counts and declares nothing
            _judge_and_apply(repo, census, checked, unjudged, summary, now, policy, batch)
            if not interrupted:  # an interrupted run's organisations stay due for the next
                repo.mark_checked({o.org_id for o in checked}, now)
                repo.mark_discovered({o.org_id for o in checked if o.facts.get("discovered")}, now)
        summary_dict = summary.to_dict()
        summary_dict["finish_reason"] = finish_reason
        repo.finish_run(run_id, now, summary.status, summary_dict)
    return summary_dict


def _judge_and_apply(
    repo: Any,
    census: list[Observation],
    checked: list[Observation],
    unjudged: dict[int | None, Outcome],
    summary: RunSummary,
    now: dt.datetime,
    policy: Policy,
    batch: int,
) -> None:
    """Judge a conclusive run's organisations ``batch`` at a time, then its candidates."""
    from monitor.judging.judge import judge_run

    run_id = summary.run_id
    entries = {e.id: e for e in repo.directory_entries(include_inactive=True)}
    # A snooze that ran out brings its finding back, into this run's digest too.
    summary.opened.extend(repo.wake_snoozed(now))
    by_org: dict[str, list[Observation]] = {}
    for obs in checked:
        by_org.setdefault(obs.org_id, []).append(obs)
    orgs = sorted(by_org)
    for start in range(0, len(orgs), batch):
        chunk = orgs[start : start + batch]
        ids = [o.id for org in chunk for o in by_org[org] if o.id is not None]
        judged = [
            (obs, unjudged.get(obs.id) or _stored_outcome(obs))
            for obs in repo.observations_by_id(ids)
        ]
        links = [o.link_id for o, _ in judged if o.link_id is not None]
        groups = [o.link_id for o, _ in judged if o.facts.get("role") == "groups"]
        judgement = judge_run(
            judged,
            {s.id: s for s in repo.link_states(chunk)},
            entries,
            previous=repo.latest_readings(links, before_run_id=run_id),
            groups_seen=repo.groups_seen(
                [i for i in groups if i is not None], before_run_id=run_id
            ),
            now=now,
            policy=policy,
            check_outage=False,
        )
        _apply(repo, judgement, summary, run_id=run_id, now=now)
    # New organisations: every candidate of the run at once, since one site may be
    # linked from several organisations. They keep their text for this check.
    candidates = repo.observations_by_id(
        [o.id for o in census if o.facts.get("role") == "candidate" and o.id], slim=False
    )
    judgement = judge_run(
        [(c, CANDIDATE) for c in candidates],
        {},
        entries,
        now=now,
        policy=policy,
        check_outage=False,
    )
    _apply(repo, judgement, summary, run_id=run_id, now=now)


# What a discovery candidate counts as: judged for the new-organisation check, never a verdict.
CANDIDATE = Outcome("ok", ("candidate",), 0.5)


def _stored_outcome(obs: Observation) -> Outcome:
    return Outcome(obs.category or "ok", tuple(obs.evidence or ()), obs.confidence or 0.5)


def _apply(
    repo: Any, judgement: Judgement, summary: RunSummary, *, run_id: int, now: dt.datetime
) -> None:
    """Write one judgement: link states, resolved findings, then new or refreshed ones."""
    repo.save_link_states(judgement.states)
    summary.resolved.extend(repo.resolve_findings(judgement.resolve, now, run_id))
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

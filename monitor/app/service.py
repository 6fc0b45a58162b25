"""What the commands do: one function each, over a store. The CLI only parses and prints.

Errors a user can fix are raised as ``FreshnessError`` with a message that says how.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.judging.classify import Outcome, classify
from monitor.judging.policy import Policy
from monitor.runs.plan import RunPlan
from monitor.runs.shards import process_count
from storage.db import Store
from storage.records import Finding, ImportDiff, Observation, Organisation

if TYPE_CHECKING:
    from monitor.judging.judge import Judgement
    from monitor.runs.shards import WarmCrawlers


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
    """Validate the whole file first; then add, update and deactivate organisations by id.

    Entries without an id keep the id of the stored organisation with the same homepage, so a
    rename is a change to that organisation, not a new one (see ``load_directory``).
    """
    from monitor.directory.format import load_directory

    # Read apart from the write: a web page is not fetched while a transaction is open.
    with store.transaction() as repo:
        stored = repo.organisations(include_inactive=True)
    # Raises DirectoryError before anything is written.
    entries = load_directory(source, fetch=fetch, stored=stored)
    with store.transaction() as repo:
        return repo.sync_directory(entries, now)


def export_directory(store: Store) -> str:
    from monitor.directory.format import dump_directory

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
    from monitor.judging.judge import judge_run, run_health

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
            if not interrupted:  # an interrupted run's organisations stay due for the next
                repo.mark_checked({o.org_id for o in checked}, now)
                repo.mark_discovered({o.org_id for o in checked if o.facts.get("discovered")}, now)
        summary_dict = summary.to_dict()
        summary_dict["finish_reason"] = finish_reason
        repo.finish_run(run_id, now, summary.status, summary_dict)
    return summary_dict


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
    import time

    from monitor.runs.plan import plan_run, plan_targets
    from storage.lock import LockHeld, run_lock

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
    try:
        with run_lock(store, wait=wait):
            plan = plan_run(settings)
            processes = process_count(settings, len(plan.organisations))
            if warm is not None and processes < 2:
                warm.close()  # as soon as it is known: they would hold memory through the crawl
            if not plan.organisations:
                return None
            if processes > 1:
                summary = _run_in_processes(store, settings, plan, processes, progress, warm)
            else:
                targets = plan_targets(settings, plan)
                from monitor.crawl.process import run_crawl  # Scrapy only where it crawls

                _, stats = run_crawl(
                    settings,
                    targets=targets,
                    listed_domains=plan.listed_domains,
                    progress=progress,
                )
                summary = stats.get("freshness/summary")
    except LockHeld as exc:
        raise RunLocked(str(exc)) from exc
    if summary is None:
        raise FreshnessError(
            "the crawl ended without concluding the run; rerun with -v to see the Scrapy log"
        )
    summary["processes"] = processes
    summary["duration_s"] = round(time.monotonic() - started, 1)
    with store.transaction() as repo:
        repo.annotate_run(summary["run_id"], processes=processes, duration_s=summary["duration_s"])
    return summary


class RunLocked(FreshnessError):
    """Another run holds the lock."""


def _run_in_processes(
    store: Store,
    settings: Any,
    plan: RunPlan,
    processes: int,
    progress: Callable[[int, int, str], None] | None,
    warm: WarmCrawlers | None = None,
) -> dict[str, Any]:
    """Crawl the shards in child processes, then judge the whole run here."""
    from monitor.judging.policy import clock_from_settings
    from monitor.runs.distributed import conclude_distributed
    from monitor.runs.shards import crawl_in_processes, split

    run_id = start_run(store, clock_from_settings(settings))
    canaries: list[str] = []
    try:
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
    except RuntimeError as exc:
        with store.transaction() as repo:
            repo.finish_run(
                run_id, clock_from_settings(settings), "interrupted", {"note": str(exc)}
            )
        raise FreshnessError(str(exc)) from exc
    return conclude_distributed(
        store, run_id, settings, interrupted=not finished, canaries=canaries
    )


def check(store_factory: Callable[[], Store], target: str, settings: Any) -> list[dict[str, Any]]:
    """Crawl one organisation or one ad-hoc URL now; return what each URL showed."""
    from monitor.crawl.process import item_to_observation, run_crawl
    from monitor.judging.classify import classify
    from monitor.judging.judge import status_chain
    from monitor.runs.plan import load_run

    if target.startswith(("http://", "https://")):
        items, _ = run_crawl(
            settings,
            targets=[{"org_id": None, "link_id": None, "role": "link", "url": target}],
            record=False,
            collect=True,
        )
    else:
        with store_factory().transaction() as repo:
            repo.organisation(target)  # raises NotFound with a hint
        settings = settings.copy()
        settings.set("FRESHNESS_ORGS", [target], priority="cmdline")
        targets, domains = load_run(settings)
        items, _ = run_crawl(settings, targets=targets, listed_domains=domains, collect=True)
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


# -- digests and notifications -------------------------------------------------------------------


def notify_after_run(store: Store, config: Any, *, now: dt.datetime) -> list[Any]:
    """After a run: note accepted findings the directory now carries, queue the digest of what
    changed since the last one, and deliver everything the outbox holds, oldest first.

    ``config`` is a ``monitor.telling.outbox.NotifyConfig``. Returns ``monitor.telling.outbox.Delivery`` items.
    """
    from monitor.telling.notify import NotifyError
    from monitor.telling.outbox import deliver_outbox, queue_digests

    settle_accepted(store, now=now)
    try:
        queue_digests(store, config, now=now)
        return deliver_outbox(store, config, now=now)
    except NotifyError as exc:
        raise FreshnessError(str(exc)) from exc


def retry_notifications(store: Store, config: Any, *, now: dt.datetime) -> list[Any]:
    """Deliver what the outbox holds (and queue digests of runs made by ``scrapy crawl``)."""
    from monitor.telling.outbox import NO_TARGETS

    if not config.targets:
        raise FreshnessError(NO_TARGETS)
    return notify_after_run(store, config, now=now)


def try_targets(config: Any, *, now: dt.datetime) -> dict[str, bool]:
    """Send the sample digest straight to every target; success by masked URL."""
    from monitor.telling.notify import NotifyError
    from monitor.telling.outbox import send_test

    try:
        return send_test(config, now=now)
    except NotifyError as exc:
        raise FreshnessError(str(exc)) from exc


def outbox_entries(store: Store, *, everything: bool = False) -> list[Any]:
    """Outbox entries not delivered yet (all of them with ``everything``), oldest first."""
    with store.transaction() as repo:
        return repo.outbox(None if everything else ("pending", "sending", "failed"))


def render_run_digest(
    store: Store,
    *,
    now: dt.datetime,
    run_id: int | None = None,
    since: dt.datetime | None = None,
) -> Any:
    """The digest of one run (the latest completed one by default), or of everything opened
    or resolved since ``since``. Renders only; nothing is sent or marked."""
    from monitor.telling.digest import render_digest

    with store.transaction() as repo:
        names = {o.id: o.entry.name for o in repo.organisations(include_inactive=True)}
        if since is not None:
            opened, recovered = repo.findings_changed_since(since)
            return render_digest(opened, recovered, org_names=names, now=now)
        run = repo.run(run_id) if run_id is not None else repo.latest_run()
        if run is None:
            raise FreshnessError("no completed run yet; `freshness run` makes one")
        opened_ids = [i for i in run.summary.get("opened") or [] if isinstance(i, int)]
        resolved_ids = [i for i in run.summary.get("resolved") or [] if isinstance(i, int)]
        wanted = opened_ids + resolved_ids
        found = {f.id: f for f in repo.findings(statuses=None, ids=wanted)} if wanted else {}
        return render_digest(
            [found[i] for i in opened_ids if i in found],
            [found[i] for i in resolved_ids if i in found],
            org_names=names,
            now=run.finished_at or now,
            run_id=run.id,
        )


# -- review: decisions and writing them back ----------------------------------------------------

DECISIONS = ("accepted", "dismissed", "snoozed")


def review_findings(
    store: Store, *, now: dt.datetime, kind: str | None = None, org_id: str | None = None
) -> list[Finding]:
    """Open findings to decide on, newest first (snoozed ones whose time is up included)."""
    with store.transaction() as repo:
        repo.wake_snoozed(now)
        return repo.findings(statuses=("open",), kind=kind, org_id=org_id)


def decide_findings(
    store: Store,
    ids: Sequence[int],
    status: str,
    *,
    by: str,
    now: dt.datetime,
    reason: str | None = None,
    days: int | None = None,
) -> list[Finding]:
    """Accept, dismiss or snooze findings, logging who, when and why. All or nothing."""
    if status not in DECISIONS:
        raise ValueError(f"a decision is one of {', '.join(DECISIONS)}, not {status!r}")
    if status == "snoozed" and (days is None or days < 1):
        raise FreshnessError("snooze needs --days N, a whole number of days (1 or more)")
    until = now + dt.timedelta(days=days) if status == "snoozed" and days else None
    with store.transaction() as repo:
        repo.wake_snoozed(now)
        findings = [repo.finding(i) for i in dict.fromkeys(ids)]  # NotFound: nothing changes
        for finding in findings:
            if finding.status == "resolved":
                raise FreshnessError(
                    f"finding {finding.id} is resolved (it no longer holds); nothing to decide"
                )
        return [
            repo.set_finding_status(
                f.id or 0, status, by=by, at=now, reason=reason, snoozed_until=until
            )
            for f in findings
        ]


def settle_accepted(store: Store, *, now: dt.datetime) -> list[int]:
    """Mark the accepted findings that the stored directory now carries as applied.

    This is how accepted changes reach the store: `freshness import` of an exported (or
    applied) file makes the directory say what the site says; from then on the finding is
    settled and no longer applied by `export` or `apply`. Called by `run`, `export` and
    `apply`. Returns the finding ids settled now.
    """
    from monitor.directory.review import settled

    with store.transaction() as repo:
        pending = repo.accepted_findings()
        if not pending:
            return []
        ids = settled(repo.directory_entries(), pending, today=now.date())
        for finding_id in ids:
            repo.mark_finding_applied(
                finding_id, at=now, by="freshness", reason="the directory now says this"
            )
        return ids


def export_with_decisions(store: Store, *, now: dt.datetime) -> tuple[str, Any]:
    """The directory as YAML with accepted findings applied, and the ``monitor.directory.review.Plan``."""
    from monitor.directory.format import DirectoryError, dump_directory, load_directory
    from monitor.directory.review import plan_changes

    settle_accepted(store, now=now)
    with store.transaction() as repo:
        entries = repo.directory_entries()
        pending = repo.accepted_findings()
    plan = plan_changes(entries, pending, today=now.date())
    text = dump_directory(plan.entries)
    try:
        load_directory("export.yaml", text=text)
    except DirectoryError as exc:
        first = exc.problems[0] if exc.problems else exc
        raise FreshnessError(
            f"the accepted findings would make an invalid directory ({first}); "
            "dismiss the finding or fix the directory by hand"
        ) from exc
    return text, plan


@dataclass(frozen=True)
class ApplyReport:
    path: Path
    backup: Path | None  # None when the file already said everything
    plan: Any  # monitor.directory.review.Plan


def apply_decisions(store: Store, path: Path, *, now: dt.datetime) -> ApplyReport:
    """Write the accepted findings into a curator's own YAML file, in place, with a backup."""
    import os
    import shutil

    from monitor.directory.format import DirectoryError
    from monitor.directory.review import ReviewError, update_yaml

    if path.suffix.lower() not in (".yaml", ".yml"):
        raise FreshnessError(
            f"{path} is not a YAML file; `freshness apply` edits YAML, "
            "`freshness export` writes a new file"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FreshnessError(f"cannot read {path}: {exc}") from exc
    settle_accepted(store, now=now)
    with store.transaction() as repo:
        pending = repo.accepted_findings()
        stored = repo.organisations(include_inactive=True)
    try:
        updated, plan = update_yaml(
            text, pending, today=now.date(), source=str(path), stored=stored
        )
    except DirectoryError as exc:
        raise FreshnessError(f"{path} was left alone: {exc}") from exc
    except ReviewError as exc:
        raise FreshnessError(str(exc)) from exc
    if updated == text:
        return ApplyReport(path, None, plan)
    stamp = now.astimezone(dt.UTC).strftime("%Y%m%d-%H%M%S")
    backup = path.with_name(f"{path.name}.{stamp}.bak")
    n = 1
    while backup.exists():
        n += 1
        backup = path.with_name(f"{path.name}.{stamp}-{n}.bak")
    shutil.copy2(path, backup)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(updated, encoding="utf-8")
        shutil.copymode(path, temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return ApplyReport(path, backup, plan)

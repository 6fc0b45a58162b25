"""What the commands do: one function each, over a store. The CLI only parses and prints.

Errors a user can fix are raised as ``FreshnessError`` with a message that says how.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.errors import FreshnessError
from storage.db import Store
from storage.records import Finding, ImportDiff, Organisation

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
    from monitor.directory.load import load_directory

    # Read apart from the write: a web page is not fetched while a transaction is open.
    with store.transaction() as repo:
        stored = repo.organisations(include_inactive=True)
    # Raises DirectoryError before anything is written.
    entries = load_directory(source, fetch=fetch, stored=stored)
    with store.transaction() as repo:
        return repo.sync_directory(entries, now)


def export_directory(store: Store) -> str:
    from monitor.directory.yaml_format import dump_directory

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


def check(store_factory: Callable[[], Store], target: str, settings: Any) -> list[dict[str, Any]]:
    """Crawl one organisation or one ad-hoc URL now; return what each URL showed."""
    from monitor.crawl.pipelines import item_to_observation
    from monitor.crawl.process import run_crawl
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
    from monitor.directory.load import load_directory
    from monitor.directory.problems import DirectoryError
    from monitor.directory.review import plan_changes
    from monitor.directory.yaml_format import dump_directory

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

    from monitor.directory.problems import DirectoryError
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

"""The repository: the only place that builds queries.

Methods are named for what callers want and speak in the plain records of ``storage.records``.
The caller owns the transaction (see ``Store.transaction``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Row, and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from storage.models import (
    DecisionRow,
    FindingRow,
    ListedLinkRow,
    ObservationRow,
    OrganisationRow,
    OutboxRow,
    RunRow,
)
from storage.records import (
    DirectoryEntry,
    Finding,
    ImportDiff,
    LinkState,
    Observation,
    Organisation,
    Run,
)

_ENTRY_FIELDS = (
    "name",
    "url",
    "aliases",
    "profession",
    "groups_url",
    "group_selector",
    "groups",
    "links",
    "check_every",
    "dead_links",
)


class NotFound(LookupError):
    """A caller named something the store does not hold."""


class Repository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- the directory -------------------------------------------------------------------

    def sync_directory(self, entries: Sequence[DirectoryEntry], now: dt.datetime) -> ImportDiff:
        """Make the stored directory match ``entries``: add, update by id, deactivate the rest.

        History (observations, findings) of removed organisations is kept; they are only
        marked inactive, and come back to life if they are listed again.
        """
        existing = {row.id: row for row in self.session.scalars(select(OrganisationRow))}
        added, changed, unchanged = [], [], []
        for position, entry in enumerate(entries):
            row = existing.pop(entry.id, None)
            values = _entry_to_columns(entry)
            if row is None:
                row = OrganisationRow(
                    id=entry.id, position=position, active=True, created_at=now, updated_at=now
                )
                for key, value in values.items():
                    setattr(row, key, value)
                self.session.add(row)
                added.append(entry.id)
            else:
                differs = not row.active or any(
                    getattr(row, key) != value for key, value in values.items()
                )
                for key, value in values.items():
                    setattr(row, key, value)
                row.position = position
                if differs:
                    row.active = True
                    row.updated_at = now
                    changed.append(entry.id)
                else:
                    unchanged.append(entry.id)
            self._sync_links(entry)
        removed = []
        for row in existing.values():
            if row.active:
                row.active = False
                row.updated_at = now
                removed.append(row.id)
        self.session.flush()
        return ImportDiff(tuple(added), tuple(changed), tuple(removed), tuple(unchanged))

    def _sync_links(self, entry: DirectoryEntry) -> None:
        rows = {
            r.url: r
            for r in self.session.scalars(
                select(ListedLinkRow).where(ListedLinkRow.org_id == entry.id)
            )
        }
        wanted = entry.listed_links()
        for role, url in wanted:
            row = rows.pop(url, None)
            if row is None:
                self.session.add(ListedLinkRow(org_id=entry.id, url=url, role=role, active=True))
            else:
                row.role, row.active = role, True
        for row in rows.values():
            row.active = False
        self.session.flush()

    def organisations(self, *, include_inactive: bool = False) -> list[Organisation]:
        return self._organisations(include_inactive=include_inactive)

    def _organisations(
        self, *, include_inactive: bool, org_id: str | None = None
    ) -> list[Organisation]:
        query = select(OrganisationRow).order_by(OrganisationRow.position, OrganisationRow.id)
        findings = select(FindingRow.org_id, func.count()).where(FindingRow.status == "open")
        links = select(ListedLinkRow.org_id, ListedLinkRow.last_category).where(
            ListedLinkRow.active.is_(True)
        )
        if not include_inactive:
            query = query.where(OrganisationRow.active.is_(True))
        if org_id is not None:
            query = query.where(OrganisationRow.id == org_id)
            findings = findings.where(FindingRow.org_id == org_id)
            links = links.where(ListedLinkRow.org_id == org_id)
        open_counts = dict(self.session.execute(findings.group_by(FindingRow.org_id)).all())
        last_categories: dict[str, list[str | None]] = {}
        for link_org_id, category in self.session.execute(links):
            last_categories.setdefault(link_org_id, []).append(category)
        return [
            Organisation(
                entry=_row_to_entry(row),
                active=row.active,
                last_checked_at=row.last_checked_at,
                open_findings=open_counts.get(row.id, 0),
                state=_org_state(row, last_categories.get(row.id, [])),
                discovered_at=row.discovered_at,
            )
            for row in self.session.scalars(query)
        ]

    def active_organisation_ids(self) -> set[str]:
        """The id of every active organisation, and nothing else about them."""
        return set(
            self.session.scalars(select(OrganisationRow.id).where(OrganisationRow.active.is_(True)))
        )

    def organisations_to_plan(self) -> list[Organisation]:
        """Each active organisation with only what decides when it is due and how it is
        crawled: id, homepage, group selector, check interval, last check and discovery.

        A coordinating process plans a run of any size with this; whole entries for ten
        thousand organisations would stay in its memory for the length of the crawl.
        """
        query = (
            select(
                OrganisationRow.id,
                OrganisationRow.url,
                OrganisationRow.group_selector,
                OrganisationRow.check_every,
                OrganisationRow.last_checked_at,
                OrganisationRow.discovered_at,
            )
            .where(OrganisationRow.active.is_(True))
            .order_by(OrganisationRow.position, OrganisationRow.id)
        )
        return [
            Organisation(
                entry=DirectoryEntry(
                    id=org_id, name="", url=url, group_selector=selector, check_every=every
                ),
                active=True,
                last_checked_at=checked,
                discovered_at=discovered,
            )
            for org_id, url, selector, every, checked, discovered in self.session.execute(query)
        ]

    def listed_urls(self) -> Iterator[str]:
        """Every URL the directory lists (homepages, groups pages, links), inactive entries
        included, read a thousand rows at a time."""
        query = select(
            OrganisationRow.url, OrganisationRow.groups_url, OrganisationRow.links
        ).execution_options(yield_per=1000)
        for url, groups_url, links in self.session.execute(query):
            yield url
            if groups_url:
                yield groups_url
            yield from links or ()

    def organisation(self, org_id: str) -> Organisation:
        for org in self._organisations(include_inactive=True, org_id=org_id):
            return org
        raise NotFound(f"no organisation with id {org_id!r}; `freshness orgs` lists them")

    def directory_entries(self, *, include_inactive: bool = False) -> list[DirectoryEntry]:
        """The directory (active organisations only, by default), in the curator's order:
        the entries alone, without the state ``organisations`` works out."""
        query = select(OrganisationRow.__table__).order_by(
            OrganisationRow.position, OrganisationRow.id
        )
        if not include_inactive:
            query = query.where(OrganisationRow.active.is_(True))
        # Plain rows, not ORM objects: a conclusion reads every entry (a fifth of its time
        # at 1,000 organisations went on building and tracking the objects).
        return [_row_to_entry(row) for row in self.session.execute(query)]

    def mark_checked(self, org_ids: Iterable[str], now: dt.datetime) -> None:
        for ids in _chunks(org_ids):
            self.session.execute(
                update(OrganisationRow)
                .where(OrganisationRow.id.in_(ids))
                .values(last_checked_at=now)
            )

    def mark_discovered(self, org_ids: Iterable[str], now: dt.datetime) -> None:
        for ids in _chunks(org_ids):
            self.session.execute(
                update(OrganisationRow).where(OrganisationRow.id.in_(ids)).values(discovered_at=now)
            )

    # -- listed links and their failure state --------------------------------------------------

    def link_states(self, org_ids: Iterable[str] | None = None) -> list[LinkState]:
        query = select(ListedLinkRow.__table__).where(ListedLinkRow.active.is_(True))
        if org_ids is None:
            return [_row_to_link(r) for r in self.session.execute(query.order_by(ListedLinkRow.id))]
        found: list[Any] = []
        for ids in _chunks(org_ids):
            found.extend(self.session.execute(query.where(ListedLinkRow.org_id.in_(ids))))
        return [_row_to_link(r) for r in sorted(found, key=lambda r: r.id)]

    def links_to_crawl(self, org_ids: Iterable[str]) -> list[LinkToCrawl]:
        """What a crawler needs of each active link of these organisations, in link order:
        its URL, role, validators and cached probe, without the failure bookkeeping (and
        without ORM objects: a crawler loads thousands, and keeps none)."""
        columns = (
            ListedLinkRow.id,
            ListedLinkRow.org_id,
            ListedLinkRow.url,
            ListedLinkRow.role,
            ListedLinkRow.etag,
            ListedLinkRow.last_modified,
            ListedLinkRow.probe,
        )
        found: list[LinkToCrawl] = []
        for ids in _chunks(org_ids):
            query = select(*columns).where(
                ListedLinkRow.active.is_(True), ListedLinkRow.org_id.in_(ids)
            )
            found.extend(LinkToCrawl(*row) for row in self.session.execute(query))
        return sorted(found, key=lambda link: link.id)

    def save_link_states(self, states: Iterable[LinkState]) -> None:
        """Write each link's failure counts, validators and probe, in one batched UPDATE."""
        values = [
            {"id": state.id, **{key: getattr(state, key) for key in _LINK_STATE_FIELDS}}
            for state in states
        ]
        if not values:
            return
        known: set[int] = set()
        for ids in _chunks(v["id"] for v in values):
            known.update(
                self.session.scalars(select(ListedLinkRow.id).where(ListedLinkRow.id.in_(ids)))
            )
        missing = [v["id"] for v in values if v["id"] not in known]
        if missing:
            raise NotFound(f"no listed link with id {missing[0]}")
        self.session.flush()  # pending changes first: the UPDATE goes straight to the database
        self.session.execute(update(ListedLinkRow), values)

    # -- runs and observations -----------------------------------------------------------------

    def start_run(self, now: dt.datetime) -> int:
        row = RunRow(started_at=now, status="running", summary={})
        self.session.add(row)
        self.session.flush()
        return row.id

    def finish_run(
        self, run_id: int, now: dt.datetime, status: str, summary: dict[str, Any]
    ) -> None:
        row = self.session.get(RunRow, run_id)
        if row is None:
            raise NotFound(f"no run with id {run_id}")
        row.finished_at, row.status, row.summary = now, status, summary

    def annotate_run(self, run_id: int, **values: Any) -> None:
        """Add facts about how a run went (its duration, how many processes) to its summary."""
        row = self.session.get(RunRow, run_id)
        if row is None:
            raise NotFound(f"no run with id {run_id}")
        row.summary = {**(row.summary or {}), **values}

    def interrupt_stale_runs(self, now: dt.datetime) -> list[int]:
        """Runs still marked running belong to a process that died; say so."""
        rows = list(self.session.scalars(select(RunRow).where(RunRow.status == "running")))
        for row in rows:
            row.status, row.finished_at = "interrupted", now
            row.summary = {
                **(row.summary or {}),
                "note": "the process stopped before the run ended",
            }
        return [r.id for r in rows]

    def runs(self, limit: int = 20) -> list[Run]:
        query = select(RunRow).order_by(RunRow.id.desc()).limit(limit)
        return [
            Run(r.id, r.started_at, r.finished_at, r.status, dict(r.summary or {}))
            for r in self.session.scalars(query)
        ]

    def record_observations(self, observations: Iterable[Observation]) -> None:
        # A bulk INSERT of plain rows: no ORM object per observation. The coordinating
        # process records every observation of a run while its crawlers share its cores.
        rows = [
            {
                "run_id": o.run_id,
                "org_id": o.org_id,
                "link_id": o.link_id,
                "url": o.url,
                "fetched_at": o.fetched_at,
                "status": o.status,
                "final_url": o.final_url,
                "redirect_chain": o.redirect_chain,
                "error": o.error,
                "error_message": o.error_message,
                "elapsed_ms": o.elapsed_ms,
                "headers": o.headers,
                "facts": o.facts,
                "category": o.category,
                "evidence": o.evidence,
                "confidence": o.confidence,
            }
            for o in observations
        ]
        if rows:
            self.session.execute(insert(ObservationRow), rows)

    def observations(
        self,
        *,
        run_id: int | None = None,
        link_id: int | None = None,
        org_id: str | None = None,
        limit: int | None = None,
    ) -> list[Observation]:
        query = select(ObservationRow).order_by(ObservationRow.id.desc())
        if run_id is not None:
            query = query.where(ObservationRow.run_id == run_id)
        if link_id is not None:
            query = query.where(ObservationRow.link_id == link_id)
        if org_id is not None:
            query = query.where(ObservationRow.org_id == org_id)
        if limit is not None:
            query = query.limit(limit)
        return [_row_to_observation(r) for r in self.session.scalars(query)]

    def run_census(self, run_id: int) -> list[Observation]:
        """What a run saw, lightly: the last observation of each link (or, for a link-less
        one, each organisation and URL) in the run, with its category and error message but
        without its facts beyond ``role`` and ``discovered``. A re-queued organisation
        half-done by a dead worker counts once. Discovery candidates are all kept: a site
        linked from two pages may be recorded twice, each naming the page that links to it,
        and the new-organisation check needs every one."""
        query = (
            select(
                ObservationRow.id,
                ObservationRow.org_id,
                ObservationRow.link_id,
                ObservationRow.url,
                ObservationRow.fetched_at,
                ObservationRow.category,
                ObservationRow.error_message,
                ObservationRow.facts["role"],
                ObservationRow.facts["discovered"],
            )
            .where(ObservationRow.run_id == run_id)
            .order_by(ObservationRow.id)
        )
        latest: dict[Any, Observation] = {}
        for (
            obs_id,
            org_id,
            link_id,
            url,
            fetched_at,
            category,
            error_message,
            role,
            discovered,
        ) in self.session.execute(query):
            if role == "candidate":
                key: tuple[Any, ...] = ("observation", obs_id)
            elif link_id is not None:
                key = ("link", link_id)
            else:
                key = ("url", org_id, url)
            latest[key] = Observation(
                id=obs_id,
                run_id=run_id,
                org_id=org_id,
                link_id=link_id,
                url=url,
                fetched_at=fetched_at,
                category=category,
                error_message=error_message,
                facts={"role": role, "discovered": bool(discovered)},
            )
        return sorted(latest.values(), key=lambda o: o.id or 0)

    def observations_by_id(self, ids: Iterable[int], *, slim: bool = True) -> list[Observation]:
        """These observations, in the order given; ``slim`` leaves out page text."""
        found: dict[int, Observation] = {}
        wanted = list(ids)
        table = ObservationRow.__table__
        for chunk in _chunks(wanted):
            # Plain rows: the conclusion reads every observation of a run this way.
            for row in self.session.execute(select(table).where(table.c.id.in_(chunk))):
                found[row.id] = _row_to_observation(row, slim=slim)
        return [found[i] for i in wanted if i in found]

    def latest_readings(
        self, link_ids: Iterable[int], *, before_run_id: int
    ) -> dict[int, Observation]:
        """The last observation of each link before the given run that read the page: a 304
        ("unchanged") is passed over for the reading it confirmed. Without page text."""
        found: dict[int, Observation] = {}
        for ids in _chunks(link_ids):
            latest = (
                select(func.max(ObservationRow.id))
                .where(
                    ObservationRow.link_id.in_(ids),
                    ObservationRow.run_id < before_run_id,
                    or_(ObservationRow.status.is_(None), ObservationRow.status != 304),
                )
                .group_by(ObservationRow.link_id)
            )
            rows = self.session.scalars(select(ObservationRow).where(ObservationRow.id.in_(latest)))
            for row in rows:
                if row.link_id is not None:
                    found[row.link_id] = _row_to_observation(row).slim()
        return found

    def groups_seen(self, link_ids: Iterable[int], *, before_run_id: int) -> dict[int, list[str]]:
        """Every group name ever extracted from each link's page before the given run."""
        ids = list(link_ids)
        seen: dict[int, list[str]] = {i: [] for i in ids}
        for chunk in _chunks(ids):
            rows = self.session.execute(
                # Only the group lists, not whole facts: a link's history grows every run.
                select(ObservationRow.link_id, ObservationRow.facts["groups"]).where(
                    ObservationRow.link_id.in_(chunk), ObservationRow.run_id < before_run_id
                )
            )
            for link_id, groups in rows:
                for group in groups if isinstance(groups, list) else ():
                    if isinstance(group, dict) and group.get("name"):
                        seen[link_id].append(group["name"])
        return seen

    def count_observations(self) -> int:
        return self.session.scalar(select(func.count()).select_from(ObservationRow)) or 0

    # -- findings and decisions ----------------------------------------------------------------

    def findings(
        self,
        *,
        statuses: Sequence[str] | None = ("open",),
        kind: str | None = None,
        org_id: str | None = None,
        ids: Sequence[int] | None = None,
    ) -> list[Finding]:
        """Findings, newest first."""
        query = select(FindingRow).order_by(FindingRow.last_seen.desc(), FindingRow.id.desc())
        if statuses is not None:
            query = query.where(FindingRow.status.in_(list(statuses)))
        if kind is not None:
            query = query.where(FindingRow.kind == kind)
        if org_id is not None:
            query = query.where(FindingRow.org_id == org_id)
        if ids is not None:
            query = query.where(FindingRow.id.in_(list(ids)))
        return [_row_to_finding(r) for r in self.session.scalars(query)]

    def finding(self, finding_id: int) -> Finding:
        row = self.session.get(FindingRow, finding_id)
        if row is None:
            raise NotFound(f"no finding with id {finding_id}; `freshness findings` lists them")
        return _row_to_finding(row)

    def latest_finding(self, org_id: str, kind: str, subject: str) -> Finding | None:
        """The most recent finding about this subject, whatever its status."""
        row = self.session.scalars(
            select(FindingRow)
            .where(
                FindingRow.org_id == org_id, FindingRow.kind == kind, FindingRow.subject == subject
            )
            .order_by(FindingRow.id.desc())
            .limit(1)
        ).first()
        return None if row is None else _row_to_finding(row)

    def open_finding(
        self, finding: Finding, *, subject: str, run_id: int | None
    ) -> tuple[Finding, bool]:
        """Store a new finding, or refresh the open one about the same subject.

        Returns the stored finding and whether it is new.
        """
        row = self.session.scalars(
            select(FindingRow).where(
                FindingRow.org_id == finding.org_id,
                FindingRow.kind == finding.kind,
                FindingRow.subject == subject,
                FindingRow.status.in_(["open", "snoozed"]),
            )
        ).first()
        created = row is None
        if row is None:
            row = FindingRow(
                org_id=finding.org_id,
                link_id=finding.link_id,
                kind=finding.kind,
                subject=subject,
                status="open",
                first_seen=finding.first_seen,
                opened_run_id=run_id,
            )
            self.session.add(row)
        row.url = finding.url
        row.summary = finding.summary
        row.confidence = finding.confidence
        row.evidence = list(finding.evidence)
        row.details = dict(finding.details)
        row.last_seen = finding.last_seen
        self.session.flush()
        return _row_to_finding(row), created

    def resolve_findings(
        self, subjects: Iterable[tuple[str, str, str]], now: dt.datetime, run_id: int | None
    ) -> list[int]:
        """Resolve the open (or snoozed, or accepted dead-link) findings about these (org,
        kind, subject) triples.

        One query for every open finding, not one per triple: a run resolves thousands of
        subjects that mostly have no finding at all. Returns the ids resolved.
        """
        wanted = set(subjects)
        if not wanted:
            return []
        # An accepted dead link that works again is over too: left accepted, it would
        # silence the same link's next death as a decision already made.
        rows = self.session.scalars(
            select(FindingRow).where(
                FindingRow.status.in_(["open", "snoozed"])
                | ((FindingRow.status == "accepted") & (FindingRow.kind == "dead_link"))
            )
        )
        resolved = []
        for row in rows:
            if (row.org_id, row.kind, row.subject) in wanted:
                row.status, row.resolved_at, row.resolved_run_id = "resolved", now, run_id
                resolved.append(row.id)
        self.session.flush()
        return sorted(resolved)

    def wake_snoozed(self, now: dt.datetime) -> list[int]:
        """Snoozed findings whose time is up become open again."""
        rows = list(
            self.session.scalars(
                select(FindingRow).where(
                    FindingRow.status == "snoozed", FindingRow.snoozed_until <= now
                )
            )
        )
        for row in rows:
            row.status, row.snoozed_until = "open", None
        return [r.id for r in rows]

    def resolve_finding(self, finding_id: int, now: dt.datetime, run_id: int | None) -> None:
        row = self.session.get(FindingRow, finding_id)
        if row is None:
            raise NotFound(f"no finding with id {finding_id}")
        row.status, row.resolved_at, row.resolved_run_id = "resolved", now, run_id

    def set_finding_status(
        self,
        finding_id: int,
        status: str,
        *,
        by: str,
        at: dt.datetime,
        reason: str | None = None,
        snoozed_until: dt.datetime | None = None,
    ) -> Finding:
        """Record a curator's decision on a finding, and log it."""
        row = self.session.get(FindingRow, finding_id)
        if row is None:
            raise NotFound(f"no finding with id {finding_id}; `freshness findings` lists them")
        row.status = status
        row.snoozed_until = snoozed_until
        self.session.add(
            DecisionRow(finding_id=finding_id, action=status, by=by, at=at, reason=reason)
        )
        self.session.flush()
        return _row_to_finding(row)

    def decisions(self, finding_id: int) -> list[dict[str, Any]]:
        rows = self.session.scalars(
            select(DecisionRow).where(DecisionRow.finding_id == finding_id).order_by(DecisionRow.id)
        )
        return [{"action": r.action, "by": r.by, "at": r.at, "reason": r.reason} for r in rows]

    # -- runs, for digests ---------------------------------------------------------------------

    def run(self, run_id: int) -> Run:
        row = self.session.get(RunRow, run_id)
        if row is None:
            raise NotFound(f"no run with id {run_id}; `freshness run` prints the id of each run")
        return _row_to_run(row)

    def latest_run(self, statuses: Sequence[str] = ("completed",)) -> Run | None:
        row = self.session.scalars(
            select(RunRow)
            .where(RunRow.status.in_(list(statuses)))
            .order_by(RunRow.id.desc())
            .limit(1)
        ).first()
        return None if row is None else _row_to_run(row)

    def undigested_runs(self) -> list[Run]:
        """Finished runs whose digest has not been queued yet, oldest first.

        Only runs after the last digested one count. When no run was ever digested, only the
        newest finished run does, so turning notifications on does not replay old runs.
        """
        rows = self.session.scalars(
            select(RunRow).where(RunRow.status != "running").order_by(RunRow.id.desc())
        )
        pending: list[RunRow] = []
        for row in rows:
            if (row.summary or {}).get(DIGEST_KEY):
                break
            pending.append(row)
        else:
            pending = pending[:1]
        return [_row_to_run(r) for r in reversed(pending)]

    def mark_runs_digested(self, run_ids: Iterable[int], now: dt.datetime, targets: int) -> None:
        """Note in each run's summary that its digest was queued (for ``targets`` targets)."""
        for run_id in run_ids:
            row = self.session.get(RunRow, run_id)
            if row is None:
                raise NotFound(f"no run with id {run_id}")
            stamp = {"queued_at": now.isoformat(), "targets": targets}
            row.summary = {**(row.summary or {}), DIGEST_KEY: stamp}
        self.session.flush()

    # -- the outbox: digests per notification target -------------------------------------------

    def queue_digest(
        self,
        *,
        run_id: int,
        target_key: str,
        target: str,
        payload: dict[str, Any],
        generated_at: dt.datetime,
        now: dt.datetime,
    ) -> int | None:
        """Add a digest for one target; None when that target already has one for this run."""
        exists = self.session.scalar(
            select(OutboxRow.id).where(
                OutboxRow.run_id == run_id, OutboxRow.target_key == target_key
            )
        )
        if exists is not None:
            return None
        row = OutboxRow(
            run_id=run_id,
            target_key=target_key,
            target=target,
            payload=payload,
            generated_at=generated_at,
            status="pending",
            attempts=0,
            created_at=now,
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def outbox(self, statuses: Sequence[str] | None = None) -> list[OutboxEntry]:
        """Outbox entries, oldest first."""
        query = select(OutboxRow).order_by(OutboxRow.id)
        if statuses is not None:
            query = query.where(OutboxRow.status.in_(list(statuses)))
        return [_row_to_outbox(r) for r in self.session.scalars(query)]

    def claim_outbox(self, entry_id: int, now: dt.datetime, *, stale_before: dt.datetime) -> bool:
        """Mark an entry as being sent, unless it is sent or another process is sending it.

        One UPDATE with the condition in its WHERE clause, so two processes cannot both win.
        A claim older than ``stale_before`` belongs to a process that died, and is taken over.
        """
        result = self.session.execute(
            update(OutboxRow)
            .where(
                OutboxRow.id == entry_id,
                or_(
                    OutboxRow.status.in_(["pending", "failed"]),
                    and_(OutboxRow.status == "sending", OutboxRow.last_attempt_at < stale_before),
                ),
            )
            .values(status="sending", attempts=OutboxRow.attempts + 1, last_attempt_at=now)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1  # type: ignore[attr-defined]

    def finish_outbox(
        self, entry_id: int, now: dt.datetime, *, sent: bool, error: str | None = None
    ) -> None:
        row = self.session.get(OutboxRow, entry_id)
        if row is None:
            raise NotFound(f"no outbox entry with id {entry_id}")
        if sent:
            row.status, row.sent_at, row.last_error = "sent", now, None
        else:
            row.status, row.last_error = "failed", error

    def rekey_outbox(self, entry_id: int, target_key: str, target: str) -> bool:
        """Point an unsent entry at a target whose URL changed (a new password, say).

        False, and nothing changed, when that target already has a digest for the same run.
        """
        row = self.session.get(OutboxRow, entry_id)
        if row is None or row.status == "sent":
            return False
        taken = self.session.scalar(
            select(OutboxRow.id).where(
                OutboxRow.run_id == row.run_id, OutboxRow.target_key == target_key
            )
        )
        if taken is not None:
            return False
        row.target_key, row.target = target_key, target
        self.session.flush()
        return True

    # -- findings, for digests and decisions ---------------------------------------------------

    def findings_changed_since(self, since: dt.datetime) -> tuple[list[Finding], list[Finding]]:
        """(findings first seen since ``since``, findings resolved since ``since``)."""
        opened = self.session.scalars(
            select(FindingRow).where(FindingRow.first_seen >= since).order_by(FindingRow.id)
        )
        resolved = self.session.scalars(
            select(FindingRow)
            .where(FindingRow.status == "resolved", FindingRow.resolved_at >= since)
            .order_by(FindingRow.id)
        )
        return [_row_to_finding(r) for r in opened], [_row_to_finding(r) for r in resolved]

    def accepted_findings(self, *, include_applied: bool = False) -> list[Finding]:
        """Accepted findings, oldest first; by default only those not yet in the directory."""
        rows = self.session.scalars(
            select(FindingRow).where(FindingRow.status == "accepted").order_by(FindingRow.id)
        )
        found = [_row_to_finding(r) for r in rows]
        if include_applied:
            return found
        return [f for f in found if not f.details.get(APPLIED_KEY)]

    def mark_finding_applied(
        self, finding_id: int, *, at: dt.datetime, by: str, reason: str | None = None
    ) -> None:
        """Note that the directory now says what an accepted finding says, and log it."""
        row = self.session.get(FindingRow, finding_id)
        if row is None:
            raise NotFound(f"no finding with id {finding_id}")
        row.details = {**(row.details or {}), APPLIED_KEY: at.isoformat()}
        self.session.add(
            DecisionRow(finding_id=finding_id, action="applied", by=by, at=at, reason=reason)
        )
        self.session.flush()


# -- row <-> record ------------------------------------------------------------------------------


def _entry_to_columns(entry: DirectoryEntry) -> dict[str, Any]:
    values = {key: getattr(entry, key) for key in _ENTRY_FIELDS}
    for key in ("aliases", "groups", "links", "dead_links"):
        values[key] = list(values[key])
    values["listing_status"] = entry.status
    values["dead_since"] = entry.dead_since.isoformat() if entry.dead_since else None
    return values


def _row_to_entry(row: OrganisationRow | Row[Any]) -> DirectoryEntry:
    return DirectoryEntry(
        id=row.id,
        name=row.name,
        url=row.url,
        aliases=tuple(row.aliases or ()),
        profession=row.profession,
        groups_url=row.groups_url,
        group_selector=row.group_selector,
        groups=tuple(row.groups or ()),
        links=tuple(row.links or ()),
        check_every=row.check_every,
        status=row.listing_status,
        dead_since=dt.date.fromisoformat(row.dead_since) if row.dead_since else None,
        dead_links=tuple(row.dead_links or ()),
    )


def _org_state(row: OrganisationRow, categories: list[str | None]) -> str:
    if not row.active:
        return "inactive"
    if row.last_checked_at is None or not categories:
        return "unchecked"
    bad = [c for c in categories if c not in (None, "ok")]
    return "ok" if not bad else ", ".join(sorted({c for c in bad if c}))


class LinkToCrawl(NamedTuple):
    """One listed link as a crawler fetches it (``Repository.links_to_crawl``)."""

    id: int
    org_id: str
    url: str
    role: str
    etag: str | None
    last_modified: str | None
    probe: dict[str, Any] | None


def _row_to_link(row: ListedLinkRow | Row[Any]) -> LinkState:
    return LinkState(
        id=row.id,
        org_id=row.org_id,
        url=row.url,
        role=row.role,
        consecutive_failures=row.consecutive_failures or 0,
        first_failure_at=row.first_failure_at,
        consecutive_blocked=row.consecutive_blocked or 0,
        first_blocked_at=row.first_blocked_at,
        last_category=row.last_category,
        last_checked_at=row.last_checked_at,
        last_ok_at=row.last_ok_at,
        etag=row.etag,
        last_modified=row.last_modified,
        probe=dict(row.probe) if row.probe else None,
    )


_LINK_STATE_FIELDS = (
    "consecutive_failures",
    "first_failure_at",
    "consecutive_blocked",
    "first_blocked_at",
    "last_category",
    "last_checked_at",
    "last_ok_at",
    "etag",
    "last_modified",
    "probe",
)
_CHUNK = 500  # rows or ids per query: bounded memory, and within SQLite's parameter limit


def _chunks(ids: Iterable[Any]) -> Iterator[list[Any]]:
    batch = list(ids)
    for start in range(0, len(batch), _CHUNK):
        yield batch[start : start + _CHUNK]


def _row_to_observation(row: ObservationRow | Row[Any], *, slim: bool = False) -> Observation:
    """An observation from its row (an ORM object or a plain row); ``slim`` as
    ``Observation.slim``."""
    facts = row.facts or {}
    return Observation(
        id=row.id,
        run_id=row.run_id,
        org_id=row.org_id,
        link_id=row.link_id,
        url=row.url,
        fetched_at=row.fetched_at,
        status=row.status,
        final_url=row.final_url,
        redirect_chain=list(row.redirect_chain or []),
        error=row.error,
        error_message=row.error_message,
        elapsed_ms=row.elapsed_ms,
        headers=dict(row.headers or {}),
        facts=Observation.slim_facts(facts) if slim else dict(facts),
        category=row.category,
        evidence=list(row.evidence) if row.evidence is not None else None,
        confidence=row.confidence,
    )


def _row_to_finding(row: FindingRow) -> Finding:
    return Finding(
        id=row.id,
        org_id=row.org_id,
        link_id=row.link_id,
        kind=row.kind,
        url=row.url,
        summary=row.summary,
        status=row.status,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        confidence=row.confidence,
        evidence=list(row.evidence or []),
        details=dict(row.details or {}),
        resolved_at=row.resolved_at,
        snoozed_until=row.snoozed_until,
    )


# -- the outbox and digests ----------------------------------------------------------------------

# The key in a run's summary that says its digest was queued.
DIGEST_KEY = "digest"
# The key in an accepted finding's details that says the directory now carries it.
APPLIED_KEY = "applied_at"


@dataclass(frozen=True)
class OutboxEntry:
    """A digest for one target. ``target`` is the masked URL; the real one is never stored."""

    id: int
    run_id: int
    target_key: str
    target: str
    payload: dict[str, Any]
    generated_at: dt.datetime
    status: str  # pending | sending | sent | failed
    attempts: int
    last_error: str | None
    created_at: dt.datetime
    last_attempt_at: dt.datetime | None
    sent_at: dt.datetime | None


def _row_to_outbox(row: OutboxRow) -> OutboxEntry:
    return OutboxEntry(
        id=row.id,
        run_id=row.run_id,
        target_key=row.target_key,
        target=row.target,
        payload=dict(row.payload or {}),
        generated_at=row.generated_at,
        status=row.status,
        attempts=row.attempts or 0,
        last_error=row.last_error,
        created_at=row.created_at,
        last_attempt_at=row.last_attempt_at,
        sent_at=row.sent_at,
    )


def _row_to_run(row: RunRow) -> Run:
    return Run(row.id, row.started_at, row.finished_at, row.status, dict(row.summary or {}))

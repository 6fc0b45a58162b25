"""Findings and decisions: the ``findings`` table (what judging concluded, and its status) and
the ``decisions`` table (each curator's decision on a finding, logged)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select

from storage.models import DecisionRow, FindingRow
from storage.records import Finding
from storage.repository.base import NotFound, SessionBound

# The key in an accepted finding's details that says the directory now carries it.
APPLIED_KEY = "applied_at"


class FindingRepository(SessionBound):
    """Findings opened, refreshed and resolved by runs, and decided on by curators."""

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

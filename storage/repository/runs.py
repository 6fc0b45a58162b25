"""Runs and observations: the ``runs`` table (started, finished, annotated, digested) and the
``observations`` table (what each run fetched and saw)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Row, func, insert, or_, select

from storage.models import ObservationRow, RunRow
from storage.records import Observation, Run
from storage.repository.base import NotFound, SessionBound, chunks

# The key in a run's summary that says its digest was queued.
DIGEST_KEY = "digest"


class RunRepository(SessionBound):
    """Runs, what they observed, and which have had their digest queued."""

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
        for chunk in chunks(wanted):
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
        for ids in chunks(link_ids):
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
        for chunk in chunks(ids):
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


# -- row <-> record ------------------------------------------------------------------------------


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


def _row_to_run(row: RunRow) -> Run:
    return Run(row.id, row.started_at, row.finished_at, row.status, dict(row.summary or {}))

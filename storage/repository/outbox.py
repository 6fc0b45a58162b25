"""The outbox: the ``outbox`` table, one digest per run and notification target, claimed and
sent by whichever process gets there first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select, update

from storage.models import OutboxRow
from storage.repository.base import NotFound, SessionBound


class OutboxRepository(SessionBound):
    """Digests waiting to be sent, being sent, sent or failed."""

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

"""Listed links and their failure state: the ``listed_links`` table as crawlers and judging
read and write it (failure counts, validators, cached probes). Which links exist is the
directory's business (``storage.repository.directory``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from sqlalchemy import Row, select, update

from storage.models import ListedLinkRow
from storage.records import LinkState
from storage.repository.base import NotFound, SessionBound, chunks


class LinkRepository(SessionBound):
    """Each listed link's state between runs."""

    # -- listed links and their failure state --------------------------------------------------

    def link_states(self, org_ids: Iterable[str] | None = None) -> list[LinkState]:
        query = select(ListedLinkRow.__table__).where(ListedLinkRow.active.is_(True))
        if org_ids is None:
            return [_row_to_link(r) for r in self.session.execute(query.order_by(ListedLinkRow.id))]
        found: list[Any] = []
        for ids in chunks(org_ids):
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
        for ids in chunks(org_ids):
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
        for ids in chunks(v["id"] for v in values):
            known.update(
                self.session.scalars(select(ListedLinkRow.id).where(ListedLinkRow.id.in_(ids)))
            )
        missing = [v["id"] for v in values if v["id"] not in known]
        if missing:
            raise NotFound(f"no listed link with id {missing[0]}")
        self.session.flush()  # pending changes first: the UPDATE goes straight to the database
        self.session.execute(update(ListedLinkRow), values)


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

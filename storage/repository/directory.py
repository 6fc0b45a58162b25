"""The directory: the ``organisations`` table, and the ``listed_links`` rows an import adds or
deactivates (``sync_directory`` and its ``ImportDiff``). Reads ``findings`` and the links'
last category only to say how each organisation stands."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Row, func, select, update

from storage.models import FindingRow, ListedLinkRow, OrganisationRow
from storage.records import DirectoryEntry, ImportDiff, Organisation
from storage.repository.base import NotFound, SessionBound, chunks

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


class DirectoryRepository(SessionBound):
    """Organisations as the curator lists them, and when each was last checked or discovered."""

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
        for ids in chunks(org_ids):
            self.session.execute(
                update(OrganisationRow)
                .where(OrganisationRow.id.in_(ids))
                .values(last_checked_at=now)
            )

    def mark_discovered(self, org_ids: Iterable[str], now: dt.datetime) -> None:
        for ids in chunks(org_ids):
            self.session.execute(
                update(OrganisationRow).where(OrganisationRow.id.in_(ids)).values(discovered_at=now)
            )


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

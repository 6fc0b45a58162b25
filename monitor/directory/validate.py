"""Building and validating directory entries: from raw values to ``DirectoryEntry`` records.

One validator serves every reader: each entry's fields are checked in a fixed order, then ids
and homepages across the file (ids kept from the store, duplicates), with every problem
reported rather than the first.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from monitor.directory.checks import (
    ID_PATTERN,
    clean_text,
    parse_date,
    selector_problem,
    url_key,
    url_problem,
)
from monitor.directory.keys import MAX_ID_LENGTH, STATUSES, slugify
from monitor.directory.problems import Problems
from monitor.directory.raw import RawEntry
from monitor.judging.intervals import parse_interval, show
from storage.records import DirectoryEntry, Organisation, dead_link_item, split_dead_link


@dataclass
class _Built:
    entry: DirectoryEntry | None
    id: str | None
    id_line: int | None
    id_derived: bool
    url_key: str | None
    url_line: int | None
    # The name when it makes no id (a non-Latin script): fine if a stored homepage gives one.
    nameless_id: str | None = None
    # The id was taken from the stored organisation with this homepage.
    kept: bool = False
    # The stored organisation with this homepage, when another line claims its id explicitly.
    passed_over: str | None = None


def build_all(
    raws: Iterable[RawEntry], problems: Problems, stored: Sequence[Organisation] = ()
) -> list[DirectoryEntry]:
    """The good entries, ids settled; problems in one entry or across the file go to ``problems``."""
    built = [_build(raw, problems) for raw in raws]
    explicit = _keep_stored_ids(built, stored)
    for item in built:
        if item.nameless_id is not None and not item.kept:
            problems.add(
                item.id_line,
                "id",
                f"cannot make an id from the name {show(item.nameless_id)}; add an explicit id",
            )
    # The id's first holder, by strength: an explicit id, then a kept one, then a made one.
    holders: dict[str, _Built] = {}
    for item in sorted(built, key=_claim_strength):
        if item.id is None:
            continue
        holder = holders.setdefault(item.id, item)
        if holder is not item:
            problems.add(item.id_line, "id", _duplicate_id(item, holder, explicit))
    urls: dict[str, int | None] = {}
    for item in built:
        if item.url_key is not None:
            if item.url_key in urls:
                problems.add(
                    item.url_line,
                    "url",
                    f"duplicate url: line {urls[item.url_key]} lists the same homepage",
                )
            else:
                urls[item.url_key] = item.url_line
    return [
        dataclasses.replace(item.entry, id=item.id)
        for item in built
        if item.entry is not None and item.id
    ]


def _keep_stored_ids(built: Sequence[_Built], stored: Sequence[Organisation]) -> dict[str, int]:
    """Give each id-less entry the id of the stored organisation with its homepage.

    That is what keeps a derived id stable when the name changes. An explicit id anywhere in
    the file wins over the match; among several stored organisations with one homepage (an
    earlier rename made a second one), an active one is preferred, then the one with the id
    the name makes, then the first in directory order. Returns the explicit ids and lines.
    """
    explicit: dict[str, int] = {}
    for item in built:
        if not item.id_derived and item.id is not None:
            explicit.setdefault(item.id, item.id_line or 0)
    by_url: dict[str, list[Organisation]] = {}
    for org in stored:
        by_url.setdefault(url_key(org.entry.url), []).append(org)
    taken: set[str] = set()
    for item in built:
        candidates = by_url.get(item.url_key or "", []) if item.id_derived else []
        free = [org for org in candidates if org.id not in explicit and org.id not in taken]
        if free:
            best = min(free, key=lambda org: (not org.active, org.id != item.id))
            item.id, item.kept = best.id, True
            taken.add(best.id)
        elif claimed := [org for org in candidates if org.id in explicit]:
            item.passed_over = min(claimed, key=lambda org: not org.active).id
    return explicit


def _claim_strength(item: _Built) -> tuple[int, int]:
    rank = 2 if item.id_derived and not item.kept else 1 if item.kept else 0
    return rank, item.id_line or 0


def _duplicate_id(item: _Built, holder: _Built, explicit: dict[str, int]) -> str:
    """Why ``item`` cannot have the id ``holder`` already has, and what to do about it."""
    message = f"duplicate id {item.id!r}: line {holder.id_line} has the same id"
    if not item.id_derived:
        return message  # two explicit ids
    if holder.id_derived and not holder.kept:
        return message + " (made from the name; give one of them an explicit id)"
    message = f"duplicate id {item.id!r} (made from the name): line {holder.id_line} "
    if holder.kept:
        message += "keeps it, as its url is the homepage stored under that id"
    elif item.passed_over == item.id:
        message += "claims it explicitly, though this entry's url is the homepage stored under it"
    else:
        message += "gives it explicitly"
    if item.passed_over not in (None, item.id):
        line = explicit.get(item.passed_over)
        message += (
            f" (this entry's url is the homepage of stored {item.passed_over!r}, "
            f"which line {line} claims explicitly)"
        )
    return message + "; give this entry an explicit id"


@dataclass
class _Fields:
    """One raw entry's values, cleaned as they are read; problems go to ``problems``."""

    raw: RawEntry
    problems: Problems

    def text(self, key: str) -> str | None:
        value = self.raw.values.get(key)
        if value is None or value.bad or value.text is None:
            return None
        return clean_text(value.text, value.line, key, self.problems)

    def items(self, key: str) -> list[tuple[str, int | None]]:
        value = self.raw.values.get(key)
        if value is None or value.bad or value.items is None:
            return []
        out = []
        for index, (item, line) in enumerate(value.items, start=1):
            cleaned = clean_text(item or "", line, key, self.problems)
            if cleaned is None:
                self.problems.add(line, key, f"item {index} is empty")
            else:
                out.append((cleaned, line))
        return out

    def line_of(self, key: str) -> int | None:
        value = self.raw.values.get(key)
        return value.line if value is not None else self.raw.line

    def missing(self, key: str) -> bool:
        value = self.raw.values.get(key)
        return value is None or (not value.bad and value.text is None)


def _build(raw: RawEntry, problems: Problems) -> _Built:
    """Check one entry's meaning and make the record; problems go to ``problems``."""
    before = len(problems.items)
    fields = _Fields(raw, problems)
    # The checks run in this order so that problems on one line keep their order.
    name, url = _name_and_url(fields)
    entry_id, derived, nameless_id, id_line = _entry_id(fields, name)
    groups_url, links, selector = _pages(fields)
    check_every = _check_every(fields)
    status, dead_since = _status(fields)
    dead_links = _dead_links(fields.items("dead_links"), url, groups_url, links, problems)
    aliases = fields.items("aliases")
    groups = fields.items("groups")
    profession = fields.text("profession")

    entry = None
    if len(problems.items) == before and name is not None and url is not None:
        entry = DirectoryEntry(
            id=entry_id or "",  # replaced by a stored id, or reported, in build_all
            name=name,
            url=url,
            aliases=tuple(a for a, _ in aliases),
            profession=profession,
            groups_url=groups_url,
            group_selector=selector,
            groups=tuple(g for g, _ in groups),
            links=tuple(link for link, _ in links),
            check_every=check_every,
            status=status,
            dead_since=dead_since,
            dead_links=dead_links,
        )
    return _Built(
        entry=entry,
        id=entry_id,
        id_line=id_line,
        id_derived=derived,
        url_key=url_key(url) if url is not None else None,
        url_line=fields.line_of("url"),
        nameless_id=nameless_id,
    )


def _name_and_url(fields: _Fields) -> tuple[str | None, str | None]:
    """The required name and homepage, None where missing or wrong (and reported)."""
    problems, line = fields.problems, fields.raw.line
    name = fields.text("name")
    if name is None and fields.missing("name"):
        problems.add(line, "name", "missing: every organisation needs a name")

    url = fields.text("url")
    if url is None and fields.missing("url"):
        problems.add(line, "url", "missing: every organisation needs a url (its homepage)")
    elif url is not None and (why := url_problem(url)):
        problems.add(fields.line_of("url"), "url", why)
        url = None
    return name, url


def _entry_id(fields: _Fields, name: str | None) -> tuple[str | None, bool, str | None, int | None]:
    """(id, made from the name, the name when it makes no id, the id's line)."""
    entry_id = fields.text("id")
    derived = entry_id is None
    nameless_id: str | None = None
    id_line = fields.line_of("id") if not derived else fields.line_of("name")
    if entry_id is not None:
        if len(entry_id) > MAX_ID_LENGTH or not ID_PATTERN.fullmatch(entry_id):
            hint = slugify(entry_id)
            fields.problems.add(
                id_line,
                "id",
                "must be lowercase letters, digits, hyphens, dots or underscores"
                + (f" (like {hint!r})" if hint else "")
                + f"; got {show(entry_id)}",
            )
            entry_id = None
    elif name is not None and fields.missing("id"):
        # Checked once stored homepages are known: one of them may give this entry its id.
        entry_id = slugify(name) or None
        nameless_id = name if entry_id is None else None
    return entry_id, derived, nameless_id, id_line


def _pages(fields: _Fields) -> tuple[str | None, list[tuple[str, int | None]], str | None]:
    """The groups page, the other links and the group selector, each checked."""
    problems = fields.problems
    groups_url = fields.text("groups_url")
    if groups_url is not None and (why := url_problem(groups_url)):
        problems.add(fields.line_of("groups_url"), "groups_url", why)

    links = fields.items("links")
    for link, line in links:
        if why := url_problem(link):
            problems.add(line, "links", why)

    selector = fields.text("group_selector")
    if selector is not None and (why := selector_problem(selector)):
        problems.add(fields.line_of("group_selector"), "group_selector", why)
    return groups_url, links, selector


def _check_every(fields: _Fields) -> str | None:
    check_every = fields.text("check_every")
    if check_every is not None:
        try:
            parse_interval(check_every)
        except ValueError as exc:
            fields.problems.add(fields.line_of("check_every"), "check_every", str(exc))
    return check_every


def _status(fields: _Fields) -> tuple[str | None, dt.date | None]:
    """``status`` (only "dead") and ``dead_since``, which needs it."""
    problems = fields.problems
    status = fields.text("status")
    if status is not None:
        if status.lower() in STATUSES:
            status = status.lower()
        else:
            problems.add(
                fields.line_of("status"),
                "status",
                f"must be 'dead' or left out (a live entry has no status); got {show(status)}",
            )

    dead_since_text = fields.text("dead_since")
    dead_since: dt.date | None = None
    if dead_since_text is not None:
        dead_since = parse_date(dead_since_text)
        if dead_since is None:
            problems.add(
                fields.line_of("dead_since"),
                "dead_since",
                f"must be a date like 2026-11-23, got {show(dead_since_text)}",
            )
        elif status is None and fields.missing("status"):
            problems.add(
                fields.line_of("dead_since"),
                "dead_since",
                "is only allowed together with 'status: dead'",
            )
    return status, dead_since


def _dead_links(
    items: list[tuple[str, int | None]],
    url: str | None,
    groups_url: str | None,
    links: list[tuple[str, int | None]],
    problems: Problems,
) -> tuple[str, ...]:
    """``dead_links`` items, checked and written the one way ``dump_directory`` writes them.

    Each names one of the entry's own listed pages, so a mark can never point at nothing.
    """
    listed = {groups_url, *(link for link, _ in links)} - {None}
    out: dict[str, str] = {}
    for item, line in items:
        try:
            dead_url, since_text = split_dead_link(item)
        except ValueError as exc:
            problems.add(line, "dead_links", str(exc))
            continue
        since = None
        if since_text is not None and (since := parse_date(since_text)) is None:
            problems.add(
                line, "dead_links", f"must end with a date like 2026-11-23, got {show(since_text)}"
            )
            continue
        if dead_url == url:
            problems.add(
                line, "dead_links", "the homepage is marked with 'status: dead', not in dead_links"
            )
        elif dead_url not in listed:
            problems.add(
                line,
                "dead_links",
                f"{show(dead_url)} is not this entry's groups_url or one of its links; "
                "list it there, or take it out of dead_links",
            )
        elif dead_url in out:
            problems.add(line, "dead_links", f"{show(dead_url)} is listed twice")
        else:
            out[dead_url] = dead_link_item(dead_url, since)
    return tuple(out.values())

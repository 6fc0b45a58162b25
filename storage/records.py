"""Plain data that the repository accepts and returns.

No SQLAlchemy here: ``monitor`` works on these records without knowing how they are stored.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

FINDING_KINDS = (
    "dead_link",
    "moved",
    "rename",
    "new_group",
    "removed_group",
    "new_organisation",
    "unverifiable",
    "revived",
)
FINDING_STATUSES = ("open", "accepted", "dismissed", "resolved", "snoozed")
LINK_ROLES = ("homepage", "groups", "link")
# How an item of ``dead_links`` joins a URL and the day it was found dead.
DEAD_SINCE = " since "


def dead_link_item(url: str, since: dt.date | None) -> str:
    """One ``dead_links`` item: ``"https://x.org/groups since 2026-11-20"``, or the bare URL."""
    return f"{url}{DEAD_SINCE}{since.isoformat()}" if since else url


def split_dead_link(item: str) -> tuple[str, str | None]:
    """A ``dead_links`` item as (url, date text or None); the caller checks the date.

    URLs hold no spaces, so splitting on them is unambiguous. Raises ValueError for any other
    shape than ``URL`` or ``URL since DATE``.
    """
    words = item.split()
    if len(words) == 1:
        return words[0], None
    if len(words) == 3 and words[1] == DEAD_SINCE.strip():
        return words[0], words[2]
    raise ValueError(f"write it as 'URL{DEAD_SINCE}2026-11-20' or just the URL; got {item!r}")


@dataclass(frozen=True)
class DirectoryEntry:
    """One organisation as a curator writes it in the directory file."""

    id: str
    name: str
    url: str
    aliases: tuple[str, ...] = ()
    profession: str | None = None
    groups_url: str | None = None
    group_selector: str | None = None
    groups: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    check_every: str | None = None
    status: str | None = None  # None means listed and live; "dead" once a curator accepts it
    dead_since: dt.date | None = None
    # A groups_url or link a curator accepted as dead, each as "URL since DATE"
    # (dead_link_item): the link stays where it is listed, marked, never silently deleted.
    dead_links: tuple[str, ...] = ()

    def dead_link_urls(self) -> frozenset[str]:
        """The listed URLs (other than the homepage) that a curator has marked dead."""
        return frozenset(split_dead_link(item)[0] for item in self.dead_links)

    def dead_mark(self, url: str) -> str | None:
        """The day the directory says ``url`` died ("" when it gives none), or None when it
        is not marked dead: the homepage by ``status: dead``, another link in ``dead_links``."""
        if url == self.url:
            if self.status != "dead":
                return None
            return self.dead_since.isoformat() if self.dead_since else ""
        for item in self.dead_links:
            dead_url, since = split_dead_link(item)
            if dead_url == url:
                return since or ""
        return None

    def without_dead_marks(self, *urls: str) -> tuple[str, ...]:
        """``dead_links`` without the marks on these URLs."""
        return tuple(item for item in self.dead_links if split_dead_link(item)[0] not in urls)

    def listed_links(self) -> list[tuple[str, str]]:
        """Every URL this entry asks us to keep alive, as (role, url), without repeats."""
        seen: set[str] = set()
        out: list[tuple[str, str]] = []
        candidates = [("homepage", self.url)]
        if self.groups_url:
            candidates.append(("groups", self.groups_url))
        candidates += [("link", u) for u in self.links]
        for role, url in candidates:
            if url not in seen:
                seen.add(url)
                out.append((role, url))
        return out


@dataclass(frozen=True)
class Organisation:
    """An organisation as stored: its directory entry plus what we know of it."""

    entry: DirectoryEntry
    active: bool
    last_checked_at: dt.datetime | None
    open_findings: int = 0
    state: str = "unchecked"
    discovered_at: dt.datetime | None = None

    @property
    def id(self) -> str:
        return self.entry.id


@dataclass(frozen=True)
class LinkState:
    """A listed URL and its failure bookkeeping, which lives in the store between runs."""

    id: int
    org_id: str
    url: str
    role: str
    consecutive_failures: int = 0
    first_failure_at: dt.datetime | None = None
    consecutive_blocked: int = 0
    first_blocked_at: dt.datetime | None = None
    last_category: str | None = None
    last_checked_at: dt.datetime | None = None
    last_ok_at: dt.datetime | None = None
    etag: str | None = None
    last_modified: str | None = None
    probe: dict[str, Any] | None = None  # a cached hard-404 probe of this page's directory


@dataclass
class Observation:
    """One fetch of one listed URL, as recorded."""

    org_id: str
    url: str
    fetched_at: dt.datetime
    link_id: int | None = None
    status: int | None = None
    final_url: str | None = None
    redirect_chain: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    error_message: str | None = None
    elapsed_ms: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    category: str | None = None
    evidence: list[str] | None = None  # the classifier's reasons for ``category``
    confidence: float | None = None
    run_id: int | None = None
    id: int | None = None

    # Facts that only the crawl and the classifier need; verdicts are decided without them.
    BULKY_FACTS = ("text", "outbound")

    def to_plain(self) -> dict[str, Any]:
        """JSON-ready values, to hand an observation to another process (``from_plain``)."""
        plain = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        plain["fetched_at"] = self.fetched_at.isoformat()
        return plain

    @classmethod
    def from_plain(cls, plain: dict[str, Any]) -> Observation:
        return cls(**{**plain, "fetched_at": dt.datetime.fromisoformat(plain["fetched_at"])})

    def slim(self) -> Observation:
        """A copy without the page text and outbound links, to hold thousands until judged."""
        return dataclasses.replace(self, facts=self.slim_facts(self.facts))

    @classmethod
    def slim_facts(cls, facts: Mapping[str, Any]) -> dict[str, Any]:
        """``facts`` without the page text and outbound links (a new dict)."""
        slim = {k: v for k, v in facts.items() if k not in cls.BULKY_FACTS}
        if isinstance(slim.get("probe"), dict):
            slim["probe"] = {k: v for k, v in slim["probe"].items() if k != "text"}
        return slim


@dataclass
class Finding:
    """Something a curator should know about, with what is needed to act on it."""

    org_id: str
    kind: str
    url: str | None
    summary: str
    first_seen: dt.datetime
    last_seen: dt.datetime
    confidence: float = 1.0
    status: str = "open"
    evidence: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    link_id: int | None = None
    id: int | None = None
    resolved_at: dt.datetime | None = None
    snoozed_until: dt.datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """The stable JSON contract documented in the README."""
        out: dict[str, Any] = {
            "id": self.id,
            "org": self.org_id,
            "kind": self.kind,
            "url": self.url,
            "status": self.status,
            "first_seen": _iso(self.first_seen),
            "last_seen": _iso(self.last_seen),
            "confidence": round(float(self.confidence), 3),
            "summary": self.summary,
            "evidence": list(self.evidence),
        }
        for key in (
            "reason",
            "new_url",
            "new_name",
            "old_name",
            "old_url",
            "group",
            "group_url",
            "name",
            "dead_since",
        ):
            if key in self.details:
                out[key] = self.details[key]
        if self.kind == "new_organisation":
            # The README promises these for a candidate: where it lives and who links to it.
            if "domain" in self.details:
                out["domain"] = self.details["domain"]
            if "linked_from" in self.details:
                out["linked_from"] = list(self.details["linked_from"] or [])
        if self.resolved_at is not None:
            out["resolved_at"] = _iso(self.resolved_at)
        return out


@dataclass(frozen=True)
class Run:
    id: int
    started_at: dt.datetime
    finished_at: dt.datetime | None
    status: str
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportDiff:
    """What a re-import changed, by organisation id."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.isoformat().replace("+00:00", "Z")

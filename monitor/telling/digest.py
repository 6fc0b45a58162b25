"""Render what changed since the last run into a digest: text, Markdown, HTML and JSON.

Pure: no Apprise, no SQLAlchemy, no Scrapy, and the clock is passed in. Sending lives in
``monitor.telling.notify``.

Every string that came from the web (names, URLs, group names, evidence) is treated as
hostile. Each format escapes it in its own way:

- text: control characters and line breaks are folded into spaces, so a scraped string
  cannot forge extra lines;
- Markdown: punctuation that Markdown (and chat services) give meaning to is
  backslash-escaped, so a scraped ``[x](http://evil)`` stays literal text, and a URL becomes
  an autolink only when it is plain http(s);
- HTML: Jinja2 autoescaping, ``href`` only for http(s) URLs, inline CSS only, no scripts,
  and a Content-Security-Policy that forbids everything else.

The escaping helpers (``clean``, ``md_escape``, ``safe_href``) live in
``monitor.telling.text``; the made-up digest of ``freshness notify --test`` in
``monitor.telling.sample``.

Example::

    digest = render_digest(opened, recovered, org_names={"acme": "Acme"}, now=now)
    if not digest.is_empty():
        print(digest.text())
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from monitor.telling.text import clean, md_escape, safe_href
from storage.records import FINDING_KINDS, Finding

TEMPLATES = Path(__file__).with_name("templates")

KIND_LABELS = {
    "dead_link": "Dead link",
    "moved": "Moved",
    "rename": "Renamed",
    "new_group": "New group",
    "removed_group": "Group removed",
    "new_organisation": "New organisation candidate",
    "unverifiable": "Unverifiable",
    "revived": "Listed dead, works again",
}
RECOVERED_LABEL = "Recovered"

# (singular, plural) for the summary line.
_COUNT_NOUNS = {
    "dead_link": ("dead link", "dead links"),
    "moved": ("move", "moves"),
    "rename": ("rename", "renames"),
    "new_group": ("new group", "new groups"),
    "removed_group": ("removed group", "removed groups"),
    "new_organisation": ("new organisation candidate", "new organisation candidates"),
    "unverifiable": ("unverifiable link", "unverifiable links"),
    "revived": ("revived link", "revived links"),
    "recovered": ("recovered", "recovered"),
}

# Plain words for the failure categories the classifier produces. Unknown categories are
# shown as they are.
REASONS = {
    "http_404": "page not found",
    "http_410": "page gone",
    "http_401": "login required",
    "http_403": "access forbidden",
    "http_429": "too many requests",
    "http_451": "unavailable for legal reasons",
    "http_5xx": "server error",
    "parked": "domain parked or for sale",
    "soft_404": "page says it does not exist",
    "closed": "organisation says it has closed",
    "dns": "domain does not resolve",
    "tls": "certificate or TLS error",
    "timeout": "timed out",
    "connection": "connection refused or reset",
    "redirect_loop": "redirect loop",
    "too_many_redirects": "too many redirects",
    "blocked": "blocked by the site, likely bot protection",
    "robots": "disallowed by robots.txt",
    "empty": "empty page",
}

CHANGES = ("new", "recovered")
HEARTBEAT_SUMMARY = "No changes since the last run"


# -- the digest ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestItem:
    """One finding in a digest, either newly opened or recovered since the last digest."""

    change: str  # "new" | "recovered"
    finding: Finding

    def __post_init__(self) -> None:
        if self.change not in CHANGES:
            raise ValueError(f"change must be one of {CHANGES}, not {self.change!r}")


@dataclass(frozen=True)
class DigestSection:
    """The items of one organisation."""

    org_id: str
    org_name: str
    items: tuple[DigestItem, ...]


@dataclass(frozen=True)
class Digest:
    """What changed since the last run, grouped by organisation, ready to render."""

    title: str
    summary: str
    sections: tuple[DigestSection, ...]
    counts: dict[str, int]
    kinds: frozenset[str]
    generated_at: dt.datetime
    run_id: int | None = None
    heartbeat: bool = False

    @property
    def items(self) -> tuple[DigestItem, ...]:
        return tuple(item for section in self.sections for item in section.items)

    @functools.cached_property
    def _views(self) -> tuple[_SectionView, ...]:
        return tuple(
            _SectionView(
                org=clean(section.org_id),
                name=clean(section.org_name),
                items=tuple(_view(item, self.generated_at) for item in section.items),
            )
            for section in self.sections
        )

    def is_empty(self) -> bool:
        """True when there is nothing to send: no items and no heartbeat asked for."""
        return not self.sections and not self.heartbeat

    def only_kinds(self, kinds: Iterable[str]) -> Digest:
        """The part of this digest whose finding kinds are in ``kinds`` (for tag routing).

        Recoveries go with the kind of the finding that recovered. A heartbeat digest stays a
        heartbeat, so a target that asked for heartbeats hears "No changes" for its kinds.
        """
        wanted = frozenset(kinds)
        entries = [
            (section.org_id, section.org_name, item)
            for section in self.sections
            for item in section.items
            if item.finding.kind in wanted
        ]
        return _assemble(entries, self.generated_at, self.run_id, self.heartbeat)

    # -- formats ---------------------------------------------------------------------------------

    def text(self) -> str:
        """Plain text, for terminals and the text part of an email."""
        lines = [self.summary, _run_line(self), ""]
        for section in self._views:
            lines.append(f"== {section.name} ({section.org}) ==")
            lines.append("")
            for view in section.items:
                lines.extend(_text_item(view))
                lines.append("")
        return "\n".join(lines).rstrip() + "\n"

    def markdown(self) -> str:
        """Markdown for chat services, with every scraped string escaped."""
        lines = [f"**{md_escape(self.summary)}**", "", md_escape(_run_line(self)), ""]
        for section in self._views:
            lines.append(f"### {md_escape(section.name)} ({md_escape(section.org)})")
            lines.append("")
            for view in section.items:
                lines.extend(_markdown_item(view))
            lines.append("")
        return "\n".join(lines).rstrip() + "\n"

    def html(self) -> str:
        """A self-contained HTML page: inline CSS, no scripts, a strict CSP."""
        template = _environment().get_template("digest.html.j2")
        return template.render(
            title=self.title,
            summary=self.summary,
            run_line=_run_line(self),
            sections=self._views,
            heartbeat=self.heartbeat and not self.sections,
            colours=_KIND_COLOURS,
        )

    def json(self) -> str:
        """The digest as JSON; each finding is ``Finding.to_json()`` plus its ``change``."""
        payload = {
            "generated_at": _iso(self.generated_at),
            "run_id": self.run_id,
            "summary": self.summary,
            "counts": dict(self.counts),
            "organisations": [
                {
                    "org": section.org_id,
                    "name": section.org_name,
                    "findings": [
                        {**item.finding.to_json(), "change": item.change} for item in section.items
                    ],
                }
                for section in self.sections
            ],
        }
        return json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n"

    def shortened_markdown(self, limit: int) -> str:
        """Markdown no longer than ``limit`` characters, for services with a body limit.

        The full Markdown when it fits; otherwise the summary line, one compact line per item
        for as many items as fit, and "…and N more".
        """
        return self._shortened(limit, markdown=True)

    def shortened_text(self, limit: int) -> str:
        """Plain text no longer than ``limit`` characters; see ``shortened_markdown``."""
        return self._shortened(limit, markdown=False)

    def _shortened(self, limit: int, *, markdown: bool) -> str:
        full = self.markdown() if markdown else self.text()
        if len(full) <= limit:
            return full
        head = (f"**{md_escape(self.summary)}**" if markdown else self.summary) + "\n\n"
        lines = [_compact(view, markdown) for section in self._views for view in section.items]
        body, kept = head, 0
        for line in lines:
            candidate = body + line + "\n"
            if len(candidate + _more(len(lines) - kept - 1)) > limit:
                break
            body, kept = candidate, kept + 1
        return _cut(body + _more(len(lines) - kept), limit)


def _more(remaining: int) -> str:
    return f"\n…and {remaining} more\n" if remaining else ""


def _cut(value: str, limit: int) -> str:
    if len(value) <= limit:
        return value
    return value[: max(limit - 1, 0)] + "…" if limit > 0 else ""


# -- building -----------------------------------------------------------------------------------


def render_digest(
    opened: Sequence[Finding],
    recovered: Sequence[Finding],
    *,
    org_names: Mapping[str, str],
    now: dt.datetime,
    run_id: int | None = None,
    heartbeat: bool = False,
) -> Digest:
    """Build the digest of findings opened and findings recovered since the last digest.

    ``org_names`` maps organisation ids to display names (an id without a name is shown as
    itself). ``now`` is the clock, used for "failing for 3 days". With nothing to tell the
    digest is empty, unless ``heartbeat`` asks for a "No changes since the last run" message.
    """
    entries = [
        (f.org_id, org_names.get(f.org_id) or f.org_id, DigestItem(change, f))
        for change, findings in (("new", opened), ("recovered", recovered))
        for f in findings
    ]
    return _assemble(entries, now, run_id, heartbeat)


def _assemble(
    entries: Sequence[tuple[str, str, DigestItem]],
    now: dt.datetime,
    run_id: int | None,
    heartbeat: bool,
) -> Digest:
    by_org: dict[str, tuple[str, list[DigestItem]]] = {}
    for org_id, org_name, item in entries:
        by_org.setdefault(org_id, (org_name, []))[1].append(item)
    sections = tuple(
        DigestSection(org_id, name, tuple(sorted(items, key=_item_order)))
        for org_id, (name, items) in sorted(
            by_org.items(), key=lambda kv: (kv[1][0].casefold(), kv[0])
        )
    )
    counts = _counts(item for section in sections for item in section.items)
    summary = _summary(counts)
    return Digest(
        title=f"freshness: {summary if counts else 'no changes'}",
        summary=summary,
        sections=sections,
        counts=counts,
        kinds=frozenset(item.finding.kind for section in sections for item in section.items),
        generated_at=now,
        run_id=run_id,
        heartbeat=heartbeat,
    )


def _item_order(item: DigestItem) -> tuple[Any, ...]:
    f = item.finding
    kind_rank = FINDING_KINDS.index(f.kind) if f.kind in FINDING_KINDS else len(FINDING_KINDS)
    return (item.change != "new", kind_rank, f.url or "", f.id or 0)


def _counts(items: Iterable[DigestItem]) -> dict[str, int]:
    raw: dict[str, int] = {}
    for item in items:
        key = item.finding.kind if item.change == "new" else "recovered"
        raw[key] = raw.get(key, 0) + 1
    order = [*FINDING_KINDS, *sorted(k for k in raw if k not in FINDING_KINDS), "recovered"]
    return {k: raw[k] for k in dict.fromkeys(order) if k in raw}


def _summary(counts: Mapping[str, int]) -> str:
    if not counts:
        return HEARTBEAT_SUMMARY
    parts = []
    for kind, n in counts.items():
        one, many = _COUNT_NOUNS.get(kind, (kind.replace("_", " "), kind.replace("_", " ")))
        parts.append(f"{n} {one if n == 1 else many}")
    return ", ".join(parts)


def _run_line(digest: Digest) -> str:
    when = digest.generated_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"Run {digest.run_id} at {when}" if digest.run_id is not None else f"At {when}"


# -- one item, as plain data every format renders -----------------------------------------------


@dataclass(frozen=True)
class _Link:
    """A URL to show: ``href`` is set only when it is safe to make it clickable."""

    text: str
    href: str | None


@dataclass(frozen=True)
class _ItemView:
    change: str
    kind: str
    label: str  # "Dead link", or "Recovered" for a recovery
    kind_label: str
    id: int | None
    summary: str
    url: _Link | None
    reason: str | None
    failing: str | None
    old: _Link | None  # old → new, for moves and renames
    new: _Link | None
    group: _Link | None
    name: str | None  # a new organisation's name
    linked_from: tuple[_Link, ...]
    evidence: tuple[str, ...]
    confidence: str | None
    commands: tuple[str, ...]


@dataclass(frozen=True)
class _SectionView:
    org: str
    name: str
    items: tuple[_ItemView, ...]


def _view(item: DigestItem, now: dt.datetime) -> _ItemView:
    f = item.finding
    d = f.details or {}
    kind_label = KIND_LABELS.get(f.kind, clean(f.kind).replace("_", " ").capitalize())
    old = new = group = None
    if f.kind == "moved":
        old, new = _link(d.get("old_url") or f.url), _link(d.get("new_url"))
    elif f.kind == "rename":
        old, new = _plain(d.get("old_name")), _plain(d.get("new_name"))
    if f.kind in ("new_group", "removed_group") and d.get("group"):
        group = _Link(clean(d["group"]), safe_href(d.get("group_url")))
    failing = None
    if f.kind in ("dead_link", "unverifiable"):
        since = _parse_time(d.get("failing_since")) or f.first_seen
        if item.change == "new":
            failing = f"Failing for {_age(since, now)} (since {_day(since)})"
        elif f.resolved_at is not None:
            failing = f"Was failing for {_age(since, f.resolved_at)}, until {_day(f.resolved_at)}"
    linked = d.get("linked_from") or ()
    if isinstance(linked, str):
        linked = (linked,)
    commands: tuple[str, ...] = ()
    if f.id is not None and item.change == "new":
        commands = (f"freshness accept {f.id}", f"freshness dismiss {f.id}")
    return _ItemView(
        change=item.change,
        kind=f.kind,
        label=RECOVERED_LABEL if item.change == "recovered" else kind_label,
        kind_label=kind_label,
        id=f.id,
        summary=clean(f.summary),
        url=_link(f.url),
        reason=_reason(d.get("reason")),
        failing=failing,
        old=old,
        new=new,
        group=group,
        name=clean(d["name"]) if f.kind == "new_organisation" and d.get("name") else None,
        linked_from=tuple(link for u in linked if (link := _link(u)) is not None),
        evidence=tuple(clean(e) for e in (f.evidence or ()) if clean(e)),
        confidence=f"{round(f.confidence * 100)}%" if f.confidence < 1 else None,
        commands=commands,
    )


def _link(url: Any) -> _Link | None:
    if not url:
        return None
    return _Link(clean(url), safe_href(url))


def _plain(value: Any) -> _Link | None:
    return _Link(clean(value), None) if value else None


def _reason(code: Any) -> str | None:
    if not code:
        return None
    code = clean(code)
    words = REASONS.get(code)
    if words is None and (m := re.fullmatch(r"http_(\d{3})", code)):
        words = f"HTTP {m.group(1)}"
    return f"{words} ({code})" if words else code


def _parse_time(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str) and value:
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _age(since: dt.datetime, now: dt.datetime) -> str:
    seconds = max((_aware(now) - _aware(since)).total_seconds(), 0)
    hours = int(seconds // 3600)
    if hours < 1:
        return "less than an hour"
    if hours < 48:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    days = hours // 24
    return f"{days} days"


def _day(value: dt.datetime) -> str:
    return _aware(value).astimezone(dt.UTC).strftime("%Y-%m-%d")


def _iso(value: dt.datetime) -> str:
    return _aware(value).isoformat().replace("+00:00", "Z")


# -- text and Markdown items --------------------------------------------------------------------


def _md_link(link: _Link) -> str:
    # Autolinks show the URL itself, so what a link says can never differ from where it goes.
    if not link.href:
        return md_escape(link.text)
    if link.text == link.href:
        return f"<{link.href}>"
    return f"{md_escape(link.text)} (<{link.href}>)"


@dataclass(frozen=True)
class _Change:
    old: _Link | None
    new: _Link | None


def _facts(view: _ItemView) -> list[tuple[str, Any]]:
    """The lines under an item's heading as (label, value), values not yet escaped.

    A value is a string, a ``_Link``, a ``_Change``, or a list of strings or links.
    """
    facts: list[tuple[str, Any]] = []
    if view.summary:
        facts.append(("", view.summary))
    if view.change == "recovered":
        facts.append(("Was", view.kind_label))
    if view.name:
        facts.append(("Name", view.name))
    if view.group:
        facts.append(("Group", view.group))
    if view.old or view.new:
        facts.append(("Change" if view.kind == "moved" else "Name", _Change(view.old, view.new)))
    if view.reason:
        facts.append(("Reason", view.reason))
    if view.failing:
        facts.append(("", view.failing))
    if view.confidence:
        facts.append(("Confidence", view.confidence))
    if view.linked_from:
        facts.append(("Linked from", list(view.linked_from)))
    if view.evidence:
        facts.append(("Evidence", list(view.evidence)))
    return facts


def _text_value(value: Any) -> str:
    if isinstance(value, _Link):
        if value.href and value.href != value.text:
            return f"{value.text} ({value.href})"
        return value.text
    if isinstance(value, _Change):
        return f"{_text_value(value.old or '?')} → {_text_value(value.new or '?')}"
    return str(value)


def _text_item(view: _ItemView) -> list[str]:
    head = f"* {view.label}"
    if view.url:
        head += f": {view.url.text}"
    lines = [head]
    for label, value in _facts(view):
        if isinstance(value, list):
            lines.append(f"  {label}:")
            lines.extend(f"    - {_text_value(v)}" for v in value)
        else:
            lines.append(f"  {label + ': ' if label else ''}{_text_value(value)}")
    if view.id is not None:
        commands = " | ".join(view.commands)
        lines.append(f"  Finding {view.id}{': ' + commands if commands else ''}")
    return lines


def _md_value(value: Any) -> str:
    if isinstance(value, _Link):
        return _md_link(value)
    if isinstance(value, _Change):
        old = _md_link(value.old) if value.old else "?"
        new = _md_link(value.new) if value.new else "?"
        return f"{old} → {new}"
    return md_escape(value)


def _markdown_item(view: _ItemView) -> list[str]:
    head = f"- **{md_escape(view.label)}**"
    if view.url:
        head += f": {_md_link(view.url)}"
    lines = [head]
    for label, value in _facts(view):
        prefix = f"{md_escape(label)}: " if label else ""
        if isinstance(value, list):
            lines.append(f"    - {md_escape(label)}:")
            lines.extend(f"        - {_md_value(v)}" for v in value)
        else:
            lines.append(f"    - {prefix}{_md_value(value)}")
    if view.id is not None:
        commands = " · ".join(f"`{c}`" for c in view.commands)
        lines.append(f"    - Finding {view.id}{': ' + commands if commands else ''}")
    return lines


def _compact(view: _ItemView, markdown: bool) -> str:
    """One line per item for shortened digests: what, where, and how to act."""
    words = md_escape if markdown else str
    value = _md_value if markdown else _text_value
    parts = [f"**{md_escape(view.label)}**" if markdown else view.label]
    if view.change == "recovered":
        parts.append(words(view.kind_label))
    if view.url and view.kind != "moved":
        parts.append(value(view.url))
    if view.old or view.new:
        parts.append(value(_Change(view.old, view.new)))
    elif view.group:
        parts.append(words(view.group.text))
    elif view.name:
        parts.append(words(view.name))
    if view.reason:
        parts.append(words(view.reason))
    if view.commands:
        parts.append(f"`{view.commands[0]}`" if markdown else view.commands[0])
    elif view.id is not None:
        parts.append(f"finding {view.id}")
    return "- " + " · ".join(parts)


# -- HTML ---------------------------------------------------------------------------------------

_KIND_COLOURS = {
    "dead_link": "#b42318",
    "unverifiable": "#b54708",
    "moved": "#175cd3",
    "rename": "#175cd3",
    "new_group": "#067647",
    "removed_group": "#b54708",
    "new_organisation": "#6941c6",
    "revived": "#067647",
    "recovered": "#067647",
}


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )

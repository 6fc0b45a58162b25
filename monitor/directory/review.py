"""The curator's decisions, written back into the directory. Pure: no store, no network.

An accepted finding is a change to the directory:

- ``rename``: ``name`` becomes the new name; the old name goes into ``aliases``;
- ``moved``: the listed URL (``url``, ``groups_url`` or one of ``links``) that moved is
  replaced by where it went;
- ``new_group`` / ``removed_group``: the group is added to or dropped from ``groups``
  (names compared as ``monitor.pages.groups.normalise_group_name`` sees them);
- ``new_organisation``: a new entry is appended (id made from the name, kept unique);
- ``dead_link`` on the homepage: the entry is marked ``status: dead`` with ``dead_since``, the
  day the link first failed; it is never deleted. A dead ``groups_url`` or extra link stays
  where it is listed and is marked in ``dead_links`` as ``"URL since DATE"``, so nothing is
  ever deleted; a later accepted move of that link takes the mark away with the old URL;
- ``revived``: a link the directory marks dead works again: the homepage loses ``status:
  dead`` and ``dead_since``, another link leaves ``dead_links``;
- ``unverifiable``: nothing to change; accepting it means "a person has checked it".

Applying is idempotent: a finding the directory already carries changes nothing, which is how
``settled`` tells that an accepted finding has reached the directory.

``update_yaml`` makes the same changes in a curator's own YAML file with ruamel.yaml, keeping
order, comments and layout where it can, and checks that the result reads back as exactly the
planned directory.

Example::

    plan = plan_changes(entries, accepted, today=dt.date(2026, 11, 23))
    for change in plan.changes:
        print(change)
    write(dump_directory(plan.entries))
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from monitor.directory.keys import KEYS, MAX_ID_LENGTH, TOP_LEVEL_KEY, slugify
from monitor.directory.load import load_directory
from monitor.telling.text import clean
from storage.records import (
    DirectoryEntry,
    Finding,
    Organisation,
    dead_link_item,
)

try:
    from monitor.pages.group_names import normalise_group_name
except ImportError:  # pragma: no cover - monitor.pages.groups is optional for this module
    normalise_group_name = None  # type: ignore[assignment]

# What `dump_directory` and the loader accept for a single value.
_MAX_TEXT = 2000
_ID = re.compile(r"[a-z0-9][a-z0-9._-]*")
_FLOW_WIDTH = 100


class ReviewError(Exception):
    """The directory cannot be updated as asked; the message says why."""


@dataclass(frozen=True)
class Change:
    """One change made to the directory because of one accepted finding."""

    finding_id: int | None
    org_id: str
    text: str

    def __str__(self) -> str:
        where = f"finding {self.finding_id}" if self.finding_id is not None else "finding"
        return f"{self.org_id}: {self.text} ({where})"


@dataclass(frozen=True)
class Skipped:
    """An accepted finding that could not be applied, and why."""

    finding_id: int | None
    org_id: str
    reason: str

    def __str__(self) -> str:
        where = f"finding {self.finding_id}" if self.finding_id is not None else "finding"
        return f"{self.org_id}: not applied ({where}): {self.reason}"


@dataclass(frozen=True)
class Plan:
    """The directory after the accepted findings, and what was done to get there."""

    entries: tuple[DirectoryEntry, ...]
    changes: tuple[Change, ...] = ()
    skipped: tuple[Skipped, ...] = ()


# -- planning -----------------------------------------------------------------------------------


def apply_findings(
    entries: Sequence[DirectoryEntry], accepted_findings: Iterable[Finding], *, today: dt.date
) -> list[DirectoryEntry]:
    """The directory with the accepted findings applied, oldest finding first."""
    return list(plan_changes(entries, accepted_findings, today=today).entries)


def plan_changes(
    entries: Sequence[DirectoryEntry], findings: Iterable[Finding], *, today: dt.date
) -> Plan:
    """Apply ``findings`` (in id order, so a later decision wins) and say what changed.

    ``today`` dates a dead homepage whose finding does not say when it started failing.
    """
    current = list(entries)
    changes: list[Change] = []
    skipped: list[Skipped] = []
    for finding in sorted(findings, key=lambda f: (f.id is None, f.id or 0)):
        if finding.kind == "new_organisation":
            outcome = _add_organisation(current, finding)
        else:
            position = next((i for i, e in enumerate(current) if e.id == finding.org_id), None)
            if position is None:
                outcome = f"organisation {finding.org_id!r} is not in the directory"
            else:
                outcome = _change_entry(current, position, finding, today)
        if isinstance(outcome, str):
            skipped.append(Skipped(finding.id, finding.org_id, outcome))
        else:
            changes.extend(Change(finding.id, org_id, text) for org_id, text in outcome)
    return Plan(tuple(current), tuple(changes), tuple(skipped))


def settled(
    entries: Sequence[DirectoryEntry], findings: Iterable[Finding], *, today: dt.date
) -> list[int]:
    """Ids of the accepted findings that ``entries`` already carry.

    Findings about one organisation are judged together: they are settled when applying all
    of them, in order, leaves that entry as it is. So a group that was removed and then added
    back by two decisions settles once the entry lists it, and never half-way.
    """
    by_subject: dict[str, list[Finding]] = {}
    for finding in findings:
        if finding.id is None:
            continue
        subject = (
            f"new:{_homepage_key(finding.url or '')}"
            if finding.kind == "new_organisation"
            else f"org:{finding.org_id}"
        )
        by_subject.setdefault(subject, []).append(finding)
    before = [_comparable(e) for e in entries]
    out: list[int] = []
    for group in by_subject.values():
        plan = plan_changes(entries, group, today=today)
        if not plan.skipped and [_comparable(e) for e in plan.entries] == before:
            out.extend(f.id for f in group if f.id is not None)
    return sorted(out)


def _comparable(entry: DirectoryEntry) -> DirectoryEntry:
    """The entry with its lists in a canonical order: a group removed and added back is the
    same listing, even though it now comes last."""
    return dataclasses.replace(
        entry,
        aliases=tuple(sorted(entry.aliases)),
        groups=tuple(sorted(_group_key(g) for g in entry.groups)),
        links=tuple(sorted(entry.links)),
        dead_links=tuple(sorted(entry.dead_links)),
    )


def describe(finding: Finding) -> str:
    """What accepting ``finding`` will change in the directory, in a few words."""
    d = finding.details or {}
    kind = finding.kind
    if kind == "rename":
        return f"name → {clean(d.get('new_name')) or '?'}"
    if kind == "moved":
        return f"{clean(d.get('old_url') or finding.url)} → {clean(d.get('new_url')) or '?'}"
    if kind == "new_group":
        return f"add group {clean(d.get('group')) or '?'}"
    if kind == "removed_group":
        return f"drop group {clean(d.get('group')) or '?'}"
    if kind == "new_organisation":
        return f"add organisation {clean(d.get('name')) or clean(finding.url)}"
    if kind == "dead_link":
        role = d.get("role")
        if role == "homepage":
            return "mark the entry dead"
        if role in ("groups", "link"):
            return "mark the link dead (dead_links)"
        return "mark the entry or the link dead"
    if kind == "revived":
        return "take the dead mark away"
    return "nothing; notes that a person has checked it"


def _change_entry(
    current: list[DirectoryEntry], position: int, finding: Finding, today: dt.date
) -> list[tuple[str, str]] | str:
    entry = current[position]
    handler = _HANDLERS.get(finding.kind)
    if handler is None:
        return []  # unverifiable, or a kind that changes nothing in the directory
    result = handler(entry, finding, today)
    if isinstance(result, str):
        return result
    new, texts = result
    if new == entry:
        return []
    if new.url != entry.url:
        clash = _homepage_owner(current, new.url, ignore=entry.id)
        if clash is not None:
            return f"{new.url} is already the homepage of {clash!r}; merge the two by hand"
    current[position] = new
    return [(entry.id, text) for text in texts]


def _rename(
    entry: DirectoryEntry, finding: Finding, today: dt.date
) -> tuple[DirectoryEntry, list[str]] | str:
    new_name = _text(finding.details.get("new_name"))
    if not new_name:
        return "the finding has no usable new name"
    if new_name == entry.name:
        return entry, []
    aliases = [a for a in entry.aliases if a != new_name]
    if entry.name not in aliases:
        aliases.append(entry.name)
    text = f"name: {entry.name} → {new_name} (the old name is kept in aliases)"
    return dataclasses.replace(entry, name=new_name, aliases=tuple(aliases)), [text]


def _moved(
    entry: DirectoryEntry, finding: Finding, today: dt.date
) -> tuple[DirectoryEntry, list[str]] | str:
    old = finding.details.get("old_url") or finding.url
    new = finding.details.get("new_url")
    if not isinstance(new, str) or _url_problem(new):
        return "the finding has no usable new URL"
    if not old or old == new:
        return entry, []
    texts: list[str] = []
    url, groups_url = entry.url, entry.groups_url
    if url == old:
        url = new
        texts.append(f"url: {old} → {new}")
    if groups_url == old:
        groups_url = new
        texts.append(f"groups_url: {old} → {new}")
    links = list(entry.links)
    if old in links:
        links = [new if link == old else link for link in links]
        texts.append(f"links: {old} → {new}")
    links = list(dict.fromkeys(links))  # the new URL may have been listed already
    # The old address is no longer listed, so its dead mark (if any) goes with it.
    changed = dataclasses.replace(
        entry,
        url=url,
        groups_url=groups_url,
        links=tuple(links),
        dead_links=entry.without_dead_marks(old, new),
    )
    return changed, texts


def _new_group(
    entry: DirectoryEntry, finding: Finding, today: dt.date
) -> tuple[DirectoryEntry, list[str]] | str:
    group = _text(finding.details.get("group"))
    if not group:
        return "the finding names no group"
    key = _group_key(group)
    if any(_group_key(g) == key for g in entry.groups):
        return entry, []
    return dataclasses.replace(entry, groups=(*entry.groups, group)), [f"groups: + {group}"]


def _removed_group(
    entry: DirectoryEntry, finding: Finding, today: dt.date
) -> tuple[DirectoryEntry, list[str]] | str:
    group = _text(finding.details.get("group"))
    if not group:
        return "the finding names no group"
    key = _group_key(group)
    gone = [g for g in entry.groups if _group_key(g) == key]
    if not gone:
        return entry, []
    kept = tuple(g for g in entry.groups if _group_key(g) != key)
    return dataclasses.replace(entry, groups=kept), [f"groups: − {g}" for g in gone]


def _dead_link(
    entry: DirectoryEntry, finding: Finding, today: dt.date
) -> tuple[DirectoryEntry, list[str]] | str:
    url = finding.url
    if not url:
        return "the finding names no URL"
    if url == entry.url:
        if entry.status == "dead":
            return entry, []
        since = _day(finding.details.get("failing_since")) or today
        marked = dataclasses.replace(entry, status="dead", dead_since=since)
        return marked, [f"status: dead since {since.isoformat()} (the entry is kept)"]
    role = "groups_url" if url == entry.groups_url else "links" if url in entry.links else None
    if role is None or url in entry.dead_link_urls():
        return entry, []  # no longer listed (moved, say), or already marked
    since = _day(finding.details.get("failing_since")) or today
    marked = dataclasses.replace(entry, dead_links=(*entry.dead_links, dead_link_item(url, since)))
    return marked, [
        f"dead_links: + {url} since {since.isoformat()} (it stays in {role}, marked dead)"
    ]


def _revived(
    entry: DirectoryEntry, finding: Finding, today: dt.date
) -> tuple[DirectoryEntry, list[str]] | str:
    url = finding.url
    if not url:
        return "the finding names no URL"
    if url == entry.url:
        if entry.status != "dead":
            return entry, []
        live = dataclasses.replace(entry, status=None, dead_since=None)
        return live, ["status: dead taken away (the homepage works again)"]
    kept = entry.without_dead_marks(url)
    if kept == entry.dead_links:
        return entry, []
    return dataclasses.replace(entry, dead_links=kept), [f"dead_links: − {url} (it works again)"]


_HANDLERS = {
    "rename": _rename,
    "moved": _moved,
    "new_group": _new_group,
    "removed_group": _removed_group,
    "dead_link": _dead_link,
    "revived": _revived,
}


def _add_organisation(
    current: list[DirectoryEntry], finding: Finding
) -> list[tuple[str, str]] | str:
    url = finding.url
    if not isinstance(url, str) or _url_problem(url):
        return "the finding has no usable URL"
    if _homepage_owner(current, url) is not None:
        return []  # already listed
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    name = _text(finding.details.get("name")) or host
    base = (slugify(name) or slugify(host.replace(".", " ")) or "organisation")[:MAX_ID_LENGTH]
    base = base if _ID.fullmatch(base) else "organisation"
    taken = {e.id for e in current}
    new_id, n = base, 1
    while new_id in taken:
        n += 1
        suffix = f"-{n}"
        new_id = base[: MAX_ID_LENGTH - len(suffix)] + suffix
    current.append(DirectoryEntry(id=new_id, name=name, url=url))
    return [(new_id, f"new organisation: {name} <{url}>")]


# -- small helpers ------------------------------------------------------------------------------


def _text(value: Any) -> str:
    """A scraped name as a directory value: one clean line, not too long."""
    return clean(value)[:_MAX_TEXT] if isinstance(value, str) else ""


def _group_key(name: str) -> str:
    key = normalise_group_name(name) if normalise_group_name is not None else ""
    return key or " ".join(name.casefold().split())


def _homepage_key(url: str) -> str:
    """Homepages compare case-blind in scheme and host, and without a trailing slash."""
    parts = urlsplit(url)
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), parts.query, "")
    )


def _homepage_owner(
    entries: Sequence[DirectoryEntry], url: str, *, ignore: str | None = None
) -> str | None:
    key = _homepage_key(url)
    return next((e.id for e in entries if e.id != ignore and _homepage_key(e.url) == key), None)


def _url_problem(url: str) -> bool:
    if not url or len(url) > _MAX_TEXT or any(ch.isspace() for ch in url):
        return True
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        return True
    return parts.scheme not in ("http", "https") or not parts.hostname


def _day(value: Any) -> dt.date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        return None


# -- the curator's own YAML file ----------------------------------------------------------------


def update_yaml(
    text: str,
    findings: Iterable[Finding],
    *,
    today: dt.date,
    source: str = "directory.yaml",
    stored: Iterable[Organisation] = (),
) -> tuple[str, Plan]:
    """``text`` (a directory YAML file) with the accepted findings applied, and the plan.

    ``stored`` are the store's organisations, so that entries without an id are matched to
    theirs by homepage exactly as ``freshness import`` matches them (``load_directory``).

    Order, comments and quoting are kept where ruamel.yaml can keep them. The result is read
    back and must be exactly the planned directory, or ReviewError is raised and nothing
    should be written. The text comes back unchanged when there is nothing to change.
    """
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    stored = list(stored)
    # Raises DirectoryError naming the problems.
    entries = load_directory(source, text=text, stored=stored)
    plan = plan_changes(entries, findings, today=today)
    if list(plan.entries) == entries:
        return text, plan
    yaml = _round_trip_yaml(text)
    data = yaml.load(text)
    if not isinstance(data, CommentedMap):
        raise ReviewError(f"{source}: expected a mapping with '{TOP_LEVEL_KEY}:' at the top")
    seq = data.get(TOP_LEVEL_KEY)
    if seq is None:
        seq = data[TOP_LEVEL_KEY] = CommentedSeq()
    if not isinstance(seq, CommentedSeq) or len(seq) != len(entries):
        raise ReviewError(f"{source}: cannot match its entries; use `freshness export` instead")
    seq.fa.set_block_style()
    for node, old, new in zip(seq, entries, plan.entries, strict=False):
        if old.id != new.id:
            raise ReviewError(f"{source}: entries are out of order; use `freshness export`")
        if old != new:
            _patch_entry(node, old, new)
    for new in plan.entries[len(entries) :]:
        _append_entry(seq, new)
    out = io.StringIO()
    yaml.dump(data, out)
    result = out.getvalue()
    if load_directory(source, text=result, stored=stored) != list(plan.entries):
        raise ReviewError(
            f"could not update {source} without changing something else; "
            "use `freshness export` and compare by hand"
        )
    return result, plan


def _round_trip_yaml(text: str) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.util import load_yaml_guess_indent

    _, indent, block_seq_indent = load_yaml_guess_indent(text)  # the file was validated
    yaml = YAML()  # round-trip mode: comments, order and quotes survive
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long URL or name
    indent = indent or 4
    offset = block_seq_indent if block_seq_indent is not None else 2
    yaml.indent(mapping=indent, sequence=max(indent, offset + 2), offset=offset)
    return yaml


def _patch_entry(node: Any, old: DirectoryEntry, new: DirectoryEntry) -> None:
    if old.name != new.name and "id" not in node:
        # The id was made from the name: write it out, so the history stays attached.
        _set_key(node, "id", old.id)
    for key in KEYS:
        before, after = getattr(old, key), getattr(new, key)
        if before == after:
            continue
        if isinstance(after, tuple):
            _set_list(node, key, list(after))
        elif after is None:
            _delete_key(node, key)
        else:
            _set_key(node, key, after)


def _append_entry(seq: Any, entry: DirectoryEntry) -> None:
    from ruamel.yaml.comments import CommentedMap

    node = CommentedMap()
    for key in KEYS:
        value = getattr(entry, key)
        if value is None or value == ():
            continue
        node[key] = _new_seq(list(value)) if isinstance(value, tuple) else value
    trailing = _split_after(seq, len(seq) - 1) if len(seq) else ""
    seq.append(node)
    if len(seq) > 1:
        seq.yaml_set_comment_before_after_key(len(seq) - 1, before="\n")
    _join_after(seq, len(seq) - 1, trailing)


def _set_key(node: Any, key: str, value: Any) -> None:
    if key in node:
        node[key] = value  # the comment on its line stays
        return
    order = {k: i for i, k in enumerate(KEYS)}
    keys = list(node.keys())
    position = 0
    for index, existing in enumerate(keys):
        if order.get(existing, len(KEYS)) < order[key]:
            position = index + 1
    if position == 0:
        node.insert(0, key, value)
        return
    # Comment lines after the previous key move below the new one, with the blank line
    # that separates entries.
    trailing = _split_after(node, keys[position - 1])
    node.insert(position, key, value)
    _join_after(node, key, trailing)


def _delete_key(node: Any, key: str) -> None:
    if key not in node:
        return
    keys = list(node.keys())
    index = keys.index(key)
    trailing = _split_after(node, key)
    del node[key]
    if index > 0:
        _join_after(node, keys[index - 1], trailing)


def _set_list(node: Any, key: str, items: list[str]) -> None:
    from ruamel.yaml.comments import CommentedSeq

    seq = node.get(key)
    if not isinstance(seq, CommentedSeq):
        _set_key(node, key, _new_seq(items))
        return
    if seq.anchor.value is not None:  # shared through an alias: edit a copy
        copy = CommentedSeq(seq)
        if seq.fa.flow_style():
            copy.fa.set_flow_style()
        node[key] = seq = copy
    if len(seq) == len(items):
        for index, item in enumerate(items):
            if seq[index] != item:
                seq[index] = item
        return
    wanted = Counter(items)
    for index in range(len(seq) - 1, -1, -1):
        if wanted[seq[index]] > 0:
            wanted[seq[index]] -= 1
        else:
            trailing = _split_after(seq, index)
            del seq[index]
            if index > 0:
                _join_after(seq, index - 1, trailing)
            elif not len(seq):
                _join_after(node, key, trailing)
    present = Counter(seq)
    for item in items:
        if present[item] > 0:
            present[item] -= 1
            continue
        trailing = _split_after(seq, len(seq) - 1) if len(seq) else ""
        seq.append(item)
        _join_after(seq, len(seq) - 1, trailing)
    if list(seq) != items:  # the order changed: write the list anew
        trailing = _split_after(node, key)
        node[key] = _new_seq(items)
        _join_after(node, key, trailing)


def _new_seq(items: list[str]) -> Any:
    from ruamel.yaml.comments import CommentedSeq

    seq = CommentedSeq(items)
    if sum(len(i) + 2 for i in items) + 20 <= _FLOW_WIDTH:
        seq.fa.set_flow_style()  # short lists on one line, as `freshness export` writes them
    else:
        seq.fa.set_block_style()
    return seq


# ruamel.yaml keeps the blank lines and comments that follow a line in the comment slot of the
# key (mapping) or item (sequence) on that line; for a block collection, in its last element.


def _slot(node: Any) -> int:
    from ruamel.yaml.comments import CommentedMap

    return 2 if isinstance(node, CommentedMap) else 0


def _is_block(value: Any) -> bool:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    return (
        isinstance(value, CommentedMap | CommentedSeq)
        and len(value) > 0
        and not value.fa.flow_style()
    )


def _last(node: Any) -> Any:
    return list(node.keys())[-1] if hasattr(node, "keys") else len(node) - 1


def _split_after(node: Any, key: Any) -> str:
    """Detach and return the lines that follow ``node[key]`` (blank lines, comments)."""
    value = node[key]
    if _is_block(value):
        inner = _split_after(value, _last(value))
        if inner:
            return inner
    entry = node.ca.items.get(key)
    slot = _slot(node)
    if not entry or entry[slot] is None:
        return ""
    head, _, rest = entry[slot].value.partition("\n")
    if head.strip():
        entry[slot].value = head + "\n"
    else:
        entry[slot] = None
    return rest


def _join_after(node: Any, key: Any, text: str) -> None:
    """Put ``text`` (from ``_split_after``) back after the line(s) of ``node[key]``."""
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    if not text:
        return
    value = node[key]
    if _is_block(value):
        _join_after(value, _last(value), text)
        return
    entry = node.ca.items.setdefault(key, [None, None, None, None])
    slot = _slot(node)
    if entry[slot] is None:
        entry[slot] = CommentToken("\n" + text, CommentMark(0), None)
    else:
        entry[slot].value = entry[slot].value.rstrip("\n") + "\n" + text

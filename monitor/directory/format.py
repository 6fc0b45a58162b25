"""The directory file: the curated list of organisations that freshness keeps true.

Curators write it by hand as YAML, keep it as a spreadsheet (CSV), or have it only as a web page
(HTML import proposes one organisation per outbound link). ``load_directory`` reads any of the
three and checks everything before it returns: every problem is reported with file, line and
field, all at once, and nothing is returned unless the whole file is good. ``dump_directory``
writes YAML back in the same format, losslessly.

Reading never constructs arbitrary YAML objects: the file is walked as a stream of parser
events, so ``!!python/...`` tags are reported, not executed, and aliases or nesting cannot blow
up memory or the stack.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import difflib
import io
import re
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import yaml

from monitor.judging.intervals import parse_interval
from monitor.pages.domains import registered_domain
from storage.records import (
    DirectoryEntry,
    Organisation,
    dead_link_item,
    split_dead_link,
)

# Keys in the order they are written; they map 1:1 to DirectoryEntry fields.
KEYS: tuple[str, ...] = (
    "id",
    "name",
    "aliases",
    "url",
    "profession",
    "groups_url",
    "group_selector",
    "groups",
    "links",
    "check_every",
    "status",
    "dead_since",
    "dead_links",
)
LIST_KEYS = frozenset({"aliases", "groups", "links", "dead_links"})
STATUSES = ("dead",)
TOP_LEVEL_KEY = "organisations"

# Words curators reach for that difflib would not match to our key.
_SYNONYMS = {
    "website": "url",
    "homepage": "url",
    "home": "url",
    "link": "links",
    "alias": "aliases",
    "former_names": "aliases",
    "group": "groups",
    "title": "name",
    "interval": "check_every",
    "selector": "group_selector",
}

# A directory is a few hundred entries; anything this large is a mistake or an attack.
MAX_BYTES = 20 * 1024 * 1024
# Entries sit three levels deep; deeper nesting only ever comes from junk or a bomb.
MAX_DEPTH = 32
MAX_ID_LENGTH = 100
# Names, selectors and URLs are short; a megabyte of "name" is junk, not a name.
MAX_TEXT_LENGTH = 2000
SLUG_LENGTH = 80
# Enough to fix a file in one pass without flooding a terminal.
MAX_SHOWN_PROBLEMS = 200

_ID = re.compile(r"[a-z0-9][a-z0-9._-]*")
_DATE = re.compile(r"\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*")
_YAML_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(
    _YAML_CORE + t for t in ("str", "int", "float", "bool", "null", "timestamp")
)
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
# C0 controls other than tab and line breaks: YAML refuses them and no curator types them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

HEADER = """\
# freshness directory: the organisations we keep an eye on, one entry each.
# Keys: id, name, aliases (former names), url, profession, groups_url, group_selector, groups,
# links, check_every (like 12h, 1d or 2w), status (only "dead"), dead_since (a date) and
# dead_links (a groups_url or link accepted as dead, as "URL since DATE").
# Keep each id as it is: history is attached to it, even when the name changes.
"""


# -- problems -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DirectoryProblem:
    """One thing wrong with a directory file, located well enough to fix it."""

    source: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        if self.field is None:
            return f"{where}: {self.message}"
        return f"{where}: field '{self.field}': {self.message}"


class DirectoryError(Exception):
    """A directory could not be read; ``problems`` lists everything found, in file order."""

    def __init__(self, problems: Sequence[DirectoryProblem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.line is not None, p.line or 0))
        super().__init__(self._render())

    def _render(self) -> str:
        count = len(self.problems)
        source = self.problems[0].source if self.problems else "directory"
        noun = "problem" if count == 1 else "problems"
        lines = [f"{count} {noun} in {source}; nothing was imported:"]
        lines += [f"  {problem}" for problem in self.problems[:MAX_SHOWN_PROBLEMS]]
        if count > MAX_SHOWN_PROBLEMS:
            lines.append(f"  ... and {count - MAX_SHOWN_PROBLEMS} more")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self._render()


class _Problems:
    """Collects problems for one source, so that every check can keep going after a failure."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[DirectoryProblem] = []

    def add(self, line: int | None, key: str | None, message: str) -> None:
        self.items.append(DirectoryProblem(self.source, line, key, message))

    def fail(self, line: int | None, key: str | None, message: str) -> DirectoryError:
        self.add(line, key, message)
        return DirectoryError(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise DirectoryError(self.items)


# -- small public helpers -----------------------------------------------------------------------


_TRANSLITERATE = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "ø": "o",
        "Ø": "O",
        "œ": "oe",
        "Œ": "OE",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "þ": "th",
        "Þ": "Th",
        "&": " and ",
        # Apostrophes join words: "Women's Network" is women-s-network otherwise.
        "'": "",
        "’": "",
        "ʼ": "",
    }
)


def slugify(name: str) -> str:
    """``"Entertainment Community Fund"`` -> ``"entertainment-community-fund"``.

    Accents are dropped (NFKD), a few letters NFKD leaves alone are spelled out, and anything
    else that is not a letter or digit becomes one hyphen. Returns ``""`` when nothing is left
    (a name in a non-Latin script): give such an entry an explicit id.
    """
    text = unicodedata.normalize("NFKD", name).translate(_TRANSLITERATE)
    # Accents go; any other non-alphanumeric (dashes, slashes, symbols) separates words.
    text = "".join(ch if ch.isalnum() else " " for ch in text if not unicodedata.combining(ch))
    text = text.encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    if len(slug) > SLUG_LENGTH:
        # Cut at a word boundary so the id still reads as the name.
        slug = slug[:SLUG_LENGTH].rsplit("-", 1)[0] or slug[:SLUG_LENGTH]
    return slug


# -- loading ------------------------------------------------------------------------------------


def load_directory(
    source: str | Path,
    *,
    text: str | None = None,
    fetch: Callable[[str], tuple[str, str]] | None = None,
    stored: Iterable[Organisation] = (),
) -> list[DirectoryEntry]:
    """Read a directory from a YAML, CSV or HTML file, or from a web page's URL.

    The parser is chosen by extension (``.yaml``/``.yml``, ``.csv``, ``.html``/``.htm``; any
    other http(s) ``source`` is an HTML page), else by content. ``text`` supplies the content
    directly (``source`` then only names it in messages). A URL is read with ``fetch(url) ->
    (final_url, html)``, which the caller provides; it should raise OSError when it cannot.

    ``stored`` are the organisations already in the store, active or not. A YAML or CSV entry
    without an id takes the id of the stored one with the same homepage, unless another entry
    claims that id explicitly; otherwise its id is made from its name. So renaming an
    organisation in a file without ids keeps its history.

    Raises DirectoryError listing every problem found; returns nothing unless all is well.
    """
    name = str(source)
    problems = _Problems(name)
    page_url = ""
    if isinstance(source, str) and _is_web_url(source):
        # A page to import, unless the URL names a directory file (say, a raw file on a forge).
        suffix = Path(urlsplit(source).path).suffix.lower()
        kind = "csv" if suffix == ".csv" else "yaml" if suffix in (".yaml", ".yml") else "html"
        page_url = source
        if text is None:
            if fetch is None:
                raise problems.fail(
                    None, None, "is a web address, and no fetch function was given to read it"
                )
            try:
                page_url, text = fetch(source)
            except OSError as exc:
                raise problems.fail(None, None, f"could not fetch the page: {exc}") from exc
    else:
        if text is None:
            text = _read_file(Path(source), problems)
        kind = _guess_kind(name, text)
    text = _as_text(text, problems)
    if kind == "html":
        return propose_from_html(text, page_url, name)
    raws = _read_csv(text, problems) if kind == "csv" else _read_yaml(text, problems)
    entries = _build_all(raws, problems, list(stored))
    problems.raise_if_any()
    return entries


def _is_web_url(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def _read_file(path: Path, problems: _Problems) -> bytes:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise problems.fail(None, None, f"is larger than {MAX_BYTES // 2**20} MB")
        return path.read_bytes()
    except OSError as exc:
        raise problems.fail(None, None, f"cannot be read: {exc.strerror or exc}") from exc


def _guess_kind(name: str, text: str | bytes) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in (".yaml", ".yml"):
        return "yaml"
    if suffix == ".csv":
        return "csv"
    if suffix in (".html", ".htm"):
        return "html"
    head = text[:4096].decode("utf-8", "replace") if isinstance(text, bytes) else text[:4096]
    head = head.lstrip("\ufeff \t\r\n")
    if head.startswith("<"):
        return "html"
    first_cell = head.split("\n", 1)[0].split(",", 1)
    if len(first_cell) == 2 and first_cell[0].strip().strip('"').lower() in KEYS:
        return "csv"
    return "yaml"


def _as_text(data: str | bytes, problems: _Problems) -> str:
    """Decoded, BOM-free text, or a DirectoryError saying why the bytes are not a directory."""
    if isinstance(data, bytes):
        if len(data) > MAX_BYTES:
            raise problems.fail(None, None, f"is larger than {MAX_BYTES // 2**20} MB")
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            # Spreadsheets save "Unicode text" as UTF-16; it is still a readable directory.
            try:
                data = data.decode("utf-16").encode("utf-8")
            except UnicodeDecodeError as exc:
                raise problems.fail(None, None, "is not valid UTF-16 text") from exc
        if b"\x00" in data:
            line = data.count(b"\n", 0, data.index(b"\x00")) + 1
            raise problems.fail(line, None, "looks like a binary file (NUL byte), not a directory")
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            byte = data[exc.start]
            raise problems.fail(
                line, None, f"is not UTF-8 text (byte 0x{byte:02x}); save the file as UTF-8"
            ) from exc
    elif not isinstance(data, str):
        raise problems.fail(None, None, f"expected text, got {type(data).__name__}")
    text = data.removeprefix("\ufeff")
    if len(text) > MAX_BYTES:
        raise problems.fail(None, None, f"is larger than {MAX_BYTES // 2**20} MB")
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise problems.fail(line, None, "looks like a binary file (NUL byte), not a directory")
    return text


# -- the format-neutral middle: raw values with lines, then one validator ---------------------


@dataclass
class _Value:
    """A value as written, before its meaning is checked. ``bad`` means already reported."""

    line: int | None
    text: str | None = None
    items: list[tuple[str | None, int | None]] | None = None
    bad: bool = False


@dataclass
class _RawEntry:
    line: int | None
    values: dict[str, _Value] = field(default_factory=dict)


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


def _build_all(
    raws: Iterable[_RawEntry], problems: _Problems, stored: Sequence[Organisation] = ()
) -> list[DirectoryEntry]:
    built = [_build(raw, problems) for raw in raws]
    explicit = _keep_stored_ids(built, stored)
    for item in built:
        if item.nameless_id is not None and not item.kept:
            problems.add(
                item.id_line,
                "id",
                f"cannot make an id from the name {_show(item.nameless_id)}; add an explicit id",
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
        by_url.setdefault(_url_key(org.entry.url), []).append(org)
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


def _build(raw: _RawEntry, problems: _Problems) -> _Built:
    """Check one entry's meaning and make the record; problems go to ``problems``."""
    before = len(problems.items)
    values = raw.values

    def text(key: str) -> str | None:
        value = values.get(key)
        if value is None or value.bad or value.text is None:
            return None
        return _clean_text(value.text, value.line, key, problems)

    def items(key: str) -> list[tuple[str, int | None]]:
        value = values.get(key)
        if value is None or value.bad or value.items is None:
            return []
        out = []
        for index, (item, line) in enumerate(value.items, start=1):
            cleaned = _clean_text(item or "", line, key, problems)
            if cleaned is None:
                problems.add(line, key, f"item {index} is empty")
            else:
                out.append((cleaned, line))
        return out

    def line_of(key: str) -> int | None:
        value = values.get(key)
        return value.line if value is not None else raw.line

    def missing(key: str) -> bool:
        value = values.get(key)
        return value is None or (not value.bad and value.text is None)

    name = text("name")
    if name is None and missing("name"):
        problems.add(raw.line, "name", "missing: every organisation needs a name")

    url = text("url")
    if url is None and missing("url"):
        problems.add(raw.line, "url", "missing: every organisation needs a url (its homepage)")
    elif url is not None and (why := _url_problem(url)):
        problems.add(line_of("url"), "url", why)
        url = None

    entry_id = text("id")
    derived = entry_id is None
    nameless_id: str | None = None
    id_line = line_of("id") if not derived else line_of("name")
    if entry_id is not None:
        if len(entry_id) > MAX_ID_LENGTH or not _ID.fullmatch(entry_id):
            hint = slugify(entry_id)
            problems.add(
                id_line,
                "id",
                "must be lowercase letters, digits, hyphens, dots or underscores"
                + (f" (like {hint!r})" if hint else "")
                + f"; got {_show(entry_id)}",
            )
            entry_id = None
    elif name is not None and missing("id"):
        # Checked once stored homepages are known: one of them may give this entry its id.
        entry_id = slugify(name) or None
        nameless_id = name if entry_id is None else None

    groups_url = text("groups_url")
    if groups_url is not None and (why := _url_problem(groups_url)):
        problems.add(line_of("groups_url"), "groups_url", why)

    links = items("links")
    for link, line in links:
        if why := _url_problem(link):
            problems.add(line, "links", why)

    selector = text("group_selector")
    if selector is not None and (why := _selector_problem(selector)):
        problems.add(line_of("group_selector"), "group_selector", why)

    check_every = text("check_every")
    if check_every is not None:
        try:
            parse_interval(check_every)
        except ValueError as exc:
            problems.add(line_of("check_every"), "check_every", str(exc))

    status = text("status")
    if status is not None:
        if status.lower() in STATUSES:
            status = status.lower()
        else:
            problems.add(
                line_of("status"),
                "status",
                f"must be 'dead' or left out (a live entry has no status); got {_show(status)}",
            )

    dead_since_text = text("dead_since")
    dead_since: dt.date | None = None
    if dead_since_text is not None:
        dead_since = _parse_date(dead_since_text)
        if dead_since is None:
            problems.add(
                line_of("dead_since"),
                "dead_since",
                f"must be a date like 2026-11-23, got {_show(dead_since_text)}",
            )
        elif status is None and missing("status"):
            problems.add(
                line_of("dead_since"), "dead_since", "is only allowed together with 'status: dead'"
            )

    dead_links = _dead_links(items("dead_links"), url, groups_url, links, problems)
    aliases = items("aliases")
    groups = items("groups")
    profession = text("profession")

    entry = None
    if len(problems.items) == before and name is not None and url is not None:
        entry = DirectoryEntry(
            id=entry_id or "",  # replaced by a stored id, or reported, in _build_all
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
        url_key=_url_key(url) if url is not None else None,
        url_line=line_of("url"),
        nameless_id=nameless_id,
    )


def _dead_links(
    items: list[tuple[str, int | None]],
    url: str | None,
    groups_url: str | None,
    links: list[tuple[str, int | None]],
    problems: _Problems,
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
        if since_text is not None and (since := _parse_date(since_text)) is None:
            problems.add(
                line, "dead_links", f"must end with a date like 2026-11-23, got {_show(since_text)}"
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
                f"{_show(dead_url)} is not this entry's groups_url or one of its links; "
                "list it there, or take it out of dead_links",
            )
        elif dead_url in out:
            problems.add(line, "dead_links", f"{_show(dead_url)} is listed twice")
        else:
            out[dead_url] = dead_link_item(dead_url, since)
    return tuple(out.values())


def _clean_text(value: str, line: int | None, key: str, problems: _Problems) -> str | None:
    """Stripped text, or None when empty. One line, no control characters: these are labels."""
    value = value.strip()
    if not value:
        return None
    if len(value) > MAX_TEXT_LENGTH:
        problems.add(line, key, f"is too long ({len(value)} characters; at most {MAX_TEXT_LENGTH})")
        return None
    bad = next((ch for ch in value if unicodedata.category(ch) in ("Cc", "Zl", "Zp")), None)
    if bad is not None:
        if bad in "\r\n\u2028\u2029\x85":
            what = "a line break"
        else:
            what = "a tab" if bad == "\t" else f"the control character U+{ord(bad):04X}"
        problems.add(line, key, f"must be a single line of plain text; it contains {what}")
        return None
    return value


def _url_problem(url: str) -> str | None:
    """Why ``url`` is not an absolute http(s) URL with a host, or None if it is one."""
    if any(ch.isspace() for ch in url):
        return f"must be an http(s) URL without spaces, got {_show(url)}"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        return f"must be a valid http(s) URL, got {_show(url)}"
    if parts.scheme not in ("http", "https"):
        return f"must be an http(s) URL, got {_show(url)}"
    if not parts.hostname:
        return f"must be an http(s) URL with a host, got {_show(url)}"
    return None


def _url_key(url: str) -> str:
    """The form two homepages are compared in: case-blind scheme and host, no trailing slash."""
    parts = urlsplit(url)
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), parts.query, "")
    )


def _selector_problem(selector: str) -> str | None:
    import soupsieve  # comes with beautifulsoup4; only needed when a selector is given

    with warnings.catch_warnings():
        # A deprecated pseudo-class still selects; the spider will say so if it matters.
        warnings.simplefilter("ignore")
        try:
            soupsieve.compile(selector)
        except soupsieve.SelectorSyntaxError as exc:
            reason = str(exc).splitlines()[0]
            return f"is not a valid CSS selector ({reason}): {_show(selector)}"
    return None


def _parse_date(text: str) -> dt.date | None:
    match = _DATE.fullmatch(text)
    if match is None:
        return None
    try:
        return dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def _show(value: Any) -> str:
    """A short quoted rendering for messages; never the whole of a hostile value."""
    if isinstance(value, str):
        return repr(value if len(value) <= 80 else value[:77] + "...")
    return type(value).__name__


def _suggest(key: str, known: Iterable[str], *, list_known: bool = True) -> str:
    known = list(known)
    lowered = key.strip().lower().replace("-", "_").replace(" ", "_")
    if lowered in known:
        return f"; did you mean {lowered!r}?"
    if lowered in _SYNONYMS and _SYNONYMS[lowered] in known:
        return f"; did you mean {_SYNONYMS[lowered]!r}?"
    close = difflib.get_close_matches(lowered, known, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f" (known keys: {', '.join(known)})" if list_known else ""


# -- YAML ---------------------------------------------------------------------------------------


@dataclass(eq=False)
class _Node:
    """A YAML node built from parser events: just what the directory needs, with its line."""

    kind: str  # "scalar", "seq" or "map"
    line: int
    tag: str | None = None
    text: str = ""
    plain: bool = False
    null: bool = False
    items: list[_Node] = field(default_factory=list)
    pairs: list[tuple[_Node, _Node]] = field(default_factory=list)

    def describe(self) -> str:
        if self.kind == "map":
            return "a mapping"
        if self.kind == "seq":
            return "a list"
        return f"text {_show(self.text)}"


def _read_yaml(text: str, problems: _Problems) -> list[_RawEntry]:
    if match := _CONTROL.search(text):
        line = text.count("\n", 0, match.start()) + 1
        problems.add(
            line, None, f"contains a control character (U+{ord(match.group()):04X}); is it text?"
        )
        return []
    root = _yaml_tree(text, problems)
    if root is None:
        return []
    if root.kind == "scalar" and root.null:
        problems.add(None, None, f"is empty; expected '{TOP_LEVEL_KEY}:' and a list of entries")
        return []
    if not _check_tag(root, None, problems):
        return []
    if root.kind == "seq":
        entries = root
    elif root.kind == "map":
        found = _top_level(root, problems)
        if found is None:
            return []
        entries = found
    else:
        problems.add(
            root.line,
            None,
            f"expected '{TOP_LEVEL_KEY}:' and a list of entries, found {root.describe()}",
        )
        return []
    raws = []
    for item in entries.items:
        if item.kind != "map":
            if item.kind == "scalar" and item.null:
                problems.add(item.line, None, "empty entry (a '-' with nothing after it)")
            else:
                problems.add(
                    item.line,
                    None,
                    f"each entry must be a mapping of keys (name:, url:, ...), "
                    f"found {item.describe()}",
                )
            continue
        if _check_tag(item, None, problems):
            raws.append(_yaml_entry(item, problems))
    return raws


def _top_level(root: _Node, problems: _Problems) -> _Node | None:
    entries: _Node | None = None
    seen = False
    for key, value in root.pairs:
        name = key.text if key.kind == "scalar" else None
        if name != TOP_LEVEL_KEY:
            problems.add(
                key.line,
                name,
                f"unknown key at the top level; the file holds one key, '{TOP_LEVEL_KEY}'"
                + (_suggest(name, [TOP_LEVEL_KEY], list_known=False) if name else ""),
            )
            continue
        if seen:
            problems.add(key.line, TOP_LEVEL_KEY, "given twice")
            continue
        seen = True
        if value.kind == "seq" and _check_tag(value, TOP_LEVEL_KEY, problems):
            entries = value
        elif value.kind == "scalar" and value.null:
            entries = _Node("seq", value.line)  # "organisations:" with nothing yet
        else:
            problems.add(
                value.line,
                TOP_LEVEL_KEY,
                f"must be a list of entries (each starting with '- '), found {value.describe()}",
            )
    if not seen:
        problems.add(root.line, None, f"has no '{TOP_LEVEL_KEY}:' key holding the list of entries")
    return entries


def _yaml_entry(node: _Node, problems: _Problems) -> _RawEntry:
    raw = _RawEntry(line=node.line)
    for key, value in _entry_pairs(node, problems):
        if key.kind != "scalar" or key.null:
            problems.add(key.line, None, f"a key must be plain text, found {key.describe()}")
            continue
        name = key.text
        if name in raw.values:
            first = raw.values[name].line
            problems.add(key.line, name, f"given twice in one entry (first on line {first})")
            continue
        if name not in KEYS:
            problems.add(key.line, name, "unknown key" + _suggest(name, KEYS))
            raw.values[name] = _Value(key.line, bad=True)
            continue
        raw.values[name] = _yaml_value(name, key.line, value, problems)
    return raw


def _entry_pairs(node: _Node, problems: _Problems) -> list[tuple[_Node, _Node]]:
    """The entry's own keys, then keys merged in with ``<<: *anchor`` that it does not set."""
    own: list[tuple[_Node, _Node]] = []
    merged: list[tuple[_Node, _Node]] = []
    visited = {id(node)}
    pending = [node]
    while pending:
        current = pending.pop(0)
        for key, value in current.pairs:
            if key.kind == "scalar" and key.plain and key.text == "<<":
                sources = value.items if value.kind == "seq" else [value]
                for merged_node in sources:
                    if merged_node.kind != "map":
                        problems.add(key.line, "<<", "can only merge a mapping ('<<: *anchor')")
                    elif id(merged_node) not in visited:
                        # Each mapping is merged once: repeated aliases cannot multiply work.
                        visited.add(id(merged_node))
                        pending.append(merged_node)
            elif current is node:
                own.append((key, value))
            else:
                merged.append((key, value))
    names = {key.text for key, _ in own if key.kind == "scalar"}
    for key, value in merged:
        if key.kind == "scalar" and key.text not in names:
            names.add(key.text)
            own.append((key, value))
    return own


def _yaml_value(key: str, line: int, node: _Node, problems: _Problems) -> _Value:
    if not _check_tag(node, key, problems):
        return _Value(line, bad=True)
    if key in LIST_KEYS:
        if node.kind == "scalar" and node.null:
            return _Value(line)
        if node.kind != "seq":
            example = node.text if node.kind == "scalar" else "a, b"
            return _bad(
                problems,
                line,
                key,
                f"must be a list of text, like [{example}]; found {node.describe()}",
            )
        items: list[tuple[str | None, int | None]] = []
        ok = True
        for index, item in enumerate(node.items, start=1):
            if item.kind != "scalar" or not _check_tag(item, key, problems):
                if item.kind != "scalar":
                    problems.add(
                        item.line, key, f"item {index} must be text, found {item.describe()}"
                    )
                ok = False
                continue
            items.append((None if item.null else item.text, item.line))
        return _Value(line, items=items) if ok else _Value(line, bad=True)
    if node.kind != "scalar":
        return _bad(problems, line, key, f"must be text, found {node.describe()}")
    # Blank text counts as absent, so "name: ''" is reported as a missing name.
    return _Value(line, text=None if node.null or not node.text.strip() else node.text)


def _bad(problems: _Problems, line: int, key: str, message: str) -> _Value:
    problems.add(line, key, message)
    return _Value(line, bad=True)


def _check_tag(node: _Node, key: str | None, problems: _Problems) -> bool:
    """Only plain YAML is allowed: a tag like ``!!python/object`` is reported, never built."""
    if node.tag is None:
        return True
    allowed = {"scalar": _SCALAR_TAGS, "seq": {_YAML_CORE + "seq"}, "map": {_YAML_CORE + "map"}}
    if node.tag in allowed[node.kind]:
        return True
    shown = (
        "!!" + node.tag.removeprefix(_YAML_CORE) if node.tag.startswith(_YAML_CORE) else node.tag
    )
    problems.add(node.line, key, f"YAML tag {_show(shown)} is not allowed; write plain values")
    return False


def _yaml_tree(text: str, problems: _Problems) -> _Node | None:
    """Build nodes from the event stream without recursion; None when the YAML is unusable."""
    # libyaml is fast; its composer recurses in C, but we never use it: only its event parser.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    anchors: dict[str, _Node] = {}
    stack: list[tuple[_Node, str | None, list[_Node]]] = []
    root: _Node | None = None
    documents = 0
    try:
        for event in yaml.parse(text, Loader=loader):
            line = event.start_mark.line + 1 if event.start_mark else 1
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    problems.add(line, None, "holds a second YAML document ('---'); keep one")
                    return None
                continue
            if isinstance(event, yaml.ScalarEvent):
                plain = bool(event.implicit[0]) and event.tag is None
                null = (plain and event.value in _NULLS) or event.tag == _YAML_CORE + "null"
                done = _Node("scalar", line, tag=_explicit(event.tag), text=event.value)
                done.plain, done.null = plain, null
                anchor = event.anchor
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor not in anchors:
                    problems.add(line, None, f"alias *{event.anchor} has no anchor before it")
                    return None
                done, anchor = anchors[event.anchor], None
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if len(stack) >= MAX_DEPTH:
                    problems.add(line, None, f"is nested more than {MAX_DEPTH} levels deep")
                    return None
                kind = "map" if isinstance(event, yaml.MappingStartEvent) else "seq"
                stack.append((_Node(kind, line, tag=_explicit(event.tag)), event.anchor, []))
                continue
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                done, anchor, children = stack.pop()
                if done.kind == "map":
                    done.pairs = list(zip(children[0::2], children[1::2], strict=True))
                else:
                    done.items = children
            else:
                continue
            # Anchors are registered once complete, so an alias can never point into itself.
            if anchor is not None:
                anchors[anchor] = done
            if stack:
                stack[-1][2].append(done)
            else:
                root = done
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problems.add(mark.line + 1 if mark else None, None, _yaml_message(exc))
        return None
    except yaml.YAMLError as exc:
        problems.add(None, None, f"is not valid YAML: {exc}")
        return None
    if root is None:
        problems.add(None, None, f"is empty; expected '{TOP_LEVEL_KEY}:' and a list of entries")
    return root


def _explicit(tag: str | None) -> str | None:
    # "!" is YAML's "just a string" marker, not a type.
    return None if tag in (None, "!") else tag


def _yaml_message(exc: yaml.MarkedYAMLError) -> str:
    problem = exc.problem or exc.context or "syntax error"
    message = f"is not valid YAML: {problem}"
    if "mapping values are not allowed" in problem:
        message += " (a value containing ': ' must be in quotes)"
    elif "'\\t'" in problem or "tab" in problem:
        message += " (indent with spaces, not tabs)"
    elif "found character" in problem and "'#'" not in problem:
        message += " (text starting with a special character must be in quotes)"
    return message


# -- CSV ----------------------------------------------------------------------------------------


def _read_csv(text: str, problems: _Problems) -> list[_RawEntry]:
    reader = csv.reader(io.StringIO(text, newline=""))
    raws: list[_RawEntry] = []
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            problems.add(1, None, "is empty; the first row must name the columns (name, url, ...)")
            return []
        columns = _csv_columns(header, problems)
        if columns is None:
            return []
        while True:
            line = reader.line_num + 1
            row = next(reader, None)
            if row is None:
                break
            if not any(cell.strip() for cell in row):
                continue
            raws.append(_csv_entry(row, line, columns, problems))
    except csv.Error as exc:
        problems.add(reader.line_num or 1, None, f"is not valid CSV: {exc}")
        return []
    return raws


def _csv_columns(header: list[str], problems: _Problems) -> list[str | None] | None:
    """The key each column holds: "" for an unnamed column, None for one already reported.

    Returns None when the rows cannot be read at all (no name or url column).
    """
    columns: list[str | None] = []
    for cell in header:
        name = cell.strip().lower()
        if not name:
            columns.append("")
        elif name in KEYS and name not in columns:
            columns.append(name)
        elif name in KEYS:
            problems.add(1, name, "column given twice")
            columns.append(None)
        else:
            hint = " (separate columns with commas)" if ";" in name else ""
            problems.add(1, cell.strip(), "unknown column" + _suggest(name, KEYS) + hint)
            columns.append(None)
    absent = [key for key in ("name", "url") if key not in columns]
    for key in absent:
        problems.add(1, key, "no such column; every organisation needs one")
    return None if absent else columns


def _csv_entry(
    row: list[str], line: int, columns: list[str | None], problems: _Problems
) -> _RawEntry:
    raw = _RawEntry(line=line)
    if len(row) > len(columns) and any(cell.strip() for cell in row[len(columns) :]):
        problems.add(line, None, f"has {len(row)} cells but the header names {len(columns)}")
    for index, key in enumerate(columns):
        cell = row[index].strip() if index < len(row) else ""
        if not cell or key is None:
            continue
        if key == "":
            problems.add(line, None, f"cell {index + 1} has a value but its column has no name")
        elif key in LIST_KEYS:
            parts = [part.strip() for part in cell.split(";")]
            raw.values[key] = _Value(line, items=[(part, line) for part in parts if part])
        else:
            raw.values[key] = _Value(line, text=cell)
    return raw


# -- HTML page import ---------------------------------------------------------------------------

_SOCIAL_HOSTS = """
    facebook.com fb.com fb.me twitter.com x.com t.co instagram.com linkedin.com lnkd.in
    youtube.com youtu.be tiktok.com pinterest.com reddit.com threads.net bsky.app
    mastodon.social whatsapp.com wa.me t.me telegram.org snapchat.com tumblr.com flickr.com
    vimeo.com discord.gg discord.com linktr.ee addtoany.com addthis.com sharethis.com
"""
_SOCIAL_DOMAINS = frozenset(_SOCIAL_HOSTS.split())
# Words in class, id or role that mark page chrome rather than the directory's content.
_CHROME_WORDS = re.compile(r"(?:^|[^a-z])(?:nav|footer|breadcrumb|social|shar(?:e|ing))|menu")
_CHROME_ROLES = frozenset({"navigation", "banner", "contentinfo", "menu", "menubar", "menuitem"})
_CHROME_TAGS = frozenset({"nav", "aside"})
# A header or footer is page chrome only when it is not a section's own (HTML's landmark rule).
_SECTIONING = ["article", "aside", "main", "nav", "section"]
# Link texts that say nothing about whose site it is; the host names it better.
_GENERIC_LINK_TEXTS = """
    website | visit website | visit our website | visit site | visit | click here | here | link |
    read more | learn more | more | more info | more information | homepage | home page | site |
    web | www | details
"""
_GENERIC_TEXT = frozenset(part.strip() for part in _GENERIC_LINK_TEXTS.split("|"))
MAX_NAME_LENGTH = 120


def propose_from_html(html: str, base_url: str, source: str) -> list[DirectoryEntry]:
    """One proposed organisation per outbound registered domain linked from a directory page.

    Links in navigation, page headers and footers, asides, menus and share/social blocks are
    skipped, as are mailto/tel/javascript links and social-network hosts. The link text names
    the organisation (the host when the text is empty or generic, like "website"); the nearest
    h2/h3 heading above the link, if any, becomes its profession.
    Raises DirectoryError when the page yields nothing.
    """
    from bs4 import BeautifulSoup  # only the HTML import needs it

    problems = _Problems(source)
    with warnings.catch_warnings():
        # bs4 warns about markup that looks like a URL or like XML; neither matters here.
        warnings.simplefilter("ignore")
        soup = BeautifulSoup(html, "lxml")
    page_url = _page_url(soup, base_url)
    own_site = _site(urlsplit(page_url).hostname or "") if page_url else ""

    entries: list[DirectoryEntry] = []
    seen_sites: set[str] = set()
    seen_ids: set[str] = set()
    heading: str | None = None
    for element in soup.find_all(["h2", "h3", "a"]):
        if element.name in ("h2", "h3"):
            if not _in_chrome(element) and not _outbound_links(element, page_url, own_site):
                heading = _label(element.get_text(" ")) or heading
            continue
        href = element.get("href")
        if not isinstance(href, str) or _in_chrome(element):
            continue
        url = _outbound(href, page_url, own_site)
        if url is None:
            continue
        host = urlsplit(url).hostname or ""
        site = _site(host)
        if site in seen_sites or site in _SOCIAL_DOMAINS:
            continue
        seen_sites.add(site)
        name = _link_name(element) or host.removeprefix("www.")
        entry_id = slugify(name) or slugify(host)
        unique, n = entry_id, 1
        while unique in seen_ids:
            n += 1
            unique = f"{entry_id}-{n}"
        seen_ids.add(unique)
        # Headings that hold an organisation's own link never become `heading`, so this is
        # the nearest category heading above the link.
        entries.append(DirectoryEntry(id=unique, name=name, url=url, profession=heading))
    if not entries:
        raise problems.fail(
            None,
            None,
            "no organisations found: the page has no outbound links outside navigation, "
            "headers, footers and social-media buttons",
        )
    return entries


def _page_url(soup: Any, base_url: str) -> str:
    """The URL links resolve against: <base href>, else the page's own (or canonical) URL."""
    page = base_url if base_url and _url_problem(base_url) is None else ""
    if not page:
        for tag, attr, attrs in (
            ("link", "href", {"rel": "canonical"}),
            ("meta", "content", {"property": "og:url"}),
        ):
            found = soup.find(tag, attrs=attrs)
            value = found.get(attr) if found is not None else None
            if isinstance(value, str) and _url_problem(value.strip()) is None:
                page = value.strip()
                break
    base = soup.find("base", href=True)
    if base is not None and isinstance(base.get("href"), str):
        joined = _join(page, base["href"].strip())
        if joined is not None and _url_problem(joined) is None:
            page = joined
    return page


def _outbound(href: str, page_url: str, own_site: str) -> str | None:
    """The absolute URL of an outbound http(s) link, fragment dropped; None for anything else."""
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    url = _join(page_url, href) if page_url else href
    if url is None or len(url) > MAX_TEXT_LENGTH or _url_problem(url) is not None:
        return None  # mailto:, tel:, javascript:, relative links on a page of unknown address
    parts = urlsplit(url)
    if _site(parts.hostname or "") == own_site:
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def _join(base: str, href: str) -> str | None:
    try:
        return urljoin(base, href)
    except ValueError:  # a malformed href, such as an unclosed IPv6 bracket
        return None


def _outbound_links(element: Any, page_url: str, own_site: str) -> bool:
    return any(
        isinstance(a.get("href"), str) and _outbound(a["href"], page_url, own_site)
        for a in element.find_all("a")
    )


def _in_chrome(element: Any) -> bool:
    """Whether the element sits in navigation, a page header/footer, an aside or a share bar."""
    for node in [element, *element.parents]:
        name = getattr(node, "name", None)
        if name is None or name == "[document]":
            break
        if name in _CHROME_TAGS:
            return True
        if name in ("header", "footer") and node.find_parent(_SECTIONING) is None:
            return True
        role = node.get("role")
        if isinstance(role, str) and role.strip().lower() in _CHROME_ROLES:
            return True
        classes = node.get("class") or []
        words = " ".join([*classes, node.get("id") or ""]) if isinstance(classes, list) else ""
        # "mainNav" and "site-nav" alike: split camelCase before matching word starts.
        words = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", words).lower()
        if words and _CHROME_WORDS.search(words):
            return True
    return False


def _link_name(link: Any) -> str | None:
    text = _words(link.get_text(" "))
    if not text:
        image = link.find("img", alt=True)
        text = _words(image["alt"]) if image is not None else ""
    if not text:
        text = _words(link.get("aria-label") or link.get("title") or "")
    if not text or text.lower().strip(" .:>»→") in _GENERIC_TEXT or _looks_like_url(text):
        return None
    return _label(text)


def _words(text: Any) -> str:
    if not isinstance(text, str):
        return ""
    # Labels are one line of printable text, like everything the loader accepts.
    cleaned = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf"))
    return " ".join(cleaned.split())


def _label(text: Any) -> str:
    """Page text fit for a name or profession: one line, and short."""
    words = _words(text)
    if len(words) > MAX_NAME_LENGTH:
        words = words[:MAX_NAME_LENGTH].rsplit(" ", 1)[0] + "..."
    return words


def _looks_like_url(text: str) -> bool:
    return _is_web_url(text) or text.lower().startswith("www.")


def _site(host: str) -> str:
    """The registered domain: ``groups.nurses.org.uk`` -> ``nurses.org.uk``."""
    return registered_domain(host.rstrip("."))


# -- writing ------------------------------------------------------------------------------------


def dump_directory(entries: Sequence[DirectoryEntry]) -> str:
    """The entries as directory YAML, keys in the documented order, empty fields left out.

    ``load_directory("x.yaml", text=dump_directory(entries)) == entries`` for any entries the
    loader accepts. Every entry gets its id written out, so a later rename keeps its history.
    """
    if not entries:
        return HEADER + f"{TOP_LEVEL_KEY}: []\n"
    lines = [HEADER.rstrip("\n"), f"{TOP_LEVEL_KEY}:"]
    for number, entry in enumerate(entries):
        if number:
            lines.append("")  # a blank line between entries, for the eye
        for index, (key, value) in enumerate(_fields(entry)):
            prefix = "  - " if index == 0 else "    "
            if isinstance(value, tuple):
                flow = f"{prefix}{key}: {_yaml_flow(value)}"
                if len(flow) <= 100:
                    lines.append(flow)
                else:
                    lines.append(f"{prefix}{key}:")
                    lines += [f"      - {_yaml_scalar(item)}" for item in value]
            elif key == "dead_since":
                lines.append(f"{prefix}{key}: {value}")  # ISO date, unquoted as people write it
            else:
                lines.append(f"{prefix}{key}: {_yaml_scalar(value)}")
    return "\n".join(lines) + "\n"


def dump_csv(entries: Sequence[DirectoryEntry]) -> str:
    """The entries as CSV with one column per key; list items are joined with ``;``.

    Raises ValueError when a list item itself contains ``;``, which CSV could not give back.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(KEYS)
    for entry in entries:
        row = dict.fromkeys(KEYS, "")
        for key, value in _fields(entry):
            if isinstance(value, tuple):
                if any(";" in item for item in value):
                    raise ValueError(
                        f"{entry.id}: an item of {key!r} contains ';', which CSV uses between items"
                    )
                row[key] = "; ".join(value)
            else:
                row[key] = value
        writer.writerow([row[key] for key in KEYS])
    return out.getvalue()


def _fields(entry: DirectoryEntry) -> list[tuple[str, str | tuple[str, ...]]]:
    """(key, value) in KEYS order, without empty optional fields; dates as ISO text."""
    out: list[tuple[str, str | tuple[str, ...]]] = []
    for key in KEYS:
        value = getattr(entry, key)
        if value is None or value == () or value == "":
            continue
        if isinstance(value, dt.date):
            value = value.isoformat()
        out.append((key, tuple(value) if isinstance(value, list | tuple) else str(value)))
    return out


def _yaml_scalar(value: str) -> str:
    # PyYAML decides the quoting; double quotes with escapes keep odd characters on one line.
    printable = value.isprintable()
    text = yaml.safe_dump(
        value, allow_unicode=True, width=2**31 - 1, default_style=None if printable else '"'
    )
    return text.removesuffix("\n...\n").rstrip("\n")


def _yaml_flow(items: tuple[str, ...]) -> str:
    text = yaml.safe_dump(list(items), allow_unicode=True, width=2**31 - 1, default_flow_style=True)
    return text.strip()

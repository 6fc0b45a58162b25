"""Checks of single values in a directory entry: text, URLs, CSS selectors and dates."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import warnings
from urllib.parse import urlsplit, urlunsplit

from monitor.directory.keys import MAX_TEXT_LENGTH
from monitor.directory.problems import Problems
from monitor.judging.intervals import show

# An id as written in a directory file: it names the organisation's history in the store.
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]*")
_DATE = re.compile(r"\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*")


def is_web_url(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def clean_text(value: str, line: int | None, key: str, problems: Problems) -> str | None:
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


def url_problem(url: str) -> str | None:
    """Why ``url`` is not an absolute http(s) URL with a host, or None if it is one."""
    if any(ch.isspace() for ch in url):
        return f"must be an http(s) URL without spaces, got {show(url)}"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        return f"must be a valid http(s) URL, got {show(url)}"
    if parts.scheme not in ("http", "https"):
        return f"must be an http(s) URL, got {show(url)}"
    if not parts.hostname:
        return f"must be an http(s) URL with a host, got {show(url)}"
    return None


def url_key(url: str) -> str:
    """The form two homepages are compared in: case-blind scheme and host, no trailing slash."""
    parts = urlsplit(url)
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), parts.query, "")
    )


def selector_problem(selector: str) -> str | None:
    import soupsieve  # comes with beautifulsoup4; only needed when a selector is given

    with warnings.catch_warnings():
        # A deprecated pseudo-class still selects; the spider will say so if it matters.
        warnings.simplefilter("ignore")
        try:
            soupsieve.compile(selector)
        except soupsieve.SelectorSyntaxError as exc:
            reason = str(exc).splitlines()[0]
            return f"is not a valid CSS selector ({reason}): {show(selector)}"
    return None


def parse_date(text: str) -> dt.date | None:
    match = _DATE.fullmatch(text)
    if match is None:
        return None
    try:
        return dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        return None

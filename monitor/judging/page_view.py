"""The classifier's normalised view of one fetch, and the helpers its rules share.

``_view(observation)`` turns whatever the spider recorded (possibly odd, missing or hostile)
into a ``_Page`` of bounded, typed fields, so the rules in ``classify`` and ``soft404`` never
check types. Here too: the tunables, the text similarity the soft-404 probe is compared by, URL
comparisons (same page, same site, the site root) and building an ``Outcome`` with its evidence.
The names keep their leading underscore: they are the classifier's own, shared only by the
modules of ``monitor.judging`` that classify a fetch. Pure: no fetching, no clock.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

from monitor.judging.outcome import Outcome
from monitor.pages.domains import registered_domain

# Tunables. Word counts are over the capped visible text.
THIN_WORDS = 300  # a parked, challenge or placeholder page is short
CLOSED_THIN_WORDS = 200  # a page this short is all announcement: position no longer matters
AFTER_HEADING = 800  # characters after the main heading that still count as the top
NEAR_START = 1500  # characters of text that count as "the top of the page"
SIMILAR = 0.9  # text_similarity at or above which probe and page look like one page
OWN_CONTENT_MIN = 30  # 3-shingles of the page absent from the probe that prove its own content
EMPTY_WORDS = 20  # below this, page and probe are too empty to compare (script-rendered sites)
MAX_TEXT = 100_000  # defensive cap: the spider caps at 20,000 but a caller might not


# --------------------------------------------------------------------------- text similarity

_WORD = re.compile(r"\w+")


def _shingles(text: Any) -> set[tuple[str, ...]]:
    if not isinstance(text, str) or not text:
        return set()
    words = _WORD.findall(text[:MAX_TEXT].lower())
    if len(words) < 3:
        return {tuple(words)} if words else set()
    return set(zip(words, words[1:], words[2:], strict=False))


def text_similarity(a: str, b: str) -> float:
    """Jaccard similarity of word 3-shingles, 0..1. Two empty texts are identical (1.0).

    >>> text_similarity("peer support for nurses", "peer support for nurses")
    1.0
    """
    sa, sb = _shingles(a), _shingles(b)
    if not sa and not sb:
        return 1.0
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


# --------------------------------------------------------------------------- normalised view


@dataclass(frozen=True)
class _Probe:
    url: str
    status: int | None
    final_url: str
    title: str
    text: str
    error: str | None


@dataclass(frozen=True)
class _Page:
    url: str
    final_url: str
    status: int | None
    chain: tuple[tuple[int | None, str], ...]
    error: str | None
    error_message: str
    headers: Mapping[str, str]
    title: str
    h1: tuple[str, ...]
    text: str
    binary: bool
    not_modified: bool
    robots_disallowed: bool
    meta_refresh: str | None
    markers: frozenset[str]
    probe: _Probe | None

    @functools.cached_property
    def words(self) -> int:
        return len(self.text.split())

    @functools.cached_property
    def heads(self) -> tuple[str, ...]:
        """Title and h1s, lowercased: where a page says what it is."""
        return tuple(_fold(s) for s in (self.title, *self.h1) if s)

    @functools.cached_property
    def folded(self) -> str:
        return _fold(self.text)

    @property
    def thin(self) -> bool:
        return self.words < THIN_WORDS


def _str(value: Any, limit: int = MAX_TEXT) -> str:
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("utf-8", errors="replace")
    if not isinstance(value, str):
        return ""
    return value[:limit].replace("\x00", "")


def _status(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _chain(value: Any) -> tuple[tuple[int | None, str], ...]:
    if not isinstance(value, list | tuple):
        return ()
    hops = []
    for hop in value[:50]:
        if isinstance(hop, Mapping):
            hops.append((_status(hop.get("status")), _str(hop.get("url"), 2000)))
    return tuple(hops)


def _probe(value: Any) -> _Probe | None:
    if not isinstance(value, Mapping):
        return None
    url = _str(value.get("url"), 2000)
    return _Probe(
        url=url,
        status=_status(value.get("status")),
        final_url=_str(value.get("final_url"), 2000) or url,
        title=_str(value.get("title"), 1000),
        text=_str(value.get("text")),
        error=_str(value.get("error"), 100) or None,
    )


def _view(obs: Any) -> _Page:
    facts = getattr(obs, "facts", None)
    facts = facts if isinstance(facts, Mapping) else {}
    raw_headers = getattr(obs, "headers", None)
    headers = {}
    if isinstance(raw_headers, Mapping):
        headers = {_str(k, 200).lower(): _str(v, 2000) for k, v in raw_headers.items()}
    h1 = facts.get("h1")
    if isinstance(h1, str):
        h1 = [h1]
    h1s = (
        tuple(s for s in (_str(x, 1000) for x in h1[:10]) if s)
        if isinstance(h1, list | tuple)
        else ()
    )
    markers = facts.get("markers")
    url = _str(getattr(obs, "url", None), 2000)
    return _Page(
        url=url,
        final_url=_str(getattr(obs, "final_url", None), 2000) or url,
        status=_status(getattr(obs, "status", None)),
        chain=_chain(getattr(obs, "redirect_chain", None)),
        error=_str(getattr(obs, "error", None), 100) or None,
        error_message=_str(getattr(obs, "error_message", None), 300),
        headers=headers,
        title=_str(facts.get("title"), 1000),
        h1=h1s,
        text=_str(facts.get("text")),
        binary=facts.get("binary") is True,
        not_modified=facts.get("not_modified") is True,
        robots_disallowed=facts.get("robots_disallowed") is True,
        meta_refresh=_str(facts.get("meta_refresh"), 2000) or None,
        markers=frozenset(m for m in markers if isinstance(m, str))
        if isinstance(markers, list | tuple | set | frozenset)
        else frozenset(),
        probe=_probe(facts.get("probe")),
    )


def _fold(text: str) -> str:
    return text.lower().replace("\u2019", "'").replace("\u2018", "'")


# --------------------------------------------------------------------------- URLs


_LANGUAGES = "en|fr|de|es|it|nl|pt|pl|sv|da|no|nb|fi|cy|ga|gd|ja|zh|ko|ru|uk|tr|el|cs|hu|ro"
_ROOT_PATH = re.compile(
    rf"^/?(?:(?:index|default|home)(?:\.\w{{2,5}})?/?|(?:{_LANGUAGES})(?:[-_][a-z]{{2}})?/?)?$",
    re.I,
)
_IGNORABLE_QUERY = re.compile(r"^(?:utm_\w+|fbclid|gclid|mc_\w+|ref|source|lang|hl|from)$", re.I)
_LOGIN_PATH = re.compile(
    r"(?:^|/)(?:log-?in|sign-?in|wp-login\.php|auth(?:enticate)?|sso|account/login)(?:\.\w{2,5})?/?$",
    re.I,
)
_ERROR_PATH = re.compile(
    r"(?:^|/)(?:404|not[-_]?found|page[-_]?not[-_]?found|error|errors?[-_/]?404|missing)"
    r"(?:\.\w{2,5})?/?$",
    re.I,
)


def _split(url: str) -> Any:
    try:
        return urlsplit(url.strip())
    except ValueError:
        return urlsplit("")


def _join(base: str, ref: str) -> str:
    try:
        return urljoin(base, ref)
    except ValueError:
        return ""


def _host(url: str) -> str:
    try:
        return (_split(url).hostname or "").rstrip(".")
    except ValueError:
        return ""


def _is_root(url: str) -> bool:
    parts = _split(url)
    if not _ROOT_PATH.match(parts.path or "/"):
        return False
    query = parse_qsl(parts.query, keep_blank_values=True)
    return all(_IGNORABLE_QUERY.match(key) for key, _ in query)


def _same_page(a: str, b: str) -> bool:
    """Equal up to scheme, a leading www., default ports, a trailing slash and the fragment."""
    return bool(a) and _page_key(a) == _page_key(b)


def _page_key(url: str) -> tuple[str, str, str]:
    parts = _split(url)
    host = _host(url).removeprefix("www.")
    return host, (parts.path or "/").rstrip("/") or "/", parts.query


def _same_site(a: str, b: str) -> bool:
    ha, hb = _host(a), _host(b)
    return bool(ha) and registered_domain(ha) == registered_domain(hb)


def _host_in(host: str, suffixes: Iterable[str]) -> str | None:
    host = host.lower()
    for suffix in suffixes:
        if host == suffix or host.endswith("." + suffix):
            return suffix
    return None


# --------------------------------------------------------------------------- evidence helpers


def _chain_line(page: _Page) -> str | None:
    if not page.chain:
        return None
    hops = [f"{status if status is not None else '?'} {url}" for status, url in page.chain]
    if page.status is not None:
        hops.append(f"{page.status} {page.final_url}")
    elif page.error:
        hops.append(f"{page.error} {page.final_url}".rstrip())
    return "redirects: " + " → ".join(hops)


def _outcome(page: _Page, category: str, confidence: float, *lines: str | None) -> Outcome:
    evidence = [line for line in lines if line]
    chain = _chain_line(page)
    if chain:
        evidence.insert(1 if evidence else 0, chain)
    return Outcome(category, tuple(evidence), confidence)


def _quote(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _first_match(patterns: Iterable[re.Pattern[str]], text: str) -> re.Match[str] | None:
    best = None
    for pattern in patterns:
        match = pattern.search(text)
        if match and (best is None or match.start() < best.start()):
            best = match
    return best

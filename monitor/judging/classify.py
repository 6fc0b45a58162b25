"""Classifying one fetch: the single place where an observation becomes a category.

``classify(observation) -> Outcome`` is pure: it reads what the spider recorded (status, redirect
chain, error kind, headers and the parsed ``facts``) and never fetches, parses HTML or looks at a
clock. Deciding over time (how many failures make a link dead) belongs to ``monitor.judging.decide``.

Rules, first match wins:

1. robots.txt forbade the fetch: ``blocked``. A conditional revisit got 304: ``ok``.
2. No response: the error kind (``too_many_redirects`` is a ``redirect_loop``; anything else is
   ``connection``).
3. Status: 429, 401, 403, 407 and 451 are ``blocked`` (we were refused, which says nothing about
   the page); 404, 410 and other 4xx are dead; 408 is ``timeout`` (the server gave up waiting
   for us: slowness, not absence); 5xx is ``server_error`` unless the page is a bot-wall
   challenge; a non-standard status (LinkedIn's 999) is ``blocked``.
4. A 1xx-3xx final response is judged by content: challenge page (``blocked``), parked or for
   sale (``parked``), closure announcement (``closed``), not-found page served with 200
   (``soft_404``), else ``ok``. Binary bodies are ``ok``.

Heuristic verdicts carry lower confidence than protocol ones, and every verdict explains itself
in ``evidence``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

from monitor.pages.domains import registered_domain
from storage.records import Observation

CATEGORIES = (
    "ok",
    "http_404",
    "http_410",
    "http_4xx",
    "server_error",
    "dns",
    "connection",
    "timeout",
    "tls",
    "redirect_loop",
    "soft_404",
    "parked",
    "closed",
    "blocked",
)
DEAD_CATEGORIES = frozenset(c for c in CATEGORIES if c not in ("ok", "blocked"))

# Tunables. Word counts are over the capped visible text.
THIN_WORDS = 300  # a parked, challenge or placeholder page is short
CLOSED_THIN_WORDS = 200  # a page this short is all announcement: position no longer matters
AFTER_HEADING = 800  # characters after the main heading that still count as the top
NEAR_START = 1500  # characters of text that count as "the top of the page"
SIMILAR = 0.9  # text_similarity at or above which probe and page look like one page
OWN_CONTENT_MIN = 30  # 3-shingles of the page absent from the probe that prove its own content
EMPTY_WORDS = 20  # below this, page and probe are too empty to compare (script-rendered sites)
MAX_TEXT = 100_000  # defensive cap: the spider caps at 20,000 but a caller might not


@dataclass(frozen=True)
class Outcome:
    """One fetch judged: a category, short human evidence lines, and how sure we are."""

    category: str
    evidence: tuple[str, ...] = ()
    confidence: float = 1.0

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"unknown category {self.category!r}; expected one of {CATEGORIES}")
        object.__setattr__(self, "evidence", tuple(self.evidence))
        confidence = round(min(1.0, max(0.0, float(self.confidence))), 3)
        object.__setattr__(self, "confidence", confidence)

    @property
    def is_dead_class(self) -> bool:
        return self.category in DEAD_CATEGORIES

    @property
    def is_blocked(self) -> bool:
        return self.category == "blocked"

    @property
    def is_ok(self) -> bool:
        return self.category == "ok"


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


# --------------------------------------------------------------------------- errors and status

_ERROR_CATEGORY = {
    "dns": ("dns", 0.9, "DNS lookup failed"),
    "connection": ("connection", 0.7, "connection failed"),
    "timeout": ("timeout", 0.6, "timed out"),
    "tls": ("tls", 0.8, "TLS handshake or certificate failed"),
    "redirect_loop": ("redirect_loop", 0.85, "redirect loop"),
    "too_many_redirects": ("redirect_loop", 0.85, "too many redirects"),
}
_BLOCKING_STATUS = {
    401: "HTTP 401: authentication required",
    403: "HTTP 403: access forbidden",
    407: "HTTP 407: proxy authentication required",
    429: "HTTP 429: too many requests",
    451: "HTTP 451: unavailable for legal reasons (geo or legal block)",
}


def classify(observation: Observation) -> Outcome:
    """Judge one fetch. Never raises on missing or odd facts."""
    page = _view(observation)
    where = page.final_url or page.url

    if page.robots_disallowed:
        return _outcome(page, "blocked", 1.0, f"robots.txt disallows {page.url}: not fetched")
    if page.not_modified:
        return _outcome(page, "ok", 0.95, f"HTTP 304 at {where}: unchanged since the last visit")

    if page.error:
        category, confidence, what = _ERROR_CATEGORY.get(
            page.error, ("connection", 0.6, f"fetch failed ({page.error})")
        )
        host = _host(where) or where
        detail = f": {_quote(page.error_message, 200)}" if page.error_message else ""
        return _outcome(page, category, confidence, f"{what} for {host}{detail}")

    status = page.status
    if status is None:
        return _outcome(page, "connection", 0.6, f"no response recorded for {where}")

    if status in _BLOCKING_STATUS:
        lines = [f"{_BLOCKING_STATUS[status]} at {where}"]
        if status == 429 and page.headers.get("retry-after"):
            lines.append(f"retry-after: {_quote(page.headers['retry-after'], 40)}")
        lines += _challenge_signals(page)
        return _outcome(page, "blocked", 0.9, *lines)
    if 500 <= status <= 599:
        signals = _challenge_signals(page, strong_only=True)
        if signals:
            return _outcome(
                page, "blocked", 0.9, f"HTTP {status} challenge page at {where}", *signals
            )
        server = page.headers.get("server")
        return _outcome(
            page,
            "server_error",
            0.7,
            f"HTTP {status} at {where}",
            f"server: {_quote(server, 40)}" if server else None,
        )
    if status == 404:
        return _outcome(page, "http_404", 0.95, f"HTTP 404 at {where}")
    if status == 410:
        return _outcome(page, "http_410", 0.98, f"HTTP 410 (gone) at {where}")
    if status == 408:
        return _outcome(page, "timeout", 0.6, f"HTTP 408 (request timeout) at {where}")
    if 400 <= status <= 499:
        return _outcome(page, "http_4xx", 0.85, f"HTTP {status} at {where}")
    if not 100 <= status <= 399:
        return _outcome(page, "blocked", 0.6, f"non-standard HTTP status {status} at {where}")

    return _judge_content(page)


def _judge_content(page: _Page) -> Outcome:
    where = page.final_url or page.url
    if page.binary:
        return _outcome(page, "ok", 0.9, f"HTTP {page.status} at {where} (not HTML)")

    if _challenge_signals(page, decisive_only=True) or (
        page.thin and _challenge_signals(page, strong_only=True)
    ):
        return _outcome(
            page,
            "blocked",
            0.85,
            f"HTTP {page.status} bot-wall challenge at {where}",
            *_challenge_signals(page),
        )
    login = _LOGIN_PATH.search(_split(where).path)
    if login and not _same_page(page.url, where) and not _LOGIN_PATH.search(_split(page.url).path):
        return _outcome(
            page, "blocked", 0.7, f"redirected to a login page {where}: cannot see the page"
        )

    probe = _probe_view(page)
    for judge in (_parked, _closed, _soft_404):
        outcome = judge(page, probe)
        if outcome is not None:
            return outcome

    confidence = {"alive": 0.95, "differs": 0.8, "self": 0.85, "root": 0.8, "empty": 0.5}.get(
        probe.kind, 0.85
    )
    return _outcome(page, "ok", confidence, f"HTTP {page.status} at {where}", probe.line)


# --------------------------------------------------------------------------- bot walls

_CHALLENGE_TITLES = tuple(
    (re.compile(pattern), what)
    for pattern, what in (
        (r"^just a moment(?:\.\.\.|…)?$", "Cloudflare 'Just a moment...' challenge"),
        (r"attention required! \| cloudflare", "Cloudflare 'Attention Required!' page"),
        (r"used cloudflare to restrict access", "Cloudflare access rule"),
        (r"^ddos-guard$", "DDoS-Guard check"),
        (r"sucuri website firewall", "Sucuri firewall"),
        (r"^pardon our interruption", "Imperva/Distil bot check"),
        (r"^access to this page has been denied", "PerimeterX bot check"),
        (r"^request rejected$", "F5 firewall rejection"),
        (r"^human verification$", "human verification wall"),
    )
)
_CHALLENGE_TEXT = (
    ("checking your browser before accessing", "'Checking your browser' interstitial"),
    ("checking if the site connection is secure", "Cloudflare connection check"),
    ("enable javascript and cookies to continue", "Cloudflare JavaScript challenge"),
    ("needs to review the security of your connection", "Cloudflare security review"),
    ("verify you are human by completing the action below", "Cloudflare Turnstile challenge"),
    ("ddos protection by ddos-guard", "DDoS-Guard check"),
    ("incapsula incident id", "Imperva/Incapsula 'Request unsuccessful'"),
    ("access denied - sucuri website firewall", "Sucuri firewall"),
    ("the requested url was rejected", "F5 firewall rejection"),
    ("press & hold to confirm you are", "PerimeterX 'Press & Hold'"),
)
_FIREWALL_MARKERS = frozenset({"incapsula", "sucuri", "ddos-guard"})  # also on ordinary pages
_AKAMAI_REFERENCE = re.compile(r"reference\s{0,3}#\s{0,3}[0-9a-f]{1,16}(?:\.[0-9a-f]{1,16}){1,6}")
_CLOUDFRONT_BLOCK = re.compile(r"request blocked|the request could not be satisfied")


def _challenge_signals(
    page: _Page, *, strong_only: bool = False, decisive_only: bool = False
) -> list[str]:
    """Bot-wall fingerprints. Decisive: headers and titles. Strong: also specific phrases and
    challenge-script markers. Weak (neither): firewall vendors' names in the HTML, which also
    appear on ordinary protected pages."""
    out: list[str] = []
    headers = page.headers
    if headers.get("cf-mitigated", "").lower() == "challenge":
        out.append("header cf-mitigated: challenge (Cloudflare)")
    if headers.get("x-amzn-waf-action"):
        out.append(
            f"header x-amzn-waf-action: {_quote(headers['x-amzn-waf-action'], 20)} (AWS WAF)"
        )
    for pattern, what in _CHALLENGE_TITLES:
        match = next((m for m in map(pattern.search, page.heads) if m), None)
        if match:
            out.append(f"{what}: title/heading '{_quote(match.string, 60)}'")
            break
    if any("access denied" in head for head in page.heads) and _AKAMAI_REFERENCE.search(
        page.folded[:3000]
    ):
        out.append("Akamai 'Access Denied' with a 'Reference #'")
    if decisive_only:
        return out

    start = page.folded[:3000]
    for needle, what in _CHALLENGE_TEXT:
        if needle in start:
            out.append(f"{what}: matched '{needle}'")
            break
    if "generated by cloudfront" in start and _CLOUDFRONT_BLOCK.search(start):
        out.append("AWS CloudFront/WAF 'Request blocked' page")
    if "cloudflare-challenge" in page.markers:
        out.append("Cloudflare challenge script (cf-chl) in the page")
    if "aws-waf" in page.markers:
        out.append("AWS WAF challenge script in the page")
    if strong_only:
        return out

    for needle in ("verify you are human", "verifying you are human", "are you a robot"):
        if needle in start:  # also on contact forms: a hint, never enough alone
            out.append(f"matched '{needle}'")
            break
    for marker in sorted(page.markers & _FIREWALL_MARKERS):
        out.append(f"{marker} fingerprint in the page")
    server = headers.get("server", "").lower()
    if server.startswith(("akamaighost", "ddos-guard", "sucuri")) or "x-iinfo" in headers:
        out.append(f"served by a firewall ({_quote(server or 'incapsula', 30)})")
    return out


# --------------------------------------------------------------------------- the probe


@dataclass(frozen=True)
class _ProbeView:
    """What the soft-404 probe says about the page.

    kind: none (no usable probe), alive (the site answers missing paths with a 4xx), same (the
    page behaves like a missing path), root (a catch-all site, but the page is its root), self
    (the probe was sent to this very page), empty (both near-empty: cannot tell), differs (a
    catch-all site, but this page has its own content).
    """

    kind: str
    line: str | None = None
    similarity: float = 0.0

    @property
    def catch_all(self) -> bool:
        return self.kind in ("same", "root", "self", "empty")


def _probe_view(page: _Page) -> _ProbeView:
    probe = page.probe
    if probe is None:
        return _ProbeView("none")
    name = probe.url or "the probe"
    if probe.error:
        return _ProbeView("none", f"probe {name} failed ({probe.error}): no evidence")
    status = probe.status
    if status is None:
        return _ProbeView("none")
    if 400 <= status <= 499:
        return _ProbeView(
            "alive", f"probe {name} answered {status}: the site reports missing pages properly"
        )
    if not 200 <= status <= 399:
        return _ProbeView("none", f"probe {name} answered {status}: no evidence")

    page_root = _is_root(page.url)
    page_redirected = not _same_page(page.url, page.final_url)
    if _same_page(probe.final_url, page.final_url):
        if page_root:
            return _ProbeView("root", f"probe {name} also ended at {page.final_url}, the site root")
        if not page_redirected:
            return _ProbeView("self", f"probe {name} was redirected to this page itself")
        return _ProbeView(
            "same", f"probe {name} ended at the same URL as the page ({page.final_url})", 1.0
        )

    sa, sb = _shingles(page.text), _shingles(probe.text)
    similarity = (len(sa & sb) / len(sa | sb)) if (sa or sb) else 1.0
    own = len(sa - sb)
    percent = f"{similarity:.0%}"
    if page.words < EMPTY_WORDS and len(probe.text.split()) < EMPTY_WORDS:
        return _ProbeView(
            "empty",
            f"probe {name} answered {status}; page and probe are both near-empty "
            "(script-rendered site?): cannot compare",
            similarity,
        )
    same_text = f"probe {name} answered {status} with {percent} the same text"
    if similarity < SIMILAR or own >= OWN_CONTENT_MIN:
        return _ProbeView(
            "differs",
            f"probe {name} answered {status} (a catch-all site), but this page has its own text "
            f"({percent} similar, {own} three-word phrases the probe lacks)",
            similarity,
        )
    if probe.title and page.title and _fold(probe.title) != _fold(page.title):
        return _ProbeView(
            "differs",
            f"{same_text}, but a different title ({_quote(probe.title, 50)!r})",
            similarity,
        )
    probe_says = _first_match(_NOT_FOUND, _fold(probe.title)) or _first_match(
        _NOT_FOUND, _fold(probe.text)
    )
    if probe_says and not _first_match(_NOT_FOUND, page.folded):
        return _ProbeView(
            "differs",
            f"{same_text}, but the probe says '{_quote(probe_says.group(0), 50)}' and this page "
            "does not",
            similarity,
        )
    if page_root:
        return _ProbeView(
            "root",
            f"{same_text}, but this is the site root: a catch-all site serving its homepage",
            similarity,
        )
    return _ProbeView("same", same_text, similarity)


# --------------------------------------------------------------------------- parked


MARKETPLACE_HOSTS = (
    "dan.com",
    "sedo.com",
    "afternic.com",
    "hugedomains.com",
    "buydomains.com",
    "undeveloped.com",
    "godaddy.com",
    "sedoparking.com",
    "parkingcrew.net",
    "bodis.com",
    "above.com",
    "domainmarket.com",
    "brandbucket.com",
    "squadhelp.com",
    "atom.com",
    "domainnamesales.com",
    "uniregistry.com",
    "efty.com",
    "parkingpage.namecheap.com",
)
# Names from monitor.pages.facts' marker table (facts["markers"]).
_PARKING_MARKERS = frozenset(
    {
        "sedoparking",
        "parkingcrew",
        "bodis",
        "above.com",
        "dsnextgen",
        "parklogic",
        "godaddy-parking",
        "parking-script",
    }
)
_MARKETPLACE_MARKERS = frozenset(
    {"dan.com", "sedo.com", "afternic", "hugedomains", "buydomains", "undeveloped"}
)
# Bounded repeats: an unbounded (?:[a-z0-9-]+\.)+ is quadratic on "a.a.a.a..." text.
_DOMAINISH = r"(?<![\w.-])(?:[a-z0-9-]{1,63}\.){1,4}[a-z]{2,24}"
_PARKING_PHRASES = tuple(
    re.compile(p)
    for p in (
        rf"\b(?:(?:this|the) domain(?: name)?(?: {_DOMAINISH})?|{_DOMAINISH}) "
        r"(?:is|may be|might be|could be) (?:still )?"
        r"(?:for sale|available for (?:purchase|sale|lease))\b",
        r"\bdomain (?:name )?(?:is )?for sale\b",
        r"\b(?:buy|purchase|get|own|lease) this domain\b",
        r"\bmake (?:an|us an|your) offer (?:on|for) (?:this|the) domain\b",
        r"\binquire about (?:this|the) domain\b",
        rf"\b(?:(?:this|the) domain(?: name)?|{_DOMAINISH}) (?:has |is )?expired\b",
        r"\brenew (?:this|the|your) domain\b",
        r"\bparked free\b",
        r"\b(?:this |the )?(?:domain|web ?page|page|site|website) (?:is|has been) parked\b",
        r"\bparked (?:domain|page)\b",
        r"\bparked (?:free, )?courtesy of\b",
        r"\b(?:this )?domain (?:was recently |has been |is )registered (?:at|with|through)\b",
        r"(?<![\w.-])(?:dan\.com|sedo\.com|afternic(?:\.com)?|hugedomains(?:\.com)?|"
        r"undeveloped\.com|buydomains(?:\.com)?)\b",
    )
)
# Every phrase above contains one of these: a page with none of them (most pages) skips the
# sixteen searches of its whole text.
_PARKING_WORDS = (
    "domain",
    "parked",
    "for sale",
    "available for",
    "expired",
    "dan.com",
    "sedo.com",
    "afternic",
)
_PARKING_LAYOUT = re.compile(
    r"\b(?:related (?:searches|links)|sponsored (?:listings|links|results)|"
    r"(?:trending|top|popular) searches)\b"
)
_PARKING_LAYOUT_WORDS = ("related ", "sponsored ", " searches")  # in every match, cheap to test
_PLACEHOLDER = re.compile(
    r"future home of something quite cool|\baccount (?:has been )?suspended\b|"
    r"welcome to nginx|apache2 (?:ubuntu|debian) default page|"
    r"test page for the (?:apache|nginx) http server|default web ?site page|domain default page"
)


def _parked(page: _Page, probe: _ProbeView) -> Outcome | None:
    where = page.final_url or page.url
    hops = [url for _, url in page.chain[1:]] + [page.final_url]
    for url in hops:
        host = _host(url)
        market = _host_in(host, MARKETPLACE_HOSTS)
        if market and not _same_site(page.url, url):
            return _outcome(
                page, "parked", 0.95, f"redirected to the domain marketplace {host} ({url})"
            )
    if page.meta_refresh:
        target = _join(where, page.meta_refresh)
        market = _host_in(_host(target), MARKETPLACE_HOSTS)
        if market and not _same_site(page.url, target):
            return _outcome(page, "parked", 0.9, f"meta refresh to the domain marketplace {target}")

    points = 0.0
    lines: list[str] = []
    service = sorted(page.markers & _PARKING_MARKERS)
    if service:
        points += 3
        lines.append(f"parking-service fingerprint in the page: {', '.join(service)}")
    market = sorted(page.markers & _MARKETPLACE_MARKERS)
    if market:
        points += 1
        lines.append(f"domain-marketplace name in the page: {', '.join(market)}")
    phrases = _PARKING_PHRASES if _mentions(page, _PARKING_WORDS) else ()
    for pattern in phrases:
        weight, match, place = _weigh(page, pattern)
        if match:
            points += weight
            lines.append(f"matched '{_quote(match.group(0), 60)}' in the {place}")
    layout = None
    if any(word in page.folded for word in _PARKING_LAYOUT_WORDS):
        layout = _PARKING_LAYOUT.search(page.folded)
    if layout:
        points += 1
        lines.append(f"parking layout: '{layout.group(0)}'")
    if points and probe.catch_all and probe.similarity >= SIMILAR:
        points += 1
        lines.append(f"catch-all: {probe.line}")

    if (page.thin and points >= 3) or points >= 6:
        words = f"{page.words} words" if page.thin else "a long page"
        confidence = min(0.9, 0.55 + 0.05 * points)
        return _outcome(
            page, "parked", confidence, f"parked or for sale at {where} ({words})", *lines
        )

    placeholder = next((m for m in map(_PLACEHOLDER.search, page.heads) if m), None)
    if placeholder and page.thin:
        return _outcome(
            page,
            "parked",
            0.7,
            f"hosting placeholder page at {where}: matched '{placeholder.group(0)}' in the title",
        )
    return None


def _mentions(page: _Page, words: Sequence[str]) -> bool:
    return any(word in text for text in (page.folded, *page.heads) for word in words)


def _weigh(page: _Page, pattern: re.Pattern[str]) -> tuple[float, re.Match[str] | None, str]:
    """Where a phrase occurs: title/heading 3, top of the text 2, further down 1."""
    for head in page.heads:
        match = pattern.search(head)
        if match:
            return 3.0, match, "title/heading"
    match = pattern.search(page.folded)
    if not match:
        return 0.0, None, ""
    if match.start() < NEAR_START:
        return 2.0, match, "top of the page"
    return 1.0, match, "text"


# --------------------------------------------------------------------------- closed

_CLOSURE = tuple(
    re.compile(p)
    for p in (
        r"\b(?:closed|closes|closing|close|shut|shutting) (?:its|our|their) doors\b",
        r"\b(?:ceased|ceases|cease|ceasing) (?:all )?(?:its |our |their )?"
        r"(?:operations|operating|trading|to operate|to exist|activities|services)\b",
        r"\b(?:has|have|had|was|were) (?:now |formally |officially )?(?:been )?dissolved\b",
        r"\b(?:has|have|had|is|are|was|were) (?:now )?(?:been |being )?(?:wound|winding) "
        r"(?:up|down)\b",
        r"\b(?:is|are) no longer (?:operating|operational|in operation|running|trading|active|"
        r"providing (?:services|support))\b",
        r"\b(?:has|have) (?:now |permanently |officially |sadly )?closed(?: down| permanently"
        r"| for good)?\b",
        r"\bpermanently closed\b",
        r"\bclosed (?:permanently|for good|down)\b",
        r"\b(?:has|have|had) (?:now )?(?:been )?(?:permanently )?(?:shut down|shutdown)\b",
        r"\b(?:is|are|will be) shutting down\b",
        r"\bwill (?:be )?(?:closing|close) (?:down|permanently|for good)\b",
        r"\b(?:decision|decided) to (?:close|wind up|wind down|dissolve|cease)\b",
        r"\b(?:organi[sz]ation|charity|network|group|service|association|society|foundation|"
        r"helpline|programme|program) (?:no longer exists|has ceased to exist)\b",
        r"\b(?:we|it|they)(?: are| is|'re) closing\b",  # "we're" has no space
    )
)
_THANKS_YEARS = re.compile(
    r"\bthank you for (?:the |all |an? )?(?:\d+|[a-z]+(?:[- ][a-z]+)?) (?:\w+ ){0,2}years\b"
)
_CLOSING_WORD = re.compile(
    r"\b(?:closed|closing|ceased|ceasing|shut|shutting|wound|winding|dissolved)\b"
)
_NOT_A_CLOSURE = re.compile(
    r"\b(?:holidays?|christmas|xmas|easter|thanksgiving|new year|bank holiday|for the day|"
    r"(?<!as of )today|tonight|(?<!from )tomorrow|this week|weekends?|early|"
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)days|\d{1,2}(?:[:.]\d\d)?\s*(?:am|pm)|"
    r"until (?:further notice|\d|mon|tues|wednes|thurs|fri|satur|sun|jan|feb|mar|apr|may|jun|"
    r"jul|aug|sep|oct|nov|dec|the new year|next)|"
    r"temporar(?:y|ily)|reopen\w*|re-open\w*|new members|new referrals|"
    r"registrations?|applications?|enrol+ments?|sign-?ups?|nominations|submissions|comments|"
    r"voting|poll|survey|tickets?|bookings?|waiting list|wait-?list|closed group|"
    r"closed meetings?|closed session|office|offices|branch|premises|building|shop|caf[eé]|"
    r"thread|topic|discussion)\b"
)
# Every _CLOSURE pattern needs one of these words, and _THANKS_YEARS its opening: checking
# them with `in` first spares most pages fifteen regex scans (a profiled hot spot).
_CLOSURE_WORDS = ("clos", "shut", "ceas", "dissolv", "wound", "wind", "no longer")
_THANKS_YEARS_WORDS = "thank you for"
_FUTURE = re.compile(r"\bwill\b")
_SENTENCE_END = re.compile(r"[.!?\n]")


def _closed(page: _Page, probe: _ProbeView) -> Outcome | None:
    where = page.final_url or page.url
    places: list[tuple[str, str, float]] = [(head, "title/heading", 0.85) for head in page.heads]
    text = page.folded
    if page.words < CLOSED_THIN_WORDS:
        places.append((text, "page", 0.75))
    else:
        places.append((text[: _top_end(page)], "top of the page", 0.75))

    found: list[tuple[str, str, float, bool]] = []
    for source, place, confidence in places:
        patterns = _CLOSURE if any(word in source for word in _CLOSURE_WORDS) else ()
        if _THANKS_YEARS_WORDS in source:
            patterns = (*patterns, _THANKS_YEARS)
        for pattern in patterns:
            for match in pattern.finditer(source):
                sentence = _sentence(source, match.start(), match.end())
                if _NOT_A_CLOSURE.search(sentence):
                    continue
                if pattern is _THANKS_YEARS and not _closing_nearby(source, match):
                    continue
                found.append((match.group(0), place, confidence, bool(_FUTURE.search(sentence))))
                break
    if not found:
        return None
    best = max(found, key=lambda f: f[2])
    confidence = best[2] + 0.05 * (len({f[0] for f in found}) - 1)
    if all(f[3] for f in found):
        confidence -= 0.1  # announced for the future: still running today
    lines = list(dict.fromkeys(f"matched '{_quote(f[0], 60)}' in the {f[1]}" for f in found))[:3]
    return _outcome(page, "closed", min(0.9, confidence), f"closure announced at {where}", *lines)


def _closing_nearby(text: str, match: re.Match[str]) -> bool:
    """ "Thank you for N years" is a closure only next to a closing word that is not itself
    about registrations, holidays or the like."""
    lo, hi = max(0, match.start() - 300), match.end() + 300
    for word in _CLOSING_WORD.finditer(text, lo, hi):
        if not _NOT_A_CLOSURE.search(_sentence(text, word.start(), word.end())):
            return True
    return False


def _top_end(page: _Page) -> int:
    """Where the top of the page ends: a little after the main heading, which may follow a
    long menu, or NEAR_START characters when no heading is found in the text."""
    for head in page.heads[1:2] or page.heads[:1]:
        at = page.folded.find(head, 0, 5000)
        if at != -1:
            return at + len(head) + AFTER_HEADING
    return NEAR_START


def _sentence(text: str, start: int, end: int) -> str:
    """The sentence around text[start:end], at most 200 characters either side."""
    lo = max(0, start - 200)
    ends = [m.end() for m in _SENTENCE_END.finditer(text, lo, start)]
    right = _SENTENCE_END.search(text, end, end + 200)
    return text[ends[-1] if ends else lo : right.start() if right else end + 200]


# --------------------------------------------------------------------------- soft 404

_MISSING = (
    r"(?:you (?:are|were) looking for |you requested )?(?:was |were |is |could )?"
    r"(?:not (?:be )?found|(?:can ?not|can't|could not|couldn't) be (?:found|located)|"
    r"(?:does not|doesn't|did not|no longer) exists?)\b"
)
_NOT_FOUND_COMMON = tuple(
    re.compile(p)
    for p in (
        r"\b404\b[^.]{0,40}\bnot found\b|\bnot found\b[^.]{0,40}\b404\b",
        r"\berror:? ?404\b|\b404 error\b",
        r"\bpage introuvable\b|\bpage non trouv[ée]e\b",
        r"\bp[áa]gina no encontrada\b|\bno se (?:ha )?encontr[óo] la p[áa]gina\b",
        r"\bseite (?:wurde )?nicht gefunden\b",
        r"\bpagina non trovata\b|\bpagina niet gevonden\b|\bp[áa]gina n[ãa]o encontrada\b",
    )
)
# Titles, headings and the probe: any missing thing, and "nothing found".
_NOT_FOUND = (
    re.compile(
        r"\b(?:page|file|resource|content|article|post|group|url|document|event|listing)s? "
        + _MISSING
    ),
    re.compile(r"\bnothing (?:was )?found\b"),
    *_NOT_FOUND_COMMON,
)
# The body text of a short page: only page-like subjects. "If your group is not found in the
# list, contact us" is an invitation, not an error.
_NOT_FOUND_TEXT = (re.compile(r"\b(?:page|file|url|document)s? " + _MISSING), *_NOT_FOUND_COMMON)
_NOT_FOUND_HEAD_ONLY = re.compile(r"\bnot found\b")
_TITLE_SEGMENT = re.compile(r"\s+[|\u2013\u2014:\u00b7\u2022-]+\s+|\s*\|\s*")
_OOPS = re.compile(r"\boops\b|\bwhoops\b|\buh[- ]oh\b")
_OOPS_CONTEXT = re.compile(
    r"\b(?:can't|cannot|can not|couldn't|could not) (?:find|locate|be found)|"
    r"\b(?:doesn't|does not|no longer) exists?\b|\bnot found\b|\b404\b|\bbroken link\b|"
    r"\bpage (?:you|has|may|might|was)\b.{0,40}\b(?:moved|deleted|removed)\b"
)


def _not_found_wording(page: _Page) -> tuple[str, str] | None:
    """(phrase, where) when the page calls itself missing."""
    for head in page.heads:
        match = _first_match((*_NOT_FOUND, _NOT_FOUND_HEAD_ONLY), head)
        if match:
            return match.group(0), "title/heading"
        if any(seg.strip() == "404" for seg in _TITLE_SEGMENT.split(head)):
            return "404", "title/heading"
        oops = _OOPS.search(head)
        if oops and (_OOPS_CONTEXT.search(head) or _OOPS_CONTEXT.search(page.folded[:NEAR_START])):
            return oops.group(0), "title/heading"
    return None


def _soft_404(page: _Page, probe: _ProbeView) -> Outcome | None:
    where = page.final_url or page.url
    deep = not _is_root(page.url)

    wording = _not_found_wording(page)
    if wording:
        confidence = 0.7
        if probe.kind == "alive":
            confidence = 0.6  # the site 404s properly elsewhere, yet this page calls itself missing
        elif probe.kind in ("same", "root"):
            confidence = 0.85
        return _outcome(
            page,
            "soft_404",
            confidence,
            f"HTTP {page.status} at {where}, but the page says '{_quote(wording[0], 60)}' in "
            f"its {wording[1]}",
            probe.line,
        )

    if deep and page.thin:
        match = _first_match(_NOT_FOUND_TEXT, page.folded[:600])
        if match and page.words < 150:
            return _outcome(
                page,
                "soft_404",
                0.6,
                f"HTTP {page.status} at {where}, but a short page opens with "
                f"'{_quote(match.group(0), 60)}'",
                probe.line,
            )

    redirected = not _same_page(page.url, page.final_url)
    if deep and redirected and _same_site(page.url, page.final_url):
        if _is_root(page.final_url):
            return _outcome(
                page,
                "soft_404",
                0.75,
                f"the deep link {page.url} was redirected to the site root {page.final_url}",
                probe.line,
            )
        if _ERROR_PATH.search(_split(page.final_url).path) or "aspxerrorpath" in (
            _split(page.final_url).query.lower()
        ):
            return _outcome(
                page,
                "soft_404",
                0.8,
                f"{page.url} was redirected to an error page {page.final_url}",
                probe.line,
            )

    if deep and page.meta_refresh and page.words < 150:
        target = _join(where, page.meta_refresh)
        if _same_site(page.url, target) and (
            _is_root(target) or _ERROR_PATH.search(_split(target).path)
        ):
            return _outcome(
                page,
                "soft_404",
                0.6,
                f"a short page at {where} refreshes to {target}",
                probe.line,
            )

    if deep and probe.kind == "same":
        return _outcome(
            page,
            "soft_404",
            0.85 if probe.similarity >= 0.98 else 0.8,
            f"HTTP {page.status} at {where}, but it answers like a page that does not exist",
            probe.line,
        )
    return None

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

The rest of the classifier lies next door: ``outcome`` (the verdict), ``page_view`` (the
normalised view of a fetch, the tunables and shared helpers), ``markers`` (the phrase and
marker tables) and ``soft404`` (the soft-404 probe and rule).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from monitor.judging.markers import (
    _AKAMAI_REFERENCE,
    _CHALLENGE_TEXT,
    _CHALLENGE_TITLES,
    _CLOSING_WORD,
    _CLOSURE,
    _CLOSURE_WORDS,
    _CLOUDFRONT_BLOCK,
    _FIREWALL_MARKERS,
    _FUTURE,
    _MARKETPLACE_MARKERS,
    _NOT_A_CLOSURE,
    _PARKING_LAYOUT,
    _PARKING_LAYOUT_WORDS,
    _PARKING_MARKERS,
    _PARKING_PHRASES,
    _PARKING_WORDS,
    _PLACEHOLDER,
    _SENTENCE_END,
    _THANKS_YEARS,
    _THANKS_YEARS_WORDS,
    MARKETPLACE_HOSTS,
)
from monitor.judging.outcome import CATEGORIES, DEAD_CATEGORIES, Outcome
from monitor.judging.page_view import (
    _LOGIN_PATH,
    AFTER_HEADING,
    CLOSED_THIN_WORDS,
    NEAR_START,
    SIMILAR,
    _host,
    _host_in,
    _join,
    _outcome,
    _Page,
    _quote,
    _same_page,
    _same_site,
    _split,
    _view,
)
from monitor.judging.soft404 import _probe_view, _ProbeView, _soft_404
from storage.records import Observation

__all__ = ["CATEGORIES", "DEAD_CATEGORIES", "Outcome", "classify"]


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


# --------------------------------------------------------------------------- parked


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

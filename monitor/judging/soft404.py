"""The soft-404 rule: a page served with 200 that is really a not-found page.

A page gives itself away by its wording (title, heading or a short text that says it is
missing), by being sent on to the site root or an error page, or by answering like the probe:
the spider also fetched a made-up path on the same site, and a page that looks like what the
site serves for a path that cannot exist is not there either. ``_probe_view`` reads that probe
once per page; the parked rule uses it too (a catch-all site).
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.judging.markers import (
    _NOT_FOUND,
    _NOT_FOUND_HEAD_ONLY,
    _NOT_FOUND_TEXT,
    _OOPS,
    _OOPS_CONTEXT,
    _TITLE_SEGMENT,
)
from monitor.judging.outcome import Outcome
from monitor.judging.page_view import (
    _ERROR_PATH,
    EMPTY_WORDS,
    NEAR_START,
    OWN_CONTENT_MIN,
    SIMILAR,
    _first_match,
    _fold,
    _is_root,
    _join,
    _outcome,
    _Page,
    _Probe,
    _quote,
    _same_page,
    _same_site,
    _shingles,
    _split,
)

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
    return _compare_texts(page, probe, name, status, page_root)


def _compare_texts(
    page: _Page, probe: _Probe, name: str, status: int, page_root: bool
) -> _ProbeView:
    """The probe answered 2xx/3xx elsewhere than the page: a catch-all site. Does the page
    answer like the probe (a missing page), or has it text of its own?"""
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


# --------------------------------------------------------------------------- soft 404


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

    sent_away = _sent_away(page, probe, where) if deep else None
    if sent_away is not None:
        return sent_away

    if deep and probe.kind == "same":
        return _outcome(
            page,
            "soft_404",
            0.85 if probe.similarity >= 0.98 else 0.8,
            f"HTTP {page.status} at {where}, but it answers like a page that does not exist",
            probe.line,
        )
    return None


def _sent_away(page: _Page, probe: _ProbeView, where: str) -> Outcome | None:
    """A deep link sent on to the site root or to an error page, by a redirect or a meta
    refresh: the site's way of saying the page is gone."""
    redirected = not _same_page(page.url, page.final_url)
    if redirected and _same_site(page.url, page.final_url):
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

    if page.meta_refresh and page.words < 150:
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
    return None

"""Where a page points: links to other organisations, and pages worth a look for more.

New-organisation candidates start here. A listed organisation's page links to peers; the
spider records those links (``outbound_links``) and the few same-site pages that usually list
peers (``candidate_pages``); a linked page whose own title, description and text speak of
peer support (``looks_like_peer_support``) becomes a candidate for the curators, unless the
page says it is someone else's: a news story or a hospital (``not_a_peer_network``).

Pure functions; they accept markup or a tree parsed once by ``monitor.pages.html.as_tree``.
Domains come from ``monitor.pages.domains`` (tldextract's bundled snapshot, never downloaded).

    >>> registered_domain("https://www.nurses.example.co.uk/groups")
    'example.co.uk'

Imports neither scrapy, sqlalchemy nor apprise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urldefrag, urljoin, urlsplit

from lxml import etree

from monitor.pages.domains import domains_of, registered_domain
from monitor.pages.groups import iter_content, main_content
from monitor.pages.html import HtmlSource, as_tree, body_of, collapse, element_text, tag_of
from storage.records import DirectoryEntry

MAX_CANDIDATE_PAGES = 5
PEER_SUPPORT_MIN_SCORE = 6
"""Weighted phrase score a page needs before it looks like a peer-support organisation."""

# Hosts whose links are never an organisation: social networks, sharing widgets, trackers,
# maps and app stores.
_SKIP_DOMAINS = frozenset(
    [
        "facebook.com",
        "fb.com",
        "fb.me",
        "twitter.com",
        "x.com",
        "t.co",
        "instagram.com",
        "linkedin.com",
        "youtube.com",
        "youtu.be",
        "tiktok.com",
        "pinterest.com",
        "reddit.com",
        "threads.net",
        "bsky.app",
        "mastodon.social",
        "whatsapp.com",
        "wa.me",
        "t.me",
        "telegram.org",
        "snapchat.com",
        "tumblr.com",
        "flickr.com",
        "vimeo.com",
        "spotify.com",
        "soundcloud.com",
        "addtoany.com",
        "addthis.com",
        "sharethis.com",
        "google.com",
        "goo.gl",
        "googletagmanager.com",
        "google-analytics.com",
        "doubleclick.net",
        "apple.com",
        "microsoft.com",
        "wordpress.org",
        "wordpress.com",
        "wix.com",
        "squarespace.com",
        "adobe.com",
        "gravatar.com",
        "w3.org",
        "schema.org",
    ]
)
_SKIP_SCHEMES = ("mailto:", "tel:", "javascript:", "data:", "sms:", "fax:", "file:", "ftp:")
_FILE_PATH = re.compile(
    r"\.(?:pdf|docx?|xlsx?|pptx?|zip|jpe?g|png|gif|svg|webp|mp3|mp4|mov|ics|csv)$", re.IGNORECASE
)


def listed_domains(entries: Iterable[DirectoryEntry]) -> set[str]:
    """The registered domain of every URL these directory entries list."""
    return domains_of((url for entry in entries for _, url in entry.listed_links()))


def _link_text(a: etree._Element) -> str:
    text = collapse(element_text(a))
    if not text:
        img = next(a.iter("img"), None)
        text = collapse(
            (img.get("alt") if img is not None else None) or a.get("aria-label") or a.get("title")
        )
    return text[:300]


def _absolute(href: str | None, base: str) -> str | None:
    href = (href or "").strip()
    if not href or href.startswith("#") or href.lower().startswith(_SKIP_SCHEMES):
        return None
    try:
        url, _ = urldefrag(urljoin(base, href))
    except ValueError:
        return None
    if urlsplit(url).scheme not in {"http", "https"}:
        return None
    return url


def outbound_links(html_or_tree: HtmlSource | None, url: str) -> list[dict[str, str]]:
    """Links from the page's main content to other registered domains, in page order.

    Each is ``{"url", "text", "domain"}``, the URL absolute and without its fragment, once per
    URL. Navigation, header, footer, sidebars, share and social widgets, social and tracking
    hosts, mailto/tel/javascript links and the page's own registered domain are left out.
    """
    root = as_tree(html_or_tree)
    url = url or ""
    own = registered_domain(url)
    links: list[dict[str, str]] = []
    seen: set[str] = set()
    for el in iter_content(main_content(root)):
        if tag_of(el) != "a":
            continue
        target = _absolute(el.get("href"), url)
        if target is None or target in seen:
            continue
        domain = registered_domain(target)
        if not domain or domain == own or domain in _SKIP_DOMAINS:
            continue
        seen.add(target)
        links.append({"url": target, "text": _link_text(el), "domain": domain})
    return links


_CANDIDATE_TEXT = re.compile(
    r"\b(?:partners?|partner organi[sz]ations|our partners|resources|useful links|helpful links|"
    r"links|find support|find help|get support|other organi[sz]ations|related organi[sz]ations|"
    r"helpful organi[sz]ations|support organi[sz]ations|organi[sz]ations|directory|"
    r"other services|support services|allies|affiliates|network members|members directory)\b",
    re.IGNORECASE,
)
_CANDIDATE_PATH = re.compile(
    r"(?:^|/)(?:partners?|our-partners|partner-organi[sz]ations|resources?|useful-links|links|"
    r"helpful-links|find-support|find-help|get-support|other-organi[sz]ations|organi[sz]ations|"
    r"related-organi[sz]ations|directory|allies|affiliates|support-services)(?:/|\.html?|\.php|$)",
    re.IGNORECASE,
)


def candidate_pages(html_or_tree: HtmlSource | None, url: str) -> list[str]:
    """Up to five same-site pages that probably list other organisations.

    Links whose text or path says partners, resources, links, find support, other
    organisations, directory...; a match on the text ranks above a match on the path only.
    Menus and footers count here: that is where such pages are linked from.
    """
    root = as_tree(html_or_tree)
    url = url or ""
    own = registered_domain(url)
    here, _ = urldefrag(url)
    scored: dict[str, tuple[int, int]] = {}
    for position, a in enumerate(body_of(root).iter("a")):
        target = _absolute(a.get("href"), url)
        if target is None or target == here or _FILE_PATH.search(urlsplit(target).path):
            continue
        if registered_domain(target) != own:
            continue
        score = 0
        if _CANDIDATE_TEXT.search(_link_text(a)):
            score += 2
        if _CANDIDATE_PATH.search(urlsplit(target).path):
            score += 1
        if score and (target not in scored or scored[target][0] < score):
            scored[target] = (score, scored.get(target, (0, position))[1])
    ranked = sorted(scored.items(), key=lambda item: (-item[1][0], item[1][1]))
    return [target for target, _ in ranked[:MAX_CANDIDATE_PAGES]]


# Phrase, weight. Plurals and hyphenation are folded by the patterns.
_PEER_PHRASES: tuple[tuple[str, str, int], ...] = (
    ("peer support", r"peer[\s-]+(?:led\s+)?support(?:ers?)?", 3),
    ("peer-to-peer", r"peer[\s-]+to[\s-]+peer", 3),
    ("support group", r"support[\s-]+groups?", 3),
    ("support network", r"support[\s-]+networks?", 2),
    ("confidential support", r"confidential[\s-]+(?:peer[\s-]+)?support", 2),
    ("mutual aid", r"mutual[\s-]+aid", 2),
    ("peer mentor", r"peer[\s-]+mentor(?:s|ing)?", 2),
    ("support circle", r"support[\s-]+circles?", 2),
    ("peer counselling", r"peer[\s-]+counsel(?:l)?ing", 2),
    ("lived experience", r"lived[\s-]+experience", 1),
    ("safe space", r"safe[\s-]+spaces?", 1),
    ("helpline", r"help[\s-]?lines?", 1),
    ("wellbeing", r"well[\s-]?being", 1),
    ("burnout", r"burn[\s-]?out", 1),
)
_PEER_PATTERNS = tuple(
    (label, re.compile(rf"\b{pattern}\b", re.IGNORECASE), weight)
    for label, pattern, weight in _PEER_PHRASES
)


def looks_like_peer_support(title: str | None, text: str | None) -> tuple[bool, list[str]]:
    """Whether a page's own title and text speak of peer support, with the phrases as evidence.

    Each phrase scores its weight per mention (at most three mentions), double in the title.
    A page qualifies with a score of at least 6 and more than a passing mention: two different
    phrases, a phrase in the title, or one strong phrase three times. A news story that
    mentions "a support group" once does not.

        >>> looks_like_peer_support("Peer support for nurses", "Our support groups meet weekly.")
        (True, ['peer support', 'support group'])
    """
    title = collapse(title)
    text = collapse(text)[:100_000]
    score = 0
    found: list[tuple[int, str]] = []
    in_title = False
    strong_repeated = False
    for label, pattern, weight in _PEER_PATTERNS:
        title_hits = len(pattern.findall(title))
        text_hits = len(pattern.findall(text))
        if not (title_hits or text_hits):
            continue
        score += weight * min(text_hits, 3) + 2 * weight * min(title_hits, 1)
        in_title = in_title or (title_hits > 0 and weight >= 2)
        strong_repeated = strong_repeated or (weight >= 3 and text_hits >= 3)
        found.append((weight, label))
    strong = [label for weight, label in found if weight >= 2]
    enough = len(strong) >= 2 or in_title or strong_repeated
    evidence = [label for _, label in sorted(found, key=lambda item: -item[0])]
    return score >= PEER_SUPPORT_MIN_SCORE and enough, evidence


# Page types (schema.org, og:type) that say whose page this is, when it is not a network's own.
_NOT_A_NETWORK: dict[str, str] = {
    "newsarticle": "a news article",
    "reportagenewsarticle": "a news article",
    "analysisnewsarticle": "a news article",
    "opinionnewsarticle": "a news article",
    "backgroundnewsarticle": "a news article",
    "reviewnewsarticle": "a news article",
    "newsmediaorganization": "a news publisher's page",
    "newspaper": "a news publisher's page",
    "hospital": "a hospital's page",
}


def not_a_peer_network(types: Iterable[str]) -> str | None:
    """Why a page that speaks of peer support is not a peer-support network's own page, or None.

    ``types`` are the page's schema.org types and ``og:type`` (``monitor.pages.identity.page_types``).
    A newspaper's story about support groups, or a hospital's page, speaks of peer support
    without being a peer-support organisation.

        >>> not_a_peer_network(["newsarticle", "og:article"]), not_a_peer_network(["ngo"])
        ('a news article', None)
    """
    for kind in types:
        reason = _NOT_A_NETWORK.get(str(kind).lower())
        if reason:
            return reason
    return None

"""Importing a directory from a web page: one proposed organisation per outbound link."""

from __future__ import annotations

import re
import unicodedata
import warnings
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from monitor.directory.checks import is_web_url, url_problem
from monitor.directory.keys import MAX_TEXT_LENGTH, slugify
from monitor.directory.problems import Problems
from monitor.pages.domains import registered_domain
from storage.records import DirectoryEntry

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

    problems = Problems(source)
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
    page = base_url if base_url and url_problem(base_url) is None else ""
    if not page:
        for tag, attr, attrs in (
            ("link", "href", {"rel": "canonical"}),
            ("meta", "content", {"property": "og:url"}),
        ):
            found = soup.find(tag, attrs=attrs)
            value = found.get(attr) if found is not None else None
            if isinstance(value, str) and url_problem(value.strip()) is None:
                page = value.strip()
                break
    base = soup.find("base", href=True)
    if base is not None and isinstance(base.get("href"), str):
        joined = _join(page, base["href"].strip())
        if joined is not None and url_problem(joined) is None:
            page = joined
    return page


def _outbound(href: str, page_url: str, own_site: str) -> str | None:
    """The absolute URL of an outbound http(s) link, fragment dropped; None for anything else."""
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    url = _join(page_url, href) if page_url else href
    if url is None or len(url) > MAX_TEXT_LENGTH or url_problem(url) is not None:
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
    return is_web_url(text) or text.lower().startswith("www.")


def _site(host: str) -> str:
    """The registered domain: ``groups.nurses.org.uk`` -> ``nurses.org.uk``."""
    return registered_domain(host.rstrip("."))

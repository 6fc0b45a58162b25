"""The support groups a page lists.

Pure functions over HTML, called by the spider on every groups page and by detection on stored
facts. They accept markup or a tree parsed once by ``monitor.pages.html.as_tree``, never
mutate it and never raise on hostile markup. Group names, and what changed since we last
looked, are ``monitor.pages.group_names``.

    >>> extract_groups(
    ...     "<nav><ul><li><a href='/'>Home</a></li><li><a href='/about'>About</a></li></ul></nav>"
    ...     "<main><h1>Our groups</h1><ul>"
    ...     "<li><a href='/g/grief'>Grief Circle</a> – Mondays 7pm</li>"
    ...     "<li><a href='/g/anxiety'>The Anxiety Toolbox</a> NEW!</li></ul></main>",
    ...     "https://nursegroups.test/groups",
    ... )
    [{'name': 'Grief Circle', 'url': 'https://nursegroups.test/g/grief'}, {'name': 'The Anxiety Toolbox', 'url': 'https://nursegroups.test/g/anxiety'}]

Imports neither scrapy, sqlalchemy nor apprise.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urljoin

import cssselect
from lxml import etree

from monitor.pages.group_names import is_date_or_time, normalise_group_name
from monitor.pages.html import (
    HtmlSource,
    as_tree,
    body_of,
    collapse,
    element_text,
    is_element,
    is_hidden,
    tag_of,
)

MAX_WORDS = 12
"""A group name has at most this many words; longer text is prose, not a name."""
MAX_ITEMS = 500
"""Items read from one page structure; more is a feed or a directory, not a groups list."""
NAME_CHARS = 300

# ---------------------------------------------------------------------------------------------
# Boilerplate and the main content
# ---------------------------------------------------------------------------------------------

_BOILERPLATE_TAGS = frozenset(
    [
        "nav",
        "footer",
        "aside",
        "script",
        "style",
        "noscript",
        "template",
        "svg",
        "iframe",
        "object",
        "canvas",
        "select",
        "button",
        "dialog",
        "head",
    ]
)
_BOILERPLATE_ROLES = frozenset(
    [
        "navigation",
        "banner",
        "contentinfo",
        "complementary",
        "search",
        "menu",
        "menubar",
        "dialog",
        "alertdialog",
    ]
)
_BOILERPLATE_TOKEN = re.compile(
    r"cookie|consent|gdpr|ccpa|breadcrumb|sidebar|^widget$|widget-area|^widget_|"
    r"^nav[-_]|nav$|navbar|navigation|^menu|[-_]menu|skip-?link|screen-reader|"
    r"sr-only|visually-hidden|social|share|sharing|newsletter|subscribe|"
    r"^(?:site|page|global|main|top)?[-_]?header$|^(?:site|page|global|main)?[-_]?footer$|"
    r"masthead|colophon|modal|popup|pop-up|announcement|^banner$|pagination|pager|comment|"
    r"related-?posts|relatedposts|entry-meta|post-meta|byline|tags?-links|cat-links|posted-on|"
    r"featured|spotlight|carousel|slider|slideshow|^hero|promo|advert|^ads?$|^search|"
    r"^toc$|^toc[-_]|table-of-contents|"
    # people, not groups: testimonials, staff and facilitator bios
    r"testimonial|team-member|^team$|^staff|author|facilitator|^bio$|^bio[-_]|[-_]bio$"
)
_MAIN_IDS = ("content", "main", "main-content", "maincontent", "primary", "page-content")
_MAIN_CLASSES = frozenset(
    [
        "entry-content",
        "post-content",
        "page-content",
        "main-content",
        "article-content",
        "content-area",
    ]
)
_MAIN_QUERIES = (
    ".//*[self::main or @role='main']",
    ".//*[{}]".format(" or ".join(f"@id='{ident}'" for ident in _MAIN_IDS)),
    # One cheap pass: every class above contains "content"; the exact token is checked after.
    ".//*[contains(@class, 'content')]",
)


def is_boilerplate(el: etree._Element) -> bool:
    """Navigation, page header and footer, sidebars, banners, menus: not the page's content."""
    tag = tag_of(el)
    if tag in _BOILERPLATE_TAGS or is_hidden(el):
        return True
    if tag == "header":
        # The page's header is boilerplate; an <article>'s or <section>'s header is content.
        return not any(tag_of(a) in {"article", "section", "main"} for a in el.iterancestors())
    if (el.get("role") or "").strip().lower() in _BOILERPLATE_ROLES:
        return True
    return _boilerplate_names(el.get("class") or "", el.get("id") or "")


@functools.lru_cache(maxsize=4096)
def _boilerplate_names(classes: str, ident: str) -> bool:
    tokens = classes.lower().split()
    if ident.strip():
        tokens.append(ident.strip().lower())
    return any(_BOILERPLATE_TOKEN.search(token) for token in tokens)


def main_content(html_or_tree: HtmlSource | None) -> etree._Element:
    """The element holding the page's own content.

    The first ``<main>`` or ``role=main``; else ``#content``/``#main``/``#primary``; else
    ``.entry-content`` and kin; else a lone ``<article>``; else ``<body>``, whose boilerplate
    (see ``is_boilerplate``) the walkers skip anyway.
    """
    body = body_of(as_tree(html_or_tree))
    for rank, query in enumerate(_MAIN_QUERIES):
        for el in body.xpath(query):
            if rank == 2 and not set((el.get("class") or "").lower().split()) & _MAIN_CLASSES:
                continue
            if not is_hidden(el):
                return el
    articles = body.xpath(".//article")
    return articles[0] if len(articles) == 1 else body


def iter_content(start: etree._Element) -> Iterator[etree._Element]:
    """Elements under ``start`` in document order, boilerplate subtrees left out."""
    for el, _ in _walk(start):
        yield el


_STATE_CLASSES = frozenset(
    [
        "active",
        "current",
        "selected",
        "first",
        "last",
        "odd",
        "even",
        "open",
        "closed",
        "is-active",
        "is-open",
        "show",
    ]
)


@functools.lru_cache(maxsize=4096)
def _class_key(classes: str) -> str:
    """Class tokens that describe the kind of element, not its position or state."""
    tokens = classes.lower().split()
    kept = {t for t in tokens if not any(c.isdigit() for c in t) and t not in _STATE_CLASSES}
    return " ".join(sorted(kept))


def _walk(start: etree._Element) -> Iterator[tuple[etree._Element, int]]:
    """(element, structural signature) under ``start``, skipping boilerplate; iterative.

    Two elements share a signature when the tags and classes on their paths from ``start``
    are the same: the items of one list, the cards of a grid, the rows of a table.
    """
    stack: list[tuple[Any, int]] = [(start, 0)]
    while stack:
        el, parent_sig = stack.pop()
        if not isinstance(el.tag, str) or (el is not start and is_boilerplate(el)):
            continue
        sig = hash((parent_sig, el.tag, _class_key(el.get("class") or "")))
        yield el, sig
        stack.extend((child, sig) for child in reversed(el))


def _text(el: etree._Element) -> str:
    return collapse(element_text(el, skip=_skip_in_item))[:NAME_CHARS]


_BADGE_TOKEN = re.compile(r"^(?:badge|label|tag|pill|chip|counter|count)(?:$|[-_])")


def _skip_in_item(el: etree._Element) -> bool:
    """Inside an item, badges and counters are decoration, not part of the name."""
    if is_boilerplate(el) or tag_of(el) in {"title", "meta", "link"}:
        return True
    return tag_of(el) in {"span", "small", "sup", "em", "i", "mark"} and any(
        _BADGE_TOKEN.match(t) for t in (el.get("class") or "").lower().split()
    )


_NOT_GROUP = re.compile(
    r"^(?:read more|learn more|find out more|more|more info(?:rmation)?|details|view details|"
    r"see details|register|register now|sign up|sign up now|join|join now|join us|join a group|"
    r"apply|apply now|rsvp|book|book now|contact|contact us|email us|call us|home|about|about us|"
    r"view all|see all|view all groups|see all groups|all groups|show more|load more|next|previous|"
    r"prev|back|back to top|top|share|share this|tweet|print|download|click here|here|"
    r"our groups|support groups|peer support groups|upcoming groups|current groups|groups|"
    r"find a group|find support|get help|get support|how to join|how it works|how do i join|"
    r"what to expect|who can join|why join|faq|faqs|frequently asked questions|questions|"
    r"testimonials|resources|related|related posts|recent posts|archives|categories|tags|"
    r"location|locations|schedule|calendar|events|upcoming events|news|blog|donate|"
    r"privacy policy|terms|accept|reject|decline|close|menu|search|event|date|time|day|name|"
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)days?|online|in person|virtual|free)$"
)
_GROUP_WORDS = re.compile(
    r"\b(?:group|groups|circle|circles|support|peer|network|meeting|meetings|session|sessions|"
    r"cafe|café|club|forum|chapter|huddle|collective|community|fellowship|workshop|program|"
    r"programme|series|check-in|check in|conversation|conversations|space)\b"
)


def _quality(name: str, *, has_link: bool) -> float:
    """How much ``name`` looks like the name of a group: 0 (not at all) to about 1.6."""
    norm = normalise_group_name(name)
    if not norm or not any(ch.isalpha() for ch in norm):
        return 0.0
    if _NOT_GROUP.match(norm) or is_date_or_time(norm):
        return 0.0
    words = norm.split()
    if len(words) > MAX_WORDS or len(name) > 150:
        return 0.0
    score = 1.0 if len(words) >= 2 else 0.6
    stripped = name.rstrip()
    if stripped.endswith("?") or (stripped.endswith(".") and len(words) > 5):
        score *= 0.4  # a question or a sentence: FAQ headings and prose
    if has_link:
        score += 0.3
    if _GROUP_WORDS.search(norm):
        score += 0.3
    return score


# ---------------------------------------------------------------------------------------------
# Structures: repeated elements that could hold the groups
# ---------------------------------------------------------------------------------------------

_HEADINGS = frozenset({"h2", "h3", "h4", "h5", "h6"})
_TITLE_TOKEN = re.compile(r"(?:^|[-_])(?:title|name|heading)$")
_NAME_HEADER = re.compile(r"group|name|meeting|title|program|circle|session|course", re.IGNORECASE)
_NOT_NAME_HEADER = re.compile(
    r"^(?:day|days|date|dates|time|times|when|where|location|venue|cost|price|fee|frequency|"
    r"facilitator|host|contact|format|#|no\.?)$",
    re.IGNORECASE,
)


def _label_kind(el: etree._Element) -> str | None:
    tag = tag_of(el)
    parent = el.getparent()
    parent_tag = tag_of(parent) if parent is not None else ""
    if tag == "li" and parent_tag in {"ul", "ol"}:
        return "list"
    if tag in _HEADINGS:
        return "heading"
    if tag == "tr":
        return "row"
    if tag == "dt":
        return "term"
    if tag in {"strong", "b"} and parent_tag == "p" and parent is not None:
        if parent.index(el) == 0 and not (parent.text or "").strip():
            return "bold"
        return None
    if tag not in {"a", "span", "img", "br"} and any(
        _TITLE_TOKEN.search(t) for t in (el.get("class") or "").lower().split()
    ):
        return "title"
    return None


def _links(el: etree._Element) -> Iterator[etree._Element]:
    if tag_of(el) == "a":
        yield el
    for a in el.iter("a"):
        if a is not el and not any(is_boilerplate(x) for x in _ancestors_until(a, el)):
            yield a


def _ancestors_until(el: etree._Element, stop: etree._Element) -> Iterator[etree._Element]:
    for ancestor in el.iterancestors():
        if ancestor is stop:
            return
        yield ancestor


def _href(a: etree._Element, base: str) -> str | None:
    href = (a.get("href") or "").strip()
    if (
        not href
        or href.startswith("#")
        or href.lower().startswith(("javascript:", "mailto:", "tel:", "data:"))
    ):
        return None
    try:
        return urljoin(base, href)
    except ValueError:
        return None


def _first_link(el: etree._Element, base: str) -> tuple[str, str] | None:
    """(text, absolute url) of the first followable link in ``el`` whose text is not a button."""
    fallback: tuple[str, str] | None = None
    for a in _links(el):
        url = _href(a, base)
        if url is None:
            continue
        text = _text(a)
        if text and not _NOT_GROUP.match(normalise_group_name(text)):
            return text, url
        fallback = fallback or ("", url)
    return fallback


def _ancestor_link(el: etree._Element, base: str, levels: int = 3) -> str | None:
    for depth, ancestor in enumerate(el.iterancestors()):
        if depth >= levels:
            break
        if tag_of(ancestor) == "a":
            return _href(ancestor, base)
    return None


def _first_segment(text: str) -> str:
    parts = re.split(r"\s+[-–—:|]\s+|\s*[–—|]\s*|(?<=\w)[.:]\s+", text, maxsplit=1)
    return parts[0] if parts else text


def _list_item(li: etree._Element, base: str) -> tuple[str, str | None]:
    """Name and link of a list item: its link text, else a heading or bold text, else its text."""

    def skip(el: etree._Element) -> bool:
        return _skip_in_item(el) or tag_of(el) in {"ul", "ol"}

    full = collapse(element_text(li, skip=skip))[:NAME_CHARS]
    link = _first_link(li, base)
    if link and link[0] and (full.startswith(link[0]) or len(full.split()) > MAX_WORDS):
        return link[0], link[1]
    for child in li.iter("h2", "h3", "h4", "h5", "h6", "strong", "b"):
        text = _text(child)
        if text:
            return text, link[1] if link else None
    if len(full.split()) > MAX_WORDS:
        full = _first_segment(full)
    return full, link[1] if link else None


def _table_column(table: etree._Element, rows: Sequence[etree._Element], base: str) -> int:
    """The column that names the groups: by its header, else the most name-like cells."""
    header: list[str] = []
    for tr in table.iter("tr"):
        cells = [c for c in tr if tag_of(c) in {"td", "th"}]
        if cells and all(tag_of(c) == "th" for c in cells):
            header = [_text(c) for c in cells]
        break
    for index, text in enumerate(header):
        if _NAME_HEADER.search(text) and not _NOT_NAME_HEADER.match(text.strip()):
            return index
    width = max((len([c for c in r if tag_of(c) in {"td", "th"}]) for r in rows), default=1)
    scores = [0.0] * width
    for row in rows[:50]:
        cells = [c for c in row if tag_of(c) in {"td", "th"}]
        for index, cell in enumerate(cells[:width]):
            if header and index < len(header) and _NOT_NAME_HEADER.match(header[index].strip()):
                continue
            scores[index] += _quality(_text(cell), has_link=_first_link(cell, base) is not None)
    return max(range(width), key=lambda i: (scores[i], -i))


def _table_of(row: etree._Element) -> etree._Element | None:
    return next((a for a in row.iterancestors() if tag_of(a) == "table"), None)


def _units(labels: Sequence[etree._Element], levels: int = 5) -> list[etree._Element]:
    """For each label, the largest ancestor (its card) that holds no other label of its kind."""
    counts: Counter[etree._Element] = Counter()
    chains = [list(_limited_ancestors(label, levels)) for label in labels]
    for chain in chains:
        counts.update(chain)
    units: list[etree._Element] = []
    for label, chain in zip(labels, chains, strict=True):
        unit = label
        for ancestor in chain:
            if counts[ancestor] > 1:
                break
            unit = ancestor
        units.append(unit)
    return units


def _limited_ancestors(el: etree._Element, levels: int) -> Iterator[etree._Element]:
    for depth, ancestor in enumerate(el.iterancestors()):
        if depth >= levels:
            return
        yield ancestor


def _read_structure(kind: str, labels: Sequence[etree._Element], base: str) -> list[dict[str, Any]]:
    """Items of one structure: {"name", "url", "quality"} in page order."""
    items: list[dict[str, Any]] = []
    if kind == "row":
        table = _table_of(labels[0])
        rows = [r for r in labels if not all(tag_of(c) == "th" for c in r if is_element(c))]
        column = _table_column(table, rows, base) if table is not None else 0
        for row in rows:
            cells = [c for c in row if tag_of(c) in {"td", "th"}]
            if not cells:
                continue
            cell = cells[column] if column < len(cells) else cells[0]
            link = _first_link(cell, base)
            name = link[0] if link and link[0] else _text(cell)
            url = link[1] if link else (_first_link(row, base) or (None, None))[1]
            items.append({"name": name, "url": url})
    elif kind == "list":
        for li in labels:
            name, url = _list_item(li, base)
            items.append({"name": name, "url": url})
    else:
        for label, unit in zip(labels, _units(labels), strict=True):
            name = _text(label)
            link = _first_link(label, base)
            url = link[1] if link else _ancestor_link(label, base)
            if url is None:
                unit_link = _first_link(unit, base)
                url = unit_link[1] if unit_link else None
            items.append({"name": name, "url": url})
    for item in items:
        item["quality"] = _quality(item["name"], has_link=item["url"] is not None)
    return items


def _structures(start: etree._Element) -> dict[tuple[Any, ...], tuple[str, list[etree._Element]]]:
    """Candidate structures under ``start``: label elements grouped by kind and signature.

    List items, table rows and definition terms are grouped per list or table; headings,
    card titles and bold lead-ins by signature alone, so a grid of cards split into rows is one
    structure.
    """
    found: dict[tuple[Any, ...], tuple[str, list[etree._Element]]] = {}
    for el, sig in _walk(start):
        kind = _label_kind(el)
        if kind is None:
            continue
        if kind in {"list", "term"}:
            # Elements, not id(): an lxml proxy is only stable while something holds it.
            key: tuple[Any, ...] = (kind, sig, el.getparent())
        elif kind == "row":
            key = (kind, sig, _table_of(el))
        else:
            key = (kind, sig)
        entry = found.setdefault(key, (kind, []))
        if len(entry[1]) < MAX_ITEMS:
            entry[1].append(el)
    return found


def _score(items: Sequence[dict[str, Any]]) -> float:
    good = [item["quality"] for item in items if item["quality"] > 0]
    if len(good) < 2:
        return 0.0
    # Mostly-junk structures (a menu with two names in it) lose to clean ones.
    return sum(good) * (len(good) / len(items)) ** 0.5


def _best_structure(start: etree._Element, base: str) -> list[dict[str, Any]]:
    best: list[dict[str, Any]] = []
    best_score = 0.0
    structures = _structures(start)
    # Sibling lists with one signature (groups listed under category headings) also compete
    # together, when each of them looks like groups on its own.
    per_signature: dict[tuple[Any, ...], list[list[dict[str, Any]]]] = {}
    for key, (kind, labels) in structures.items():
        if len(labels) < 2 and kind not in {"list", "term"}:
            continue
        items = _read_structure(kind, labels, base)
        score = _score(items)
        if kind in {"list", "term"} and items:
            mean = sum(i["quality"] for i in items) / len(items)
            if mean >= 1.1:
                per_signature.setdefault(key[:2], []).append(items)
        if score > best_score:
            best, best_score = items, score
    for lists in per_signature.values():
        if len(lists) < 2:
            continue
        merged = [item for items in lists for item in items]
        score = _score(merged)
        if score > best_score:
            best, best_score = merged, score
    return best


# ---------------------------------------------------------------------------------------------
# Extraction
# ---------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _selector_xpath(selector: str) -> str:
    try:
        return cssselect.HTMLTranslator().css_to_xpath(selector)
    except (cssselect.SelectorError, cssselect.xpath.ExpressionError) as exc:
        raise ValueError(f"invalid group selector {selector!r}: {exc}") from exc


def selector_error(selector: str) -> str | None:
    """Why ``selector`` is not a usable CSS selector, or None when it is (for directory checks)."""
    try:
        _selector_xpath(selector)
    except ValueError as exc:
        return str(exc)
    return None


def extract_groups(
    html_or_tree: HtmlSource | None, url: str, selector: str | None = None
) -> list[dict[str, str | None]]:
    """The groups a page lists, in page order: ``[{"name": str, "url": str | None}, ...]``.

    With ``selector`` (a CSS selector from the directory file) each matching element is one
    group, named by its text, linked by itself, its first link or an enclosing link. Without
    it, the main content (``main_content``, boilerplate skipped) is searched for the repeated
    structure with the most group-like items: list items, cards (repeated headings or
    ``.card-title``), table rows (the Group/Name/Meeting column) or a run of headings. A group
    name is short (1-12 words) and not "Read more", a date or a section heading; a single
    featured item, navigation, sidebars, footers and cookie banners are never groups.
    Names are de-duplicated by ``normalise_group_name``.

    Raises ValueError for an invalid selector (see ``selector_error``); never for bad markup.
    """
    root = as_tree(html_or_tree)
    url = url or ""
    if selector:
        xpath = _selector_xpath(selector)
        try:
            matched = root.xpath(xpath)
        except etree.XPathError:
            matched = []
        elements = [el for el in matched if is_element(el)][:MAX_ITEMS]
        items = []
        for el, unit in zip(elements, _units(elements), strict=True):
            link = _href(el, url) if tag_of(el) == "a" else None
            if link is None:
                first = _first_link(el, url) or _first_link(unit, url)
                link = first[1] if first else _ancestor_link(el, url)
            items.append({"name": _text(el), "url": link})
    else:
        main = main_content(root)
        items = _best_structure(main, url)
        if not items and main is not body_of(root):
            items = _best_structure(body_of(root), url)
        items = [item for item in items if item["quality"] > 0]
    groups: list[dict[str, str | None]] = []
    seen: set[str] = set()
    for item in items:
        name = collapse(item["name"])
        key = normalise_group_name(name)
        if key and key not in seen:
            seen.add(key)
            groups.append({"name": name, "url": item["url"]})
    return groups

"""The HTML toolkit every page reader shares: parse once, walk elements, read visible text.

Pure and forgiving: ``as_tree`` turns markup (text or bytes) into an lxml tree once and never
raises; the walkers never mutate the tree and never recurse, so deep or hostile markup cannot
exhaust the stack. ``monitor.pages.identity``, ``monitor.pages.groups`` and
``monitor.pages.links`` read pages with these, and the spider parses each page with ``as_tree``.

Imports neither scrapy, sqlalchemy nor apprise.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from itertools import repeat
from typing import Any

from lxml import etree

from monitor.pages.facts import without_controls


def phrase_set(text: str) -> frozenset[str]:
    """A set of comma-separated phrases: keeps long vocabularies readable."""
    return frozenset(p.strip() for p in text.split(",") if p.strip())


HtmlSource = str | bytes | etree._Element | etree._ElementTree
"""What every extractor accepts: markup, or a tree that ``as_tree`` already parsed."""

# Characters of page text ``visible_text`` reads, the text rename phrases are searched in.
TEXT_CAP = 200_000

# ---------------------------------------------------------------------------------------------
# Parsing and text
# ---------------------------------------------------------------------------------------------

_INVISIBLE_TAGS = phrase_set(
    "script, style, noscript, template, head, title, meta, link, svg, iframe, object, "
    "select, datalist"
)
BLOCK_TAGS = phrase_set(
    "address, article, aside, blockquote, br, dd, details, div, dl, dt, fieldset, "
    "figcaption, figure, footer, form, h1, h2, h3, h4, h5, h6, header, hr, li, main, nav, "
    "ol, p, pre, section, summary, table, tbody, td, tfoot, th, thead, tr, ul"
)


def as_tree(html_or_tree: HtmlSource | None) -> etree._Element:
    """The root element of ``html_or_tree``, parsing markup once; never raises.

    A tree or element is returned as it is. Bytes are decoded as UTF-8 (falling back to
    cp1252); control characters are dropped; an empty or unparseable document becomes an empty
    ``<html><body/></html>``. Nesting deeper than libxml2's limit is cut off, not an error.
    """
    if isinstance(html_or_tree, etree._ElementTree):
        root = html_or_tree.getroot()
        return root if root is not None else _empty_tree()
    if isinstance(html_or_tree, etree._Element):
        return html_or_tree
    if isinstance(html_or_tree, bytes | bytearray):
        text = _decode(bytes(html_or_tree))
    elif isinstance(html_or_tree, str):
        text = html_or_tree
    else:
        return _empty_tree()
    text, data = without_controls(text)
    if not text.strip():
        return _empty_tree()
    parser = etree.HTMLParser(
        recover=True, no_network=True, huge_tree=True, remove_pis=True, encoding="utf-8"
    )
    try:
        root = etree.fromstring(data, parser=parser)
    except (etree.LxmlError, ValueError):
        return _empty_tree()
    return root if root is not None else _empty_tree()


def _empty_tree() -> etree._Element:
    root = etree.Element("html")
    etree.SubElement(root, "body")
    return root


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def collapse(text: str | None) -> str:
    """``text`` with runs of whitespace made one space, and stripped."""
    # str.split() splits on exactly what a str pattern's \s matches, and drops the ends:
    # the same result as re.sub(r"\s+", " ", text).strip(), several times faster.
    return " ".join((text or "").split())


def is_element(node: Any) -> bool:
    """True for real elements; False for comments, processing instructions and entities."""
    return isinstance(node, etree._Element) and isinstance(node.tag, str)


def tag_of(node: Any) -> str:
    """The lower-case local tag name, or "" for comments and the like."""
    if not is_element(node):
        return ""
    tag = node.tag
    if "}" in tag:
        tag = tag.rsplit("}", 1)[1]
    return tag.lower()


def is_hidden(el: etree._Element) -> bool:
    """The element is hidden from readers by an attribute or an inline style."""
    if el.get("hidden") is not None or (el.get("aria-hidden") or "").strip().lower() == "true":
        return True
    style = (el.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or "visibility:hidden" in style


def visible_text(
    el: etree._Element,
    *,
    skip: Callable[[etree._Element], bool] | None = None,
    cap: int = TEXT_CAP,
) -> list[str]:
    """The readable text under ``el`` as lines: block elements break lines, inline ones don't.

    Scripts, styles, hidden elements and whatever ``skip`` returns True for are left out, with
    their subtrees. Iterative, so deep nesting cannot exhaust the Python stack.
    """
    out: list[str] = []
    size = 0
    # (node, None) enters a node; (node, block) leaves it, block saying whether it breaks the
    # line. Each element's tag is read once: this walk is a profiled hot spot.
    stack: list[tuple[Any, bool | None]] = [(el, None)]
    while stack and size < cap:
        node, leaving_block = stack.pop()
        if leaving_block is None:
            name = tag_of(node)
            if node is el:
                if not name:
                    continue
            elif not name or (skip(node) if skip else name in _INVISIBLE_TAGS or is_hidden(node)):
                if node.tail:
                    out.append(node.tail)
                    size += len(node.tail)
                continue
            block = name in BLOCK_TAGS
            if block:
                out.append("\n")
            if node.text:
                out.append(node.text)
                size += len(node.text)
            stack.append((node, block))
            stack.extend(zip(reversed(node), repeat(None)))
            continue
        if leaving_block:
            out.append("\n")
        if node is not el and node.tail:
            out.append(node.tail)
            size += len(node.tail)
    lines = (collapse(line) for line in "".join(out)[:cap].split("\n"))
    return [line for line in lines if line]


def element_text(
    el: etree._Element, *, skip: Callable[[etree._Element], bool] | None = None
) -> str:
    """The readable text under ``el`` on one line."""
    return " ".join(visible_text(el, skip=skip))


def body_of(root: etree._Element) -> etree._Element:
    """The ``<body>`` element, or the root when there is none."""
    if tag_of(root) == "body":
        return root
    body = root.find("body")
    if body is None:
        body = next(root.iter("body"), None)
    return body if body is not None else root


def classes_and_id(el: etree._Element) -> list[str]:
    """The element's class tokens and id, lower-cased."""
    tokens = (el.get("class") or "").lower().split()
    ident = (el.get("id") or "").strip().lower()
    if ident:
        tokens.append(ident)
    return tokens

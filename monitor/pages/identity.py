"""Who a page says it is: the names it gives itself in its title, meta tags, schema.org, footer
and logo, and the rename statements it makes.

Pure functions over HTML, called by the spider on every page and by detection on stored facts.
They accept a string, bytes or an already-parsed lxml tree (parse once with
``monitor.pages.html.as_tree`` and pass the tree to ``extract_identity``,
``monitor.pages.groups`` and ``monitor.pages.links``); they never mutate the tree and never
raise on hostile markup. Results are plain JSON-serialisable dicts. Whether two names are the
same is ``monitor.pages.names``; whether the names amount to a rename is judged by
``monitor.judging.rename``.

    >>> identity = extract_identity(
    ...     '<title>Home | Entertainment Community Fund</title>'
    ...     '<p>Entertainment Community Fund (formerly The Actors Fund)</p>'
    ...     '<footer>© 2026 Entertainment Community Fund. All rights reserved.</footer>',
    ...     "https://entertainmentcommunity.org/",
    ... )
    >>> identity["title_name"], identity["former_names"], identity["copyright_holder"]
    ('Entertainment Community Fund', ['The Actors Fund'], 'Entertainment Community Fund')

Imports neither scrapy, sqlalchemy nor apprise.
"""

from __future__ import annotations

import html as htmllib
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree

from monitor.pages.html import (
    HtmlSource,
    as_tree,
    body_of,
    classes_and_id,
    collapse,
    element_text,
    phrase_set,
    tag_of,
    visible_text,
)
from monitor.pages.names import NAME_CHARS, is_generic_name, title_name
from monitor.pages.rename_phrases import rename_phrases

TITLE_CHARS = 500


def _host(url: str | None) -> str | None:
    try:
        return urlsplit(url or "").hostname
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# The title
# ---------------------------------------------------------------------------------------------

_TAG_IN_TEXT = re.compile(r"<(script|style)\b.*?(?:</\1\s*>|$)|<[^>]*>", re.IGNORECASE | re.DOTALL)


def _raw_title(root: etree._Element) -> str | None:
    for el in root.iter("title"):
        if any(tag_of(parent) == "svg" for parent in el.iterancestors()):
            continue  # an <svg><title> is a tooltip, not the page title
        text = "".join(t for t in el.itertext() if isinstance(t, str))
        text = collapse(htmllib.unescape(_TAG_IN_TEXT.sub(" ", text)))
        return text[:TITLE_CHARS] or None
    return None


# ---------------------------------------------------------------------------------------------
# Meta tags, JSON-LD and microdata
# ---------------------------------------------------------------------------------------------

_ORG_TYPES = phrase_set(
    "organization, ngo, website, corporation, localbusiness, nonprofitorganization, "
    "nonprofit, medicalorganization, educationalorganization, governmentorganization, "
    "professionalservice, consortium, fundingscheme, onlinebusiness, researchorganization, "
    "sportsorganization, workersunion, charity"
)
_JSON_MAX_NODES = 5_000
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


def _meta_content(root: etree._Element, *keys: str) -> str | None:
    wanted = {k.lower() for k in keys}
    for meta in root.iter("meta"):
        key = (meta.get("property") or meta.get("name") or "").strip().lower()
        if key in wanted:
            value = collapse(htmllib.unescape(meta.get("content") or ""))
            if value:
                return value[:NAME_CHARS]
    return None


def _load_json(text: str) -> list[Any]:
    """Parse a JSON-LD blob, mending the usual damage; [] when it cannot be read."""
    text = text.strip()
    for junk in ("//<![CDATA[", "//]]>", "<![CDATA[", "]]>", "<!--", "-->"):
        text = text.replace(junk, "")
    text = text.strip().rstrip(";")
    if not text:
        return []
    for candidate in (text, _TRAILING_COMMA.sub(r"\1", text)):
        try:
            return [json.loads(candidate, strict=False)]
        except (ValueError, RecursionError):
            pass
    # Several objects in a row, or garbage after the first: keep what decodes.
    decoder = json.JSONDecoder(strict=False)
    found: list[Any] = []
    position = 0
    while position < len(text):
        start = text.find("{", position)
        if start == -1:
            break
        try:
            value, end = decoder.raw_decode(text, start)
        except (ValueError, RecursionError):
            position = start + 1
            continue
        found.append(value)
        position = end
    return found


def _json_nodes(data: Any) -> Iterator[dict[str, Any]]:
    stack = [data]
    seen = 0
    while stack and seen < _JSON_MAX_NODES:
        node = stack.pop()
        seen += 1
        if isinstance(node, dict):
            yield node
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, list):
            stack.extend(reversed(node))


def _schema_type_names(value: Any) -> set[str]:
    types = value if isinstance(value, list) else [value]
    out = set()
    for item in types:
        if isinstance(item, str):
            out.add(item.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1].lower())
    return out


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        text = collapse(htmllib.unescape(value))
        return [text[:NAME_CHARS]] if text else []
    if isinstance(value, dict):
        return _strings(value.get("@value"))
    if isinstance(value, list):
        return [s for item in value[:20] for s in _strings(item)]
    return []


def _add_unique(target: list[str], values: Iterable[str]) -> None:
    seen = {v.casefold() for v in target}
    for value in values:
        if value and value.casefold() not in seen:
            seen.add(value.casefold())
            target.append(value)


def _schema_names(root: etree._Element) -> tuple[list[str], list[str]]:
    """(names, alternate names) of schema.org organisations and websites on the page."""
    names: list[str] = []
    alternates: list[str] = []
    for script in root.iter("script"):
        if not (script.get("type") or "").strip().lower().startswith("application/ld+json"):
            continue
        for data in _load_json(script.text or ""):
            for node in _json_nodes(data):
                if _schema_type_names(node.get("@type")) & _ORG_TYPES:
                    _add_unique(names, _strings(node.get("name")) + _strings(node.get("legalName")))
                    _add_unique(alternates, _strings(node.get("alternateName")))
    # Microdata: itemprop=name whose nearest item scope is an organisation.
    for el in root.xpath("//*[@itemprop]"):
        props = set((el.get("itemprop") or "").lower().split())
        wanted = props & {"name", "legalname", "alternatename"}
        if not wanted:
            continue
        scope = next((a for a in el.iterancestors() if a.get("itemscope") is not None), None)
        if scope is None or not (
            _schema_type_names(scope.get("itemtype", "").split()) & _ORG_TYPES
        ):
            continue
        value = el.get("content") or element_text(el)
        target = alternates if wanted == {"alternatename"} else names
        _add_unique(target, _strings(value))
    return names, alternates


def page_types(html_or_tree: HtmlSource | None) -> list[str]:
    """What a page says it is: its schema.org types and ``og:type``, lower-cased, in order.

    JSON-LD ``@type`` (every node, ``@graph`` included) and microdata ``itemtype``, then
    ``og:type`` as ``og:<value>``:

        >>> page_types('<meta property="og:type" content="article">'
        ...            '<script type="application/ld+json">{"@type": "NewsArticle"}</script>')
        ['newsarticle', 'og:article']
    """
    root = as_tree(html_or_tree)
    found: list[str] = []
    for script in root.iter("script"):
        if not (script.get("type") or "").strip().lower().startswith("application/ld+json"):
            continue
        for data in _load_json(script.text or ""):
            for node in _json_nodes(data):
                _add_unique(found, sorted(_schema_type_names(node.get("@type"))))
    for el in root.xpath("//*[@itemtype]"):
        _add_unique(found, sorted(_schema_type_names((el.get("itemtype") or "").split())))
    og_type = _meta_content(root, "og:type")
    if og_type:
        _add_unique(found, [f"og:{og_type.lower()}"])
    return found[:50]


def meta_description(html_or_tree: HtmlSource | None) -> str | None:
    """The page's ``<meta name="description">``, else its ``og:description``."""
    root = as_tree(html_or_tree)
    return _meta_content(root, "description") or _meta_content(root, "og:description")


# ---------------------------------------------------------------------------------------------
# Footer copyright and logo
# ---------------------------------------------------------------------------------------------

_COPYRIGHT = re.compile(
    # "(c)" is a copyright sign, except inside "501(c)(3)", the US nonprofit status.
    r"(?:©|&copy;|(?<![\w)])\(c\)|\bcopyright\b)(?:\s*(?:©|\(c\)|\bcopyright\b))*\s*"
    r"(?:(?:\d{4})(?:\s*[-–—/]\s*(?:\d{4}|present|now))?\s*[,.]?\s*)?"
    r"(?P<holder>.{2,160})",
    re.IGNORECASE,
)
_HOLDER_END = re.compile(
    r"\ball rights reserved|\bsome rights reserved|\ball rights|[|•·]|\s[-–—]\s|\bpowered by\b|"
    r"\bregistered (?:charity|in)\b|\bcharity (?:no|number)\b|\bprivacy\b|\bterms\b|\bdesign(?:ed)? by\b|"
    r"\bwebsite by\b|\bsite by\b|\bmade with\b|\b(?:ein|abn|registered)\b|"
    r"(?<!\bSt)(?<!\bMt)(?<!\bDr)(?<!\bNo)\.\s",
    re.IGNORECASE,
)
_TRAILING_YEARS = re.compile(r"[\s,]*\d{4}(?:\s*[-–—]\s*(?:\d{4}|present))?\s*$", re.IGNORECASE)
_FOOTER_TOKEN = re.compile(r"(?:^|[-_])(?:footer|colophon|copyright)(?:$|[-_])")


def _is_footer(el: etree._Element) -> bool:
    if tag_of(el) == "footer" or (el.get("role") or "").lower() == "contentinfo":
        return True
    return any(_FOOTER_TOKEN.search(token) for token in classes_and_id(el))


def _holder_from_line(line: str) -> str | None:
    for match in _COPYRIGHT.finditer(line):
        holder = match.group("holder")
        end = _HOLDER_END.search(holder)
        if end:
            holder = holder[: end.start()]
        holder = _TRAILING_YEARS.sub("", holder)
        holder = re.sub(r"^(?:by|the copyright holder)\s+", "", holder.strip(), flags=re.IGNORECASE)
        holder = collapse(holder).strip(" ,;:.-–—")
        if (
            holder
            and not holder[0].isdigit()
            and len(holder.split()) <= 10
            and not is_generic_name(holder)
        ):
            return holder[:NAME_CHARS]
    return None


_FOOTER_WORDS = ("footer", "colophon", "copyright")


def _footers(root: etree._Element) -> list[etree._Element]:
    """The outermost footer-like elements, in document order.

    One walk with plain string tests picks the candidates; an XPath with a case-folding
    ``translate()`` per attribute and word cost three times as much on every page.
    """
    found: list[etree._Element] = []
    for el in root.iter("*"):
        if not isinstance(el.tag, str):
            continue
        if el.tag != "footer" and el.get("role") != "contentinfo":
            names = f"{el.get('class') or ''} {el.get('id') or ''}".lower()
            if not any(word in names for word in _FOOTER_WORDS):
                continue
        if _is_footer(el) and not any(a in found for a in el.iterancestors()):
            found.append(el)
    return found


def _copyright_holder(root: etree._Element, body_lines: Sequence[str]) -> str | None:
    for footer in _footers(root):
        for line in visible_text(footer):
            holder = _holder_from_line(line)
            if holder:
                return holder
    for line in reversed(body_lines[-40:]):
        holder = _holder_from_line(line)
        if holder:
            return holder
    return None


_LOGO_WORDS = re.compile(
    r"^(?:(?:the\s+)?(?:official\s+)?logo(?:\s+(?:of|for))?|go to (?:the )?home\s*page|"
    r"home\s*page|back to home|home)\s*[:\-–]?\s+|"
    r"\s*[:\-–]?\s+(?:logo(?:type)?|official logo|home\s*page|home)(?:\s+image)?$",
    re.IGNORECASE,
)
_HEADER_TOKEN = re.compile(r"header|masthead|navbar|brand|branding|banner|topbar|top-bar")
_CONTENT_TOKEN = re.compile(
    r"^(?:content|main|main-content|entry-content|sidebar|partners?|sponsors?)$"
)


def _clean_logo_alt(alt: str | None) -> str | None:
    text = collapse(alt)
    for _ in range(3):
        stripped = _LOGO_WORDS.sub("", text).strip()
        if stripped == text:
            break
        text = stripped
    if is_generic_name(text) or len(text.split()) > 12:
        return None
    return text[:NAME_CHARS]


def _is_home_link(href: str | None, url: str) -> bool:
    if href is None:
        return False
    href = href.strip()
    if href in {"/", "./", "#", "index.html", "index.php", "/index.html", "/index.php"}:
        return True
    try:
        target = urlsplit(urljoin(url, href))
        base = urlsplit(url)
    except ValueError:
        return False
    return target.hostname == base.hostname and target.path in {"", "/"} and not target.query


def _logo_alt(root: etree._Element, url: str) -> str | None:
    """Alt text of the site's own logo: an img in the header or in a link home, or named logo.

    Partner and sponsor logos in the content or the footer score below zero and are ignored.
    """
    best: tuple[int, str] | None = None
    for img in root.iter("img"):
        own = " ".join([img.get("class") or "", img.get("id") or "", img.get("src") or ""])
        mentions_logo = "logo" in own.lower()
        in_header = in_footer = in_content = seen_link = False
        home: etree._Element | None = None
        for ancestor in img.iterancestors():
            tag = tag_of(ancestor)
            tokens = classes_and_id(ancestor)
            if tag == "a" and not seen_link:
                seen_link = True
                if _is_home_link(ancestor.get("href"), url):
                    home = ancestor
                mentions_logo = mentions_logo or any("logo" in t or "brand" in t for t in tokens)
            if (
                tag == "header"
                or (ancestor.get("role") or "").lower() == "banner"
                or (
                    any(_HEADER_TOKEN.search(t) for t in tokens)
                    and not any("card" in t for t in tokens)
                )
            ):
                in_header = True
            if tag == "aside" or _is_footer(ancestor):
                in_footer = True
            if tag in {"main", "article"} or any(_CONTENT_TOKEN.match(t) for t in tokens):
                in_content = True
        if not (mentions_logo or home is not None):
            continue
        score = (
            2 * in_header + 2 * (home is not None) + mentions_logo - 2 * in_footer - 2 * in_content
        )
        if score < 1:
            continue
        alt = _clean_logo_alt(img.get("alt"))
        if alt is None and home is not None:
            alt = _clean_logo_alt(home.get("aria-label") or home.get("title"))
        if alt and (best is None or score > best[0]):
            best = (score, alt)
    return best[1] if best else None


# ---------------------------------------------------------------------------------------------
# Identity
# ---------------------------------------------------------------------------------------------


def extract_identity(html_or_tree: HtmlSource | None, url: str) -> dict[str, Any]:
    """What the page says the organisation is called, from every place a site names itself.

    Returns a JSON-serialisable dict:

    - ``title``: the ``<title>`` text (whitespace collapsed), or None
    - ``title_name``: the name inside the title, without page names and taglines
    - ``og_site_name``: ``<meta property="og:site_name">``
    - ``schema_names``: schema.org Organization/NGO/WebSite ``name``, ``legalName`` and
      ``alternateName`` from JSON-LD (``@graph`` and lists included) and microdata;
      ``schema_alternate_names`` holds just the alternate names
    - ``copyright_holder``: from the footer's copyright line
    - ``logo_alt``: the alt text of the site's logo, "logo" wording removed
    - ``former_names``, ``new_names``, ``merged_into``: names from rename phrases ("formerly
      X", "X is now Y", "we are now Y", "merged with Z"); ``rename_phrases`` keeps each
      statement as ``{"kind", "text", "old", "new", "merged_into", "subject"}`` for evidence
    """
    root = as_tree(html_or_tree)
    url = url or ""
    body_lines = visible_text(body_of(root))
    title = _raw_title(root)
    og_site_name = _meta_content(root, "og:site_name")
    primary_schema, schema_alternates = _schema_names(root)
    schema_names = list(primary_schema)
    _add_unique(schema_names, schema_alternates)
    copyright_holder = _copyright_holder(root, body_lines)
    logo_alt = _logo_alt(root, url)
    hints = [h for h in (og_site_name, *primary_schema, logo_alt, copyright_holder) if h]
    host = _host(url)
    phrases = rename_phrases(body_lines)
    former: list[str] = []
    new: list[str] = []
    merged: list[str] = []
    for phrase in phrases:
        _add_unique(former, [phrase["old"]] if phrase["old"] else [])
        if phrase["new"] and phrase["kind"] in {"is_now", "new_name"}:
            _add_unique(new, [phrase["new"]])
        _add_unique(merged, [phrase["merged_into"]] if phrase["merged_into"] else [])
    return {
        "title": title,
        "title_name": title_name(title, hints=hints, host=host),
        "og_site_name": og_site_name,
        "schema_names": schema_names,
        "schema_alternate_names": schema_alternates,
        "copyright_holder": copyright_holder,
        "logo_alt": logo_alt,
        "former_names": former,
        "new_names": new,
        "merged_into": merged,
        "rename_phrases": phrases,
    }

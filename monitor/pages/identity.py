"""Who a page says it is: its names, its rename phrases, and whether two names are the same.

Pure functions over HTML, called by the spider on every page and by detection on stored facts.
They accept a string, bytes or an already-parsed lxml tree (parse once with ``as_tree`` and
pass the tree to ``extract_identity``, ``monitor.pages.groups`` and ``monitor.pages.links``); they never
mutate the tree and never raise on hostile markup. Results are plain JSON-serialisable dicts.

    >>> identity = extract_identity(
    ...     '<title>Home | Entertainment Community Fund</title>'
    ...     '<p>Entertainment Community Fund (formerly The Actors Fund)</p>'
    ...     '<footer>© 2026 Entertainment Community Fund. All rights reserved.</footer>',
    ...     "https://entertainmentcommunity.org/",
    ... )
    >>> identity["title_name"], identity["former_names"], identity["copyright_holder"]
    ('Entertainment Community Fund', ['The Actors Fund'], 'Entertainment Community Fund')
    >>> detect_rename("The Actors Fund", [], identity)["new_name"]
    'Entertainment Community Fund'

Imports neither scrapy, sqlalchemy nor apprise.
"""

from __future__ import annotations

import codecs
import functools
import html as htmllib
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import repeat
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree
from rapidfuzz import fuzz

from monitor.pages.facts import without_controls


def _phrases(text: str) -> frozenset[str]:
    """A set of comma-separated phrases: keeps long vocabularies readable."""
    return frozenset(p.strip() for p in text.split(",") if p.strip())


HtmlSource = str | bytes | etree._Element | etree._ElementTree
"""What every extractor accepts: markup, or a tree that ``as_tree`` already parsed."""

NAME_MATCH_THRESHOLD = 88
"""rapidfuzz token_sort_ratio (and guarded token_set_ratio) at or above which names agree."""
SQUASHED_MATCH_THRESHOLD = 90
"""rapidfuzz ratio of the names with spaces removed ("Nurse Groups" ~ "NurseGroup")."""
MIN_RENAME_SIGNALS = 2
"""Independent signals that must agree on a new name before a rename is reported."""

TEXT_CAP = 200_000  # characters of page text searched for rename phrases
TITLE_CHARS = 500
NAME_CHARS = 200

# ---------------------------------------------------------------------------------------------
# Parsing and text
# ---------------------------------------------------------------------------------------------

_INVISIBLE_TAGS = _phrases(
    "script, style, noscript, template, head, title, meta, link, svg, iframe, object, "
    "select, datalist"
)
BLOCK_TAGS = _phrases(
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


# ---------------------------------------------------------------------------------------------
# Name normalisation and matching
# ---------------------------------------------------------------------------------------------

_TITLE_SEPARATORS = re.compile(r"\s+[-:~]\s+|\s*[|–—·»•«]\s*|(?<=\w):\s+")
_PAGE_WORDS = _phrases(
    "home, homepage, home page, welcome, official site, official website, "
    "the official site, the official website, main page, front page, start, start page, "
    "index, untitled, page, about, about us, who we are, contact, contact us, blog, news, "
    "events, resources, programs, programmes, services, groups, support groups, "
    "our groups, find a group, find support, get help, get support, donate, faq, faqs, "
    "team, our team, login, log in, sign in, search, search results, privacy policy, "
    "terms"
)
_WELCOME_PREFIX = re.compile(r"^(?:welcome\s+to|bienvenue\s+(?:à|a|chez))\s+", re.IGNORECASE)
_HOME_SUFFIX = re.compile(
    r"\s+(?:home\s*page|homepage|home|official\s+(?:web)?site|website|web\s+site)$", re.IGNORECASE
)
# Names that say something about the page, not the organisation (error pages, parking, walls).
_GENERIC_NAME = re.compile(
    r"^(?:\d{3}|not found|page not found|file not found|error|access denied|forbidden|"
    r"just a moment|attention required|coming soon|under construction|maintenance|"
    r"site (?:not found|unavailable|suspended)|account suspended|index of .*|it works|"
    r"default (?:web )?(?:site|page)|welcome to nginx|apache.*default page|"
    r"(?:this )?domain (?:is )?(?:for sale|parked)|parked domain|logo|home|homepage|menu|"
    r"all rights reserved|wordpress|squarespace|wix(?:\.com)?|godaddy|hugedomains(?:\.com)?|"
    r"sedo|dan\.com|cloudflare|untitled|untitled document|new page|my site|my blog|"
    r"loading(?:\.\.\.|…)?|please wait(?:\.\.\.|…)?|react app|vite app)$",
    re.IGNORECASE,
)
_LEGAL_SUFFIXES = frozenset(
    {"inc", "incorporated", "llc", "pllc", "ltd", "limited", "corp", "corporation", "plc", "cic"}
)
_ACRONYM_STOP = frozenset({"of", "for", "and", "the", "in", "on", "at", "to", "a", "an", "&"})
_DOMAIN_TAIL = re.compile(
    r"\.(?:org|com|net|edu|gov|info|io|co|us|ca|uk|au|nz|ie|eu|de|fr|test|example)"
    r"(?:\.(?:uk|au|nz|ca))?$",
    re.IGNORECASE,
)
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_PARENS = re.compile(r"\s*[(\[][^)\]]*[)\]]")
_APOSTROPHES = re.compile(r"['’‘`´]")
_NON_WORD = re.compile(r"[^\w]+|_")


def _normalise_name(name: str) -> str:
    """Lower-case word tokens of a name, without 'the', legal suffixes and parentheses."""
    text = unicodedata.normalize("NFKC", name or "").strip()
    unbracketed = _PARENS.sub(" ", text).strip()
    if unbracketed:
        text = unbracketed
    text = _DOMAIN_TAIL.sub("", text)
    text = _CAMEL.sub(" ", text)
    text = text.casefold().replace("&", " and ")
    text = _APOSTROPHES.sub("", text)
    tokens = _NON_WORD.sub(" ", text).split()
    if all(len(t) == 1 for t in tokens) and len(tokens) > 1:
        tokens = ["".join(tokens)]  # "E.C.F." -> "ecf"
    if len(tokens) > 1 and tokens[0] == "the":
        tokens = tokens[1:]
    while len(tokens) > 1 and tokens[-1] in _LEGAL_SUFFIXES:
        tokens = tokens[:-1]
    return " ".join(tokens)


def _name_variants(name: str) -> tuple[str, ...]:
    """The whole name and each of its title segments, normalised, page words dropped."""
    if len(name) <= _CACHED_NAME_CHARS:
        return _cached_name_variants(name)
    return _compute_name_variants(name)


# Judging a run compares each page's names with the listed name and aliases, the same few
# strings again and again: normalising them was a third of the time a run took to conclude.
# Only names are cached, never page text.
_CACHED_NAME_CHARS = 300


def _compute_name_variants(name: str) -> tuple[str, ...]:
    variants: list[str] = []
    for part in [name, *_title_segments(name)]:
        norm = _normalise_name(part)
        if norm and norm not in _PAGE_WORDS and norm not in variants:
            variants.append(norm)
    return tuple(variants)


_cached_name_variants = functools.lru_cache(maxsize=4096)(_compute_name_variants)


def _acronyms(tokens: Sequence[str]) -> set[str]:
    if len(tokens) < 2:
        return set()
    every = "".join(t[0] for t in tokens)
    content = "".join(t[0] for t in tokens if t not in _ACRONYM_STOP)
    with_amp = "".join(t[0] for t in tokens if t != "and")
    return {a for a in (every, content, with_amp) if len(a) >= 2}


def _normalised_match(a: str, b: str) -> bool:
    if not a or not b:
        return False
    if a == b:
        return True
    squashed_a, squashed_b = a.replace(" ", ""), b.replace(" ", "")
    if squashed_a == squashed_b:
        return True
    if (
        min(len(squashed_a), len(squashed_b)) >= 6
        and fuzz.ratio(squashed_a, squashed_b) >= SQUASHED_MATCH_THRESHOLD
    ):
        return True
    tokens_a, tokens_b = a.split(), b.split()
    if fuzz.token_sort_ratio(a, b) >= NAME_MATCH_THRESHOLD:
        return True
    # One name extends the other ("Actors Fund" ~ "Actors Fund of America"), by little enough.
    short, long = sorted((set(tokens_a) - _ACRONYM_STOP, set(tokens_b) - _ACRONYM_STOP), key=len)
    if (
        len(short) >= 2
        and len(short) / len(long) >= 0.6
        and fuzz.token_set_ratio(a, b) >= NAME_MATCH_THRESHOLD
    ):
        return True
    for one, other in ((tokens_a, tokens_b), (tokens_b, tokens_a)):
        if len(one) == 1 and 2 <= len(one[0]) <= 10 and one[0] in _acronyms(other):
            return True
    return False


def names_match(a: str | None, b: str | None) -> bool:
    """Whether two names denote the same organisation.

    Tolerates case, punctuation, a leading "the", legal suffixes ("Inc", "Ltd"), a domain
    ending (".org"), parenthesised additions, CamelCase ("NurseGroups" ~ "Nurse Groups"),
    title decoration ("Home | NurseGroups") and small spelling differences (rapidfuzz
    token_sort_ratio >= 88). One name may be the acronym of the other ("ECF" ~
    "Entertainment Community Fund"). Meaningful words such as "Foundation" or "Fund" are kept.

        >>> names_match("Home | NurseGroups", "nursegroups"), names_match("ECF", "Entertainment Community Fund")
        (True, True)
        >>> names_match("The Actors Fund", "Entertainment Community Fund")
        False
    """
    if not a or not b:
        return False
    variants_b = _name_variants(b)
    return any(_normalised_match(va, vb) for va in _name_variants(a) for vb in variants_b)


def _contains_name(text: str, name: str) -> bool:
    """``name`` occurs in ``text`` as whole words, after normalisation."""
    needle = _normalise_name(name)
    if not needle:
        return False
    hay = f" {_normalise_name(text)} "
    return f" {needle} " in hay


def is_generic_name(name: str | None) -> bool:
    """The name describes a page state (error, parking, placeholder), not an organisation."""
    text = collapse(name).rstrip(" .…!?:")
    return not text or bool(_GENERIC_NAME.match(text)) or not any(ch.isalpha() for ch in text)


def host_label(host: str | None) -> str:
    """The distinctive label of a host: "www.entertainmentcommunity.org" -> "entertainmentcommunity"."""
    if not host:
        return ""
    if "://" in host:
        host = urlsplit(host).hostname or ""
    labels = [lab for lab in host.lower().strip(".").split(".") if lab]
    if len(labels) < 2:
        return labels[0] if labels else ""
    body = [
        lab
        for lab in labels[:-1]
        if lab not in {"www", "m", "co", "com", "org", "net", "ac", "gov", "edu"}
    ]
    return max(body, key=len) if body else ""


def _host(url: str | None) -> str | None:
    try:
        return urlsplit(url or "").hostname
    except ValueError:
        return None


def _matches_host(name: str, host: str | None) -> bool:
    label = host_label(host).replace("-", "")
    norm = _normalise_name(name)
    squashed = norm.replace(" ", "")
    if not label or not squashed:
        return False
    if squashed == label or label in _acronyms(norm.split()):
        return True
    return len(squashed) >= 5 and len(label) >= 5 and (squashed in label or label in squashed)


# ---------------------------------------------------------------------------------------------
# The title
# ---------------------------------------------------------------------------------------------

_TAG_IN_TEXT = re.compile(r"<(script|style)\b.*?(?:</\1\s*>|$)|<[^>]*>", re.IGNORECASE | re.DOTALL)
_SMALL_WORDS = frozenset(
    {"of", "for", "and", "the", "a", "an", "in", "on", "at", "to", "by", "with", "&"}
)
_TAGLINE_WORDS = _phrases(
    "for, by, with, your, you, we, our, us, who, where, when, helping, supporting, "
    "together, since, because, is, are"
)


def _title_segments(title: str) -> list[str]:
    parts = [collapse(p) for p in _TITLE_SEPARATORS.split(title or "")]
    return [p for p in parts if p]


def _strip_page_words(segment: str) -> str:
    text = _WELCOME_PREFIX.sub("", segment).strip()
    stripped = _HOME_SUFFIX.sub("", text).strip()
    text = stripped or text
    if _normalise_name(text) in _PAGE_WORDS or text.casefold() in _PAGE_WORDS:
        return ""
    return text


def _name_likeness(segment: str, hints: Sequence[str], host: str | None) -> float:
    words = segment.split()
    score = 0.0
    if any(names_match(segment, hint) for hint in hints):
        score += 10
    if _matches_host(segment, host):
        score += 5
    content = [w for w in words if w.casefold() not in _SMALL_WORDS]
    if content:
        capitalised = sum(1 for w in content if w[:1].isupper() or w[:1].isdigit())
        score += 2 * capitalised / len(content)
    if any(w.casefold().strip(",.!?") in _TAGLINE_WORDS for w in words):
        score -= 1.5
    if len(words) > 6:
        score -= 0.5 * (len(words) - 6)
    if any(ch in segment for ch in ",!?"):
        score -= 1
    if re.search(r"[a-z][A-Z]", segment) or (segment.isupper() and len(segment) <= 10):
        score += 0.5
    return score


def title_name(
    title: str | None, *, hints: Sequence[str] = (), host: str | None = None
) -> str | None:
    """The organisation's name inside a page title, without page names and taglines.

    The title is split on ``| – — - : · »``; page names ("Home", "Welcome", "About us") are
    dropped; of what is left, the segment most like a proper name wins: one that agrees with a
    ``hints`` name (og:site_name, schema.org) or the ``host``, capitalised, short, without
    tagline words. A title with one segment is kept as it is.

        >>> title_name("Home | NurseGroups"), title_name("NurseGroups – support for nurses")
        ('NurseGroups', 'NurseGroups')
    """
    segments = [s for s in (_strip_page_words(p) for p in _title_segments(title or "")) if s]
    segments = [s[:NAME_CHARS] for s in segments if not is_generic_name(s)]
    if not segments:
        return None
    if len(segments) == 1:
        return segments[0]
    best, best_score = segments[-1], float("-inf")
    # Ties go to the later segment: "Page – Site" is the commonest pattern.
    for segment in segments:
        score = _name_likeness(segment, hints, host)
        if score >= best_score:
            best, best_score = segment, score
    return best


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

_ORG_TYPES = _phrases(
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
# Rename phrases
# ---------------------------------------------------------------------------------------------

_UPPER = "A-Z0-9À-ÖØ-Þ"
_WORD = rf"[{_UPPER}][\w'’&.\-]*"
_JOIN = r"(?:of|for|and|the|in|on|at|to|&|de|du|des|la|le|y|e|und)"
_NAME = rf"(?:[Tt]he\s+)?{_WORD}(?:\s+(?:{_JOIN}\s+){{0,2}}{_WORD}){{0,7}}"
_FORMERLY = re.compile(
    rf"(?:(?P<new>{_NAME})\s*[,(\[–—-]?\s*)?"
    rf"(?i:\b(?:formerly|previously)(?:\s+known\s+as|\s+called|\s+named)?|\boriginally\s+(?:known\s+as|called|named))"
    rf"\s*:?\s+"
    rf"(?P<old>{_NAME})"
)
_IS_NOW = re.compile(
    rf"(?P<old>{_NAME})\s+(?i:is\s+now\s+(?:called\s+|known\s+as\s+|named\s+)?|has\s+become\s+|"
    rf"has\s+been\s+renamed\s+(?:to\s+|as\s+)?|was\s+renamed\s+(?:to\s+|as\s+)?|"
    rf"(?:has\s+|have\s+)?changed\s+(?:our|its|their)\s+name\s+to\s+|became\s+)(?P<new>{_NAME})"
)
_WE_ARE_NOW = re.compile(
    rf"(?i:\b(?:we\s+are\s+now|we[’']re\s+now|we\s+have\s+(?:a\s+)?new\s+name:?|now\s+known\s+as|"
    rf"(?:have\s+|has\s+)?changed\s+(?:our|its|their)\s+name\s+to|renamed\s+(?:to\s+|as\s+)?|"
    rf"our\s+new\s+name\s+is))\s+(?P<new>{_NAME})"
)
_MERGED = re.compile(
    rf"(?i:\b(?:is\s+now\s+(?:a\s+)?part\s+of|(?:has\s+|have\s+)?merged\s+(?:with|into)|"
    rf"is\s+now\s+a\s+program(?:me)?\s+of|joined\s+forces\s+with))\s+(?P<target>{_NAME})"
)
# Who merged, read just before the merger verb, so that news about somebody else's merger
# ("City Nurses, which has merged with ...") can be told from the page's own ("We have
# merged with ..."). Searched in a short window, not the whole line: cost stays per match.
_MERGER_SUBJECT = re.compile(
    rf"(?<![\w'’&.\-])(?P<subject>{_NAME})(?:\s*,\s*(?i:which|who|that))?\s+\Z"
)
_SUBJECT_WINDOW = 300
_PHRASE_HINT = re.compile(
    r"formerly|previously|originally|is now|now known|renamed|changed (?:our|its|their) name|"
    r"we are now|we[’']re now|new name|has become|became|merged|joined forces|part of",
    re.IGNORECASE,
)
# Plain lower-case words, at least one of which every _PHRASE_HINT match contains: one pass
# of ``in`` over the page says whether any line needs the regexes (most pages: none), ten
# times cheaper than the case-blind regex on every line.
_PHRASE_WORDS = (
    "formerly",
    "previously",
    "originally",
    "is now",
    "now known",
    "renamed",
    "changed",
    "re now",
    "new name",
    "has become",
    "became",
    "merged",
    "joined forces",
    "part of",
)
_NOT_A_NAME = _phrases(
    "we, our, us, it, its, this, that, they, he, she, i, you, here, open, closed, "
    "available, live, online, accepting, offering, hiring, able, part, on, in, a, an, the, "
    "more, also, now, again"
)
_LEADING_FILLER = _phrases(
    "in, on, as, since, from, after, today, now, effective, starting, note, news, update, "
    "announcement, and, but, so, yes, january, february, march, april, may, june, july, "
    "august, september, october, november, december"
)


def _clean_phrase_name(name: str | None) -> str | None:
    if not name:
        return None
    words = collapse(name).split()
    while words and (
        words[0].casefold().strip(",.") in _LEADING_FILLER or words[0].strip(",.").isdigit()
    ):
        words = words[1:]
    if words and words[0] == "the":
        words = words[1:]
    text = " ".join(words).strip(" .,;:!?\"'’)]-–—")
    if (
        not text
        or text.casefold() in _NOT_A_NAME
        or text.split()[0].casefold() in {"we", "our", "it"}
    ):
        return None
    if is_generic_name(text) or len(text) > NAME_CHARS:
        return None
    return text


def _rename_phrases(lines: Iterable[str]) -> list[dict[str, Any]]:
    """Each rename or merger statement: {"kind", "text", "old", "new", "merged_into", "subject"}.

    ``kind`` is "formerly" ("Y (formerly X)"), "is_now" ("X is now Y"), "new_name" ("we are
    now Y") or "merged" ("X has merged with Z"). ``subject`` is, for a merger, the name of
    who merged (X), None when the page says "we" or names nobody.
    """
    found: list[dict[str, Any]] = []
    seen: set[tuple[Any, ...]] = set()

    def add(
        kind: str,
        text: str,
        old: str | None,
        new: str | None,
        merged: str | None,
        subject: str | None = None,
    ) -> None:
        key = (old, new, merged, subject)
        if (old or merged or (new and kind != "formerly")) and key not in seen:
            seen.add(key)
            text = collapse(text).rstrip(" ,;:")[:300]
            if text.count("(") > text.count(")"):
                text += ")"
            found.append(
                {
                    "kind": kind,
                    "text": text,
                    "old": old,
                    "new": new,
                    "merged_into": merged,
                    "subject": subject,
                }
            )

    lines = list(lines)
    page = "\n".join(lines).lower()
    if not any(words in page for words in _PHRASE_WORDS):
        return found
    for line in lines:
        if len(found) >= 20:
            break
        if not _PHRASE_HINT.search(line):
            continue
        for m in _FORMERLY.finditer(line):
            old, new = _clean_phrase_name(m.group("old")), _clean_phrase_name(m.group("new"))
            add("formerly", m.group(0), old, new, None)
        for m in _IS_NOW.finditer(line):
            old, new = _clean_phrase_name(m.group("old")), _clean_phrase_name(m.group("new"))
            add("is_now", m.group(0), old, new, None)
        for m in _WE_ARE_NOW.finditer(line):
            add("new_name", m.group(0), None, _clean_phrase_name(m.group("new")), None)
        for m in _MERGED.finditer(line):
            who = _MERGER_SUBJECT.search(line, max(0, m.start() - _SUBJECT_WINDOW), m.start())
            add(
                "merged",
                line[who.start() : m.end()] if who else m.group(0),
                None,
                None,
                _clean_phrase_name(m.group("target")),
                _clean_phrase_name(who.group("subject") if who else None),
            )
    return found


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
    phrases = _rename_phrases(body_lines)
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


# ---------------------------------------------------------------------------------------------
# Renames
# ---------------------------------------------------------------------------------------------

_SOURCE_LABELS = {
    "title": "the page title names {name!r}",
    "og": "og:site_name is {name!r}",
    "schema": "schema.org names the organisation {name!r}",
    "copyright": "the copyright line names {name!r}",
    "logo": "the logo's alt text is {name!r}",
}
_SOURCE_NAMES = {
    "title": "the title",
    "og": "og:site_name",
    "schema": "schema.org",
    "copyright": "the copyright line",
    "logo": "the logo's alt text",
}
_SOURCE_PREFERENCE = ("og", "schema", "title", "copyright", "logo", "statement")


def _identity_candidates(identity: dict[str, Any]) -> list[tuple[str, str]]:
    alternates = {a.casefold() for a in identity.get("schema_alternate_names") or []}
    candidates: list[tuple[str, str]] = []
    for source, key in (("title", "title_name"), ("og", "og_site_name")):
        value = identity.get(key)
        if isinstance(value, str):
            candidates.append((source, value))
    for name in identity.get("schema_names") or []:
        if isinstance(name, str) and name.casefold() not in alternates:
            candidates.append(("schema", name))
    for source, key in (("copyright", "copyright_holder"), ("logo", "logo_alt")):
        value = identity.get(key)
        if isinstance(value, str):
            candidates.append((source, value))
    return [(s, collapse(n)) for s, n in candidates if not is_generic_name(n)]


def _confidence(signals: int, strong: bool) -> float:
    return round(min(0.99, 0.35 + 0.15 * signals + (0.1 if strong else 0.0)), 2)


def detect_rename(
    listed_name: str,
    aliases: Sequence[str],
    identity: dict[str, Any],
    *,
    cross_domain_redirect: bool = False,
    listed_host: str | None = None,
) -> dict[str, Any] | None:
    """A rename when at least two independent signals on the page agree on a new name.

    ``identity`` is what ``extract_identity`` returned (an optional ``text`` key with the
    page's visible text lets a cross-domain redirect look for the old name in the prose).
    Names from the title, og:site_name, schema.org, the copyright line and the logo alt are
    clustered with ``names_match``; each source in the winning cluster is one signal. A
    statement on the page ("formerly <listed name>", "<listed name> is now Y", a schema.org
    alternateName equal to the listed name, "we are now Y", "we have merged with Y" or
    "<listed name> is now part of Y") is one more, and so is a cross-domain redirect to a page
    that still mentions the old name or host. A merger that names another organisation as
    the one merging is news about somebody else and counts for nothing.

    Returns None when the names still match ``listed_name`` or an alias (decoration, tagline,
    case and acronyms included), when fewer than two signals agree, when the sources that
    still show the listed name are as many as the signals for the new one, or when the page
    names nothing (a JavaScript shell). Otherwise ``{"new_name", "old_name", "signals",
    "confidence"}``, ``signals`` being human-readable evidence lines.
    """
    known = [collapse(n) for n in (listed_name, *aliases) if n and collapse(n)]
    if not known:
        return None

    def is_known(name: str) -> bool:
        return any(names_match(name, k) for k in known) or _matches_host(name, listed_host)

    def mentions_known(text: str) -> bool:
        return any(names_match(text, k) or _contains_name(text, k) for k in known)

    candidates = _identity_candidates(identity)
    stale = [(source, name) for source, name in candidates if is_known(name)]
    still_known = {source for source, _ in stale}
    differing = [(source, name) for source, name in candidates if not is_known(name)]
    if not differing:
        return None

    # Statements on the page: new names they announce, and whether they own the old name.
    statements: list[tuple[str, str]] = []  # (new name, evidence)
    acknowledgements: list[tuple[str | None, str]] = []  # (new name or None, evidence)
    phrases = [p for p in identity.get("rename_phrases") or [] if isinstance(p, dict)]
    if not phrases:  # facts stored without the phrases: rebuild them from the name lists
        phrases = [
            {"old": n, "new": None, "text": f"formerly {n}"}
            for n in identity.get("former_names") or []
        ]
        phrases += [
            {"old": None, "new": n, "text": f"now {n}"} for n in identity.get("new_names") or []
        ]
        phrases += [
            {"merged_into": n, "text": f"merged into {n}"}
            for n in identity.get("merged_into") or []
        ]
    for phrase in phrases:
        old, new, text = phrase.get("old"), phrase.get("new"), phrase.get("text") or ""
        merged_into, subject = phrase.get("merged_into"), phrase.get("subject")
        if isinstance(merged_into, str):
            # A merger names who the organisation now is; about somebody else it is no evidence.
            if is_known(merged_into) or (isinstance(subject, str) and not mentions_known(subject)):
                continue
            evidence = f"merged into {merged_into!r}: the page says {text!r}"
            if isinstance(subject, str):  # "<listed name> has merged with Y" owns the old name
                acknowledgements.append((merged_into, evidence))
            else:
                statements.append((merged_into, evidence))
            continue
        new = new if isinstance(new, str) and not is_known(new) else None
        if isinstance(old, str) and mentions_known(old):
            acknowledgements.append((new, f"the page says {text!r}"))
        elif new and not old:
            statements.append((new, f"the page says {text!r}"))
    # schema.org naming the organisation anew and keeping the listed name as an alternate.
    schema_new = next((name for source, name in differing if source == "schema"), None)
    for alternate in identity.get("schema_alternate_names") or []:
        if schema_new and isinstance(alternate, str) and is_known(alternate):
            acknowledgements.append(
                (schema_new, f"schema.org keeps {alternate!r} as an alternate name")
            )

    title, text = identity.get("title"), identity.get("text")
    old_mentioned = bool(acknowledgements) or (isinstance(title, str) and mentions_known(title))
    if not old_mentioned and isinstance(text, str):
        label = host_label(listed_host)
        old_mentioned = any(_contains_name(text, k) for k in known) or (
            len(label) >= 4 and label in text.lower()
        )

    # Cluster the differing names; each cluster is one candidate new name.
    clusters: list[list[tuple[str, str]]] = []
    for source, name in differing:
        for cluster in clusters:
            if any(names_match(name, other) for _, other in cluster):
                cluster.append((source, name))
                break
        else:
            clusters.append([(source, name)])

    best: tuple[int, int, list[str], str, bool] | None = None
    for cluster in clusters:
        sources = {source for source, _ in cluster}
        evidence = [
            _SOURCE_LABELS[source].format(name=name)
            for source, name in cluster
            if source in _SOURCE_LABELS
        ]
        evidence = list(dict.fromkeys(evidence))
        signals = len(sources)
        names = [name for _, name in cluster]
        own_ack = [
            e
            for new, e in acknowledgements
            if new is None or any(names_match(new, n) for n in names)
        ]
        own_statements = [e for new, e in statements if any(names_match(new, n) for n in names)]
        strong = bool(own_ack)
        if own_ack or own_statements:
            signals += 1
            evidence += list(dict.fromkeys(own_ack + own_statements))
        if cross_domain_redirect and old_mentioned:
            signals += 1
            evidence.append(
                "the listed address redirects to another domain, whose page still mentions "
                f"{known[0]!r}"
            )
        new_name = _preferred_name(cluster)
        if best is None or (signals, len(sources)) > (best[0], best[1]):
            best = (signals, len(sources), evidence, new_name, strong)

    if best is None:
        return None
    signals, _, evidence, new_name, strong = best
    if signals < MIN_RENAME_SIGNALS or signals <= len(still_known):
        return None
    if stale:
        shown = dict.fromkeys(f"{_SOURCE_NAMES[source]} {name!r}" for source, name in stale)
        evidence.append("still showing the old name: " + ", ".join(shown))
    return {
        "new_name": new_name,
        "old_name": listed_name,
        "signals": evidence,
        "confidence": _confidence(signals, strong),
    }


def _preferred_name(cluster: Sequence[tuple[str, str]]) -> str:
    """The most common spelling in the cluster; ties go to the most deliberate source."""
    counts: dict[str, int] = {}
    for _, name in cluster:
        counts[name] = counts.get(name, 0) + 1

    def rank(item: tuple[str, str]) -> tuple[int, int]:
        source, name = item
        return (-counts[name], _SOURCE_PREFERENCE.index(source))

    return min(cluster, key=rank)[1]

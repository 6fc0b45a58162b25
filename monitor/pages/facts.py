"""Page facts: the few things judgement needs from an HTML page, parsed once.

Pure and lxml-based, so the spider can call it on every response and tests can call it on
stored fixtures. It never raises on hostile input: malformed markup, NUL bytes, stray
surrogates, an XML declaration in a ``str``, megabytes of nesting. libxml2 stops descending
past 256 levels of nesting; what came before is kept.

    >>> facts = page_facts("<title> Hi </title><h1>Peer <b>support</b></h1><p>Meets weekly</p>")
    >>> facts["title"], facts["h1"], facts["text"]
    ('Hi', ['Peer support'], 'Peer support Meets weekly')
"""

from __future__ import annotations

import codecs
import re
from typing import Any

from lxml import etree

TEXT_CAP = 20_000  # characters of visible text kept
H1_CAP = 5  # h1 elements kept
H1_CHARS = 300  # characters kept per h1
TITLE_CHARS = 500

# Tokens looked for in the raw HTML (scripts, iframes and links included, which the visible
# text leaves out). Each is (name, token, host_like): a host-like token must stand alone, so
# that "dan.com" does not match "jordan.com" nor "above.com" match "above.comments".
_MARKERS: tuple[tuple[str, str, bool], ...] = (
    # parking services and domain marketplaces
    ("sedoparking", "sedoparking", False),
    ("parkingcrew", "parkingcrew", False),
    ("bodis", "bodis.com", True),
    ("above.com", "above.com", True),
    ("dsnextgen", "dsnextgen", False),
    ("parklogic", "parklogic", False),
    ("godaddy-parking", "parking-lander", False),
    ("parking-script", "window.park =", False),
    ("parking-script", "window.park=", False),
    ("godaddy-parking", "cashparking", False),
    ("godaddy-parking", "parkweb", False),
    ("godaddy-parking", "lander_system", False),
    ("dan.com", "dan.com", True),
    ("sedo.com", "sedo.com", True),
    ("afternic", "afternic", False),
    ("hugedomains", "hugedomains", False),
    ("buydomains", "buydomains", False),
    ("undeveloped", "undeveloped.com", True),
    # bot walls
    ("cloudflare-challenge", "cf_chl", False),
    ("cloudflare-challenge", "cf-chl", False),
    ("aws-waf", "awswaf", False),
    ("aws-waf", "aws-waf-token", False),
    ("incapsula", "_incapsula_resource", False),
    ("incapsula", "incapsula incident", False),
    ("sucuri", "sucuri", False),
    ("ddos-guard", "ddos-guard", False),
)
MARKER_NAMES = frozenset(name for name, _, _ in _MARKERS)
# Substrings shared by several tokens. A page without "park" has none of the eight tokens that
# contain it, so one search stands for eight: 15 searches of a clean page instead of 26.
_MARKER_GATES = ("park", "domains", "chl", "waf", "incapsula")
_GATED_MARKERS = tuple(
    (next((gate for gate in _MARKER_GATES if gate in token), token), name, token, host_like)
    for name, token, host_like in _MARKERS
)

# C0 controls except tab, newline and carriage return: libxml2 rejects or mangles them. In
# UTF-8 they are single bytes that no other character's encoding contains.
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_CONTROL_TABLE = dict.fromkeys(_CONTROL_BYTES)
_INVISIBLE = ("script", "style", "noscript", "template", "svg", "head")
_REFRESH_URL = re.compile(
    r"""^\s*\d*(?:\.\d*)?\s*[;,]?\s*(?:url\s*=\s*)?(?P<q>["']?)(?P<url>.*?)(?P=q)\s*$""",
    re.IGNORECASE | re.DOTALL,
)


def page_facts(html: str | bytes | None, *, tree: Any = None) -> dict[str, Any]:
    """Title, h1 texts, visible text (whitespace-collapsed, capped), meta refresh and markers.

    Returns ``{"title": str | None, "h1": list[str], "text": str, "meta_refresh": str | None,
    "markers": list[str]}``. ``markers`` names the parking services and bot walls whose
    fingerprints occur anywhere in the raw HTML (see ``_MARKERS``).

    ``tree`` is ``monitor.pages.html.as_tree(html)``, when the caller has parsed the page
    already: it is not parsed again. Scripts, comments and other invisible parts are stripped
    from it, so pass it only once done with it.
    """
    facts: dict[str, Any] = {
        "title": None,
        "h1": [],
        "text": "",
        "meta_refresh": None,
        "markers": [],
    }
    if not html:
        return facts
    if isinstance(html, bytes | bytearray):
        html = _decode(bytes(html))
    elif not isinstance(html, str):
        return facts
    html, data = without_controls(html)
    facts["markers"] = _markers(html)
    root = _parse(data) if tree is None else tree
    if root is None:
        return facts

    facts["title"] = _title(root)
    facts["meta_refresh"] = _meta_refresh(root)

    # Comments go too: a tree from as_tree keeps them, and their tails must join the text
    # before them as in a tree parsed without comments.
    etree.strip_elements(root, etree.Comment, *_INVISIBLE, with_tail=False)
    h1s: list[str] = []
    for el in root.iter("h1"):
        text = _collapse("".join(el.itertext()))[:H1_CHARS]
        if text:
            h1s.append(text)
        if len(h1s) >= H1_CAP:
            break
    facts["h1"] = h1s
    facts["text"] = _visible_text(root)
    return facts


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 by BOM; stray bytes that are not UTF-8 are read as
    Windows-1252, so a page mixing the two keeps both its accents."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    return data.decode("utf-8-sig", errors=_CP1252_FALLBACK)


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return bytes(bad).decode("cp1252", errors="replace"), error.end


_CP1252_FALLBACK = "freshness.cp1252-fallback"
codecs.register_error(_CP1252_FALLBACK, _cp1252_fallback)


def without_controls(html: str) -> tuple[str, bytes]:
    """``html`` without C0 controls (tab, newline and CR aside), as text and as UTF-8.

    lxml gets the bytes with an explicit encoding: it refuses a str that carries an XML
    encoding declaration, and "surrogateescape" leftovers cannot be encoded strictly. Deleting
    the control bytes from the encoded page took 21 µs against 77 µs for a regex over the text
    (benchmark pages of 16 KB); the text is only rewritten when it has some.
    """
    data = html.encode("utf-8", errors="replace")
    clean = data.translate(None, _CONTROL_BYTES)
    if len(clean) != len(data):
        html = html.translate(_CONTROL_TABLE)
    return html, clean


def _parse(data: bytes) -> Any:
    parser = etree.HTMLParser(
        recover=True, no_network=True, remove_comments=True, remove_pis=True, encoding="utf-8"
    )
    try:
        return etree.fromstring(data, parser=parser)
    except (etree.LxmlError, ValueError):
        return None


def _title(root: Any) -> str | None:
    for el in root.iter("title"):
        if any(parent.tag == "svg" for parent in el.iterancestors()):
            continue  # an <svg><title> is a tooltip, not the page title
        return _collapse("".join(el.itertext()))[:TITLE_CHARS] or None
    return None


def _collapse(text: str) -> str:
    return " ".join(text.split())  # as re.sub(r"\s+", " ", text).strip(), faster


def _visible_text(root: Any) -> str:
    body = root.find(".//body")
    node = body if body is not None else root
    # Collapsing the joined chunks gives what collapsing each chunk and joining them would,
    # in one split instead of one per chunk (a profiled hot spot). Collapsing whenever the
    # raw chunks pass the cap keeps a hostile page of whitespace from piling up.
    pieces: list[str] = []
    size = 0
    for chunk in node.itertext():
        if not isinstance(chunk, str):  # defensive: entities and oddities
            continue
        pieces.append(chunk)
        size += len(chunk)
        if size > TEXT_CAP:
            text = " ".join(" ".join(pieces).split())
            if len(text) > TEXT_CAP:
                return text[:TEXT_CAP]
            pieces, size = [text], len(text)
    return " ".join(" ".join(pieces).split())[:TEXT_CAP]


def _meta_refresh(root: Any) -> str | None:
    for meta in root.iter("meta"):
        if (meta.get("http-equiv") or "").strip().lower() != "refresh":
            continue
        content = (meta.get("content") or "")[:2000]
        match = _REFRESH_URL.match(content)
        if match and match.group("url").strip():
            return match.group("url").strip()[:2000]
    return None


def _markers(html: str) -> list[str]:
    lowered = html.lower()
    found: set[str] = set()
    gates = {gate: gate in lowered for gate in _MARKER_GATES}
    for gate, name, token, host_like in _GATED_MARKERS:
        if name in found or not gates.get(gate, True):
            continue
        start = lowered.find(token)
        while start != -1:
            if not host_like or _is_host_at(lowered, start, start + len(token)):
                found.add(name)
                break
            start = lowered.find(token, start + 1)
    return sorted(found)


def _is_host_at(text: str, start: int, end: int) -> bool:
    """``text[start:end]`` stands alone as a host name: not "jordan.com", not "above.comments"."""
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    return not (before.isalnum() or before in "-_") and not (after.isalnum() or after in "-_")

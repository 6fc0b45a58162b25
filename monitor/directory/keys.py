"""The directory format's vocabulary: its keys in written order, its size limits, and ids.

Every reader (YAML, CSV, HTML) and writer agrees on these; ``slugify`` makes an id from a name,
and ``entry_fields`` is an entry as the writers lay it out.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from storage.records import DirectoryEntry

# Keys in the order they are written; they map 1:1 to DirectoryEntry fields.
KEYS: tuple[str, ...] = (
    "id",
    "name",
    "aliases",
    "url",
    "profession",
    "groups_url",
    "group_selector",
    "groups",
    "links",
    "check_every",
    "status",
    "dead_since",
    "dead_links",
)
LIST_KEYS = frozenset({"aliases", "groups", "links", "dead_links"})
STATUSES = ("dead",)
TOP_LEVEL_KEY = "organisations"

# A directory is a few hundred entries; anything this large is a mistake or an attack.
MAX_BYTES = 20 * 1024 * 1024
# Entries sit three levels deep; deeper nesting only ever comes from junk or a bomb.
MAX_DEPTH = 32
MAX_ID_LENGTH = 100
# Names, selectors and URLs are short; a megabyte of "name" is junk, not a name.
MAX_TEXT_LENGTH = 2000
SLUG_LENGTH = 80


_TRANSLITERATE = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "ø": "o",
        "Ø": "O",
        "œ": "oe",
        "Œ": "OE",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "þ": "th",
        "Þ": "Th",
        "&": " and ",
        # Apostrophes join words: "Women's Network" is women-s-network otherwise.
        "'": "",
        "’": "",
        "ʼ": "",
    }
)


def slugify(name: str) -> str:
    """``"Entertainment Community Fund"`` -> ``"entertainment-community-fund"``.

    Accents are dropped (NFKD), a few letters NFKD leaves alone are spelled out, and anything
    else that is not a letter or digit becomes one hyphen. Returns ``""`` when nothing is left
    (a name in a non-Latin script): give such an entry an explicit id.
    """
    text = unicodedata.normalize("NFKD", name).translate(_TRANSLITERATE)
    # Accents go; any other non-alphanumeric (dashes, slashes, symbols) separates words.
    text = "".join(ch if ch.isalnum() else " " for ch in text if not unicodedata.combining(ch))
    text = text.encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    if len(slug) > SLUG_LENGTH:
        # Cut at a word boundary so the id still reads as the name.
        slug = slug[:SLUG_LENGTH].rsplit("-", 1)[0] or slug[:SLUG_LENGTH]
    return slug


def entry_fields(entry: DirectoryEntry) -> list[tuple[str, str | tuple[str, ...]]]:
    """(key, value) in KEYS order, without empty optional fields; dates as ISO text."""
    out: list[tuple[str, str | tuple[str, ...]]] = []
    for key in KEYS:
        value = getattr(entry, key)
        if value is None or value == () or value == "":
            continue
        if isinstance(value, dt.date):
            value = value.isoformat()
        out.append((key, tuple(value) if isinstance(value, list | tuple) else str(value)))
    return out

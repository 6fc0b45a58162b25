"""Making a scraped string safe to show: one clean line, escaped for Markdown, a safe link.

Every string that came from the web is hostile: ``clean`` folds it into one bounded line of
text, ``md_escape`` also escapes what Markdown and chat services would interpret, and
``safe_href`` lets through only plain http(s) URLs. The digest uses all three; the CLI and the
directory review show scraped values with ``clean``. Pure and light: no Jinja2.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import urlsplit

_MAX_SCRAPED = 500  # longest scraped string shown before it is cut
_BIDI_AND_CONTROL = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#!|~&@])")


def clean(value: Any) -> str:
    """A scraped value as one line of text: no control or bidi characters, bounded length."""
    text = "" if value is None else str(value)
    text = _BIDI_AND_CONTROL.sub("", text)
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in text)
    text = " ".join(text.split())
    return text if len(text) <= _MAX_SCRAPED else text[: _MAX_SCRAPED - 1] + "…"


def md_escape(value: Any) -> str:
    """Backslash-escape what Markdown (and chat mentions) would interpret in ``value``.

    The value is cleaned first, so it is one line; a leading list or heading marker is
    escaped too, in case the value starts a line.
    """
    text = _MD_SPECIAL.sub(r"\\\1", clean(value))
    text = re.sub(r"^([+=-])", r"\\\1", text)
    return re.sub(r"^(\d+)([.)])", r"\1\\\2", text)


def safe_href(url: Any) -> str | None:
    """``url`` if it is a plain absolute http(s) URL that is safe to link to, else None."""
    if not isinstance(url, str) or not url or len(url) > 2000:
        return None
    if any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf") for ch in url):
        return None
    if any(ch in url for ch in "<>\"'`\\"):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url

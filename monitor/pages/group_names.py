"""Group names: the name two listings of one group share, and what changed between listings.

Pure string functions. ``monitor.pages.groups`` reads the names off a page; these strip the
schedule, dates and badges that come and go around a name (``display_group_name``,
``normalise_group_name``) and compare a page's groups with the directory's and with what was
seen there before (``diff_groups``).

    >>> normalise_group_name("The Anxiety Toolbox (Mondays 7pm ET)")
    'the anxiety toolbox'
    >>> diff_groups(["Grief Circle"], [], [{"name": "Grief Circle – Mondays 7pm"}])
    {'new': [], 'missing_listed': []}

Imports neither scrapy, sqlalchemy nor apprise.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from rapidfuzz import fuzz, process

from monitor.pages.html import collapse

GROUP_MATCH_THRESHOLD = 92
"""rapidfuzz ratio of normalised names at or above which two group names are the same group."""

# ---------------------------------------------------------------------------------------------
# Group names
# ---------------------------------------------------------------------------------------------

_WEEKDAY = (
    r"(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)\.?|"
    r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?|"
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)days"
)
_MONTH = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_ZONE = r"(?:\s*(?:[ecmpa][sd]?t|utc|gmt|bst|cet|cest|aest|nzst|ist)\b)?"
_TIME = (
    rf"(?:\d{{1,2}}(?:[:.]\d{{2}})?\s*(?:am|pm|a\.m\.|p\.m\.){_ZONE}|\d{{1,2}}:\d{{2}}{_ZONE}|"
    r"noon|midnight)"
)
_DATE = (
    rf"(?:\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}/\d{{1,2}}/\d{{2,4}}|"
    rf"(?:{_MONTH})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?|"
    rf"\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTH})\.?(?:,?\s+\d{{4}})?|(?:{_MONTH})\.?\s+\d{{4}})"
)
_BADGE = (
    r"new!*|updated|update|full|waitlist|wait list|wait-list|closed|sold out|featured|popular|"
    r"last chance|limited spots?|spots? left|few spots left|coming soon|starting soon|now open|"
    r"open|registration open|register now|join now|ongoing|weekly|monthly|biweekly|bi-weekly|"
    r"fortnightly|daily|drop-in|members? only"
)
_META_WORDS = re.compile(
    rf"\d|\b(?:{_WEEKDAY})\b|\b(?:{_MONTH})\b\.?|\b(?:every|each|weekly|monthly|biweekly|"
    rf"fortnightly|daily|tonight|today|tomorrow|noon|midnight|spots?|places?|seats?|"
    rf"members?|updated|waitlist|sold out|full|closed)\b|^(?:{_BADGE})$",
    re.IGNORECASE,
)
_TRAILING_BRACKET = re.compile(r"\s*[(\[{]([^()\[\]{}]*)[)\]}]\s*$")
_TRAILING_SEGMENT = re.compile(r"(?:\s+[-–—|·•:/]\s+|\s*[–—|·•]\s*|(?<=\w):\s+|,\s+)([^-–—|·•:]+)$")
_TRAILING_BARE = re.compile(
    rf"(?:\s*(?:,|@|\bat\b|\bon\b|\bevery\b|\beach\b|-|–|—)?\s*"
    rf"(?:{_DATE}|{_TIME}(?:\s*(?:-|–|—|to)\s*{_TIME})?|(?:{_WEEKDAY})s\b|new!+|\(\d+\)|\[\d+\]|"
    rf"\d+\s+(?:spots?|places?|seats?)\s+(?:left|remaining|available)))+\s*$",
    re.IGNORECASE,
)
_LEADING_DECORATION = re.compile(
    r"^\s*(?:\d{1,2}[.)]\s+|[-*•·▪►▶✓✔★☆]+\s*|(?:new|updated|featured)\s*[:!–—-]+\s*)",
    re.IGNORECASE,
)
_UPPER_NEW = re.compile(r"\s+(?:NEW|UPDATED|FULL)\s*!*$")
_END_PUNCTUATION = " \t-–—|:;,.!?*•·★☆✓✔>»«\"'“”‘’"


_QUOTES = str.maketrans({"’": "'", "‘": "'", "‛": "'", "′": "'", "“": '"', "”": '"', "„": '"'})
# A bracketed note about a change to when or where a group meets: "(new time)", "(moved
# online)". Not "(Virtual)" or "(Online)" alone: those often tell two groups apart.
_BRACKET_NOTE = re.compile(
    r"\b(?:new (?:time|day|date|venue|location|room|link)|time changed?|rescheduled|"
    r"cancell?ed|postponed|moved|paused|on hold)\b",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=16384)  # pure, and the same names come back on every run
def display_group_name(name: str | None) -> str:
    """A group's name as a curator would list it: schedule, dates and badges gone, case kept.

    The same stripping as ``normalise_group_name``, without case-folding:

        >>> display_group_name("Solo Practitioners Group NEW!")
        'Solo Practitioners Group'
        >>> display_group_name("Women Lawyers Support Group (3 seats left)")
        'Women Lawyers Support Group'
    """
    text = collapse(unicodedata.normalize("NFKC", name or ""))
    for _ in range(3):
        stripped = _LEADING_DECORATION.sub("", _UPPER_NEW.sub("", text))
        if stripped == text:
            break
        text = stripped
    for _ in range(8):
        before = text
        bracket = _TRAILING_BRACKET.search(text)
        if (
            bracket
            and bracket.start() > 0
            and (_is_meta(bracket.group(1)) or _BRACKET_NOTE.search(bracket.group(1)))
        ):
            text = text[: bracket.start()]
        segment = _TRAILING_SEGMENT.search(text)
        if segment and segment.start() > 0 and _is_meta(segment.group(1)):
            text = text[: segment.start()]
        bare = _TRAILING_BARE.search(text)
        if bare and bare.start() > 0:
            text = text[: bare.start()]
        text = text.strip(_END_PUNCTUATION)
        if text == before:
            break
    if text.count("(") < text.count(")") or text.endswith("("):
        text = text.rstrip("()")
    return collapse(text.strip(_END_PUNCTUATION))


@functools.lru_cache(maxsize=16384)
def normalise_group_name(name: str | None) -> str:
    """The name two listings of one group share: case, spacing, dates, times and badges gone.

    NFKC, case-folded, typographic quotes made plain, whitespace collapsed; trailing schedule
    text ("– Mondays 7pm", "10:00 AM EST", "(new time)"), dates ("Nov 23, 2026"), badges
    ("New!", "(Updated)", "(3 spots left)") and counters ("(12)") are stripped, as is
    punctuation at either end (see ``display_group_name``).

        >>> normalise_group_name("The Anxiety Toolbox – New!") == normalise_group_name(" the  anxiety toolbox")
        True
        >>> normalise_group_name("Performers’ Anxiety Circle") == normalise_group_name("Performers' Anxiety Circle")
        True
    """
    return collapse(display_group_name(name).translate(_QUOTES).casefold())


def _is_meta(chunk: str) -> bool:
    """A trailing chunk of a name that is schedule, date, badge or counter, not name."""
    chunk = chunk.strip(_END_PUNCTUATION)
    return not chunk or bool(_META_WORDS.search(chunk))


_DATE_OR_TIME_ONLY = re.compile(
    rf"^(?:(?:{_WEEKDAY}),?\s*)?(?:{_DATE}|{_TIME})(?:\s*(?:-|–|—|to)\s*(?:{_DATE}|{_TIME}))*$",
    re.IGNORECASE,
)


def is_date_or_time(text: str) -> bool:
    """``text`` is nothing but a date or a time (or a span of them), maybe after a weekday."""
    return bool(_DATE_OR_TIME_ONLY.match(text))


# ---------------------------------------------------------------------------------------------
# Diff
# ---------------------------------------------------------------------------------------------


def _find(name: str, choices: Sequence[str]) -> bool:
    if not name:
        return False
    if name in choices:
        return True
    return (
        process.extractOne(name, choices, scorer=fuzz.ratio, score_cutoff=GROUP_MATCH_THRESHOLD)
        is not None
    )


def diff_groups(
    listed: Sequence[str], seen_before: Iterable[str], current: Sequence[dict[str, Any]]
) -> dict[str, list[Any]]:
    """What changed on a groups page: ``{"new": [group dicts], "missing_listed": [names]}``.

    ``new`` holds the groups present now that are neither listed in the directory nor were
    ever seen on the page before; ``missing_listed`` the listed names not present now. Names
    are compared by ``normalise_group_name`` and rapidfuzz ratio >= 92, so reordering,
    changed schedule text, badges and counters produce nothing. On a page's first visit pass
    what was seen as ``seen_before`` too, or every unlisted group is new.
    """
    now = [(normalise_group_name(g.get("name")), g) for g in current if isinstance(g, dict)]
    now = [(key, g) for key, g in now if key]
    current_keys = [key for key, _ in now]
    known = list(dict.fromkeys(k for k in map(normalise_group_name, [*listed, *seen_before]) if k))
    new: list[dict[str, Any]] = []
    reported: list[str] = []
    for key, group in now:
        if _find(key, known) or _find(key, reported):
            continue
        reported.append(key)
        new.append(group)
    missing = [
        name
        for name in listed
        if normalise_group_name(name) and not _find(normalise_group_name(name), current_keys)
    ]
    return {"new": new, "missing_listed": missing}

"""Rename and merger statements on a page: "Y (formerly X)", "X is now Y", "we have merged with Z".

Page reading only: ``rename_phrases`` finds the statements in a page's visible lines for
``monitor.pages.identity.extract_identity``; whether they amount to a rename is judged by
``monitor.judging.rename``.

    >>> line = "Entertainment Community Fund (formerly The Actors Fund)"
    >>> [(p["kind"], p["old"], p["new"]) for p in rename_phrases([line])]
    [('formerly', 'The Actors Fund', 'Entertainment Community Fund')]

Imports neither scrapy, sqlalchemy nor apprise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from monitor.pages.html import collapse, phrase_set
from monitor.pages.names import NAME_CHARS, is_generic_name

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
_NOT_A_NAME = phrase_set(
    "we, our, us, it, its, this, that, they, he, she, i, you, here, open, closed, "
    "available, live, online, accepting, offering, hiring, able, part, on, in, a, an, the, "
    "more, also, now, again"
)
_LEADING_FILLER = phrase_set(
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


def _statement(
    kind: str,
    text: str,
    old: str | None,
    new: str | None,
    merged: str | None,
    subject: str | None,
) -> dict[str, Any]:
    """One statement as ``rename_phrases`` reports it, its evidence text tidied and capped."""
    text = collapse(text).rstrip(" ,;:")[:300]
    if text.count("(") > text.count(")"):
        text += ")"
    return {
        "kind": kind,
        "text": text,
        "old": old,
        "new": new,
        "merged_into": merged,
        "subject": subject,
    }


def rename_phrases(lines: Iterable[str]) -> list[dict[str, Any]]:
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
            found.append(_statement(kind, text, old, new, merged, subject))

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

"""Organisation names: normalising them, telling whether two are the same, finding one in a title.

Pure string functions shared by identity extraction (``monitor.pages.identity``), rename
statements (``monitor.pages.rename_phrases``) and rename detection
(``monitor.judging.rename``).

    >>> names_match("Actors Fund of America", "The Actors Fund")
    True

Imports neither scrapy, sqlalchemy nor apprise.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from urllib.parse import urlsplit

from rapidfuzz import fuzz

from monitor.pages.html import collapse, phrase_set

NAME_MATCH_THRESHOLD = 88
"""rapidfuzz token_sort_ratio (and guarded token_set_ratio) at or above which names agree."""
SQUASHED_MATCH_THRESHOLD = 90
"""rapidfuzz ratio of the names with spaces removed ("Nurse Groups" ~ "NurseGroup")."""

NAME_CHARS = 200

# ---------------------------------------------------------------------------------------------
# Name normalisation and matching
# ---------------------------------------------------------------------------------------------

_TITLE_SEPARATORS = re.compile(r"\s+[-:~]\s+|\s*[|–—·»•«]\s*|(?<=\w):\s+")
_PAGE_WORDS = phrase_set(
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


def contains_name(text: str, name: str) -> bool:
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


def matches_host(name: str, host: str | None) -> bool:
    """``name`` is the host's distinctive label, its acronym, or one holds the other."""
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

_SMALL_WORDS = frozenset(
    {"of", "for", "and", "the", "a", "an", "in", "on", "at", "to", "by", "with", "&"}
)
_TAGLINE_WORDS = phrase_set(
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
    if matches_host(segment, host):
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

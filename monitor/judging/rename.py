"""Whether a homepage shows that the organisation now goes by another name. Pure.

The page's names are read by ``monitor.pages.identity.extract_identity``; this weighs them
against the directory's listed name and aliases and reports a ``Rename`` only when at least
two independent signals agree on the new name.

    >>> from monitor.pages.identity import extract_identity
    >>> identity = extract_identity(
    ...     '<title>Home | Entertainment Community Fund</title>'
    ...     '<p>Entertainment Community Fund (formerly The Actors Fund)</p>'
    ...     '<footer>© 2026 Entertainment Community Fund. All rights reserved.</footer>',
    ...     "https://entertainmentcommunity.org/",
    ... )
    >>> detect_rename("The Actors Fund", [], identity).new_name
    'Entertainment Community Fund'

Imports neither scrapy, sqlalchemy nor apprise.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from monitor.pages.html import collapse
from monitor.pages.names import (
    contains_name,
    host_label,
    is_generic_name,
    matches_host,
    names_match,
)

MIN_RENAME_SIGNALS = 2
"""Independent signals that must agree on a new name before a rename is reported."""

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

Named = tuple[str, str]
"""(source, name): where on the page a name was read ("title", "og", ...) and the name."""
Claim = tuple[str | None, str]
"""(new name or None, evidence line): what a statement on the page says, in its words."""
# signals, sources, evidence, new name, strong: one cluster of names weighed (see ``_weigh``).
_Weighed = tuple[int, int, list[str], str, bool]


@dataclass(frozen=True)
class Rename:
    """A rename the page shows: the new name, the listed one, the evidence and how sure."""

    new_name: str
    old_name: str
    signals: list[str]
    """Human-readable evidence lines."""
    confidence: float

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: ``{"new_name", "old_name", "signals", "confidence"}``."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class _Known:
    """The names the directory knows the organisation by, and the host it lists."""

    names: list[str]
    host: str | None

    def is_known(self, name: str) -> bool:
        return any(names_match(name, k) for k in self.names) or matches_host(name, self.host)

    def mentions_known(self, text: str) -> bool:
        return any(names_match(text, k) or contains_name(text, k) for k in self.names)


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
) -> Rename | None:
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
    names nothing (a JavaScript shell). Otherwise a ``Rename``, its ``signals`` being
    human-readable evidence lines.
    """
    names = [collapse(n) for n in (listed_name, *aliases) if n and collapse(n)]
    if not names:
        return None
    known = _Known(names, listed_host)
    candidates = _identity_candidates(identity)
    stale = [(source, name) for source, name in candidates if known.is_known(name)]
    still_known = {source for source, _ in stale}
    differing = [(source, name) for source, name in candidates if not known.is_known(name)]
    if not differing:
        return None

    statements, acknowledgements = _statements(identity, known, differing)
    redirect = None
    if cross_domain_redirect and (acknowledgements or _mentions_old_name(identity, known)):
        redirect = (
            "the listed address redirects to another domain, whose page still mentions "
            f"{names[0]!r}"
        )
    best = _best_cluster(differing, statements, acknowledgements, redirect)
    if best is None:
        return None
    signals, _, evidence, new_name, strong = best
    if signals < MIN_RENAME_SIGNALS or signals <= len(still_known):
        return None
    if stale:
        shown = dict.fromkeys(f"{_SOURCE_NAMES[source]} {name!r}" for source, name in stale)
        evidence.append("still showing the old name: " + ", ".join(shown))
    return Rename(
        new_name=new_name,
        old_name=listed_name,
        signals=evidence,
        confidence=_confidence(signals, strong),
    )


def _page_phrases(identity: dict[str, Any]) -> list[dict[str, Any]]:
    """The page's rename statements, as ``extract_identity`` keeps them."""
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
    return phrases


def _statements(
    identity: dict[str, Any], known: _Known, differing: Sequence[Named]
) -> tuple[list[tuple[str, str]], list[Claim]]:
    """Statements on the page: new names they announce, and whether they own the old name.

    Returns (statements, acknowledgements): a statement names a new name without naming the
    old one; an acknowledgement owns the old name ("formerly <listed name>"), with the new
    name it gives, if any.
    """
    statements: list[tuple[str, str]] = []  # (new name, evidence)
    acknowledgements: list[Claim] = []  # (new name or None, evidence)
    for phrase in _page_phrases(identity):
        old, new, text = phrase.get("old"), phrase.get("new"), phrase.get("text") or ""
        merged_into, subject = phrase.get("merged_into"), phrase.get("subject")
        if isinstance(merged_into, str):
            # A merger names who the organisation now is; about somebody else it is no evidence.
            if known.is_known(merged_into) or (
                isinstance(subject, str) and not known.mentions_known(subject)
            ):
                continue
            evidence = f"merged into {merged_into!r}: the page says {text!r}"
            if isinstance(subject, str):  # "<listed name> has merged with Y" owns the old name
                acknowledgements.append((merged_into, evidence))
            else:
                statements.append((merged_into, evidence))
            continue
        new = new if isinstance(new, str) and not known.is_known(new) else None
        if isinstance(old, str) and known.mentions_known(old):
            acknowledgements.append((new, f"the page says {text!r}"))
        elif new and not old:
            statements.append((new, f"the page says {text!r}"))
    # schema.org naming the organisation anew and keeping the listed name as an alternate.
    schema_new = next((name for source, name in differing if source == "schema"), None)
    for alternate in identity.get("schema_alternate_names") or []:
        if schema_new and isinstance(alternate, str) and known.is_known(alternate):
            acknowledgements.append(
                (schema_new, f"schema.org keeps {alternate!r} as an alternate name")
            )
    return statements, acknowledgements


def _mentions_old_name(identity: dict[str, Any], known: _Known) -> bool:
    """The page's title, or its text when the identity carries it, still names the old name
    (or the listed host's label)."""
    title, text = identity.get("title"), identity.get("text")
    if isinstance(title, str) and known.mentions_known(title):
        return True
    if not isinstance(text, str):
        return False
    label = host_label(known.host)
    return any(contains_name(text, k) for k in known.names) or (
        len(label) >= 4 and label in text.lower()
    )


def _clusters(differing: Sequence[Named]) -> list[list[Named]]:
    """The differing names clustered by ``names_match``; each cluster is one candidate."""
    clusters: list[list[Named]] = []
    for source, name in differing:
        for cluster in clusters:
            if any(names_match(name, other) for _, other in cluster):
                cluster.append((source, name))
                break
        else:
            clusters.append([(source, name)])
    return clusters


def _best_cluster(
    differing: Sequence[Named],
    statements: Sequence[tuple[str, str]],
    acknowledgements: Sequence[Claim],
    redirect: str | None,
) -> _Weighed | None:
    """The cluster with the most signals, then the most sources; the first of equals."""
    best: _Weighed | None = None
    for cluster in _clusters(differing):
        weighed = _weigh(cluster, statements, acknowledgements, redirect)
        if best is None or (weighed[0], weighed[1]) > (best[0], best[1]):
            best = weighed
    return best


def _weigh(
    cluster: Sequence[Named],
    statements: Sequence[tuple[str, str]],
    acknowledgements: Sequence[Claim],
    redirect: str | None,
) -> _Weighed:
    """(signals, sources, evidence, new name, strong) for one cluster of names.

    Each source is a signal; statements for the cluster's name are one more, strong when one
    owns the old name; ``redirect`` (the evidence of a telling cross-domain redirect) another.
    """
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
        e for new, e in acknowledgements if new is None or any(names_match(new, n) for n in names)
    ]
    own_statements = [e for new, e in statements if any(names_match(new, n) for n in names)]
    strong = bool(own_ack)
    if own_ack or own_statements:
        signals += 1
        evidence += list(dict.fromkeys(own_ack + own_statements))
    if redirect is not None:
        signals += 1
        evidence.append(redirect)
    return signals, len(sources), evidence, _preferred_name(cluster), strong


def _preferred_name(cluster: Sequence[tuple[str, str]]) -> str:
    """The most common spelling in the cluster; ties go to the most deliberate source."""
    counts: dict[str, int] = {}
    for _, name in cluster:
        counts[name] = counts.get(name, 0) + 1

    def rank(item: tuple[str, str]) -> tuple[int, int]:
        source, name = item
        return (-counts[name], _SOURCE_PREFERENCE.index(source))

    return min(cluster, key=rank)[1]

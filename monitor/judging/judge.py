"""Judging one run: observations and stored history in, link states and findings out. Pure.

Dead links and unverifiable links follow ``monitor.judging.decide``; moves are read from the
redirect chains; renames are weighed by ``monitor.judging.rename``. Nothing here touches the
store or the network; ``monitor.app.service`` applies the result.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from monitor.judging.classify import Outcome
from monitor.judging.decide import Verdict, decide, detect_outage
from monitor.judging.policy import Policy
from monitor.judging.rename import detect_rename
from monitor.pages.group_names import diff_groups, display_group_name, normalise_group_name
from monitor.pages.links import (
    listed_domains,
    looks_like_peer_support,
    not_a_peer_network,
    registered_domain,
)
from monitor.pages.names import title_name
from storage.records import DirectoryEntry, Finding, LinkState, Observation

PERMANENT = (301, 308)


@dataclass(frozen=True)
class Draft:
    """A finding that should be open, with the subject that makes it the same one next run."""

    finding: Finding
    subject: str
    material: str = ""  # what must change for a dismissed finding to come back


def _draft(
    obs: Observation,
    kind: str,
    summary: str,
    *,
    confidence: float,
    evidence: list[str],
    details: dict[str, Any],
    subject: str,
    now: dt.datetime,
    material: str = "",
    url: str | None = None,
) -> Draft:
    """A finding about what ``obs`` saw, on its listed link (none for a discovery candidate),
    first and last seen ``now``, at ``url`` (the URL asked for unless given)."""
    return Draft(
        Finding(
            org_id=obs.org_id,
            link_id=obs.link_id,
            kind=kind,
            url=url or obs.url,
            summary=summary,
            first_seen=now,
            last_seen=now,
            confidence=confidence,
            evidence=evidence,
            details=details,
        ),
        subject=subject,
        material=material,
    )


@dataclass
class Judgement:
    states: list[LinkState] = field(default_factory=list)
    open: list[Draft] = field(default_factory=list)
    # (org_id, kind, subject) of open findings that no longer hold
    resolve: list[tuple[str, str, str]] = field(default_factory=list)
    outage: str | None = None
    counts: dict[str, int] = field(default_factory=dict)


def status_chain(obs: Observation) -> str:
    """'301 http://a/ → 200 https://b/', or 'DNS error at http://a/'."""
    hops = [f"{h.get('status')} {h.get('url')}" for h in obs.redirect_chain]
    if obs.status is not None:
        hops.append(f"{obs.status} {obs.final_url or obs.url}")
    elif obs.error:
        hops.append(f"{obs.error} error at {obs.final_url or obs.url}")
    return " → ".join(hops)


def run_health(
    outcomes: Sequence[tuple[str, Outcome]], canaries: Sequence[Outcome], policy: Policy
) -> tuple[dict[str, int], str | None]:
    """How many listed URLs fell in each category, and why the run cannot be trusted (or
    None), from each (url, outcome) the run observed."""
    counts: dict[str, int] = {}
    for _, outcome in outcomes:
        counts[outcome.category] = counts.get(outcome.category, 0) + 1
    return counts, detect_outage(dict(outcomes), canaries, policy)


def judge_run(
    observations: Sequence[tuple[Observation, Outcome]],
    states: Mapping[int, LinkState],
    entries: Mapping[str, DirectoryEntry],
    *,
    previous: Mapping[int, Observation] | None = None,
    groups_seen: Mapping[int, Sequence[str]] | None = None,
    canaries: Sequence[Outcome] = (),
    now: dt.datetime,
    policy: Policy,
    check_outage: bool = True,
) -> Judgement:
    """Verdicts and findings for one run's observations (or one batch of its organisations).

    With ``check_outage=False`` the caller has already found the run trustworthy (see
    ``run_health``) and judges it in batches; counts are then the caller's too.
    """
    previous = previous or {}
    candidates = [obs for obs, _ in observations if obs.facts.get("role") == "candidate"]
    observations = [(o, out) for o, out in observations if o.facts.get("role") != "candidate"]
    judgement = Judgement()
    if check_outage:
        judgement.counts, judgement.outage = run_health(
            [(obs.url, outcome) for obs, outcome in observations], canaries, policy
        )
        if judgement.outage:
            return judgement  # an inconclusive run changes no counts and declares nothing

    for obs, outcome in observations:
        state = states.get(obs.link_id) if obs.link_id is not None else None
        entry = entries.get(obs.org_id)
        if state is None or entry is None:
            continue
        _judge_link(
            judgement,
            obs,
            outcome,
            state,
            entry,
            before=previous.get(obs.link_id),
            seen=(groups_seen or {}).get(obs.link_id, ()),
            now=now,
            policy=policy,
        )
    _new_organisations(judgement, candidates, entries, now)
    return judgement


def _judge_link(
    judgement: Judgement,
    obs: Observation,
    outcome: Outcome,
    state: LinkState,
    entry: DirectoryEntry,
    *,
    before: Observation | None,
    seen: Sequence[str],
    now: dt.datetime,
    policy: Policy,
) -> None:
    """The verdict on one listed link, and the findings it opens and resolves."""
    verdict = decide(state, outcome, now=now, policy=policy)
    judgement.states.append(_with_validators(verdict.state, obs, outcome))
    evidence = [status_chain(obs), *outcome.evidence]
    if verdict.dead:
        judgement.open.append(_dead(obs, entry, state.role, verdict, outcome, evidence, now))
    if verdict.unverifiable:
        judgement.open.append(_unverifiable(obs, entry, verdict, outcome, evidence, now))
    marked_since = entry.dead_mark(obs.url)
    if verdict.recovered and marked_since is not None:
        judgement.open.append(_revived(obs, entry, state.role, marked_since, evidence, now))
    elif outcome.is_dead_class:
        judgement.resolve.append((obs.org_id, "revived", obs.url))
    if verdict.recovered:
        _recovered(judgement, obs, entry, before=before, seen=seen, now=now)


def _recovered(
    judgement: Judgement,
    obs: Observation,
    entry: DirectoryEntry,
    *,
    before: Observation | None,
    seen: Sequence[str],
    now: dt.datetime,
) -> None:
    """A link that works again: its failures resolve, and its page is read for news (a move,
    a rename, new or removed groups)."""
    judgement.resolve.append((obs.org_id, "dead_link", obs.url))
    judgement.resolve.append((obs.org_id, "unverifiable", obs.url))
    move = _move(obs, before, entry, now)
    if move is not None:
        judgement.open.append(move)
    else:
        judgement.resolve.append((obs.org_id, "moved", obs.url))
    role = obs.facts.get("role")
    if role == "homepage" and obs.facts.get("identity"):
        _rename(judgement, obs, entry, now)
    reading = _groups_reading(obs, before) if role == "groups" else None
    if reading is not None:
        _groups(judgement, reading, entry, before=before, seen=seen, now=now)


def _dead(
    obs: Observation,
    entry: DirectoryEntry,
    role: str,
    verdict: Verdict,
    outcome: Outcome,
    evidence: list[str],
    now: dt.datetime,
) -> Draft:
    """A listed link that failed long enough to be called dead."""
    since = verdict.failing_since or now
    return _draft(
        obs,
        "dead_link",
        f"{entry.name}: {obs.url} is dead ({verdict.reason}) "
        f"after {_checks(verdict.state.consecutive_failures)}",
        confidence=outcome.confidence,
        evidence=evidence,
        details={
            "reason": verdict.reason,
            "failing_since": since.isoformat(),
            "failures": verdict.state.consecutive_failures,
            "role": role,
        },
        subject=obs.url,
        material=str(verdict.reason),
        now=now,
    )


def _unverifiable(
    obs: Observation,
    entry: DirectoryEntry,
    verdict: Verdict,
    outcome: Outcome,
    evidence: list[str],
    now: dt.datetime,
) -> Draft:
    """A listed link that a bot wall or the like keeps from being checked: a person must look."""
    return _draft(
        obs,
        "unverifiable",
        f"{entry.name}: {obs.url} cannot be checked automatically "
        f"({', '.join(outcome.evidence[:1]) or outcome.category}); please look",
        confidence=outcome.confidence,
        evidence=evidence,
        details={
            "reason": outcome.category,
            "failing_since": (verdict.failing_since or now).isoformat(),
        },
        subject=obs.url,
        now=now,
    )


def _revived(
    obs: Observation,
    entry: DirectoryEntry,
    role: str,
    marked_since: str,
    evidence: list[str],
    now: dt.datetime,
) -> Draft:
    """A link the directory lists as dead works again: accepting this takes the mark away."""
    since = f" since {marked_since}" if marked_since else ""
    return _draft(
        obs,
        "revived",
        f"{entry.name}: {obs.url} is marked dead in the directory{since}, but it works again",
        confidence=0.9,
        evidence=evidence,
        details={"role": role, "dead_since": marked_since or None},
        subject=obs.url,
        now=now,
    )


def _rename(
    judgement: Judgement, obs: Observation, entry: DirectoryEntry, now: dt.datetime
) -> None:
    # The page text, when the observation still has it; after a cross-domain redirect the
    # spider also keeps it in the identity (the pipeline judges observations without text).
    text = obs.facts.get("text") or obs.facts["identity"].get("text") or ""
    identity = {**obs.facts["identity"], "text": text}
    old_host = (urlsplit(obs.url).hostname or "").removeprefix("www.")
    new_host = (urlsplit(obs.final_url or obs.url).hostname or "").removeprefix("www.")
    rename = detect_rename(
        entry.name,
        entry.aliases,
        identity,
        cross_domain_redirect=bool(obs.redirect_chain) and old_host != new_host,
        listed_host=old_host,
    )
    if rename is None:
        judgement.resolve.append((obs.org_id, "rename", "name"))
        return
    new_name = rename.new_name
    judgement.open.append(
        _draft(
            obs,
            "rename",
            f"{entry.name} now calls itself {new_name}",
            url=obs.final_url or obs.url,
            confidence=rename.confidence,
            evidence=[status_chain(obs), *rename.signals],
            details={"old_name": entry.name, "new_name": new_name},
            subject="name",
            material=normalise_group_name(new_name),
            now=now,
        )
    )


def _groups_reading(obs: Observation, before: Observation | None) -> Observation | None:
    """The groups page as read this run, or None when it could not be read.

    A 304 says the page is the one last read in full, so that reading's groups stand for it:
    groups pages are revisited conditionally, and their lists still compared every run.
    """
    if "groups" in obs.facts:
        return None if obs.facts.get("groups_error") else obs
    if obs.status != 304 or before is None or "groups" not in before.facts:
        return None
    if before.facts.get("groups_error"):
        return None
    return dataclasses.replace(obs, facts={**obs.facts, "groups": before.facts["groups"]})


def _groups(
    judgement: Judgement,
    obs: Observation,
    entry: DirectoryEntry,
    *,
    before: Observation | None,
    seen: Sequence[str],
    now: dt.datetime,
) -> None:
    """New and removed groups on a groups page read this run; what no longer holds resolves."""
    current = _named_groups(obs.facts.get("groups"))
    diff = diff_groups(entry.groups, seen, current)
    present = {normalise_group_name(g["name"]) for g in current}
    if seen:  # the first visit is the baseline: the directory may simply be incomplete
        judgement.open.extend(_new_group(obs, entry, group, now) for group in diff["new"])
    # A page that lists no group at all (a JavaScript shell, a redesign the heuristics cannot
    # read) says nothing about the listed groups: such a run is not a successful reading, and
    # it neither removes a group nor shows one is back.
    if not current:
        return
    missing_now = {normalise_group_name(n): n for n in diff["missing_listed"]}
    missing_before = _missing_before(entry, before)
    for key, name in missing_now.items():
        if key in missing_before:  # missing in two consecutive successful runs
            judgement.open.append(_removed_group(obs, entry, key, name, now))
    for name in entry.groups:
        key = normalise_group_name(name)
        if key not in missing_now:
            judgement.resolve.append((obs.org_id, "removed_group", key))
    listed = {normalise_group_name(n) for n in entry.groups}
    for key in listed & present:
        judgement.resolve.append((obs.org_id, "new_group", key))


def _named_groups(groups: Any) -> list[dict[str, Any]]:
    """The groups of a reading that have a name."""
    return [g for g in groups or [] if isinstance(g, dict) and g.get("name")]


def _missing_before(entry: DirectoryEntry, before: Observation | None) -> set[str]:
    """The listed groups (normalised) missing from the previous successful reading, if any."""
    if before is None or "groups" not in before.facts or not before.status:
        return set()
    if before.status >= 300:
        return set()
    before_groups = _named_groups(before.facts["groups"])
    if not before_groups:
        return set()
    return {
        normalise_group_name(n)
        for n in diff_groups(entry.groups, (), before_groups)["missing_listed"]
    }


def _new_group(
    obs: Observation, entry: DirectoryEntry, group: dict[str, Any], now: dt.datetime
) -> Draft:
    """A group the page lists that was never seen there and the directory does not list."""
    key = normalise_group_name(group["name"])
    name = display_group_name(group["name"]) or group["name"]
    return _draft(
        obs,
        "new_group",
        f"{entry.name} lists a new group: {name}",
        confidence=0.8,
        evidence=[
            f"{group['name']!r} appears on {obs.final_url or obs.url}",
            "it was never seen there before and the directory does not list it",
        ],
        details={"group": name, "group_url": group.get("url")},
        subject=key,
        material=key,
        now=now,
    )


def _removed_group(
    obs: Observation, entry: DirectoryEntry, key: str, name: str, now: dt.datetime
) -> Draft:
    """A listed group missing from the page on two consecutive successful checks."""
    return _draft(
        obs,
        "removed_group",
        f"{entry.name} no longer lists the group {name}",
        confidence=0.75,
        evidence=[
            f"{name!r} is missing from {obs.final_url or obs.url} "
            "on two consecutive successful checks"
        ],
        details={"group": name},
        subject=key,
        material=key,
        now=now,
    )


def _new_organisations(
    judgement: Judgement,
    candidates: Sequence[Observation],
    entries: Mapping[str, DirectoryEntry],
    now: dt.datetime,
) -> None:
    """Linked sites that look like peer-support networks and whose domain nobody lists.

    A site may be seen several times in a run (linked from several pages or organisations);
    it is proposed once, when one of its pages qualifies, with every page that links to it.
    """
    if not candidates:  # the listed domains take the whole directory to compute
        return
    known = listed_domains(entries.values())
    by_domain: dict[str, list[Observation]] = {}
    for obs in candidates:
        domain = obs.facts.get("domain") or registered_domain(obs.url)
        if domain and domain not in known:
            by_domain.setdefault(domain, []).append(obs)
    for domain, seen in by_domain.items():
        linked_from: list[str] = []
        for obs in seen:
            pages = obs.facts.get("linked_from") or []
            for page in [pages] if isinstance(pages, str) else pages:
                if page not in linked_from:
                    linked_from.append(page)
        for obs in seen:
            title = obs.facts.get("title") or ""
            text = " ".join(t for t in (obs.facts.get("description"), obs.facts.get("text")) if t)
            if not_a_peer_network(obs.facts.get("page_types") or []):
                continue
            peer, phrases = looks_like_peer_support(title, text)
            if peer:
                judgement.open.append(
                    _new_organisation(obs, domain, phrases, linked_from, entries, now)
                )
                break


def _new_organisation(
    obs: Observation,
    domain: str,
    phrases: Sequence[str],
    linked_from: list[str],
    entries: Mapping[str, DirectoryEntry],
    now: dt.datetime,
) -> Draft:
    title = obs.facts.get("title") or ""
    name = obs.facts.get("site_name") or title_name(title) or obs.facts.get("link_text") or domain
    entry = entries.get(obs.org_id)
    return _draft(
        obs,
        "new_organisation",
        f"{name} ({domain}) looks like a peer-support organisation, linked from "
        f"{entry.name if entry else obs.org_id}",
        url=obs.final_url or obs.url,
        confidence=min(0.9, 0.5 + 0.1 * len(phrases)),
        evidence=[
            f"its own page speaks of: {', '.join(phrases)}",
            *(f"linked from {page}" for page in linked_from),
        ],
        details={"name": name, "domain": domain, "linked_from": linked_from},
        subject=domain,
        material=domain,
        now=now,
    )


def _probe_to_keep(state: LinkState, obs: Observation, outcome: Outcome) -> dict[str, Any] | None:
    """Cache a probe only while it shows the site answering missing pages with a hard 404 and
    the page itself is fine; anything else is probed afresh next time."""
    probe = obs.facts.get("probe")
    if obs.status == 304:
        return state.probe  # unchanged page: the cached probe still describes it
    if not outcome.is_ok or not isinstance(probe, dict) or not obs.final_url:
        return None
    if probe.get("cached_at"):
        return state.probe  # reused, not re-probed: keep its original time
    if probe.get("status") not in (404, 410):
        return None
    return {
        "key": obs.final_url.rsplit("/", 1)[0],
        "title": obs.facts.get("title"),
        "at": obs.fetched_at.isoformat(),
        "probe": {k: probe.get(k) for k in ("url", "status", "final_url", "error")},
    }


def _checks(n: int) -> str:
    return "1 failed check" if n == 1 else f"{n} failed checks"


def _with_validators(state: LinkState, obs: Observation, outcome: Outcome) -> LinkState:
    """Keep ETag and Last-Modified only for pages judged fine.

    A 304 then means "still the page we judged ok". A soft 404 or a parked page must be fetched
    in full again, or its failures would be reset by a 304. A groups page answering 304 keeps
    the group list of its last full reading (``_groups_reading``).
    """
    state = dataclasses.replace(state, probe=_probe_to_keep(state, obs, outcome))
    if not outcome.is_ok or obs.redirect_chain:
        # Redirected links are fetched in full: the validators belong to the final page.
        return dataclasses.replace(state, etag=None, last_modified=None)
    if obs.status == 304:
        return state
    return dataclasses.replace(
        state, etag=obs.headers.get("etag"), last_modified=obs.headers.get("last-modified")
    )


def _canonical(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    path = parts.path.rstrip("/") or "/"
    return host, path + (f"?{parts.query}" if parts.query else "")


def _move(
    obs: Observation, before: Observation | None, entry: DirectoryEntry, now: dt.datetime
) -> Draft | None:
    """A listed URL that now lives elsewhere, or None."""
    if not obs.redirect_chain or not obs.final_url or obs.final_url == obs.url:
        return None
    if obs.status is None or not 200 <= obs.status < 300 and obs.status != 304:
        return None
    first = obs.redirect_chain[0].get("status")
    permanent = all(h.get("status") in PERMANENT for h in obs.redirect_chain)
    persisted = (
        before is not None and before.final_url == obs.final_url and bool(before.redirect_chain)
    )
    if not permanent and not persisted:
        return None  # a temporary 302/307 (a campaign page) is a move only once it persists
    same_site = _canonical(obs.url) == _canonical(obs.final_url)
    old_host = (urlsplit(obs.url).hostname or "").removeprefix("www.")
    new_host = (urlsplit(obs.final_url).hostname or "").removeprefix("www.")
    if same_site:
        summary = f"{entry.name}: {obs.url} is now served as {obs.final_url} (tidy the URL)"
        confidence = 0.3
    elif old_host != new_host:
        summary = f"{entry.name}: {obs.url} moved to another domain, {obs.final_url}"
        confidence = 0.9 if permanent else 0.7
    else:
        summary = f"{entry.name}: {obs.url} moved to {obs.final_url}"
        confidence = 0.85 if permanent else 0.6
    evidence = [status_chain(obs)]
    if not permanent:
        evidence.append(f"the same {first} redirect was seen on the previous run too")
    return _draft(
        obs,
        "moved",
        summary,
        confidence=confidence,
        evidence=evidence,
        details={
            "old_url": obs.url,
            "new_url": obs.final_url,
            "same_site": same_site,
            "permanent": permanent,
        },
        subject=obs.url,
        material=obs.final_url or "",
        now=now,
    )

"""Deciding over time: turn one run's outcomes into link verdicts. Pure, with the clock passed in.

A URL is declared dead only after ``dead_after_failures`` consecutive dead-class outcomes that
span at least ``dead_after`` hours, so one bad night never reaches a curator. Blocked outcomes
(bot walls, 429, robots.txt) neither count toward dead nor reset the count; persistent blocking
becomes ``unverifiable`` so a person can look. Any success resets everything.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from monitor.judging.outcome import Outcome
from monitor.judging.policy import Policy
from storage.records import LinkState

NETWORK_LEVEL = frozenset({"dns", "connection", "timeout"})

# What a machine without a network says about any host all by itself: its resolver cannot be
# asked, there is no route out, or nothing answers in time. A definite answer from the far
# side (no such domain, connection refused or reset by the server) is not among these: an
# offline machine cannot get one.
_OFFLINE_WORDING = (
    "temporary failure in name resolution",  # glibc's EAI_AGAIN: no resolver could be asked
    "name resolution is temporarily",
    "try again",  # EAI_AGAIN as musl words it
    "timeout error",  # Twisted's threaded resolver gave up waiting
    "network is unreachable",  # ENETUNREACH: no route out of this machine
    "no route to host",
)


def could_be_offline(outcome: Outcome) -> bool:
    """Whether this failure could come from the monitoring machine itself being offline."""
    if outcome.category == "timeout":
        return True
    if outcome.category not in NETWORK_LEVEL:
        return False
    text = " ".join(outcome.evidence).lower()
    return any(words in text for words in _OFFLINE_WORDING)


@dataclass(frozen=True)
class Verdict:
    """What one outcome means for one listed link, given its history."""

    state: LinkState
    dead: bool = False  # a dead_link finding should be open
    unverifiable: bool = False  # an unverifiable finding should be open
    recovered: bool = False  # it works: open dead/unverifiable findings are resolved
    reason: str | None = None
    failing_since: dt.datetime | None = None


def decide(state: LinkState, outcome: Outcome, *, now: dt.datetime, policy: Policy) -> Verdict:
    if outcome.is_ok:
        new = dataclasses.replace(
            state,
            consecutive_failures=0,
            first_failure_at=None,
            consecutive_blocked=0,
            first_blocked_at=None,
            last_category=outcome.category,
            last_checked_at=now,
            last_ok_at=now,
        )
        return Verdict(new, recovered=True)

    if outcome.is_blocked:
        blocked = state.consecutive_blocked + 1
        since = state.first_blocked_at or now
        new = dataclasses.replace(
            state,
            consecutive_blocked=blocked,
            first_blocked_at=since,
            last_category=outcome.category,
            last_checked_at=now,
        )
        unverifiable = (
            blocked >= policy.unverifiable_after_blocked
            and now - since >= policy.unverifiable_after
        )
        return Verdict(new, unverifiable=unverifiable, reason=outcome.category, failing_since=since)

    failures = state.consecutive_failures + 1
    since = state.first_failure_at or now
    new = dataclasses.replace(
        state,
        consecutive_failures=failures,
        first_failure_at=since,
        consecutive_blocked=0,
        first_blocked_at=None,
        last_category=outcome.category,
        last_checked_at=now,
    )
    dead = failures >= policy.dead_after_failures and now - since >= policy.dead_after
    return Verdict(new, dead=dead, reason=outcome.category, failing_since=since)


def detect_outage(
    outcomes_by_url: Mapping[str, Outcome],
    canaries: Sequence[Outcome],
    policy: Policy,
) -> str | None:
    """Say why this run cannot be trusted, or None.

    When the monitoring host itself is offline, every host fails at the network level. Then
    nothing may count toward dead, however many runs are made.
    """
    if canaries and all(o.category in NETWORK_LEVEL for o in canaries):
        return f"all {len(canaries)} canary URL(s) failed at the network level"
    hosts: dict[str, list[Outcome]] = {}
    for url, outcome in outcomes_by_url.items():
        hosts.setdefault((urlsplit(url).hostname or url).lower(), []).append(outcome)
    if not hosts:
        return None
    failed = [h for h, outs in hosts.items() if all(o.category in NETWORK_LEVEL for o in outs)]
    if len(hosts) == 1 and failed and not canaries:
        # One host has nothing to be compared with, so only the kind of failure can tell an
        # offline machine from a dead site; canaries would tell for certain.
        [outs] = hosts.values()
        if all(could_be_offline(o) for o in outs):
            return (
                f"the only host, {failed[0]}, failed the way an offline machine fails "
                "(no name resolution, no route, or no answer in time), and no "
                "FRESHNESS_CANARY_URLS are set to tell the two apart"
            )
    if len(hosts) >= 2 and len(failed) == len(hosts):
        return f"every one of {len(hosts)} hosts failed at the network level (DNS, connection, timeout)"
    if (
        len(hosts) >= policy.outage_min_hosts
        and len(failed) / len(hosts) >= policy.outage_failure_ratio
    ):
        return (
            f"{len(failed)} of {len(hosts)} hosts failed at the network level, "
            f"at least {policy.outage_failure_ratio:.0%}"
        )
    return None

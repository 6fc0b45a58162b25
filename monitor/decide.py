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

from monitor.classify import Outcome
from monitor.policy import Policy
from storage.records import LinkState

NETWORK_LEVEL = frozenset({"dns", "connection", "timeout"})


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

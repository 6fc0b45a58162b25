"""The detection policy: every ``FRESHNESS_`` threshold, parsed once into a frozen object.

Takes any mapping with ``get`` (a Scrapy ``Settings`` or a plain dict), so detection code and
its tests never need Scrapy. The defaults are ``spiders.settings``'s, the one table of them (a
module of constants that imports nothing, so pure code may read it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import spiders.settings as table
from monitor.judging.intervals import parse_interval

POLICY_SETTINGS = (
    "FRESHNESS_DEAD_AFTER_FAILURES",
    "FRESHNESS_DEAD_AFTER_HOURS",
    "FRESHNESS_UNVERIFIABLE_AFTER_BLOCKED",
    "FRESHNESS_UNVERIFIABLE_AFTER_HOURS",
    "FRESHNESS_DEFAULT_CHECK_EVERY",
    "FRESHNESS_CANARY_URLS",
    "FRESHNESS_OUTAGE_MIN_HOSTS",
    "FRESHNESS_OUTAGE_FAILURE_RATIO",
    "FRESHNESS_PROBE_TTL",
    "FRESHNESS_DISCOVERY_EVERY",
)
# What an empty or missing setting means: the table's value.
DEFAULTS: dict[str, Any] = {name: getattr(table, name) for name in POLICY_SETTINGS}


class PolicyError(ValueError):
    """A FRESHNESS_ setting has a value we cannot use."""


@dataclass(frozen=True)
class Policy:
    # Each default is the table's (spiders.settings), as from_settings({}) would parse it.
    dead_after_failures: int = table.FRESHNESS_DEAD_AFTER_FAILURES
    dead_after: dt.timedelta = dt.timedelta(hours=table.FRESHNESS_DEAD_AFTER_HOURS)
    unverifiable_after_blocked: int = table.FRESHNESS_UNVERIFIABLE_AFTER_BLOCKED
    unverifiable_after: dt.timedelta = dt.timedelta(hours=table.FRESHNESS_UNVERIFIABLE_AFTER_HOURS)
    default_check_every: dt.timedelta = parse_interval(table.FRESHNESS_DEFAULT_CHECK_EVERY)
    canary_urls: tuple[str, ...] = field(default_factory=lambda: tuple(table.FRESHNESS_CANARY_URLS))
    outage_min_hosts: int = table.FRESHNESS_OUTAGE_MIN_HOSTS
    outage_failure_ratio: float = table.FRESHNESS_OUTAGE_FAILURE_RATIO
    probe_ttl: dt.timedelta = field(
        default_factory=lambda: _interval_or_zero(table.FRESHNESS_PROBE_TTL)
    )
    discovery_every: dt.timedelta = field(
        default_factory=lambda: _interval_or_zero(table.FRESHNESS_DISCOVERY_EVERY)
    )

    @classmethod
    def from_settings(cls, settings: Any) -> Policy:
        """The policy ``settings`` give, parsed once per settings object.

        Settings that can keep what was parsed from them (``LayeredSettings.memo``, which
        forgets it when a setting changes) answer every later call with the same object: one
        pass asks for its policy in several places.
        """
        memo: Callable[[str, Callable[[], Any]], Any] | None = getattr(settings, "memo", None)
        if callable(memo):
            return memo("policy", lambda: cls._parse(settings))
        return cls._parse(settings)

    @classmethod
    def _parse(cls, settings: Any) -> Policy:
        def get(name: str) -> Any:
            value = settings.get(name) if settings is not None else None
            return DEFAULTS[name] if value is None or value == "" else value

        try:
            canaries = get("FRESHNESS_CANARY_URLS")
            if isinstance(canaries, str):
                canaries = [c for c in canaries.replace(",", " ").split() if c]
            return cls(
                dead_after_failures=int(get("FRESHNESS_DEAD_AFTER_FAILURES")),
                dead_after=dt.timedelta(hours=float(get("FRESHNESS_DEAD_AFTER_HOURS"))),
                unverifiable_after_blocked=int(get("FRESHNESS_UNVERIFIABLE_AFTER_BLOCKED")),
                unverifiable_after=dt.timedelta(
                    hours=float(get("FRESHNESS_UNVERIFIABLE_AFTER_HOURS"))
                ),
                default_check_every=parse_interval(str(get("FRESHNESS_DEFAULT_CHECK_EVERY"))),
                canary_urls=tuple(canaries),
                outage_min_hosts=int(get("FRESHNESS_OUTAGE_MIN_HOSTS")),
                outage_failure_ratio=float(get("FRESHNESS_OUTAGE_FAILURE_RATIO")),
                probe_ttl=_interval_or_zero(str(get("FRESHNESS_PROBE_TTL"))),
                discovery_every=_interval_or_zero(str(get("FRESHNESS_DISCOVERY_EVERY"))),
            )
        except (TypeError, ValueError) as exc:
            raise PolicyError(f"bad FRESHNESS_ setting: {exc}") from exc


def _interval_or_zero(text: str) -> dt.timedelta:
    """An interval setting where 0 means "every time" (no caching, no skipping)."""
    return dt.timedelta(0) if text.strip() in ("0", "") else parse_interval(text)


def clock_from_settings(settings: Any) -> dt.datetime:
    """``FRESHNESS_NOW`` when set (tests move time with it), else the real UTC clock."""
    value = settings.get("FRESHNESS_NOW") if settings is not None else None
    if not value:
        return dt.datetime.now(dt.UTC)
    return parse_timestamp(str(value))


def parse_timestamp(value: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise PolicyError(f"not an ISO timestamp: {value!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)

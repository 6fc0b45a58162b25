"""The detection policy: every ``FRESHNESS_`` threshold, parsed once into a frozen object.

Takes any mapping with ``get`` (a Scrapy ``Settings`` or a plain dict), so detection code and
its tests never need Scrapy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from monitor.judging.intervals import parse_interval

DEFAULTS: dict[str, Any] = {
    "FRESHNESS_DEAD_AFTER_FAILURES": 3,
    "FRESHNESS_DEAD_AFTER_HOURS": 48.0,
    "FRESHNESS_UNVERIFIABLE_AFTER_BLOCKED": 3,
    "FRESHNESS_UNVERIFIABLE_AFTER_HOURS": 48.0,
    "FRESHNESS_DEFAULT_CHECK_EVERY": "1d",
    "FRESHNESS_CANARY_URLS": [],
    "FRESHNESS_OUTAGE_MIN_HOSTS": 5,
    "FRESHNESS_OUTAGE_FAILURE_RATIO": 0.8,
    "FRESHNESS_PROBE_TTL": "7d",
    "FRESHNESS_DISCOVERY_EVERY": "7d",
}


class PolicyError(ValueError):
    """A FRESHNESS_ setting has a value we cannot use."""


@dataclass(frozen=True)
class Policy:
    dead_after_failures: int = 3
    dead_after: dt.timedelta = dt.timedelta(hours=48)
    unverifiable_after_blocked: int = 3
    unverifiable_after: dt.timedelta = dt.timedelta(hours=48)
    default_check_every: dt.timedelta = dt.timedelta(days=1)
    canary_urls: tuple[str, ...] = field(default_factory=tuple)
    outage_min_hosts: int = 5
    outage_failure_ratio: float = 0.8
    probe_ttl: dt.timedelta = dt.timedelta(days=7)
    discovery_every: dt.timedelta = dt.timedelta(days=7)

    @classmethod
    def from_settings(cls, settings: Any) -> Policy:
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

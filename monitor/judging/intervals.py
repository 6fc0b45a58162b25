"""Intervals as the directory file and the settings write them: ``12h``, ``1d``, ``2w``; and
``show``, the short rendering of a value that the interval's and the directory's messages use."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

_INTERVAL = re.compile(r"\s*([+-]?\d{1,15})\s*([A-Za-z]+)\s*")
_INTERVAL_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_MAX_INTERVAL = dt.timedelta(days=3660)


def parse_interval(text: str) -> dt.timedelta:
    """``"12h"`` -> 12 hours. Units: s, m, h, d, w. Raises ValueError on anything else or <= 0."""
    if not isinstance(text, str):
        raise ValueError(f"an interval is text like '12h' or '1d', got {show(text)}")
    match = _INTERVAL.fullmatch(text)
    # Units are lowercase only: "1M" could as well mean a month as a minute.
    unit = match.group(2) if match else ""
    if match is None or unit not in _INTERVAL_UNITS:
        raise ValueError(
            "an interval is a whole number and a unit (s, m, h, d or w), "
            f"like 12h, 1d or 2w; got {show(text)}"
        )
    number = int(match.group(1))
    if number <= 0:
        raise ValueError(f"an interval must be longer than zero, got {show(text)}")
    # Compare before building the timedelta: huge numbers would overflow it.
    if number * _unit_seconds(unit) > _MAX_INTERVAL.total_seconds():
        raise ValueError(f"an interval must be at most 10 years, got {show(text)}")
    return dt.timedelta(**{_INTERVAL_UNITS[unit]: number})


def _unit_seconds(unit: str) -> int:
    return {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit]


def show(value: Any) -> str:
    """A short quoted rendering for messages; never the whole of a hostile value."""
    if isinstance(value, str):
        return repr(value if len(value) <= 80 else value[:77] + "...")
    return type(value).__name__

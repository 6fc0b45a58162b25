"""The format-neutral middle: an entry's values as written, with their lines.

The YAML and CSV readers produce ``RawEntry`` items; ``monitor.directory.validate`` checks
their meaning and makes the records.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Value:
    """A value as written, before its meaning is checked. ``bad`` means already reported."""

    line: int | None
    text: str | None = None
    items: list[tuple[str | None, int | None]] | None = None
    bad: bool = False


@dataclass
class RawEntry:
    """One entry as read, from the line it starts on; its values by key."""

    line: int | None
    values: dict[str, Value] = field(default_factory=dict)

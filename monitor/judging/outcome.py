"""The verdict on one fetch: its category, why, and how sure. ``classify`` gives these.

An ``Outcome`` is all the rest of monitor knows of a fetch's judgement: ``decide`` and ``judge``
weigh outcomes over time, the pipelines record them. ``monitor.judging.classify`` re-exports it.
"""

from __future__ import annotations

from dataclasses import dataclass

CATEGORIES = (
    "ok",
    "http_404",
    "http_410",
    "http_4xx",
    "server_error",
    "dns",
    "connection",
    "timeout",
    "tls",
    "redirect_loop",
    "soft_404",
    "parked",
    "closed",
    "blocked",
)
DEAD_CATEGORIES = frozenset(c for c in CATEGORIES if c not in ("ok", "blocked"))


@dataclass(frozen=True)
class Outcome:
    """One fetch judged: a category, short human evidence lines, and how sure we are."""

    category: str
    evidence: tuple[str, ...] = ()
    confidence: float = 1.0

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"unknown category {self.category!r}; expected one of {CATEGORIES}")
        object.__setattr__(self, "evidence", tuple(self.evidence))
        confidence = round(min(1.0, max(0.0, float(self.confidence))), 3)
        object.__setattr__(self, "confidence", confidence)

    @property
    def is_dead_class(self) -> bool:
        return self.category in DEAD_CATEGORIES

    @property
    def is_blocked(self) -> bool:
        return self.category == "blocked"

    @property
    def is_ok(self) -> bool:
        return self.category == "ok"

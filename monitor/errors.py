"""The errors a user can fix, shared by every room: the message says how."""

from __future__ import annotations


class FreshnessError(Exception):
    """A problem the user can fix; the message says how."""


class RunLocked(FreshnessError):
    """Another run holds the lock."""

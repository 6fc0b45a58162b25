"""The Redis keys a distributed run shares between its coordinator and its workers.

Plain names with nothing imported: the worker spider reads them without loading the
coordinator's side (``monitor.runs.distributed``), which would bring SQLAlchemy.
"""

from __future__ import annotations

QUEUE_KEY = "freshness:queue"  # one JSON message per organisation, any run


def taken_key(run_id: int) -> str:
    """Hash: organisation id -> when a worker took it (its lease started)."""
    return f"freshness:run:{run_id}:taken"


def done_key(run_id: int) -> str:
    """Set: organisations whose observations are committed."""
    return f"freshness:run:{run_id}:done"

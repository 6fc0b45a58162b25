"""Distributed runs on scrapy-redis: the coordinator's side, and the worker's bookkeeping.

The coordinator holds the run lock, starts the run, queues one message per due organisation,
then waits until every organisation is marked done by a worker. An organisation whose worker
died (taken longer than ``FRESHNESS_REDIS_LEASE`` seconds ago and not done) is queued again,
so a killed worker loses nothing. Then the coordinator judges the run and sends the digest,
once. Workers write observations straight to the shared store (PostgreSQL).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from monitor.errors import FreshnessError
from monitor.runs.lifecycle import conclude_recorded, holding_run_lock, started_run
from monitor.runs.plan import load_due_targets
from monitor.runs.queue_keys import QUEUE_KEY, done_key, taken_key
from storage.db import Store

logger = logging.getLogger("freshness.distributed")


class DistributedError(Exception):
    """The distributed run could not complete; the message says why."""


def redis_client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url)


def enqueue(client: Any, run_id: int, targets: list[dict[str, Any]]) -> list[str]:
    """Queue one message per organisation. Returns the organisation ids queued."""
    by_org: dict[str, list[dict[str, Any]]] = {}
    for target in targets:
        if target.get("org_id"):
            by_org.setdefault(target["org_id"], []).append(target)
    messages = [
        json.dumps({"run_id": run_id, "org_id": org_id, "targets": org_targets})
        for org_id, org_targets in by_org.items()
    ]
    if messages:
        client.rpush(QUEUE_KEY, *messages)
    return list(by_org)


def wait_for_workers(
    client: Any,
    run_id: int,
    targets: list[dict[str, Any]],
    *,
    lease: float,
    timeout: float,
    progress: Callable[[int, int, str], None] | None = None,
    poll: float = 0.5,
) -> None:
    """Block until every queued organisation is done, re-queueing ones whose worker died."""
    by_org: dict[str, list[dict[str, Any]]] = {}
    for target in targets:
        if target.get("org_id"):
            by_org.setdefault(target["org_id"], []).append(target)
    started = time.monotonic()
    last_done = -1
    while True:
        done = {d.decode() for d in client.smembers(done_key(run_id))}
        if progress is not None and len(done) != last_done:
            progress(len(done), len(by_org), "")
        last_done = len(done)
        if set(by_org) <= done:
            return
        now = time.time()
        taken = {k.decode(): float(v) for k, v in client.hgetall(taken_key(run_id)).items()}
        for org_id, since in taken.items():
            if org_id not in done and now - since > lease:
                logger.warning(
                    "re-queueing %s: its worker has not finished in %.0f s", org_id, lease
                )
                client.hdel(taken_key(run_id), org_id)
                client.rpush(
                    QUEUE_KEY,
                    json.dumps({"run_id": run_id, "org_id": org_id, "targets": by_org[org_id]}),
                )
        if time.monotonic() - started > timeout:
            missing = sorted(set(by_org) - done)
            raise DistributedError(
                f"{len(missing)} organisation(s) were not crawled within {timeout:.0f} s "
                f"(e.g. {', '.join(missing[:3])}); is a `freshness worker` running? "
                "They stay due for the next run"
            )
        time.sleep(poll)


def mark_done(client: Any, run_id: int, org_id: str) -> None:
    client.sadd(done_key(run_id), org_id)


def run_distributed(
    store: Store,
    settings: Any,
    redis_url: str,
    *,
    wait: bool = False,
    progress: Callable[[int, int, str], None] | None = None,
) -> dict[str, Any] | None:
    """Coordinate one distributed pass. None when nothing was due."""
    started = time.monotonic()
    client = redis_client(redis_url)
    try:
        client.ping()
    except Exception as exc:  # redis raises many kinds; all mean "cannot use this Redis"
        raise FreshnessError(f"cannot reach Redis at {_mask(redis_url)}: {exc}") from exc
    with holding_run_lock(store, wait=wait):
        targets = load_due_targets(settings)
        if not any(t.get("org_id") for t in targets):
            return None
        with started_run(store, settings, fails_on=DistributedError) as run_id:
            enqueue(client, run_id, targets)
            wait_for_workers(
                client,
                run_id,
                targets,
                lease=settings.getfloat("FRESHNESS_REDIS_LEASE"),
                timeout=settings.getfloat("FRESHNESS_REDIS_TIMEOUT"),
                progress=progress,
            )
        summary = conclude_recorded(store, run_id, settings)
        client.delete(taken_key(run_id), done_key(run_id))
    summary["duration_s"] = round(time.monotonic() - started, 1)
    return summary


def _mask(url: str) -> str:
    """redis://:secret@host → redis://***@host"""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return scheme + sep + rest

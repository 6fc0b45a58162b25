"""The outbox: every digest, per notification target, kept in the store until it is delivered.

After each run, ``queue_digests`` builds the digest of what changed since the last digest (the
findings opened and resolved by the runs not digested yet), routes it, and stores one outbox
entry per target that has something to receive. ``deliver_outbox`` then sends every entry not
yet delivered, oldest first, and marks an entry sent only once Apprise said so. A target that
fails keeps its entry for the next run or ``freshness notify --retry``; a target that has an
entry for a run never gets a second one (one entry per run and target, enforced by the store),
and an entry is claimed in the store before sending, so two processes cannot both send it.

Target URLs hold passwords and tokens, so they are **not stored**. An entry keeps a key (a
salted PBKDF2 hash of the URL, slow enough that a leaked database does not give away a weak
password by guessing) and the masked URL for people to read. Delivery finds the URL again among
the targets configured now (``--notify``, ``FRESHNESS_NOTIFY`` or the config file). When a
target's URL changed (a new password), an undelivered entry follows the one configured target
that masks the same way. An entry whose target is no longer configured waits, and is listed
by ``freshness notify``.

Only ``monitor.telling.notify`` talks to Apprise; this module wires it to the store.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from monitor.telling.digest import Digest, render_digest
from monitor.telling.notify import (
    DEFAULT_ROUTES,
    NotifyError,
    Target,
    deliver,
    deliver_one,
    digest_for,
    kinds_for,
    mask,
    parse_targets,
)
from monitor.telling.sample import sample_digest
from storage.db import Store
from storage.records import FINDING_KINDS

log = logging.getLogger("freshness.outbox")

# A claim older than this belongs to a process that died while sending; it is taken over.
STALE_CLAIM = dt.timedelta(minutes=15)
_KEY_SALT = b"freshness outbox target key v1"
_KEY_ITERATIONS = 100_000
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off", "none"})


# -- configuration ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotifyConfig:
    """Where digests go, how kinds are routed, and whether a quiet run still says so."""

    targets: tuple[Target, ...] = ()
    routes: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_ROUTES))
    heartbeat: bool = False

    @classmethod
    def resolve(
        cls,
        *,
        cli: Sequence[str] = (),
        setting: Any = None,
        config: Any = None,
        routes: Any = None,
        heartbeat: Any = None,
    ) -> NotifyConfig:
        """Targets from ``--notify`` values, else the ``FRESHNESS_NOTIFY`` setting, else
        ``notify = [...]`` in the config file (the first that gives any).

        ``routes`` is the config file's ``[routes]`` table (route name → finding kinds); it
        adds to, or replaces, ``DEFAULT_ROUTES``. Every target's tags are checked here, so a
        typo fails before anything runs. Raises NotifyError, whose message holds no secret.
        """
        if cli:
            specs = list(cli)
        elif setting:
            specs = _specs(setting, "FRESHNESS_NOTIFY")
        else:
            specs = _specs(config, "notify in the config file")
        merged = _routes(routes)
        targets = _unique(parse_targets(specs))
        for target in targets:
            kinds_for(target, merged)
        return cls(targets=tuple(targets), routes=merged, heartbeat=_flag(heartbeat))


def _specs(value: Any, where: str) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return list(value)
    raise NotifyError(f"{where} must be Apprise URLs (a string or a list of strings)")


def _routes(value: Any) -> dict[str, tuple[str, ...]]:
    merged = {name: tuple(kinds) for name, kinds in DEFAULT_ROUTES.items()}
    if value is None:
        return merged
    if not isinstance(value, Mapping):
        raise NotifyError("[routes] in the config file must be a table: name = [kinds]")
    for name, kinds in value.items():
        if isinstance(kinds, str):
            kinds = [kinds]
        if not isinstance(kinds, list | tuple) or not all(isinstance(k, str) for k in kinds):
            raise NotifyError(f"route {name!r} must be a list of finding kinds")
        unknown = sorted(set(kinds) - set(FINDING_KINDS))
        if unknown:
            raise NotifyError(
                f"route {name!r} names unknown finding kinds: {', '.join(unknown)} "
                f"(kinds: {', '.join(FINDING_KINDS)})"
            )
        merged[str(name).strip().lower()] = tuple(kinds)
    return merged


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = "" if value is None else str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise NotifyError(f"FRESHNESS_HEARTBEAT must be true or false, not {text[:20]!r}")


def _unique(targets: Sequence[Target]) -> list[Target]:
    """One target per URL: the same URL listed twice gets one digest, with the tags merged."""
    out: dict[str, Target] = {}
    for target in targets:
        seen = out.get(target.url)
        if seen is None:
            out[target.url] = target
        elif seen.tags and target.tags:
            out[target.url] = Target(target.url, seen.tags | target.tags)
        else:
            out[target.url] = Target(target.url)  # one of them takes every kind
    return list(out.values())


@functools.cache
def target_key(url: str) -> str:
    """The stored identity of a target: a slow, salted hash of its URL (never the URL)."""
    return hashlib.pbkdf2_hmac("sha256", url.encode(), _KEY_SALT, _KEY_ITERATIONS).hex()


# -- queueing -----------------------------------------------------------------------------------


def queue_digests(store: Store, config: NotifyConfig, *, now: dt.datetime) -> list[int]:
    """Queue the digest of the runs not digested yet, one entry per target; return the ids.

    The runs are marked digested even when nothing is queued (no targets, or nothing new and
    no heartbeat), so a digest is built once per run, never twice.
    """
    with store.transaction() as repo:
        runs = repo.undigested_runs()
        if not runs:
            return []
        if not config.targets:  # nobody to build it for: the runs are digested all the same
            repo.mark_runs_digested([r.id for r in runs], now, 0)
            return []
        opened_ids = _ids(r.summary.get("opened") for r in runs)
        recovered_ids = _ids(r.summary.get("resolved") for r in runs)
        wanted = opened_ids + recovered_ids
        found = {f.id: f for f in repo.findings(statuses=None, ids=wanted)} if wanted else {}
        names = {o.id: o.entry.name for o in repo.organisations(include_inactive=True)}
        last = runs[-1]
        digest = render_digest(
            [found[i] for i in opened_ids if i in found],
            [found[i] for i in recovered_ids if i in found],
            org_names=names,
            now=last.finished_at or now,
            run_id=last.id,
            heartbeat=config.heartbeat,
        )
        queued: list[int] = []
        if not digest.is_empty():
            for target in config.targets:
                part = digest_for(digest, target, config.routes)
                if part.is_empty():
                    continue
                entry_id = repo.queue_digest(
                    run_id=last.id,
                    target_key=target_key(target.url),
                    target=mask(target.url),
                    payload={
                        "runs": [r.id for r in runs],
                        "opened": [i.finding.id for i in part.items if i.change == "new"],
                        "recovered": [i.finding.id for i in part.items if i.change != "new"],
                        "heartbeat": part.heartbeat,
                    },
                    generated_at=digest.generated_at,
                    now=now,
                )
                if entry_id is not None:
                    queued.append(entry_id)
        repo.mark_runs_digested([r.id for r in runs], now, len(queued))
    return queued


def _ids(lists: Any) -> list[int]:
    out: dict[int, None] = {}
    for values in lists:
        for value in values or ():
            if isinstance(value, int) and value > 0:
                out[value] = None
    return list(out)


# -- delivering ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """What happened to one outbox entry in this pass. ``target`` is masked."""

    entry_id: int
    run_id: int
    target: str
    status: str  # sent | failed | waiting (target not configured) | held (target failed)
    error: str | None = None

    def __str__(self) -> str:
        text = f"digest of run {self.run_id} to {self.target}: {self.status}"
        return f"{text} ({self.error})" if self.error else text


def deliver_outbox(store: Store, config: NotifyConfig, *, now: dt.datetime) -> list[Delivery]:
    """Send every undelivered outbox entry to its target, oldest first."""
    with store.transaction() as repo:
        waiting = repo.outbox(statuses=("pending", "failed", "sending"))
    if not waiting:
        return []
    by_key = {target_key(t.url): t for t in config.targets}
    by_mask: dict[str, list[Target]] = {}
    for target in config.targets:
        by_mask.setdefault(mask(target.url), []).append(target)
    failing: set[str] = set()
    results: list[Delivery] = []
    for entry in waiting:
        target = by_key.get(entry.target_key)
        if target is None:
            target = _follow(store, entry, by_mask.get(entry.target, []))
        if target is None:
            reason = "no configured target has this URL now"
            results.append(Delivery(entry.id, entry.run_id, entry.target, "waiting", reason))
            continue
        masked = mask(target.url)
        if target.url in failing:
            reason = "an earlier digest to this target failed just now; kept for the next try"
            results.append(Delivery(entry.id, entry.run_id, masked, "held", reason))
            continue
        with store.transaction() as repo:
            if not repo.claim_outbox(entry.id, now, stale_before=now - STALE_CLAIM):
                continue  # sent, or being sent by another process
            digest = _entry_digest(repo, entry)
        sent, error = _send(store, entry.id, digest, target, now)
        if not sent:
            failing.add(target.url)
        status = "sent" if sent else "failed"
        results.append(Delivery(entry.id, entry.run_id, masked, status, error))
    return results


def _follow(store: Store, entry: Any, candidates: list[Target]) -> Target | None:
    """The one configured target that masks like the entry's, when its URL changed."""
    if len(candidates) != 1:
        return None
    target = candidates[0]
    with store.transaction() as repo:
        if repo.rekey_outbox(entry.id, target_key(target.url), mask(target.url)):
            return target
    return None


def _send(
    store: Store, entry_id: int, digest: Digest, target: Target, now: dt.datetime
) -> tuple[bool, str | None]:
    error: str | None = None
    try:
        with _failure_reason(target.url) as reasons:
            try:
                sent = deliver_one(digest, target)
            except NotifyError as exc:
                sent, error = False, str(exc)
        if not sent and error is None:
            error = reasons[-1] if reasons else "the service did not accept the digest"
    except BaseException:
        with store.transaction() as repo:
            repo.finish_outbox(entry_id, now, sent=False, error="interrupted while sending")
        raise
    with store.transaction() as repo:
        repo.finish_outbox(entry_id, now, sent=sent, error=error)
    return sent, error


def _entry_digest(repo: Any, entry: Any) -> Digest:
    payload = entry.payload or {}
    opened = _ids([payload.get("opened")])
    recovered = _ids([payload.get("recovered")])
    wanted = opened + recovered
    found = {f.id: f for f in repo.findings(statuses=None, ids=wanted)} if wanted else {}
    names = {o.id: o.entry.name for o in repo.organisations(include_inactive=True)}
    return render_digest(
        [found[i] for i in opened if i in found],
        [found[i] for i in recovered if i in found],
        org_names=names,
        now=entry.generated_at,
        run_id=entry.run_id,
        heartbeat=bool(payload.get("heartbeat")),
    )


@contextlib.contextmanager
def _failure_reason(url: str) -> Iterator[list[str]]:
    """Collect Apprise's warnings while sending, with every secret part of ``url`` hidden."""
    reasons: list[str] = []
    secrets = _secret_parts(url)

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            try:
                message = record.getMessage()
            except (TypeError, ValueError):
                return
            for secret in secrets:
                message = message.replace(secret, "****")
            reasons.append(" ".join(message.split())[:300])

    handler = Collect(level=logging.WARNING)
    logger = logging.getLogger("apprise")
    logger.addHandler(handler)
    try:
        yield reasons
    finally:
        logger.removeHandler(handler)


def _secret_parts(url: str) -> list[str]:
    """The parts of an Apprise URL that may be secret: user, password, path, query values."""
    try:
        parts = urlsplit(url)
        candidates = [parts.username or "", parts.password or ""]
    except ValueError:
        parts, candidates = None, []
    if parts is not None:
        candidates += [p for p in parts.path.split("/") if p]
        candidates += [v for _, v in parse_qsl(parts.query)]
    candidates.append(url)
    return sorted({c for c in candidates if len(c) >= 3}, key=len, reverse=True)


# -- trying targets out -------------------------------------------------------------------------


def send_test(config: NotifyConfig, *, now: dt.datetime) -> dict[str, bool]:
    """Send the sample digest (one finding of each kind) straight to every target.

    Not through the outbox: nothing is retried. Returns success by masked URL.
    """
    if not config.targets:
        raise NotifyError(NO_TARGETS)
    return deliver(sample_digest(now), list(config.targets), routes=config.routes)


NO_TARGETS = (
    "no notification targets: give --notify URL, set FRESHNESS_NOTIFY, "
    "or add notify = [...] to freshness.toml"
)

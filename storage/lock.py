"""One monitoring run at a time per store, safe against crashes.

SQLite stores use an ``flock`` on ``<database>.lock``; PostgreSQL stores use a session-level
advisory lock. Both are released by the operating system or the server when the holding
process dies, so a crashed run never leaves a lock that blocks the next one: the lock file
that stays behind is only a note of who held it last.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

ADVISORY_KEY = 0x66726573  # "fres": one key for every freshness run on a database


class LockHeld(Exception):
    """Another run holds the lock; the message says which, and how to wait for it."""


def _holder_note() -> dict[str, Any]:
    return {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}


def _describe(note: dict[str, Any] | None) -> str:
    if not note:
        return "another freshness run"
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(note.get("since", 0)))
    return f"freshness run pid {note.get('pid')} on {note.get('host')} (since {since})"


@contextlib.contextmanager
def run_lock(store: Any, *, wait: bool = False, poll: float = 0.5) -> Iterator[None]:
    """Hold the run lock for the block. Raises ``LockHeld`` at once unless ``wait``."""
    if store.engine.dialect.name == "sqlite":
        with _file_lock(Path(store.engine.url.database or "freshness.db"), wait=wait):
            yield
    else:
        with _advisory_lock(store.engine, wait=wait, poll=poll):
            yield


@contextlib.contextmanager
def _file_lock(database: Path, *, wait: bool) -> Iterator[None]:
    path = database.with_name(database.name + ".lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            note = _read_note(fd)
            raise LockHeld(
                f"{_describe(note)} holds {path}; this run did nothing "
                "(use --wait to queue behind it)"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(_holder_note()).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _read_note(fd: int) -> dict[str, Any] | None:
    try:
        return json.loads(os.pread(fd, 4096, 0) or b"null")
    except (ValueError, OSError):
        return None


@contextlib.contextmanager
def _advisory_lock(engine: Any, *, wait: bool, poll: float) -> Iterator[None]:
    conn = engine.connect()
    try:
        while True:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY})
            if got.scalar():
                conn.commit()
                break
            conn.rollback()
            if not wait:
                # pg_locks lists the whole cluster: another database's run holds the same key.
                # A bigint key is stored as classid (high half), objid (low half), objsubid 1.
                holder = conn.execute(
                    text(
                        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                        "AND database = (SELECT oid FROM pg_database "
                        "WHERE datname = current_database()) "
                        "AND objsubid = 1 AND (classid::bigint << 32 | objid::bigint) = :k"
                    ),
                    {"k": ADVISORY_KEY},
                ).scalar()
                conn.rollback()
                who = f" (database backend pid {holder})" if holder is not None else ""
                raise LockHeld(
                    f"another freshness run{who} is running on this database; "
                    "this run did nothing (use --wait to queue behind it)"
                )
            time.sleep(poll)
        try:
            yield
        finally:
            _advisory_unlock(conn)
    finally:
        conn.close()


def _advisory_unlock(conn: Any) -> None:
    try:
        conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
        conn.commit()
    except DBAPIError as exc:
        # The session is gone (server restart, idle timeout, terminated backend) and the
        # server dropped its lock with it: a finished run must not fail, nor an error in the
        # run be replaced, because there is nothing left to unlock.
        if not exc.connection_invalidated:
            raise

"""The run lock on PostgreSQL: a session-level advisory lock on a real server.

Each test gets its own database on the session's server. A "second run" is a second ``Store``
on the same database, as a second ``freshness run`` process would open; a crashed run is a real
process killed while it holds the lock. Waits are bounded by timeouts, never open-ended.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import text

from storage.db import Store
from storage.lock import ADVISORY_KEY, LockHeld, run_lock
from tests.conftest import ROOT

pytestmark = pytest.mark.postgres

TIMEOUT = 15  # seconds any single wait in these tests may take at most


@pytest.fixture
def stores(postgres) -> Iterator[Callable[..., Store]]:
    """Stores on one fresh database: the first migrates it, later ones just connect."""
    url = postgres.create_database()
    opened: list[Store] = []

    def make(database_url: str | None = None) -> Store:
        # Locks need no schema: only the store on the test's own database migrates.
        store = Store(database_url or url, upgrade=database_url is None and not opened)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


def holders(store: Store) -> list[int]:
    """Backend pids holding the freshness lock in this store's database, asked of the server."""
    with store.engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                    "WHERE l.locktype = 'advisory' AND l.granted AND l.objid = :k "
                    "AND d.datname = current_database() ORDER BY l.pid"
                ),
                {"k": ADVISORY_KEY},
            ).scalars()
        )


def test_a_second_run_is_refused_while_the_first_holds_the_lock(stores) -> None:
    first, second = stores(), stores()
    with run_lock(first):
        [holder] = holders(first)
        started = time.monotonic()
        with pytest.raises(LockHeld) as refused, run_lock(second):
            pytest.fail("two runs held the lock at once")
        assert time.monotonic() - started < 5  # refused at once, not after waiting
        assert str(refused.value) == (
            f"another freshness run (database backend pid {holder}) is running on this "
            "database; this run did nothing (use --wait to queue behind it)"
        )
        # The same store (the same process) is refused too: its pool hands out another session.
        with pytest.raises(LockHeld), run_lock(first):
            pass
        assert holders(first) == [holder]  # the refusals took nothing
    # Released on the server, not just handed back to the pool with the session still open.
    assert holders(first) == []
    with run_lock(second):
        assert len(holders(second)) == 1
    assert holders(second) == []


def test_an_error_in_the_run_releases_the_lock(stores) -> None:
    first, second = stores(), stores()
    with pytest.raises(RuntimeError, match="crawl blew up"), run_lock(first):
        raise RuntimeError("crawl blew up")
    assert holders(first) == []
    with run_lock(second):
        pass


def test_wait_queues_behind_the_holder_until_it_releases(stores) -> None:
    first, second = stores(), stores()
    events: list[str] = []
    acquired = threading.Event()
    failed: list[BaseException] = []

    def second_run() -> None:
        try:
            with run_lock(second, wait=True, poll=0.05):
                events.append("second acquired")
                acquired.set()
        except BaseException as exc:  # reported by the main thread
            failed.append(exc)
            acquired.set()

    with run_lock(first):
        waiter = threading.Thread(target=second_run, daemon=True)
        waiter.start()
        # Well past several polls, the waiter still waits: the first run holds the lock.
        assert not acquired.wait(timeout=1.0)
        assert waiter.is_alive() and len(holders(first)) == 1
        events.append("first releasing")
    assert acquired.wait(timeout=TIMEOUT), "the waiting run never got the lock"
    waiter.join(timeout=TIMEOUT)
    assert not waiter.is_alive()
    assert failed == []
    assert events == ["first releasing", "second acquired"]
    assert holders(first) == []


def test_runs_on_other_databases_neither_block_nor_are_blamed(stores, postgres) -> None:
    # Several freshness databases on one server share the lock key but not the lock.
    here = stores()
    elsewhere = [stores(postgres.create_database()) for _ in range(3)]
    with contextlib.ExitStack() as held:
        for other in elsewhere:
            held.enter_context(run_lock(other))
        others = [pid for other in elsewhere for pid in holders(other)]
        assert len(others) == 3
        with run_lock(here):  # not blocked by the other databases' runs
            [holder] = holders(here)
            with pytest.raises(LockHeld) as refused, run_lock(stores()):
                pass
    # pg_locks lists the whole cluster, in no set order: the message names this database's
    # holder, never one of the others.
    assert f"(database backend pid {holder})" in str(refused.value)
    assert not any(f"pid {pid})" in str(refused.value) for pid in others)


def acquire_within(store: Store, seconds: float) -> bool:
    """Whether a waiting ``run_lock`` gets the lock within ``seconds`` (then releases it)."""
    got = threading.Event()

    def take() -> None:
        with run_lock(store, wait=True, poll=0.05):
            got.set()

    thread = threading.Thread(target=take, daemon=True)
    thread.start()
    ok = got.wait(timeout=seconds)
    thread.join(timeout=seconds)
    return ok


def test_a_killed_run_leaves_no_lock_behind(stores) -> None:
    store = stores()
    holder_script = textwrap.dedent(
        f"""
        import time
        from storage.db import Store
        from storage.lock import run_lock
        store = Store({store.url!r}, upgrade=False)
        with run_lock(store):
            print("held", flush=True)
            time.sleep({TIMEOUT * 4})
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(
        [sys.executable, "-c", holder_script], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            assert process.stdout.readline() == "held\n"
            with pytest.raises(LockHeld), run_lock(store):
                pass
            process.send_signal(signal.SIGKILL)  # no finally, no unlock: only the server frees it
            process.wait(timeout=TIMEOUT)
            assert acquire_within(store, TIMEOUT)
            assert holders(store) == []
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=TIMEOUT)


def test_a_run_whose_lock_session_was_lost_still_finishes(stores) -> None:
    # A server restart or an idle timeout drops the session that holds the lock during a long
    # run; the server frees the lock with it. Leaving the block must not turn the finished run
    # into an error about unlocking a lock nobody holds.
    first, second = stores(), stores()
    with run_lock(first):
        [holder] = holders(first)
        with second.engine.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": holder}).scalar()
        assert acquire_within(second, TIMEOUT)  # the server let go of it at once
    assert holders(first) == []
    with run_lock(first):  # and the store that lost its session can lock again
        assert len(holders(first)) == 1

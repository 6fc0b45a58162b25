"""Running unattended: locking, crashes, signals, exit codes and progress output."""

from __future__ import annotations

import datetime as dt
import json
import os
import pty
import select
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.simweb import SimWeb, load_catalogue
from tests.conftest import freshness_executable, run_freshness
from tests.crawling import T0, Monitor

pytestmark = pytest.mark.e2e

SLOW = {
    f"slow{i}.test": {
        "defaults": {"delay": 1.5},
        "pages": {"/": "<html><title>Slow</title><h1>Peer support</h1></html>"},
    }
    for i in range(12)
}


@pytest.fixture(scope="module")
def world() -> Iterator[SimWeb]:
    with SimWeb({**load_catalogue(), **SLOW}) as web:
        yield web


@pytest.fixture
def monitor(world: SimWeb, tmp_path: Path) -> Monitor:
    return Monitor(world, lambda *a, **kw: run_freshness(tmp_path, *a, **kw), tmp_path)


def start_run(monitor: Monitor, now: dt.datetime, *extra: str, **popen) -> subprocess.Popen:
    """A `freshness run` in the background, as cron would start it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FRESHNESS_", "http"))}
    return subprocess.Popen(
        [*freshness_executable(), "--db", monitor.db, "run", *monitor.settings(now), *extra],
        cwd=monitor.tmp_path,
        env=env,
        text=True,
        **popen,
    )


def wait_until(predicate, timeout: float) -> bool:
    """For state only the store can show (a commit in another process): a bounded wait."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def slow_directory(monitor: Monitor, count: int = 12) -> None:
    monitor.load([(f"slow{i}", f"slow{i}.test", None) for i in range(count)])


def observations(monitor: Monitor) -> list[dict]:
    from storage.db import Store

    store = Store(monitor.db)
    try:
        with store.transaction() as repo:
            return [o.__dict__ for o in repo.observations()]
    finally:
        store.close()


def test_second_run_exits_with_a_clear_message_or_waits(world: SimWeb, monitor: Monitor) -> None:
    slow_directory(monitor, 4)
    first = start_run(monitor, T0, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert world.wait_for(1, host="slow0.test", timeout=30)
        second = monitor.freshness("--db", monitor.db, "run", *monitor.settings(T0))
        assert second.returncode == 75
        assert "holds" in second.stderr and "--wait" in second.stderr
        assert second.stderr.count("\n") == 1  # one line, no traceback
        waiting = start_run(
            monitor,
            T0 + dt.timedelta(days=1),
            "--wait",
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        first.communicate(timeout=120)
        waiting.communicate(timeout=120)
        assert first.returncode == 0 and waiting.returncode == 0
    finally:
        first.kill()
    runs = monitor.runs()
    assert [r["status"] for r in runs] == ["completed", "completed"]
    first_run, second_run = sorted(runs, key=lambda r: r["id"])
    by_run = {}
    for o in observations(monitor):
        by_run.setdefault(o["run_id"], []).append(o)
    # never interleaved: the waiting run started after the first one finished
    assert max(o["id"] for o in by_run[first_run["id"]]) < min(
        o["id"] for o in by_run[second_run["id"]]
    )


def test_a_lock_left_by_a_crashed_run_is_recovered(monitor: Monitor) -> None:
    monitor.load([("healthy", "healthy.test", None)])
    db_file = Path(monitor.db.removeprefix("sqlite:///"))
    lock = db_file.with_name(db_file.name + ".lock")
    lock.write_text(json.dumps({"pid": 999999, "host": "gone", "since": 0}))
    monitor.run(T0)
    assert [r["status"] for r in monitor.runs()] == ["completed"]


def test_sigkill_mid_run_loses_nothing_and_the_next_run_is_clean(
    world: SimWeb, monitor: Monitor
) -> None:
    slow_directory(monitor)
    world.clear_requests()
    proc = start_run(
        monitor,
        T0,
        "-s",
        "FRESHNESS_BATCH_SIZE=1",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert world.wait_for(6, path="/", method="GET", timeout=60)
        # wait until an observation is committed, then kill without warning
        assert wait_until(lambda: observations(monitor), timeout=30)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
    killed = observations(monitor)
    assert killed, "the run should have recorded something before it was killed"
    urls = [o["url"] for o in killed]
    assert len(urls) == len(set(urls))  # nothing written twice
    assert monitor.runs()[0]["status"] == "running"

    monitor.run(T0 + dt.timedelta(minutes=5))
    runs = sorted(monitor.runs(), key=lambda r: r["id"])
    assert [r["status"] for r in runs] == ["interrupted", "completed"]
    after = observations(monitor)
    assert [o for o in after if o["run_id"] == runs[0]["id"]] == [o for o in killed] or len(
        [o for o in after if o["run_id"] == runs[0]["id"]]
    ) == len(killed)
    second = [o["url"] for o in after if o["run_id"] == runs[1]["id"]]
    assert sorted(second) == sorted({world.url(f"slow{i}.test", "/") for i in range(12)})


@pytest.mark.parametrize("processes", ["1", "2"])
def test_sigterm_stops_gracefully_and_records_what_was_done(
    world: SimWeb, monitor: Monitor, processes: str
) -> None:
    # With 2, the crawler processes stop and the coordinator records what they handed over.
    slow_directory(monitor)
    world.clear_requests()
    proc = start_run(
        monitor,
        T0,
        "-s",
        "FRESHNESS_BATCH_SIZE=1",
        "-s",
        f"FRESHNESS_PROCESSES={processes}",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert wait_until(lambda: observations(monitor), timeout=30)
        seen_before_term = len(observations(monitor))
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 1, err
    assert "interrupted" in err
    (run,) = monitor.runs()
    assert run["status"] == "interrupted"
    recorded = observations(monitor)
    assert seen_before_term <= len(recorded) <= 12  # in-flight fetches may still land
    assert run["observations"] == len(recorded)
    # nothing was marked checked: every organisation is still due for the next run
    monitor.run(T0 + dt.timedelta(minutes=1))
    latest = monitor.runs()[0]
    assert latest["status"] == "completed" and latest["organisations"] == 12


def _children_of(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_crawler_processes_stop_when_their_coordinator_is_killed(
    world: SimWeb, monitor: Monitor
) -> None:
    slow_directory(monitor)
    proc = start_run(
        monitor,
        T0,
        "-s",
        "FRESHNESS_PROCESSES=2",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_until(lambda: len(_children_of(proc.pid)) == 2, timeout=30)
        crawlers = _children_of(proc.pid)
        assert world.wait_for(2, path="/", method="GET", timeout=60)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        # nobody is left to record what they see: they stop rather than crawl on
        assert wait_until(lambda: not any(_alive(pid) for pid in crawlers), timeout=30)
    finally:
        proc.kill()


def test_exit_codes(monitor: Monitor) -> None:
    empty = monitor.freshness("--db", monitor.db, "run")
    assert empty.returncode == 1 and empty.stderr.startswith("error: the directory is empty")
    monitor.load([("gone", "homepage404.test", None), ("ok", "healthy.test", None)])
    settings = ["-s", "FRESHNESS_DEAD_AFTER_FAILURES=1", "-s", "FRESHNESS_DEAD_AFTER_HOURS=0"]
    found = monitor.freshness("--db", monitor.db, "run", *monitor.settings(T0), *settings)
    assert found.returncode == 0  # a completed pass, whatever it found
    failing = monitor.freshness(
        "--db",
        monitor.db,
        "run",
        "--fail-on",
        "dead_link",
        *monitor.settings(T0 + dt.timedelta(days=1)),
        *settings,
    )
    assert failing.returncode == 3 and "dead_link" in failing.stderr
    calm = monitor.freshness(
        "--db",
        monitor.db,
        "run",
        "--fail-on",
        "rename",
        *monitor.settings(T0 + dt.timedelta(days=2)),
    )
    assert calm.returncode == 0
    nothing_due = monitor.freshness("--db", monitor.db, "run", *monitor.settings(T0))
    assert nothing_due.returncode == 0 and "nothing is due" in nothing_due.stdout
    bad = monitor.freshness("--db", monitor.db, "run", "--fail-on", "typo")
    assert bad.returncode == 2 and "unknown kind" in bad.stderr


def run_on_pty(monitor: Monitor, now: dt.datetime) -> str:
    """Run with stdout and stderr on a pseudo-terminal, as a person at a terminal would."""
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FRESHNESS_", "http"))}
    env.update(COLUMNS="120", TERM="xterm")
    proc = subprocess.Popen(
        [*freshness_executable(), "--db", monitor.db, "run", *monitor.settings(now)],
        cwd=monitor.tmp_path,
        env=env,
        stdin=follower,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


def test_progress_on_a_terminal_and_none_under_cron(monitor: Monitor) -> None:
    monitor.load([(f"slow{i}", f"slow{i}.test", None) for i in range(3)])
    shown = run_on_pty(monitor, T0)
    assert "checking" in shown and "3/3" in shown and "organisations" in shown
    assert "slow" in shown and ".test" in shown  # the current host
    quiet = monitor.freshness(
        "--db", monitor.db, "run", *monitor.settings(T0 + dt.timedelta(days=1))
    )
    assert quiet.returncode == 0
    assert "checking" not in quiet.stderr and "━" not in quiet.stderr
    assert "organisations" in quiet.stdout  # the summary table still ends the run
    silent = monitor.freshness(
        "--db", monitor.db, "run", "--quiet", *monitor.settings(T0 + dt.timedelta(days=2))
    )
    assert silent.stdout == "" and silent.stderr == ""

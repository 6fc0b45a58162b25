"""Distributed runs on scrapy-redis: a coordinator and two workers, a real redis-server and a
real PostgreSQL store, over about 200 simulated organisations."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.simweb import SimWeb
from tests.conftest import freshness_executable, run_freshness
from tests.crawling import T0, Monitor

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

N = 200
ONE_RUN = {"FRESHNESS_DEAD_AFTER_FAILURES": "1", "FRESHNESS_DEAD_AFTER_HOURS": "0"}


def scenarios() -> dict:
    web: dict = {}
    for i in range(N):
        host = f"org{i:03d}.test"
        page = (
            f"<html><head><title>Org {i} Peer Support</title></head><body><h1>Org {i}</h1>"
            "<p>Confidential peer support groups for nurses.</p></body></html>"
        )
        if i % 10 == 3:
            web[host] = {"pages": {"/": {"status": 404, "body": "no"}}, "defaults": {"delay": 0.2}}
        elif i % 10 == 7:
            web[host] = {"catch_all": {"redirect": f"{{url:new{i:03d}.test/}}"}}
            web[f"new{i:03d}.test"] = {"pages": {"/": page}}
        else:
            web[host] = {"pages": {"/": page}, "defaults": {"delay": 0.2}}
    return web


@pytest.fixture(scope="module")
def world() -> Iterator[SimWeb]:
    with SimWeb(scenarios()) as web:
        yield web


def make_monitor(world: SimWeb, postgres, tmp_path: Path) -> Monitor:
    tmp_path.mkdir(parents=True, exist_ok=True)
    monitor = Monitor(
        world,
        lambda *a, **kw: run_freshness(tmp_path, *a, **kw),
        tmp_path,
        db_url=postgres.create_database(),
    )
    monitor.load([(f"org{i:03d}", f"org{i:03d}.test", None) for i in range(N)])
    return monitor


def start(monitor: Monitor, *args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FRESHNESS_", "http"))}
    return subprocess.Popen(
        [*freshness_executable(), "--db", monitor.db, *args],
        cwd=monitor.tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def comparable(findings: list[dict]) -> set[tuple]:
    return {(f["org"], f["kind"], f["url"], f.get("reason"), f.get("new_url")) for f in findings}


def run_distributed(
    monitor: Monitor,
    redis_url: str,
    *,
    kill_one: bool = False,
    lease: str = "600",
    notify: str | None = None,
) -> tuple[subprocess.Popen, list[subprocess.Popen]]:
    settings = monitor.settings(T0, {**ONE_RUN, "FRESHNESS_REDIS_LEASE": lease})
    targets = ["--notify", notify] if notify else []
    if kill_one:
        monitor.web.clear_requests()  # count this run's fetches only (the web is shared)
    coordinator = start(monitor, "run", "--redis", redis_url, *targets, *settings)
    worker_args = ("worker", "--redis", redis_url, "--idle", "4", *settings)
    if kill_one:
        # The first worker alone takes a batch of organisations and finishes a few; killed
        # outright mid-crawl, it leaves the rest taken and not done. Only then does the
        # second start: it can finish the run only once those leases run out.
        workers = [start(monitor, *worker_args)]
        assert monitor.web.wait_for(20, path="/", method="GET", timeout=60)
        workers[0].send_signal(signal.SIGKILL)
        workers.append(start(monitor, *worker_args))
    else:
        workers = [start(monitor, *worker_args) for _ in range(2)]
    out, err = coordinator.communicate(timeout=300)
    assert coordinator.returncode == 0, err[-3000:]
    coordinator.stderr_text = err  # type: ignore[attr-defined]
    for worker in workers:
        worker.communicate(timeout=120)
    return coordinator, workers


def test_two_workers_fetch_each_organisation_once_and_agree_with_one_process(
    world: SimWeb, postgres, redis_server, tmp_path: Path
) -> None:
    single = make_monitor(world, postgres, tmp_path / "single")
    single.run(T0, extra=ONE_RUN)
    expected = comparable(single.findings())
    assert len({f[1] for f in expected}) == 2  # dead links and moves, a real mix

    distributed = make_monitor(world, postgres, tmp_path / "distributed")
    world.clear_requests()
    _, workers = run_distributed(distributed, redis_server.url)
    assert all(w.returncode == 0 for w in workers)  # idle workers exit by themselves
    for i in range(N):
        assert world.count(f"org{i:03d}.test", "/", "GET") == 1, i
    (run,) = distributed.runs()
    assert run["status"] == "completed" and run["organisations"] == N
    assert comparable(distributed.findings()) == expected


def test_killing_a_worker_mid_run_still_completes_the_run(
    world: SimWeb, postgres, redis_server, tmp_path: Path
) -> None:
    monitor = make_monitor(world, postgres, tmp_path)
    started = time.monotonic()
    coordinator, workers = run_distributed(monitor, redis_server.url, kill_one=True, lease="5")
    assert workers[0].returncode == -signal.SIGKILL
    # The dead worker held organisations it never finished: their leases ran out and they
    # were queued again, for the other worker.
    assert "re-queueing" in coordinator.stderr_text  # type: ignore[attr-defined]
    (run,) = monitor.runs()
    assert run["status"] == "completed"
    assert run["organisations"] == N
    assert time.monotonic() - started < 240
    assert len({f["org"] for f in monitor.findings() if f["kind"] == "dead_link"}) == N // 10


def test_the_coordinator_sends_the_digest_once_after_every_worker_is_done(
    world: SimWeb, postgres, redis_server, tmp_path: Path
) -> None:
    from tests.receivers import http_receiver

    monitor = make_monitor(world, postgres, tmp_path)
    with http_receiver() as receiver:
        run_distributed(monitor, redis_server.url, notify=receiver.url("curators"))
        (digest,) = receiver.bodies("curators")  # one message, from the coordinator alone
    (run,) = monitor.runs()
    assert run["status"] == "completed" and run["organisations"] == N
    # It was sent after the verdicts: it carries every dead link the run found.
    dead = {f["org"] for f in monitor.findings() if f["kind"] == "dead_link"}
    assert len(dead) == N // 10
    text = digest["message"].lower()
    assert all(org in text for org in sorted(dead)), digest["message"][:500]


def test_an_idle_worker_waits_while_another_workers_organisation_is_within_its_lease(
    redis_server,
) -> None:
    """A worker whose queue is empty stays while an organisation of its runs is out with
    another worker: that worker may die, and the organisation come back once its lease ends.
    Leases a dead coordinator left behind age out, and the worker then closes as usual."""
    import redis
    from scrapy.utils.test import get_crawler

    from monitor.runs.distributed import done_key, taken_key
    from spiders.worker import LEASE_GRACE, WorkerSpider

    client = redis.Redis.from_url(redis_server.url)
    run_id = 9_000 + os.getpid() % 1000  # keys of no other test's run
    crawler = get_crawler(
        WorkerSpider,
        {"REDIS_URL": redis_server.url, "FRESHNESS_REDIS_LEASE": "5", "TWISTED_REACTOR": None},
    )
    worker = WorkerSpider.from_crawler(crawler)
    assert worker.redis_batch_size == 64  # FRESHNESS_WORKER_BATCH, not CONCURRENT_REQUESTS
    try:
        assert not worker._work_out()  # no run served yet
        worker.runs_served.add(run_id)
        client.hset(taken_key(run_id), "mine", str(time.time()))
        client.sadd(done_key(run_id), "mine")
        assert not worker._work_out()  # taken and done
        client.hset(taken_key(run_id), "theirs", str(time.time() - 1))
        assert worker._work_out()  # another worker's, within its lease
        client.hset(taken_key(run_id), "theirs", str(time.time() - 5 - LEASE_GRACE - 1))
        assert not worker._work_out()  # long past its lease: nobody will queue it again
    finally:
        client.delete(taken_key(run_id), done_key(run_id))


def test_a_worker_marks_its_whole_batch_taken_before_crawling_any_of_it(redis_server) -> None:
    """Organisations popped from the queue but not yet scheduled must already be taken: a
    worker killed then would otherwise lose them (neither queued nor taken, never re-queued)."""
    import json

    import redis
    from scrapy.utils.test import get_crawler

    from monitor.runs.distributed import QUEUE_KEY, taken_key
    from spiders.worker import WorkerSpider

    client = redis.Redis.from_url(redis_server.url)
    run_id = 8_000 + os.getpid() % 1000
    client.delete(QUEUE_KEY)
    messages = [
        json.dumps(
            {
                "run_id": run_id,
                "org_id": f"o{i}",
                "targets": [{"org_id": f"o{i}", "role": "homepage", "url": f"http://o{i}.test/"}],
            }
        )
        for i in range(3)
    ]
    malformed = [
        "not json",
        "[1, 2]",
        json.dumps({"run_id": run_id}),
        json.dumps({"run_id": run_id, "org_id": "bad", "targets": "not a list"}),
    ]
    client.rpush(QUEUE_KEY, *messages, *malformed)
    crawler = get_crawler(WorkerSpider, {"REDIS_URL": redis_server.url, "TWISTED_REACTOR": None})
    worker = WorkerSpider.from_crawler(crawler)
    try:
        requests = worker.next_requests()
        first = next(requests)
        assert first.url == "http://o0.test/"
        assert sorted(k.decode() for k in client.hkeys(taken_key(run_id))) == ["o0", "o1", "o2"]
        assert [r.url for r in requests] == ["http://o1.test/", "http://o2.test/"]
        assert client.llen(QUEUE_KEY) == 0  # malformed messages were dropped, with a warning
    finally:
        client.delete(taken_key(run_id), QUEUE_KEY)

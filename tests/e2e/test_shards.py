"""Crawler processes, end to end: several processes find what one finds, revisits, the outage
guard and canaries across processes (unit tests in ``tests/runs/test_shards.py``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.simweb import SimWeb, load_catalogue
from tests.conftest import run_freshness
from tests.crawling import T0, Monitor
from tests.runs.test_shards import ONE_RUN, ORGS, _states, comparable


@pytest.fixture(scope="module")
def world() -> Iterator[SimWeb]:
    with SimWeb(load_catalogue()) as web:
        yield web


@pytest.mark.e2e
def test_two_processes_find_what_one_finds(world: SimWeb, tmp_path: Path) -> None:
    results = {}
    for processes in ("1", "2"):
        cwd = tmp_path / processes
        cwd.mkdir()
        monitor = Monitor(world, lambda *a, c=cwd, **kw: run_freshness(c, *a, **kw), cwd)
        monitor.load(ORGS)
        world.clear_requests()
        monitor.run(T0, extra={**ONE_RUN, "FRESHNESS_PROCESSES": processes})
        homepage_gets = {h: world.count(h, "/", "GET") for _, h, _ in ORGS if h != "vanished.test"}
        (run,) = monitor.runs()
        results[processes] = (comparable(monitor.findings()), run)
        assert run["status"] == "completed" and run["organisations"] == len(ORGS)
        assert run["processes"] == int(processes)
        assert all(n == 1 for n in homepage_gets.values()), homepage_gets
    single, multi = results["1"][0], results["2"][0]
    assert single == multi
    assert {f[1] for f in single} >= {"dead_link", "moved", "rename", "unverifiable"}


@pytest.mark.e2e
def test_multi_process_revisit_and_outage_guard(world: SimWeb, tmp_path: Path) -> None:
    monitor = Monitor(world, lambda *a, **kw: run_freshness(tmp_path, *a, **kw), tmp_path)
    monitor.load(ORGS[:4])
    monitor.offline = True
    monitor.run(T0, extra={"FRESHNESS_PROCESSES": "2"})
    assert monitor.runs()[0]["status"] == "inconclusive"
    monitor.offline = False
    monitor.run(T0 + dt.timedelta(days=1), extra={"FRESHNESS_PROCESSES": "2"})
    assert monitor.runs()[0]["status"] == "completed"
    # one failure after an inconclusive run that counted for nothing: nobody is dead yet
    assert [f for f in monitor.findings() if f["kind"] == "dead_link"] == []
    (soft404,) = [o for o in _states(monitor) if o["org_id"] == "soft404" and o["role"] == "groups"]
    assert soft404["consecutive_failures"] == 1


@pytest.mark.e2e
def test_canaries_are_fetched_once_across_processes_and_judge_the_run(
    world: SimWeb, tmp_path: Path
) -> None:
    monitor = Monitor(world, lambda *a, **kw: run_freshness(tmp_path, *a, **kw), tmp_path)
    monitor.load(ORGS[:4])
    two = {"FRESHNESS_PROCESSES": "2"}
    # A canary that cannot be reached says this machine is cut off, whatever the sites do.
    monitor.run(T0, extra={**two, "FRESHNESS_CANARY_URLS": "http://nowhere-canary.test/"})
    [run] = monitor.runs()
    assert run["status"] == "inconclusive" and "canary" in run["outage"]
    world.clear_requests()
    canary = world.url("healthy.test", "/canary-check")
    monitor.run(T0 + dt.timedelta(days=1), extra={**two, "FRESHNESS_CANARY_URLS": canary})
    assert monitor.runs()[0]["status"] == "completed"
    assert world.count("healthy.test", "/canary-check", "GET") == 1  # one shard carries it

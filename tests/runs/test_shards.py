"""Multi-process runs: shards keep hosts together, and two processes find what one finds."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from monitor.crawl.layers import LayeredSettings
from monitor.runs.shards import WarmCrawlers, process_count, split, start_crawler, warm_count
from tests.conftest import python_output, run_freshness
from tests.crawling import Monitor

ORGS = [
    ("healthy", "healthy.test", "/groups"),
    ("holidays", "holidays.test", "/groups"),
    ("soft404", "soft404.test", "/groups"),
    ("parked", "parked.test", None),
    ("gone", "homepage404.test", None),
    ("vanished", "vanished.test", None),
    ("actors", "actorsfund.test", None),
    ("closed", "closed.test", None),
    ("botwall", "botwall.test", None),
    ("catchall", "catchall.test", "/groups"),
]
ONE_RUN = {
    "FRESHNESS_DEAD_AFTER_FAILURES": "1",
    "FRESHNESS_DEAD_AFTER_HOURS": "0",
    "FRESHNESS_UNVERIFIABLE_AFTER_BLOCKED": "1",
    "FRESHNESS_UNVERIFIABLE_AFTER_HOURS": "0",
}


def test_shards_keep_a_domain_together_and_cover_everything() -> None:
    organisations = []
    for i in range(40):
        host = f"site{i % 13}.example.org" if i % 2 else f"www.org{i}.test"
        organisations.append((f"o{i}", f"http://{host}/"))
    shards = split(organisations, 3)
    assert sorted(o for s in shards for o in s) == sorted(o for o, _ in organisations)
    where = {o: i for i, s in enumerate(shards) for o in s}
    example = {where[o] for o, url in organisations if "example.org" in url}
    assert len(example) == 1  # one registered domain, one process: politeness holds
    assert len(shards) > 1


@pytest.mark.parametrize(
    ("configured", "orgs", "expected_at_most"),
    [("1", 5000, 1), ("2", 5000, 2), ("4", 3, 3), ("0", 10, 1)],
)
def test_process_count(configured: str, orgs: int, expected_at_most: int) -> None:
    settings = {"FRESHNESS_PROCESSES": configured, "FRESHNESS_PROCESSES_MIN_ORGS": 200}
    assert 1 <= process_count(settings, orgs) <= expected_at_most


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"FRESHNESS_PROCESSES": "1"}, 0),  # crawls in the coordinating process
        ({"FRESHNESS_PROCESSES": "3"}, 3),
        ({"FRESHNESS_PROCESSES": "3", "FRESHNESS_ORGS": ["a", "b"]}, 2),
        ({"FRESHNESS_PROCESSES": "0", "FRESHNESS_ORGS": ["a", "b"]}, 0),  # under the minimum
    ],
)
def test_how_many_crawlers_start_ahead_of_the_plan(settings: dict, expected: int) -> None:
    assert warm_count(LayeredSettings({"FRESHNESS_PROCESSES_MIN_ORGS": 200}, settings)) == expected


def test_auto_starts_one_crawler_per_core_ahead_of_an_unknown_number_due() -> None:
    import os

    auto = warm_count(LayeredSettings({}, {"FRESHNESS_PROCESSES": "0"}))
    cores = min(os.cpu_count() or 1, 8)
    assert auto == (cores if cores > 1 else 0)


def _waiting_crawlers() -> set[int]:
    """Crawler processes waiting for a job (``--job-on-stdin``), by pid."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"--job-on-stdin" in cmdline and b"monitor.runs.shards" in cmdline:
                found.add(int(entry.name))
    return found


def test_a_warm_crawler_not_given_a_job_ends_and_unused_ones_are_stopped() -> None:
    # Not needed: its stdin closes without a job, and it ends once it has imported.
    child = start_crawler()
    assert child.stdin is not None and child.stdout is not None
    child.stdin.close()
    assert child.wait(timeout=60) == 0
    assert child.stdout.read() == ""  # no observation, no progress: it crawled nothing
    child.stdout.close()
    # Left over after the plan: stopped at once, whatever it was doing.
    with WarmCrawlers(2) as warm:
        assert len(warm) == 2
        crawlers = list(warm._waiting)
        # Running, by their exit status rather than by /proc, which showed one of the two
        # once in CI (stop 17) while both were started.
        assert [c.poll() for c in crawlers] == [None, None]
        started = {c.pid for c in crawlers}
    assert len(warm) == 0
    assert all(c.returncode is not None for c in crawlers)  # reaped by close()
    assert not (started & _waiting_crawlers())


def test_a_crawler_ends_with_its_crawls_outcome_once_all_it_saw_is_written(tmp_path: Path) -> None:
    """A crawler leaves without tearing its heap down, but its output is complete and its exit
    code still tells the coordinator how the crawl ended."""
    import json
    import os
    import subprocess
    import sys

    def job(name: str, targets: str) -> Path:
        path = tmp_path / f"{name}.json"
        path.write_text(
            json.dumps(
                {
                    "run_id": 1,
                    "parent": os.getpid(),
                    "settings": {"HTTPCACHE_DIR": str(tmp_path / "cache")},
                    "targets": targets,
                    "target_counts": {},
                    "canaries": [],
                    "listed_domains": [],
                }
            )
        )
        return path

    def crawl(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "monitor.runs.shards", "--job-on-stdin"],
            input=f"{path}\n",
            capture_output=True,
            text=True,
            timeout=120,
        )

    (tmp_path / "none.targets").write_text("")
    done = crawl(job("empty", str(tmp_path / "none.targets")))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "progress 0 0 "  # the last line, flushed
    failed = crawl(job("broken", str(tmp_path / "missing.targets")))
    assert failed.returncode != 0
    assert "missing.targets" in failed.stderr


def test_a_run_that_fails_before_crawling_leaves_no_crawler_behind(tmp_path: Path) -> None:
    before = _waiting_crawlers()
    db = f"sqlite:///{tmp_path / 'empty.db'}"
    result = run_freshness(tmp_path, "--db", db, "run", "-s", "FRESHNESS_PROCESSES=2")
    assert result.returncode == 1
    assert "the directory is empty" in result.stderr
    assert _waiting_crawlers() <= before


def comparable(findings: list[dict]) -> set[tuple]:
    return {
        (f["org"], f["kind"], f["url"], f.get("reason"), f.get("new_url"), f.get("new_name"))
        for f in findings
    }


def _states(monitor: Monitor) -> list[dict]:
    from storage.db import Store

    store = Store(monitor.db)
    try:
        with store.transaction() as repo:
            return [s.__dict__ for s in repo.link_states()]
    finally:
        store.close()


def test_the_coordinating_process_does_not_load_scrapy() -> None:
    """Only the crawler processes pay for Scrapy and Twisted (memory is summed over all)."""
    import subprocess
    import sys

    code = (
        "import sys, monitor.app.cli, monitor.app.service, monitor.runs.shards, monitor.runs.distributed;"
        "print(sorted(m for m in ('scrapy', 'twisted') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_planning_loads_no_scrapy_and_a_crawler_no_sqlalchemy(tmp_path: Path) -> None:
    """The coordinator holds its memory through the whole crawl, and memory is summed over
    processes: Scrapy (and the judge, with lxml) load only where they work, and a crawler
    reads the targets its coordinator wrote without loading SQLAlchemy or Alembic."""
    import json

    db = f"sqlite:///{tmp_path / 'f.db'}"
    directory = Path(__file__).resolve().parents[2] / "directory.yaml"
    run_freshness(tmp_path, "--db", db, "import", str(directory), check=True)
    targets = tmp_path / "shard.targets"
    coordinator = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from monitor.app.cli import Context\n"
        "from monitor.runs.lifecycle import start_run\n"
        "from monitor.runs.shards import portable_settings, split\n"
        "from monitor.runs.plan import plan_run, write_shard_targets\n"
        f"ctx = Context({db!r}, None, False)\n"
        "settings = ctx.settings(('FRESHNESS_PROCESSES=2',))\n"
        "plan = plan_run(settings)\n"
        "shards = split(plan.organisations, 2)\n"
        "start_run(ctx.store(), plan.now)\n"
        "portable_settings(settings)\n"
        "counts = write_shard_targets(ctx.store(), settings, shards[0], "
        f"Path({str(targets)!r}), discover=plan.discover, selectors=plan.selectors, "
        "now=plan.now, chunk=2)\n"
        "loaded = [m for m in ('scrapy', 'twisted', 'lxml', 'monitor.judging.judge') if m in sys.modules]\n"
        "print(json.dumps({'shards': shards, 'loaded': loaded, 'counts': counts}))\n"
    )
    planned = json.loads(python_output(coordinator, cwd=tmp_path))
    assert planned["loaded"] == []
    shard = planned["shards"][0]
    assert len(shard) > 2  # several chunks of two
    crawler = (
        "import sys\n"
        "from pathlib import Path\n"
        "import monitor.runs.shards, monitor.crawl.process, spiders.sites\n"
        "from monitor.runs.plan import iter_targets\n"
        f"targets = list(iter_targets(Path({str(targets)!r})))\n"
        "print(len({t['org_id'] for t in targets}), len(targets),"
        " sorted(m for m in ('sqlalchemy', 'alembic') if m in sys.modules))\n"
    )
    orgs, count, loaded = python_output(crawler).split(maxsplit=2)
    assert (int(orgs), loaded.strip()) == (len(shard), "[]")
    # the same targets, in the same order, as one read of the whole shard
    from monitor.crawl.layers import build_settings
    from monitor.runs.plan import read_targets, shard_targets

    now = dt.datetime.now(dt.UTC)
    written = read_targets(targets)
    read_at_once = shard_targets(
        build_settings({"FRESHNESS_DB": db}), shard, discover=set(), selectors={}, now=now
    )
    assert int(count) == len(read_at_once)
    assert [(t["org_id"], t["url"]) for t in written] == [
        (t["org_id"], t["url"]) for t in read_at_once
    ]
    # what a crawler reading them one at a time is told, to know when an organisation is done
    counts: dict[str, int] = {}
    for t in written:
        counts[t["org_id"]] = counts.get(t["org_id"], 0) + 1
    assert planned["counts"] == counts


def test_an_observation_crosses_to_the_coordinator_whole() -> None:
    from storage.records import Observation

    observation = Observation(
        org_id="nurses",
        url="https://nurses.example/groups",
        fetched_at=dt.datetime(2026, 11, 30, 3, 0, 5, 250, tzinfo=dt.UTC),
        link_id=7,
        status=200,
        redirect_chain=[{"url": "http://nurses.example/groups", "status": 301}],
        headers={"content-type": "text/html"},
        facts={"title": 'Nurse <groups> \u2028 "quoted"\nline', "groups": ["A", "B"]},
        category="ok",
        evidence=["200 with content"],
        confidence=0.9,
        run_id=3,
    )
    line = json.dumps(observation.to_plain())
    assert "\n" not in line  # one line on the pipe, whatever the page said
    assert Observation.from_plain(json.loads(line)) == observation


def test_the_coordinator_reads_observations_progress_and_canaries_and_skips_the_rest() -> None:
    import queue
    import subprocess
    import sys

    from monitor.runs.shards import _read_child
    from storage.records import Observation

    plain = Observation(
        org_id="o1", url="https://o1.example/", fetched_at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    ).to_plain()
    lines = [
        "progress 0 2 ",
        "observation " + json.dumps(plain),
        "some library's stray output",
        "observation {not json",
        "canary ok",
        "progress 2 2 o1.example",
    ]
    child = subprocess.Popen(
        [sys.executable, "-c", f"print({chr(10).join(lines)!r})"],
        stdout=subprocess.PIPE,
        text=True,
    )
    done = [0]
    seen: list[tuple[int, int, str]] = []
    canaries: list[str] = []
    observed: queue.Queue = queue.Queue()
    _read_child(child, 0, done, 2, lambda *p: seen.append(p), canaries, observed)
    assert child.wait() == 0
    assert [observed.get_nowait(), observed.get_nowait()] == [Observation.from_plain(plain), None]
    assert seen == [(0, 2, ""), (2, 2, "o1.example")]
    assert canaries == ["ok"]

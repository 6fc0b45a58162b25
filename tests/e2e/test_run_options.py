"""`freshness run` and `freshness check` options through the real CLI, crawling a small
simulated web offline: --org, --fail-on with a list, the end-of-run summary, an explicit
--config, and what `check ORG` shows and records."""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.simweb import SimWeb
from storage.db import Store
from storage.records import Observation, Run
from tests.app.test_cli import table_rows
from tests.crawling import T0, Monitor

pytestmark = pytest.mark.e2e


def page(title: str) -> str:
    # The title is the organisation's name, so a healthy page gives no rename finding.
    return (
        f"<html><head><title>{title}</title></head><body><h1>{title}</h1>"
        "<p>Confidential peer support groups for nurses.</p></body></html>"
    )


SCENARIO: dict[str, Any] = {
    "fine.test": {"pages": {"/": page("Fine")}},
    "calm.test": {"pages": {"/": page("Calm")}},
    "gone.test": {
        "pages": {"/": {"status": 404, "body": "not here"}},
        "states": {"back": {"/": page("Gone")}},  # the site comes back: the finding resolves
    },
    "blocked.test": {
        "robots": "User-agent: *\nDisallow: /\n",  # never fetched, so never dead: unverifiable
        "pages": {"/": page("Blocked")},
    },
}
# One failure (one block) is enough, so a single run opens a finding.
AT_ONCE = {
    "FRESHNESS_DEAD_AFTER_FAILURES": "1",
    "FRESHNESS_DEAD_AFTER_HOURS": "0",
    "FRESHNESS_UNVERIFIABLE_AFTER_BLOCKED": "1",
    "FRESHNESS_UNVERIFIABLE_AFTER_HOURS": "0",
}


@pytest.fixture
def web() -> Iterator[SimWeb]:
    with SimWeb(SCENARIO) as simulated:
        yield simulated
        assert simulated.errors == []


@pytest.fixture
def monitor(web: SimWeb, freshness, tmp_path: Path) -> Monitor:
    return Monitor(web, freshness, tmp_path)


def stored(monitor: Monitor) -> tuple[list[Observation], list[Run]]:
    store = Store(monitor.db)
    try:
        with store.transaction() as repo:
            return repo.observations(), repo.runs()
    finally:
        store.close()


def run(
    monitor: Monitor, now: dt.datetime, *args: str, **extra: str
) -> subprocess.CompletedProcess[str]:
    """`freshness run` without check=True: these tests assert the exit code themselves."""
    return monitor.freshness(
        "--db", monitor.db, "run", *args, *monitor.settings(now, extra), timeout=180
    )


def test_run_org_crawls_only_those_organisations(monitor: Monitor, web: SimWeb) -> None:
    monitor.load(
        [("fine", "fine.test", None), ("calm", "calm.test", None), ("gone", "gone.test", None)]
    )
    monitor.run(T0, "--org", "fine", "--org", "gone")

    observations, runs = stored(monitor)
    assert {(o.org_id, o.url) for o in observations} == {
        ("fine", web.url("fine.test", "/")),
        ("gone", web.url("gone.test", "/")),
    }
    assert web.count("calm.test") == 0  # not even robots.txt
    assert [r.summary["organisations"] for r in runs] == [2]

    rows = {
        row[0]: row
        for row in table_rows(monitor.freshness("--db", monitor.db, "orgs", check=True).stdout)
    }
    checked = T0.strftime("%Y-%m-%d %H:%M")
    assert rows["id"][3] == "last checked"
    assert (rows["fine"][3], rows["gone"][3], rows["calm"][3]) == (checked, checked, "never")


def test_fail_on_a_list_exits_3_when_one_of_its_kinds_opens(monitor: Monitor) -> None:
    monitor.load([("fine", "fine.test", None), ("blocked", "blocked.test", None)])
    fail_on = ("--fail-on", "dead_link,unverifiable")

    # Default thresholds: one block is not yet unverifiable, so the pass is clean.
    first = run(monitor, T0, *fail_on)
    assert first.returncode == 0, first.stderr
    assert monitor.findings() == []

    # The second block, a day later, with a threshold of one: unverifiable opens.
    second = run(monitor, T0 + dt.timedelta(days=1), *fail_on, **AT_ONCE)
    assert second.returncode == 3, second.stderr
    assert second.stderr.strip() == "--fail-on: open unverifiable"
    assert [(f["org"], f["kind"]) for f in monitor.findings()] == [("blocked", "unverifiable")]

    # Still open the next day: the exit says so even under --quiet, which prints nothing.
    third = run(monitor, T0 + dt.timedelta(days=2), "--quiet", *fail_on, **AT_ONCE)
    assert (third.returncode, third.stdout, third.stderr) == (3, "", "")

    # A list without the open kind passes.
    other = run(monitor, T0 + dt.timedelta(days=3), "--fail-on", "dead_link, moved", **AT_ONCE)
    assert other.returncode == 0, other.stderr


SUMMARY_HEADER = [
    "run",
    "status",
    "organisations",
    "URLs",
    "findings opened",
    "resolved",
    "unverifiable",
    "took",
]


def summary_row(result: subprocess.CompletedProcess) -> dict[str, str]:
    header, row = table_rows(result.stdout)
    assert header == SUMMARY_HEADER
    return dict(zip(header, row, strict=True))


def test_run_summary_counts_what_the_run_did(monitor: Monitor, web: SimWeb) -> None:
    monitor.load(
        [
            ("fine", "fine.test", None),
            ("gone", "gone.test", None),
            ("blocked", "blocked.test", None),
        ]
    )
    first = summary_row(monitor.run(T0, extra=AT_ONCE))
    _, runs = stored(monitor)
    (run1,) = runs
    opened = {(f["org"], f["kind"]) for f in monitor.findings()}
    assert opened == {("gone", "dead_link"), ("blocked", "unverifiable")}
    assert first == {
        "run": str(run1.id),
        "status": "completed",
        "organisations": "3",
        "URLs": "3",
        "findings opened": "2",
        "resolved": "0",
        "unverifiable": "1",
        "took": f"{run1.summary['duration_s']:.1f} s",
    }
    assert run1.summary["duration_s"] > 0

    web.set_state("back")  # gone.test answers again; blocked.test still says no
    second = summary_row(monitor.run(T0 + dt.timedelta(days=1), extra=AT_ONCE))
    _, runs = stored(monitor)
    run2 = runs[0]
    assert [(f["org"], f["kind"]) for f in monitor.findings()] == [("blocked", "unverifiable")]
    assert second == {
        "run": str(run2.id),
        "status": "completed",
        "organisations": "3",
        "URLs": "3",
        "findings opened": "0",  # the unverifiable one was already open
        "resolved": "1",
        "unverifiable": "1",
        "took": f"{run2.summary['duration_s']:.1f} s",
    }


def test_explicit_config_file_settings_reach_the_crawl(web: SimWeb, freshness, tmp_path) -> None:
    db = tmp_path / "elsewhere.db"
    config = tmp_path / "conf" / "monitor.toml"  # not ./freshness.toml: only --config finds it
    config.parent.mkdir()
    config.write_text(
        f'db = "sqlite:///{db}"\n'
        "[settings]\nFRESHNESS_DEAD_AFTER_FAILURES = 1\nFRESHNESS_DEAD_AFTER_HOURS = 0\n"
    )
    monitor = Monitor(web, freshness, tmp_path, db_url=f"sqlite:///{db}")
    monitor.load([("gone", "gone.test", None)])
    freshness("--config", str(config), "run", *monitor.settings(T0), check=True)
    assert [(f["org"], f["reason"]) for f in monitor.findings()] == [("gone", "http_404")]
    assert not (tmp_path / "freshness.db").exists()


def test_check_org_prints_a_table_and_records_the_observation(
    monitor: Monitor, web: SimWeb
) -> None:
    monitor.load([("gone", "gone.test", None), ("fine", "fine.test", None)])
    result = monitor.freshness(
        "--db",
        monitor.db,
        "check",
        "gone",
        "--format",
        "table",
        *monitor.settings(T0),
        check=True,
    )
    header, *rows = table_rows(result.stdout)
    assert header == ["url", "redirect chain", "category", "evidence"]
    url = web.url("gone.test", "/")
    assert [(row[0], row[2]) for row in rows] == [(url, "http_404")]

    observations, runs = stored(monitor)
    assert [(o.org_id, o.url, o.status, o.category) for o in observations] == [
        ("gone", url, 404, "http_404")
    ]
    assert len(runs) == 1 and observations[0].run_id == runs[0].id
    assert web.count("fine.test") == 0  # only the organisation asked about

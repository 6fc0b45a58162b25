"""Curator decisions across real runs: accepted, dismissed and revived findings, crawled through
the real CLI (the review unit tests are in ``tests/directory/test_review.py``)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from monitor.directory.load import load_directory
from storage.records import DirectoryEntry
from tests.crawling import T0, Monitor
from tests.directory.test_review import REVIVAL, SCENARIOS, stored


@pytest.mark.e2e
def test_decisions_hold_across_real_runs(tmp_path: Path) -> None:
    """A dismissed move stays quiet until it moves elsewhere; accepted changes, exported and
    imported, do not come back."""
    from monitor.simweb import SimWeb
    from tests.conftest import run_freshness

    def freshness(*args: str, **kw):  # type: ignore[no-untyped-def]
        return run_freshness(tmp_path, *args, **kw)

    def open_of(kind: str) -> list[dict]:
        return [f for f in monitor.findings() if f["kind"] == kind]

    with SimWeb(SCENARIOS) as web:
        monitor = Monitor(web, freshness, tmp_path)
        monitor.load([("oldhome", "oldhome.test", None), ("gone", "gone.test", None)])
        db = ["--db", monitor.db]
        day = dt.timedelta(days=1)

        monitor.run(T0)
        [moved] = open_of("moved")
        assert moved["new_url"] == web.url("newhome.test", "/")
        freshness(*db, "dismiss", str(moved["id"]), "--reason", "campaign page", check=True)

        monitor.run(T0 + day)
        monitor.run(T0 + 2 * day)
        assert open_of("moved") == []  # dismissed, and the evidence did not change
        [dead] = open_of("dead_link")
        assert dead["url"] == web.url("gone.test", "/")

        web.set_state("elsewhere")
        monitor.run(T0 + 3 * day)
        [moved_again] = open_of("moved")  # a different final URL: material, so it is back
        assert moved_again["new_url"] == web.url("otherhome.test", "/")
        assert moved_again["id"] != moved["id"]

        env = {"FRESHNESS_NOW": (T0 + 3 * day).isoformat()}
        ids = [str(moved_again["id"]), str(dead["id"])]
        freshness(*db, "accept", *ids, env=env, check=True)
        exported = tmp_path / "exported.yaml"
        result = freshness(*db, "export", str(exported), env=env, check=True)
        assert result.stderr.count("applied: ") == 2
        oldhome, gone = load_directory(exported)
        assert oldhome.url == web.url("otherhome.test", "/")
        assert (gone.status, gone.url) == ("dead", web.url("gone.test", "/"))
        freshness(*db, "import", str(exported), check=True)

        monitor.run(T0 + 4 * day)
        assert open_of("moved") == [] and open_of("dead_link") == []
        everything = monitor.findings(everything=True)
        assert sorted(f["status"] for f in everything if f["kind"] in ("moved", "dead_link")) == [
            "accepted",
            "accepted",
            "dismissed",
        ]
        for finding_id in ids:
            record, decisions = stored(monitor.db, int(finding_id))
            assert record.details.get("applied_at"), (record, decisions)
        summary = json.loads(
            freshness(*db, "findings", "--format", "json", "--all", check=True).stdout
        )
        assert len(summary) == len(everything)


@pytest.mark.e2e
def test_a_link_marked_dead_that_works_again_is_told_unmarked_and_watched_anew(
    tmp_path: Path,
) -> None:
    """dead → accepted and marked → works again: a `revived` finding, whose acceptance takes
    the mark away → dies again: a new dead link, not silenced by the first decision."""
    from monitor.simweb import SimWeb
    from monitor.simweb.scenario import BASE_STATE
    from tests.conftest import run_freshness

    def freshness(*args: str, **kw):  # type: ignore[no-untyped-def]
        return run_freshness(tmp_path, *args, **kw)

    def open_of(kind: str) -> list[dict]:
        return [f for f in monitor.findings() if f["kind"] == kind]

    def decide_and_export(finding_id: int, when: dt.datetime) -> DirectoryEntry:
        env = {"FRESHNESS_NOW": when.isoformat()}
        freshness(*db, "accept", str(finding_id), env=env, check=True)
        exported = tmp_path / f"exported-{finding_id}.yaml"
        freshness(*db, "export", str(exported), env=env, check=True)
        freshness(*db, "import", str(exported), check=True)
        [entry] = load_directory(exported)
        return entry

    with SimWeb(REVIVAL) as web:
        monitor = Monitor(web, freshness, tmp_path)
        monitor.load([("site", "site.test", "/meetings")])
        db = ["--db", monitor.db]
        day = dt.timedelta(days=1)
        meetings = web.url("site.test", "/meetings")

        for n in range(3):
            monitor.run(T0 + n * day)
        [dead] = open_of("dead_link")
        entry = decide_and_export(dead["id"], T0 + 2 * day)
        assert entry.groups_url == meetings  # kept where it is listed…
        assert entry.dead_links == (f"{meetings} since {T0.date().isoformat()}",)  # …marked

        web.set_state("back")
        monitor.run(T0 + 3 * day)
        [revived] = open_of("revived")
        assert revived["url"] == meetings and "works again" in revived["summary"]
        assert open_of("dead_link") == []
        first = {f["id"]: f for f in monitor.findings(everything=True)}[dead["id"]]
        assert first["status"] == "resolved"  # the recovery is told, and the decision is over

        entry = decide_and_export(revived["id"], T0 + 3 * day)
        assert entry.dead_links == () and entry.groups_url == meetings
        monitor.run(T0 + 4 * day)
        assert open_of("revived") == []  # no mark, nothing to tell

        web.set_state(BASE_STATE)
        for n in range(5, 8):
            monitor.run(T0 + n * day)
        [dead_again] = open_of("dead_link")
        assert dead_again["url"] == meetings and dead_again["id"] != dead["id"]

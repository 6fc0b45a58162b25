"""End to end: moves, renames, new and removed groups and new organisations, over the
simulated web, through the real CLI."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import yaml

from monitor.simweb import SimWeb, load_catalogue
from tests.crawling import T0, Monitor

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def world() -> Iterator[SimWeb]:
    with SimWeb(load_catalogue()) as web:
        yield web
        assert web.errors == []


@pytest.fixture
def monitor(world: SimWeb, tmp_path) -> Monitor:
    from tests.conftest import run_freshness

    return Monitor(world, lambda *a, **kw: run_freshness(tmp_path, *a, **kw), tmp_path)


def load_entries(monitor: Monitor, entries: list[dict]) -> None:
    path = monitor.tmp_path / "directory.yaml"
    path.write_text(yaml.safe_dump({"organisations": entries}, sort_keys=False))
    monitor.freshness("--db", monitor.db, "import", str(path), check=True)


def by_kind(findings: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for f in findings:
        out.setdefault(f["kind"], []).append(f)
    return out


def test_actors_fund_is_renamed_and_moved(world: SimWeb, monitor: Monitor) -> None:
    load_entries(
        monitor,
        [
            {
                "id": "actors-fund",
                "name": "The Actors Fund",
                "url": world.url("actorsfund.test", "/"),
            }
        ],
    )
    monitor.run(T0)
    kinds = by_kind(monitor.findings())
    (rename,) = kinds["rename"]
    assert rename["new_name"] == "Entertainment Community Fund"
    assert rename["old_name"] == "The Actors Fund"
    assert len(rename["evidence"]) >= 3  # the status chain and at least two signals
    (moved,) = kinds["moved"]
    assert moved["new_url"] == world.url("entertainmentcommunity.test", "/")
    assert moved["url"] == world.url("actorsfund.test", "/")
    assert "dead_link" not in kinds


def test_listed_under_its_new_name_with_alias_is_quiet(world: SimWeb, monitor: Monitor) -> None:
    load_entries(
        monitor,
        [
            {
                "id": "ecf",
                "name": "Entertainment Community Fund",
                "aliases": ["The Actors Fund"],
                "url": world.url("entertainmentcommunity.test", "/"),
                "groups_url": world.url("entertainmentcommunity.test", "/support-groups"),
            }
        ],
    )
    monitor.run(T0)
    monitor.run(T0 + dt.timedelta(days=1))
    assert monitor.findings() == []


def test_new_group_appears_only_after_the_baseline(world: SimWeb, monitor: Monitor) -> None:
    load_entries(
        monitor,
        [
            {
                "id": "westside",
                "name": "Westside Nurses Network",
                "url": world.url("newgroup.test", "/"),
                "groups_url": world.url("newgroup.test", "/groups"),
            }
        ],
    )
    try:
        monitor.run(T0)
        monitor.run(T0 + dt.timedelta(days=1))
        assert monitor.findings() == []  # same groups twice: nothing to say
        world.set_state("after")
        monitor.run(T0 + dt.timedelta(days=2))
    finally:
        world.set_state("before")
    (new,) = monitor.findings()
    assert new["kind"] == "new_group"
    assert new["group"]
    assert new["url"] == world.url("newgroup.test", "/groups")

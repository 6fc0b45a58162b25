"""Planning a run: which organisations are due, the directory's listed domains, the targets a
crawler gets, and handing a shard's targets to another process through a file.

Everything reads a real SQLite store in ``tmp_path``; the clock is fixed with ``FRESHNESS_NOW``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.crawl.layers import LayeredSettings
from monitor.runs.plan import (
    iter_targets,
    listed_domains,
    load_due_targets,
    load_run,
    plan_run,
    plan_targets,
    read_targets,
    shard_targets,
    write_shard_targets,
)
from storage.db import Store
from storage.records import DirectoryEntry

NOW = dt.datetime(2026, 11, 23, 3, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)

NURSES = DirectoryEntry(
    id="nurses",
    name="Nurse Circle",
    url="https://nurses.org/",
    groups_url="https://nurses.org/groups",
    group_selector="ul.groups > li",
    links=("https://nurses.org/contact",),
)
MEDICS = DirectoryEntry(id="medics", name="Medic Peers", url="https://medics.org/")
LAWYERS = DirectoryEntry(
    id="lawyers",
    name="Lawyers Together",
    url="https://lawyers.org/",
    links=("https://forum.lawyers-elsewhere.net/board",),
)
PILOTS = DirectoryEntry(id="pilots", name="Pilot Peers", url="https://pilots.org/")
# Listed once, then dropped from the directory: inactive, never planned.
GONE = DirectoryEntry(
    id="gone",
    name="Gone Group",
    url="https://gone.org/",
    groups_url="https://groups.gone-hosting.com/gone",
)

# What every test runs with: thresholds given explicitly, so no default matters.
POLICY = {
    "FRESHNESS_DEFAULT_CHECK_EVERY": "1d",
    "FRESHNESS_DISCOVERY_EVERY": "7d",
    "FRESHNESS_PROBE_TTL": "1d",
    "FRESHNESS_CANARY_URLS": [],
}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The store every test starts from, built (and migrated) once: nurses and lawyers never
    checked, medics checked an hour ago, pilots two days ago, gone inactive; medics discovered
    an hour ago, pilots ten days ago."""
    path = tmp_path_factory.mktemp("plan") / "template.db"
    store = Store(f"sqlite:///{path}")
    try:
        with store.transaction() as repo:
            repo.sync_directory([NURSES, MEDICS, LAWYERS, PILOTS, GONE], NOW - 30 * DAY)
        with store.transaction() as repo:
            repo.sync_directory([NURSES, MEDICS, LAWYERS, PILOTS], NOW - 20 * DAY)
            repo.mark_checked(["medics"], NOW - HOUR)
            repo.mark_checked(["pilots"], NOW - 2 * DAY)
            repo.mark_discovered(["medics"], NOW - HOUR)
            repo.mark_discovered(["pilots"], NOW - 10 * DAY)
    finally:
        store.close()
    return path


@pytest.fixture
def db(tmp_path: Path, template: Path) -> Iterator[Store]:
    """A copy of the template store of this test's own."""
    shutil.copyfile(template, tmp_path / "freshness.db")
    store = Store(f"sqlite:///{tmp_path / 'freshness.db'}")
    yield store
    store.close()


@pytest.fixture
def settings(tmp_path: Path, db: Store) -> dict[str, Any]:
    return {
        "FRESHNESS_DB": f"sqlite:///{tmp_path / 'freshness.db'}",
        "FRESHNESS_NOW": NOW.isoformat(),
        **POLICY,
    }


def layered(settings: dict[str, Any], **cmdline: Any) -> LayeredSettings:
    return LayeredSettings(project=settings, cmdline=cmdline)


def link_ids(store: Store) -> dict[str, int]:
    with store.transaction() as repo:
        return {state.url: state.id for state in repo.link_states()}


# -- who is planned ------------------------------------------------------------------------------


def test_plan_has_the_due_active_organisations_in_directory_order(settings: dict) -> None:
    plan = plan_run(settings)
    assert plan.organisations == [
        ("nurses", "https://nurses.org/"),
        ("lawyers", "https://lawyers.org/"),
        ("pilots", "https://pilots.org/"),
    ]
    assert plan.now == NOW
    assert plan.now.tzinfo is not None


def test_an_organisation_checked_recently_is_not_due(settings: dict) -> None:
    planned = [org_id for org_id, _ in plan_run(settings).organisations]
    assert "medics" not in planned
    # A day later it is.
    later = {**settings, "FRESHNESS_NOW": (NOW + DAY).isoformat()}
    assert "medics" in [org_id for org_id, _ in plan_run(later).organisations]


def test_an_inactive_organisation_is_never_planned(settings: dict) -> None:
    assert "gone" not in [org_id for org_id, _ in plan_run(settings).organisations]
    # Not even when asked for by name: only active organisations are planned.
    plan = plan_run(layered(settings, FRESHNESS_ORGS=["gone", "nurses"]))
    assert plan.organisations == [("nurses", "https://nurses.org/")]


def test_a_longer_check_interval_leaves_a_two_day_old_check_alone(settings: dict) -> None:
    weekly = {**settings, "FRESHNESS_DEFAULT_CHECK_EVERY": "1w"}
    planned = [org_id for org_id, _ in plan_run(weekly).organisations]
    assert planned == ["nurses", "lawyers"]  # the never-checked ones only


def test_freshness_orgs_restricts_the_plan(settings: dict) -> None:
    plan = plan_run(layered(settings, FRESHNESS_ORGS=["lawyers"]))
    assert plan.organisations == [("lawyers", "https://lawyers.org/")]
    assert set(plan.selectors) == {"lawyers"}


def test_freshness_orgs_plans_a_named_organisation_even_when_not_due(settings: dict) -> None:
    plan = plan_run(layered(settings, FRESHNESS_ORGS="medics,nurses"))
    assert [org_id for org_id, _ in plan.organisations] == ["nurses", "medics"]


def test_discovery_is_due_for_the_never_or_long_ago_discovered(settings: dict) -> None:
    plan = plan_run(layered(settings, FRESHNESS_ORGS=["nurses", "medics", "lawyers", "pilots"]))
    assert plan.discover == {"nurses", "lawyers", "pilots"}  # medics: an hour ago


def test_selectors_are_the_planned_organisations_group_selectors(settings: dict) -> None:
    plan = plan_run(settings)
    assert plan.selectors == {"nurses": "ul.groups > li", "lawyers": None, "pilots": None}


def test_listed_domains_include_inactive_entries(settings: dict) -> None:
    domains = plan_run(settings).listed_domains
    assert domains == sorted(domains)
    assert set(domains) == {
        "nurses.org",
        "medics.org",
        "lawyers.org",
        "lawyers-elsewhere.net",
        "pilots.org",
        "gone.org",
        "gone-hosting.com",
    }
    assert listed_domains(settings) == domains


def test_canaries_come_from_the_policy(settings: dict) -> None:
    assert plan_run(settings).canaries == []
    with_canaries = {**settings, "FRESHNESS_CANARY_URLS": "https://c1.test/ https://c2.test/"}
    assert plan_run(with_canaries).canaries == [
        {"org_id": None, "link_id": None, "role": "canary", "url": "https://c1.test/"},
        {"org_id": None, "link_id": None, "role": "canary", "url": "https://c2.test/"},
    ]


# -- targets -------------------------------------------------------------------------------------


def test_targets_carry_org_link_role_and_url(settings: dict, db: Store) -> None:
    ids = link_ids(db)
    targets = plan_targets(settings, plan_run(settings))
    assert [(t["org_id"], t["link_id"], t["role"], t["url"]) for t in targets] == [
        ("nurses", ids["https://nurses.org/"], "homepage", "https://nurses.org/"),
        ("nurses", ids["https://nurses.org/groups"], "groups", "https://nurses.org/groups"),
        ("nurses", ids["https://nurses.org/contact"], "link", "https://nurses.org/contact"),
        ("lawyers", ids["https://lawyers.org/"], "homepage", "https://lawyers.org/"),
        (
            "lawyers",
            ids["https://forum.lawyers-elsewhere.net/board"],
            "link",
            "https://forum.lawyers-elsewhere.net/board",
        ),
        ("pilots", ids["https://pilots.org/"], "homepage", "https://pilots.org/"),
    ]


def test_only_a_groups_page_gets_the_group_selector(settings: dict) -> None:
    targets = {t["url"]: t for t in plan_targets(settings, plan_run(settings))}
    assert targets["https://nurses.org/groups"]["group_selector"] == "ul.groups > li"
    assert targets["https://nurses.org/"]["group_selector"] is None
    assert targets["https://nurses.org/contact"]["group_selector"] is None


def test_only_homepages_of_organisations_due_for_discovery_discover(settings: dict) -> None:
    plan = plan_run(layered(settings, FRESHNESS_ORGS=["nurses", "medics"]))
    discovering = {t["url"] for t in plan_targets(settings, plan) if t["discover"]}
    assert discovering == {"https://nurses.org/"}  # not its other links; not medics (recent)


def test_new_links_have_no_validators_or_probe(settings: dict) -> None:
    for target in plan_targets(settings, plan_run(settings)):
        assert target["etag"] is None
        assert target["last_modified"] is None
        assert target["probe_cache"] is None


def test_a_young_probe_is_carried_and_an_old_one_is_not(settings: dict, db: Store) -> None:
    young = {"at": (NOW - HOUR).isoformat(), "status": 404}
    old = {"at": (NOW - 2 * DAY).isoformat(), "status": 404}
    with db.transaction() as repo:
        states = {s.url: s for s in repo.link_states(["nurses"])}
        repo.save_link_states(
            [
                dataclasses.replace(states["https://nurses.org/"], probe=young, etag='"v1"'),
                dataclasses.replace(states["https://nurses.org/groups"], probe=old),
            ]
        )
    targets = {t["url"]: t for t in plan_targets(settings, plan_run(settings))}
    assert targets["https://nurses.org/"]["probe_cache"] == young
    assert targets["https://nurses.org/"]["etag"] == '"v1"'
    assert targets["https://nurses.org/groups"]["probe_cache"] is None
    # With no probe cache at all, even the young one is fetched again.
    uncached = {**settings, "FRESHNESS_PROBE_TTL": "0"}
    targets = {t["url"]: t for t in plan_targets(uncached, plan_run(uncached))}
    assert targets["https://nurses.org/"]["probe_cache"] is None


def test_canaries_come_first_in_the_targets(settings: dict) -> None:
    with_canary = {**settings, "FRESHNESS_CANARY_URLS": ["https://canary.test/"]}
    targets = plan_targets(with_canary, plan_run(with_canary))
    assert targets[0] == {
        "org_id": None,
        "link_id": None,
        "role": "canary",
        "url": "https://canary.test/",
    }
    assert all(t["role"] != "canary" for t in targets[1:])


def test_load_run_is_the_planned_targets_and_listed_domains(settings: dict) -> None:
    targets, domains = load_run(settings)
    plan = plan_run(settings)
    assert targets == plan_targets(settings, plan)
    assert domains == plan.listed_domains
    assert load_due_targets(settings) == targets


def test_load_run_with_freshness_orgs_has_only_their_targets(settings: dict) -> None:
    targets, domains = load_run(layered(settings, FRESHNESS_ORGS=["medics"]))
    assert [(t["org_id"], t["url"]) for t in targets] == [("medics", "https://medics.org/")]
    assert "gone.org" in domains  # the listed domains never depend on the plan


def test_an_empty_directory_plans_nothing(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'empty.db'}")
    store.close()
    settings = {"FRESHNESS_DB": f"sqlite:///{tmp_path / 'empty.db'}", "FRESHNESS_NOW": "2026-11-23"}
    plan = plan_run(settings)
    assert plan.organisations == []
    assert plan.listed_domains == []
    assert load_run(settings) == ([], [])


# -- shards --------------------------------------------------------------------------------------


def test_shard_targets_are_those_organisations_links_only(settings: dict) -> None:
    plan = plan_run(settings)
    shard = shard_targets(
        settings, ["pilots", "lawyers"], discover=plan.discover, selectors=plan.selectors, now=NOW
    )
    # In link order (the order they were stored), not the order asked for.
    assert [t["url"] for t in shard] == [
        "https://lawyers.org/",
        "https://forum.lawyers-elsewhere.net/board",
        "https://pilots.org/",
    ]
    assert {t["org_id"] for t in shard} == {"lawyers", "pilots"}


def test_shards_together_are_the_whole_run(settings: dict) -> None:
    plan = plan_run(settings)
    ids = [org_id for org_id, _ in plan.organisations]
    kwargs = {"discover": plan.discover, "selectors": plan.selectors, "now": plan.now}
    halves = shard_targets(settings, ids[:1], **kwargs) + shard_targets(settings, ids[1:], **kwargs)
    assert sorted(halves, key=lambda t: t["link_id"]) == plan_targets(settings, plan)


@pytest.mark.parametrize("chunk", [1, 2, 1000])
def test_shard_targets_written_and_read_back_are_the_same(
    settings: dict, db: Store, tmp_path: Path, chunk: int
) -> None:
    plan = plan_run(settings)
    ids = [org_id for org_id, _ in plan.organisations]
    kwargs = {"discover": plan.discover, "selectors": plan.selectors, "now": plan.now}
    path = tmp_path / "shard.jsonl"
    counts = write_shard_targets(db, settings, ids, path, chunk=chunk, **kwargs)
    expected = shard_targets(settings, ids, **kwargs)
    assert read_targets(path) == expected
    assert list(iter_targets(path)) == expected
    assert counts == {"nurses": 3, "lawyers": 2, "pilots": 1}
    assert len(path.read_text(encoding="utf-8").splitlines()) == len(expected)


def test_iter_targets_reads_one_target_at_a_time(settings: dict, db: Store, tmp_path: Path) -> None:
    plan = plan_run(settings)
    path = tmp_path / "shard.jsonl"
    write_shard_targets(
        db, settings, ["nurses"], path, discover=plan.discover, selectors=plan.selectors, now=NOW
    )
    reading = iter_targets(path)
    first = next(reading)
    assert (first["org_id"], first["role"], first["url"]) == (
        "nurses",
        "homepage",
        "https://nurses.org/",
    )
    assert [t["role"] for t in reading] == ["groups", "link"]


def test_an_empty_shard_writes_an_empty_file(settings: dict, db: Store, tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    counts = write_shard_targets(db, settings, [], path, discover=set(), selectors={}, now=NOW)
    assert counts == {}
    assert path.read_text(encoding="utf-8") == ""
    assert read_targets(path) == []

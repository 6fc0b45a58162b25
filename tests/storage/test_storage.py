"""The store: migrations and the repository, against SQLite and a real PostgreSQL server."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from storage.db import Store, normalise_url
from storage.models import Base
from storage.records import DirectoryEntry, Finding, Observation
from tests.conftest import python_output

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def entry(org_id: str, **kw: object) -> DirectoryEntry:
    base = {"id": org_id, "name": org_id.title(), "url": f"http://{org_id}.test/"}
    base.update(kw)
    return DirectoryEntry(**base)  # type: ignore[arg-type]


def test_empty_database_upgrades_to_head_and_matches_models(store_factory) -> None:
    store = store_factory()
    assert store.current_revision() == store.head_revision() is not None
    with store.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diffs == [], f"models and migrations disagree: {diffs}"


def test_upgrade_is_idempotent(store_factory) -> None:
    store = store_factory()
    store.upgrade()
    assert store.current_revision() == store.head_revision()


def test_a_store_at_head_opens_without_alembic_and_one_behind_is_migrated(tmp_path) -> None:
    """Every command opens the store; only one that has migrations to apply loads Alembic."""

    from storage.db import HEAD_REVISION, Store

    url = f"sqlite:///{tmp_path / 'f.db'}"
    store = Store(url)
    assert store.head_revision() == HEAD_REVISION  # the newest file name is Alembic's head
    code = (
        "import sys\n"
        "from storage.db import Store\n"
        f"store = Store({url!r})\n"
        "print('alembic' in sys.modules, store.current_revision())\n"
    )
    assert python_output(code).split() == ["False", HEAD_REVISION]
    from alembic import command

    from storage.db import alembic_config

    command.downgrade(alembic_config(store.engine), "-1")
    assert store.current_revision() != HEAD_REVISION
    assert python_output(code).split() == ["True", HEAD_REVISION]


def test_an_entry_stored_before_dead_links_reads_back_without_any(db_url: str) -> None:
    from alembic import command
    from sqlalchemy import text

    from storage.db import alembic_config

    old = Store(db_url, upgrade=False)
    try:
        command.upgrade(alembic_config(old.engine), "0004")
        with old.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO organisations (id, name, url, aliases, groups, links, position,"
                    " active, created_at, updated_at) VALUES ('a', 'A', 'http://a.test/', '[]',"
                    " '[]', '[\"http://a.test/x\"]', 0, true, :now, :now)"
                ),
                {"now": NOW},
            )
    finally:
        old.close()
    store = Store(db_url)  # upgrades to head
    try:
        with store.transaction() as repo:
            [org] = repo.organisations()
            assert org.entry.dead_links == () and org.entry.links == ("http://a.test/x",)
            marked = entry(
                "a", links=("http://a.test/x",), dead_links=("http://a.test/x since 2026-11-20",)
            )
            repo.sync_directory([marked], NOW)
        with store.transaction() as repo:
            assert [o.entry for o in repo.organisations()] == [marked]
    finally:
        store.close()


def test_sync_directory_adds_changes_and_deactivates(store_factory) -> None:
    store = store_factory()
    with store.transaction() as repo:
        diff = repo.sync_directory([entry("a"), entry("b", groups=("One",))], NOW)
    assert diff.added == ("a", "b") and not diff.changed and not diff.removed
    with store.transaction() as repo:
        diff = repo.sync_directory([entry("b", groups=("One", "Two")), entry("c")], NOW)
    assert diff.added == ("c",)
    assert diff.changed == ("b",)
    assert diff.removed == ("a",)
    with store.transaction() as repo:
        active = [o.id for o in repo.organisations()]
        everyone = {o.id: o.active for o in repo.organisations(include_inactive=True)}
    assert active == ["b", "c"]
    assert everyone == {"a": False, "b": True, "c": True}


def test_removed_organisation_keeps_history_and_returns(store_factory) -> None:
    store = store_factory()
    with store.transaction() as repo:
        repo.sync_directory([entry("a")], NOW)
        run_id = repo.start_run(NOW)
        link = repo.link_states(["a"])[0]
        repo.record_observations(
            [
                Observation(
                    org_id="a",
                    url=link.url,
                    fetched_at=NOW,
                    link_id=link.id,
                    run_id=run_id,
                    status=200,
                    facts={"title": "A"},
                )
            ]
        )
    with store.transaction() as repo:
        repo.sync_directory([], NOW)
    with store.transaction() as repo:
        assert repo.organisations() == []
        assert len(repo.observations(org_id="a")) == 1
        diff = repo.sync_directory([entry("a")], NOW)
    assert diff.changed == ("a",)


def test_one_organisation_reads_as_it_does_among_all(store_factory) -> None:
    from storage.repository import NotFound

    store = store_factory()
    with store.transaction() as repo:
        repo.sync_directory([entry("a"), entry("b"), entry("c")], NOW)
        dead = Finding(
            org_id="b",
            kind="dead_link",
            url="http://b.test/",
            summary="dead",
            first_seen=NOW,
            last_seen=NOW,
        )
        repo.open_finding(dead, subject="http://b.test/", run_id=None)
    with store.transaction() as repo:
        repo.sync_directory([entry("a"), entry("b")], NOW)  # c leaves the directory
    with store.transaction() as repo:
        every = {org.id: org for org in repo.organisations(include_inactive=True)}
        assert [every["b"].open_findings, every["c"].active] == [1, False]
        for org_id in "abc":
            assert repo.organisation(org_id) == every[org_id]
        with pytest.raises(NotFound, match="no organisation with id 'zz'"):
            repo.organisation("zz")


def test_listed_links_follow_the_entry(store_factory) -> None:
    store = store_factory()
    e = entry("a", groups_url="http://a.test/groups", links=("http://a.test/x", "http://a.test/"))
    with store.transaction() as repo:
        repo.sync_directory([e], NOW)
        links = {(s.role, s.url) for s in repo.link_states()}
    assert links == {
        ("homepage", "http://a.test/"),
        ("groups", "http://a.test/groups"),
        ("link", "http://a.test/x"),
    }
    with store.transaction() as repo:
        repo.sync_directory([entry("a")], NOW)
        assert [s.url for s in repo.link_states()] == ["http://a.test/"]


def test_observations_round_trip_with_json_and_aware_times(store_factory) -> None:
    store = store_factory()
    chain = [{"url": "http://a.test/", "status": 301, "location": "https://a.test/"}]
    with store.transaction() as repo:
        repo.sync_directory([entry("a")], NOW)
        run_id = repo.start_run(NOW)
        link = repo.link_states()[0]
        repo.record_observations(
            [
                Observation(
                    org_id="a",
                    url=link.url,
                    fetched_at=NOW,
                    link_id=link.id,
                    run_id=run_id,
                    status=200,
                    final_url="https://a.test/",
                    redirect_chain=chain,
                    facts={"title": "Ünïcode ✓", "h1": ["x"]},
                    category="ok",
                )
            ]
        )
    with store.transaction() as repo:
        (obs,) = repo.observations(run_id=run_id)
    assert obs.redirect_chain == chain
    assert obs.facts["title"] == "Ünïcode ✓"
    assert obs.fetched_at == NOW and obs.fetched_at.tzinfo is not None


def test_findings_open_refresh_resolve_and_decide(store_factory) -> None:
    store = store_factory()
    finding = Finding(
        org_id="a",
        kind="dead_link",
        url="http://a.test/",
        summary="dead",
        first_seen=NOW,
        last_seen=NOW,
        details={"reason": "http_404"},
        evidence=["404 http://a.test/"],
    )
    with store.transaction() as repo:
        repo.sync_directory([entry("a")], NOW)
        stored, created = repo.open_finding(finding, subject="http://a.test/", run_id=None)
        assert created
        later = Finding(**{**finding.__dict__, "last_seen": NOW + dt.timedelta(days=1)})
        again, created_again = repo.open_finding(later, subject="http://a.test/", run_id=None)
    assert not created_again and again.id == stored.id
    assert again.first_seen == NOW and again.last_seen == NOW + dt.timedelta(days=1)
    with store.transaction() as repo:
        repo.set_finding_status(stored.id, "dismissed", by="curator", at=NOW, reason="known")
        assert repo.findings() == []
        assert repo.findings(statuses=None)[0].status == "dismissed"
        assert repo.decisions(stored.id)[0]["by"] == "curator"
        assert repo.latest_finding("a", "dead_link", "http://a.test/").status == "dismissed"


def test_stale_running_runs_are_marked_interrupted(store_factory) -> None:
    store = store_factory()
    with store.transaction() as repo:
        repo.start_run(NOW)
    with store.transaction() as repo:
        assert repo.interrupt_stale_runs(NOW) != []
        assert repo.runs()[0].status == "interrupted"


def test_naive_datetimes_are_refused(store_factory) -> None:
    store = store_factory()
    with pytest.raises(Exception, match="naive"), store.transaction() as repo:
        repo.start_run(dt.datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("freshness.db", "sqlite:///freshness.db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_database_urls_are_normalised(given: str, expected: str) -> None:
    assert normalise_url(given) == expected


def test_unreachable_database_is_a_clear_error(tmp_path) -> None:
    from storage.db import StoreError

    with pytest.raises(StoreError, match="cannot open database"):
        Store(f"sqlite:///{tmp_path}/missing-dir/x.db")


def test_a_snooze_that_ran_out_reopens_its_finding_in_the_run_digest(store_factory) -> None:
    from monitor.judging.policy import Policy
    from monitor.runs.lifecycle import conclude_run, start_run

    store = store_factory()
    finding = Finding(
        org_id="a",
        kind="moved",
        url="http://a.test/",
        summary="moved",
        first_seen=NOW,
        last_seen=NOW,
        details={"new_url": "http://b.test/"},
    )
    with store.transaction() as repo:
        repo.sync_directory([entry("a")], NOW)
        stored, _ = repo.open_finding(finding, subject="http://a.test/", run_id=None)
        repo.set_finding_status(
            stored.id, "snoozed", by="c", at=NOW, snoozed_until=NOW + dt.timedelta(days=2)
        )
    early = start_run(store, NOW + dt.timedelta(days=1))
    summary = conclude_run(store, early, [], now=NOW + dt.timedelta(days=1), policy=Policy())
    assert summary["opened"] == []
    later = start_run(store, NOW + dt.timedelta(days=3))
    summary = conclude_run(store, later, [], now=NOW + dt.timedelta(days=3), policy=Policy())
    assert summary["opened"] == [stored.id]
    with store.transaction() as repo:
        assert repo.finding(stored.id).status == "open"


def test_latest_readings_pass_over_304s_and_leave_out_page_text(store_factory) -> None:
    """What a verdict compares against: the last full reading of each link, slimmed."""
    store = store_factory()
    with store.transaction() as repo:
        repo.sync_directory([entry("a", groups_url="http://a.test/groups")], NOW)
        links = {s.role: s for s in repo.link_states()}
        groups = links["groups"]
        runs = [repo.start_run(NOW + dt.timedelta(days=d)) for d in range(4)]

        def seen(run_id: int, status: int | None, **facts: object) -> Observation:
            return Observation(
                org_id="a",
                url=groups.url,
                fetched_at=NOW,
                link_id=groups.id,
                run_id=run_id,
                status=status,
                facts={"role": "groups", **facts},
                category="ok",
            )

        repo.record_observations(
            [
                seen(runs[0], 200, groups=[{"name": "Old"}], text="x" * 500),
                seen(runs[1], 200, groups=[{"name": "One"}, {"name": "Two"}], text="page text"),
                seen(runs[2], 304, not_modified=True),
                seen(runs[3], None, outbound=[{"url": "http://b.test/"}]),
            ]
        )
    with store.transaction() as repo:
        before_run3 = repo.latest_readings([groups.id], before_run_id=runs[3])
        before_run4 = repo.latest_readings([groups.id], before_run_id=runs[3] + 1)
        nothing = repo.latest_readings([links["homepage"].id], before_run_id=runs[3])
        seen_names = repo.groups_seen([groups.id, 99999], before_run_id=runs[3])
        census = repo.run_census(runs[1])
    # The 304 of run 3 stands for run 2's reading, which is what comes back.
    assert before_run3[groups.id].status == 200
    assert before_run3[groups.id].facts["groups"] == [{"name": "One"}, {"name": "Two"}]
    assert "text" not in before_run3[groups.id].facts
    # A failed fetch (no status) is a reading too: of a failure. Its outbound links are dropped.
    assert before_run4[groups.id].status is None
    assert "outbound" not in before_run4[groups.id].facts
    assert nothing == {}
    assert seen_names == {groups.id: ["Old", "One", "Two"], 99999: []}
    # The census of a run: its one observation, with only what the verdicts start from.
    assert [(o.link_id, o.category, o.facts) for o in census] == [
        (groups.id, "ok", {"role": "groups", "discovered": False})
    ]


def test_reads_of_many_links_are_chunked_under_sqlites_parameter_limit(store_factory) -> None:
    store = store_factory()
    with store.transaction() as repo:
        repo.sync_directory([entry("a")], NOW)
        link = repo.link_states()[0]
        run_id = repo.start_run(NOW)
        repo.record_observations(
            [
                Observation(
                    org_id="a",
                    url=link.url,
                    fetched_at=NOW,
                    link_id=link.id,
                    run_id=run_id,
                    status=200,
                    facts={"groups": [{"name": "G"}]},
                )
            ]
        )
    ids = [link.id, *range(10**6, 10**6 + 40_000)]  # more ids than SQLite binds in one query
    with store.transaction() as repo:
        assert set(repo.latest_readings(ids, before_run_id=run_id + 1)) == {link.id}
        assert repo.groups_seen(ids, before_run_id=run_id + 1)[link.id] == ["G"]


def test_resolve_findings_resolves_only_the_open_ones_named(store_factory) -> None:
    store = store_factory()

    def finding(kind: str, url: str) -> Finding:
        return Finding(org_id="a", kind=kind, url=url, summary=kind, first_seen=NOW, last_seen=NOW)

    with store.transaction() as repo:
        repo.sync_directory([entry("a")], NOW)
        dead, _ = repo.open_finding(
            finding("dead_link", "http://a.test/"), subject="x", run_id=None
        )
        moved, _ = repo.open_finding(finding("moved", "http://a.test/"), subject="x", run_id=None)
        kept, _ = repo.open_finding(
            finding("dead_link", "http://a.test/g"), subject="y", run_id=None
        )
    with store.transaction() as repo:
        resolved = repo.resolve_findings(
            [
                ("a", "dead_link", "x"),
                ("a", "moved", "x"),
                ("a", "rename", "x"),
                ("b", "moved", "x"),
            ],
            NOW,
            None,
        )
        again = repo.resolve_findings([("a", "dead_link", "x")], NOW, None)
        statuses = {f.id: f.status for f in repo.findings(statuses=None)}
    assert resolved == sorted([dead.id, moved.id]) and again == []
    assert statuses == {dead.id: "resolved", moved.id: "resolved", kept.id: "open"}


def test_save_link_states_writes_every_field_and_refuses_unknown_links(store_factory) -> None:
    import dataclasses

    from storage.repository import NotFound

    store = store_factory()
    with store.transaction() as repo:
        repo.sync_directory([entry("a", groups_url="http://a.test/groups")], NOW)
        states = repo.link_states()
    changed = [
        dataclasses.replace(
            s,
            consecutive_failures=2,
            first_failure_at=NOW,
            last_category="timeout",
            etag='"e"',
            probe={"key": "k", "at": NOW.isoformat()},
        )
        for s in states
    ]
    with store.transaction() as repo:
        repo.save_link_states(changed)
    with store.transaction() as repo:
        reread = repo.link_states()
    assert [(s.consecutive_failures, s.first_failure_at, s.etag, s.probe) for s in reread] == [
        (2, NOW, '"e"', {"key": "k", "at": NOW.isoformat()})
    ] * 2
    with pytest.raises(NotFound), store.transaction() as repo:
        repo.save_link_states([dataclasses.replace(states[0], id=99999)])


def test_run_census_keeps_the_last_observation_of_each_link(store_factory) -> None:
    """A re-queued organisation half-done by a dead worker is observed twice: the last counts."""
    store = store_factory()
    with store.transaction() as repo:
        repo.sync_directory([entry("a")], NOW)
        link = repo.link_states()[0]
        run_id = repo.start_run(NOW)

        def seen(category: str, **facts: object) -> Observation:
            return Observation(
                org_id="a",
                url=link.url,
                fetched_at=NOW,
                link_id=link.id,
                run_id=run_id,
                status=200,
                category=category,
                facts={"role": "homepage", **facts},
            )

        candidate = Observation(
            org_id="a",
            url="http://b.test/",
            fetched_at=NOW,
            run_id=run_id,
            facts={"role": "candidate", "text": "peer support"},
        )
        repo.record_observations([seen("timeout"), candidate, seen("ok", discovered=True)])
    with store.transaction() as repo:
        census = repo.run_census(run_id)
        (full,) = repo.observations_by_id([census[-1].id], slim=False)
        (slimmed,) = repo.observations_by_id([c.id for c in census if c.link_id is None])
    assert [(c.url, c.category, c.facts["discovered"]) for c in census] == [
        ("http://b.test/", None, False),
        (link.url, "ok", True),
    ]
    assert full.category == "ok" and full.facts["discovered"] is True
    assert "text" not in slimmed.facts


def test_a_site_linked_from_two_pages_is_proposed_with_both(store_factory) -> None:
    """The spider records a linked site once per linking page when the site's own page was
    read before the second link was seen. Both records reach the new-organisation check, so
    the finding names every page that links to it, whichever came first."""
    from monitor.judging.policy import Policy
    from monitor.runs.lifecycle import conclude_run, start_run

    store = store_factory()
    with store.transaction() as repo:
        repo.sync_directory([entry("a", groups_url="http://a.test/groups")], NOW)
        home, groups = sorted(repo.link_states(), key=lambda s: s.id)
    run_id = start_run(store, NOW)

    def candidate(linked_from: str, **facts: object) -> Observation:
        return Observation(
            org_id="a",
            url="http://peers.test/",
            final_url="http://peers.test/",
            fetched_at=NOW,
            run_id=run_id,
            status=200,
            facts={
                "role": "candidate",
                "domain": "peers.test",
                "linked_from": [linked_from],
                "title": "Peer support for dancers",
                **facts,
            },
        )

    with store.transaction() as repo:
        repo.record_observations(
            [
                *(
                    Observation(
                        org_id="a",
                        url=link.url,
                        fetched_at=NOW,
                        link_id=link.id,
                        run_id=run_id,
                        status=200,
                        category="ok",
                        facts={"role": role},
                    )
                    for link, role in ((home, "homepage"), (groups, "groups"))
                ),
                candidate("http://a.test/", text="Our peer support groups meet weekly."),
                candidate("http://a.test/partners"),  # the copy: no text
            ]
        )
    with store.transaction() as repo:
        census = repo.run_census(run_id)
    assert sorted(o.facts["role"] for o in census) == ["candidate"] * 2 + ["groups", "homepage"]
    conclude_run(store, run_id, [], now=NOW, policy=Policy())
    with store.transaction() as repo:
        (found,) = repo.findings(kind="new_organisation")
    assert found.details["linked_from"] == ["http://a.test/", "http://a.test/partners"]


def test_planning_reads_only_what_a_run_needs(store_factory) -> None:
    store = store_factory()
    full = entry(
        "a",
        groups_url="http://a.test/groups",
        group_selector="ul > li",
        links=("http://b.test/x",),
        check_every="2d",
        groups=("One",),
        aliases=("Old A",),
    )
    with store.transaction() as repo:
        repo.sync_directory([full, entry("c")], NOW)
        repo.sync_directory([full], NOW)  # c is now inactive, but its URL is still listed
        [planned] = repo.organisations_to_plan()
        urls = sorted(repo.listed_urls())
    assert (planned.id, planned.entry.url, planned.entry.group_selector) == (
        "a",
        "http://a.test/",
        "ul > li",
    )
    assert planned.entry.check_every == "2d" and planned.last_checked_at is None
    assert planned.entry.groups == () and planned.entry.aliases == ()  # not loaded
    assert urls == ["http://a.test/", "http://a.test/groups", "http://b.test/x", "http://c.test/"]

"""The review loop: decisions, writing accepted changes back, and keeping them from coming back.

Pure planning on records; the real CLI (in process) over a real store; and end to end, real
crawls of the simulated web where a dismissed move stays quiet until its evidence changes and
accepted changes, exported and imported, do not come back.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import getpass
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.app.cli import cli
from monitor.directory.load import load_directory
from monitor.directory.review import plan_changes, settled, update_yaml
from monitor.directory.yaml_format import dump_directory
from storage.db import Store
from storage.records import DirectoryEntry, Finding

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
TODAY = NOW.date()

ECF = DirectoryEntry(
    id="ecf",
    name="Entertainment Community Fund",
    url="https://entertainmentcommunity.test/",
    aliases=("The Actors Fund",),
    groups_url="https://entertainmentcommunity.test/support-groups",
    group_selector="ul.groups > li",
    groups=("Finding Hope", "The Anxiety Toolbox"),
    links=("https://entertainmentcommunity.test/contact",),
    check_every="12h",
)
NURSES = DirectoryEntry(id="nurses", name="Nurse Circle", url="https://nurses.test/")


def finding(id_: int, org: str, kind: str, url: str | None = None, **details: object) -> Finding:
    return Finding(
        id=id_,
        org_id=org,
        kind=kind,
        url=url,
        summary=f"{org} {kind}",
        first_seen=NOW,
        last_seen=NOW,
        status="accepted",
        details=dict(details),
    )


# Every kind of finding, accepted, and what it does to the directory.
EVERY_KIND = [
    finding(1, "ecf", "rename", ECF.url, old_name=ECF.name, new_name="ECF Together"),
    finding(
        2,
        "nurses",
        "moved",
        NURSES.url,
        old_url=NURSES.url,
        new_url="https://www.nursecircle.test/home",
    ),
    finding(3, "ecf", "new_group", ECF.groups_url, group="Night Shift Circle"),
    finding(4, "ecf", "removed_group", ECF.groups_url, group="the anxiety toolbox (Mondays 7pm)"),
    finding(5, "ecf", "new_organisation", "https://peers.test/", name="Peer Net"),
    finding(6, "ecf", "dead_link", "https://entertainmentcommunity.test/contact", role="link"),
    finding(7, "nurses", "dead_link", NURSES.url, failing_since="2026-11-20T03:00:00+00:00"),
    finding(8, "nurses", "unverifiable", NURSES.url, reason="blocked"),
]


# -- planning: pure -----------------------------------------------------------------------------


def test_every_kind_changes_the_directory_as_documented() -> None:
    plan = plan_changes([ECF, NURSES], EVERY_KIND, today=TODAY)
    ecf, nurses, peer = plan.entries
    assert ecf.name == "ECF Together"
    assert ecf.aliases == ("The Actors Fund", "Entertainment Community Fund")
    assert ecf.groups == ("Finding Hope", "Night Shift Circle")
    # The dead extra link is kept where it is listed and marked, dated the day of the decision
    # (the finding does not say when it started failing); the organisation is not marked dead.
    assert ecf.links == ("https://entertainmentcommunity.test/contact",)
    assert ecf.dead_links == ("https://entertainmentcommunity.test/contact since 2026-11-23",)
    assert ecf.status is None
    # The move came first (finding 2); the dead link (7) is about the old homepage, so it no
    # longer matches anything and changes nothing.
    assert nurses.url == "https://www.nursecircle.test/home"
    assert nurses.status is None
    assert peer == DirectoryEntry(id="peer-net", name="Peer Net", url="https://peers.test/")
    assert [c.finding_id for c in plan.changes] == [1, 2, 3, 4, 5, 6]
    assert str(plan.changes[-1]) == (
        "ecf: dead_links: + https://entertainmentcommunity.test/contact since 2026-11-23 "
        "(it stays in links, marked dead) (finding 6)"
    )
    assert plan.skipped == ()


def test_a_dead_homepage_marks_the_entry_with_the_day_it_first_failed() -> None:
    dead = finding(7, "nurses", "dead_link", NURSES.url, failing_since="2026-11-20T03:00:00Z")
    [entry] = plan_changes([NURSES], [dead], today=TODAY).entries
    assert (entry.status, entry.dead_since, entry.url) == (
        "dead",
        dt.date(2026, 11, 20),
        NURSES.url,
    )
    undated = dataclasses.replace(dead, details={})
    [entry] = plan_changes([NURSES], [undated], today=TODAY).entries
    assert entry.dead_since == TODAY


def test_a_dead_groups_page_is_marked_and_kept_with_its_selector() -> None:
    dead = finding(9, "ecf", "dead_link", ECF.groups_url, role="groups", failing_since="2026-11-19")
    plan = plan_changes([ECF], [dead], today=TODAY)
    [entry] = plan.entries
    # Nothing is deleted: the page, its selector and its groups stay; the mark says since when.
    assert (entry.groups_url, entry.group_selector) == (ECF.groups_url, ECF.group_selector)
    assert entry.groups == ECF.groups and entry.url == ECF.url and entry.status is None
    assert entry.dead_links == (f"{ECF.groups_url} since 2026-11-19",)
    assert "it stays in groups_url" in plan.changes[0].text
    # Marking it again changes nothing, and the directory settles the decision.
    assert plan_changes(plan.entries, [dead], today=TODAY).changes == ()
    assert settled(plan.entries, [dead], today=TODAY) == [9]


def test_an_accepted_move_of_a_dead_link_takes_its_mark_away() -> None:
    contact = "https://entertainmentcommunity.test/contact"
    dead = finding(1, "ecf", "dead_link", contact, role="link", failing_since="2026-11-19")
    moved = finding(
        2, "ecf", "moved", contact, old_url=contact, new_url="https://entertainmentcommunity.test/x"
    )
    [entry] = plan_changes([ECF], [dead, moved], today=TODAY).entries
    assert entry.links == ("https://entertainmentcommunity.test/x",)
    assert entry.dead_links == ()
    # The result is a directory the loader accepts as it is.
    assert load_directory("x.yaml", text=dump_directory([entry])) == [entry]


def test_accepting_a_revived_link_takes_its_dead_mark_away() -> None:
    contact = "https://entertainmentcommunity.test/contact"
    marked = dataclasses.replace(
        ECF,
        status="dead",
        dead_since=dt.date(2026, 10, 1),
        dead_links=(f"{contact} since 2026-10-02",),
    )
    home = finding(1, "ecf", "revived", ECF.url, role="homepage")
    link = finding(2, "ecf", "revived", contact, role="link")
    plan = plan_changes([marked], [home, link], today=TODAY)
    [entry] = plan.entries
    assert (entry.status, entry.dead_since, entry.dead_links) == (None, None, ())
    assert entry.links == (contact,) and entry.url == ECF.url  # nothing else moves
    assert [c.text for c in plan.changes] == [
        "status: dead taken away (the homepage works again)",
        f"dead_links: − {contact} (it works again)",
    ]
    assert settled(plan.entries, [home, link], today=TODAY) == [1, 2]
    assert settled([marked], [home, link], today=TODAY) == []
    # On an entry that carries no mark, accepting it changes nothing.
    assert plan_changes([ECF], [home, link], today=TODAY).changes == ()


def test_a_dead_link_that_is_no_longer_listed_changes_nothing() -> None:
    gone = finding(1, "ecf", "dead_link", "https://entertainmentcommunity.test/old", role="link")
    plan = plan_changes([ECF], [gone], today=TODAY)
    assert plan.entries == (ECF,) and plan.changes == () and plan.skipped == ()


def test_applying_is_idempotent_and_settles() -> None:
    once = plan_changes([ECF, NURSES], EVERY_KIND, today=TODAY)
    twice = plan_changes(once.entries, EVERY_KIND, today=TODAY)
    assert twice.entries == once.entries and twice.changes == ()
    assert settled(once.entries, EVERY_KIND, today=TODAY) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert settled([ECF, NURSES], EVERY_KIND, today=TODAY) == []


def test_a_later_decision_wins_and_settles_only_when_the_directory_agrees() -> None:
    removed = finding(10, "ecf", "removed_group", None, group="Finding Hope")
    added_back = finding(11, "ecf", "new_group", None, group="Finding Hope")
    plan = plan_changes([ECF], [added_back, removed], today=TODAY)
    assert plan.entries[0].groups == ("The Anxiety Toolbox", "Finding Hope")
    # The directory lists the group: both decisions together leave it as it is.
    assert settled([ECF], [removed, added_back], today=TODAY) == [10, 11]
    assert settled([ECF], [removed], today=TODAY) == []


def test_conflicts_are_skipped_with_a_reason() -> None:
    onto_another = finding(
        12, "nurses", "moved", NURSES.url, old_url=NURSES.url, new_url=ECF.url + "#x"
    )
    missing = finding(13, "nobody", "rename", None, new_name="X")
    nameless = finding(14, "ecf", "rename", None, new_name="   ")
    plan = plan_changes([ECF, NURSES], [onto_another, missing, nameless], today=TODAY)
    assert plan.entries == (ECF, NURSES)
    reasons = [s.reason for s in plan.skipped]
    assert "is already the homepage of 'ecf'" in reasons[0]
    assert reasons[1:] == [
        "organisation 'nobody' is not in the directory",
        "the finding has no usable new name",
    ]


def test_new_organisations_get_unique_valid_ids() -> None:
    taken = DirectoryEntry(id="peer-net", name="Peer Net", url="https://old-peers.test/")
    plan = plan_changes(
        [taken],
        [
            finding(1, "peer-net", "new_organisation", "https://peers.test/", name="Peer Net"),
            finding(2, "peer-net", "new_organisation", "https://xn--80a.test/", name="Сеть"),
            finding(3, "peer-net", "new_organisation", "https://old-peers.test", name="Dup"),
        ],
        today=TODAY,
    )
    assert [e.id for e in plan.entries] == ["peer-net", "peer-net-2", "xn-80a-test"]
    assert len(plan.changes) == 2  # the third is listed already


HOSTILE = [
    "Nurses <script>alert(1)</script>",
    "Line\nbreak\x1b[31m red",
    "'; DROP TABLE organisations; --",
    "$(touch /tmp/freshness-pwned) `id`",
    "- [a, b]: {c: d} # not a comment",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_scraped_values_round_trip_as_plain_text(value: str) -> None:
    plan = plan_changes(
        [ECF],
        [
            finding(1, "ecf", "rename", None, new_name=value),
            finding(2, "ecf", "new_group", None, group=value),
            finding(3, "ecf", "new_organisation", "https://peers.test/", name=value),
        ],
        today=TODAY,
    )
    assert len(plan.changes) == 3
    reloaded = load_directory("x.yaml", text=dump_directory(plan.entries))
    assert reloaded == list(plan.entries)
    assert all("\n" not in e.name and "\x1b" not in e.name for e in reloaded)


# -- the curator's own YAML file ----------------------------------------------------------------

CURATED = """\
# Our directory. Keep ids stable!
organisations:
  - id: ecf
    name: Entertainment Community Fund   # since 2023
    aliases: [The Actors Fund]
    url: https://entertainmentcommunity.test/
    groups_url: https://entertainmentcommunity.test/support-groups
    group_selector: "ul.groups > li"
    groups:
      - Finding Hope            # weekly
      - The Anxiety Toolbox
    links:
      - https://entertainmentcommunity.test/contact

  # No id: made from the name.
  - name: Nurse Circle
    url: https://nurses.test/   # unconfirmed
    profession: Nursing

  - id: vets
    name: Vet Minds
    url: https://vets.test/
# end of file
"""


def test_update_yaml_keeps_comments_order_and_layout() -> None:
    findings = [
        finding(1, "ecf", "rename", None, new_name="ECF Together"),
        finding(3, "ecf", "new_group", None, group="Night Shift Circle"),
        finding(4, "ecf", "removed_group", None, group="The Anxiety Toolbox"),
        finding(5, "vets", "new_organisation", "https://peers.test/", name="Peer Net"),
        finding(6, "nurse-circle", "rename", None, new_name="Nurses Together"),
        finding(7, "vets", "dead_link", "https://vets.test/", failing_since="2026-11-20"),
        finding(
            8,
            "ecf",
            "dead_link",
            "https://entertainmentcommunity.test/contact",
            role="link",
            failing_since="2026-11-21T03:00:00Z",
        ),
    ]
    updated, plan = update_yaml(CURATED, findings, today=TODAY, source="dir.yaml")
    assert len(plan.changes) == 7
    assert (
        updated
        == """\
# Our directory. Keep ids stable!
organisations:
  - id: ecf
    name: ECF Together                   # since 2023
    aliases: [The Actors Fund, Entertainment Community Fund]
    url: https://entertainmentcommunity.test/
    groups_url: https://entertainmentcommunity.test/support-groups
    group_selector: "ul.groups > li"
    groups:
      - Finding Hope            # weekly
      - Night Shift Circle
    links:
      - https://entertainmentcommunity.test/contact
    dead_links: [https://entertainmentcommunity.test/contact since 2026-11-21]

  # No id: made from the name.
  - id: nurse-circle
    name: Nurses Together
    aliases: [Nurse Circle]
    url: https://nurses.test/   # unconfirmed
    profession: Nursing

  - id: vets
    name: Vet Minds
    url: https://vets.test/
    status: dead
    dead_since: 2026-11-20

  - id: peer-net
    name: Peer Net
    url: https://peers.test/
# end of file
"""
    )
    assert load_directory("dir.yaml", text=updated) == list(plan.entries)
    again, second = update_yaml(updated, findings, today=TODAY, source="dir.yaml")
    assert again == updated and second.changes == ()


def test_update_yaml_edits_a_copy_of_a_shared_list() -> None:
    text = """\
organisations:
  - id: a
    name: A
    url: https://a.test/
    groups: &shared [One, Two]
  - id: b
    name: B
    url: https://b.test/
    groups: *shared
"""
    updated, _ = update_yaml(text, [finding(1, "a", "new_group", None, group="Three")], today=TODAY)
    a, b = load_directory("x.yaml", text=updated)
    assert a.groups == ("One", "Two", "Three") and b.groups == ("One", "Two")


# -- the CLI, in process, over a real store -----------------------------------------------------


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[CliRunner, str, Path]]:
    """A store with ECF and Nurses imported from a curated file, and a runner."""
    db = f"sqlite:///{tmp_path / 'freshness.db'}"
    source = tmp_path / "directory.yaml"
    source.write_text(dump_directory([ECF, NURSES]), encoding="utf-8")
    runner = CliRunner()
    ok(runner.invoke(cli, ["--db", db, "import", str(source)]))
    yield runner, db, tmp_path


def ok(result, code: int = 0):  # type: ignore[no-untyped-def]
    assert result.exit_code == code, (result.output, result.exception)
    return result


def store_findings(db: str, findings: list[Finding]) -> list[int]:
    store = Store(db)
    try:
        with store.transaction() as repo:
            return [
                repo.open_finding(
                    dataclasses.replace(f, id=None, status="open"),
                    subject=f"{f.kind}:{f.id}",
                    run_id=None,
                )[0].id
                or 0
                for f in findings
            ]
    finally:
        store.close()


def stored(db: str, finding_id: int) -> tuple[Finding, list[dict]]:
    store = Store(db)
    try:
        with store.transaction() as repo:
            return repo.finding(finding_id), repo.decisions(finding_id)
    finally:
        store.close()


def test_accept_export_import_round_trip_for_every_kind(world) -> None:  # type: ignore[no-untyped-def]
    runner, db, tmp = world
    ids = store_findings(db, EVERY_KIND)
    env = {"FRESHNESS_NOW": NOW.isoformat()}
    ok(runner.invoke(cli, ["--db", db, "accept", *map(str, ids), "--by", "alice"], env=env))

    exported = tmp / "exported.yaml"
    result = ok(runner.invoke(cli, ["--db", db, "export", str(exported)], env=env))
    assert result.stderr.count("applied: ") == 6
    expected = plan_changes([ECF, NURSES], EVERY_KIND, today=TODAY).entries
    assert load_directory(exported) == list(expected)

    ok(runner.invoke(cli, ["--db", db, "import", str(exported)], env=env))
    again = tmp / "again.yaml"
    result = ok(runner.invoke(cli, ["--db", db, "export", str(again)], env=env))
    assert "applied" not in result.stderr  # settled: the store's directory carries them all
    assert again.read_text() == exported.read_text()
    for finding_id in ids:
        record, decisions = stored(db, finding_id)
        assert record.status == "accepted" and record.details["applied_at"]
        assert [d["action"] for d in decisions] == ["accepted", "applied"]
        assert decisions[0]["by"] == "alice" and decisions[0]["at"] == NOW

    # A later hand edit is not undone by the old decisions.
    edited = dataclasses.replace(expected[0], groups=(*expected[0].groups, "The Anxiety Toolbox"))
    again.write_text(dump_directory([edited, *expected[1:]]))
    ok(runner.invoke(cli, ["--db", db, "import", str(again)], env=env))
    result = ok(runner.invoke(cli, ["--db", db, "export"], env=env))
    assert "The Anxiety Toolbox" in result.stdout and "applied" not in result.stderr


def test_apply_updates_the_file_in_place_with_a_backup(world) -> None:  # type: ignore[no-untyped-def]
    runner, db, tmp = world
    curated = tmp / "curated.yaml"
    curated.write_text(CURATED)
    ok(runner.invoke(cli, ["--db", db, "import", str(curated)]))
    ids = store_findings(
        db,
        [
            finding(1, "ecf", "rename", None, new_name="ECF Together"),
            finding(
                2, "nurses", "new_group", None, group="Night Shift Circle"
            ),  # no id in the file: kept by homepage
        ],
    )
    env = {"FRESHNESS_NOW": NOW.isoformat()}
    ok(runner.invoke(cli, ["--db", db, "accept", *map(str, ids)], env=env))
    result = ok(runner.invoke(cli, ["--db", db, "apply", str(curated)], env=env))
    backup = tmp / "curated.yaml.20261123-120000.bak"
    assert backup.read_text() == CURATED
    assert f"the previous version is in {backup}" in result.output
    assert "name: Entertainment Community Fund → ECF Together" in result.output
    text = curated.read_text()
    assert "# Our directory. Keep ids stable!" in text and "# end of file" in text
    assert "  # No id: made from the name.\n" in text and "# unconfirmed" in text
    assert text.index("id: ecf") < text.index("name: Nurse Circle") < text.index("id: vets")
    assert "groups: [Night Shift Circle]" in text

    result = ok(runner.invoke(cli, ["--db", db, "apply", str(curated)], env=env))
    assert "nothing to change" in result.output
    assert sorted(p.name for p in tmp.glob("curated.yaml*")) == ["curated.yaml", backup.name]

    csv = tmp / "dir.csv"
    csv.write_text("id,name,url\na,A,https://a.test/\n")
    result = ok(runner.invoke(cli, ["--db", db, "apply", str(csv)]), 1)
    assert result.output.startswith("error: ") and result.output.count("\n") == 1


def test_review_shows_open_findings_newest_first_and_filters(world) -> None:  # type: ignore[no-untyped-def]
    runner, db, _ = world
    hostile = dataclasses.replace(
        EVERY_KIND[0],
        summary="[bold red]pwned[/] \x1b[31mred\x1b[0m <script>x</script>",
        details={"new_name": "[link=http://evil.test]click[/link]"},
    )
    ids = store_findings(db, [hostile, EVERY_KIND[2], EVERY_KIND[1]])
    result = ok(runner.invoke(cli, ["--db", db, "review"]))
    rows = [line for line in result.output.splitlines() if line.startswith("│")]
    assert [row.split("│")[1].strip() for row in rows if row.split("│")[1].strip()] == [
        str(i) for i in sorted(ids, reverse=True)
    ]
    assert "[bold red]pwned[/]" in result.output  # shown as text, not as markup
    assert "\x1b" not in result.output
    assert "name → [link=http://evil.test]click[/link]" in result.output.replace("│\n│", "")
    only = ok(runner.invoke(cli, ["--db", db, "review", "--kind", "moved", "--org", "nurses"]))
    assert "nurses" in only.output and "new_group" not in only.output
    empty = ok(runner.invoke(cli, ["--db", db, "review", "--kind", "rename", "--org", "nurses"]))
    assert empty.output == "nothing to review: no open findings\n"


def test_decisions_are_logged_with_who_when_and_why(world) -> None:  # type: ignore[no-untyped-def]
    runner, db, _ = world
    [a, b] = store_findings(db, EVERY_KIND[:2])
    env = {"FRESHNESS_NOW": NOW.isoformat()}
    reason = "'); DROP TABLE findings; -- $(touch /tmp/freshness-pwned)"
    by = "eve`id`; rm -rf /"
    ok(runner.invoke(cli, ["--db", db, "dismiss", str(a), "--reason", reason, "--by", by], env=env))
    ok(runner.invoke(cli, ["--db", db, "accept", str(b)], env=env))
    record, [decision] = stored(db, a)
    assert record.status == "dismissed"
    assert decision == {"action": "dismissed", "by": by, "at": NOW, "reason": reason}
    assert not Path("/tmp/freshness-pwned").exists()
    _, [accepted] = stored(db, b)
    assert accepted["by"] == getpass.getuser()


def test_decisions_are_all_or_nothing(world) -> None:  # type: ignore[no-untyped-def]
    runner, db, _ = world
    [a, b] = store_findings(db, EVERY_KIND[:2])
    store = Store(db)
    with store.transaction() as repo:
        repo.resolve_finding(b, NOW, None)
    store.close()
    result = ok(runner.invoke(cli, ["--db", db, "accept", str(a), "999"]), 1)
    assert result.output == "error: no finding with id 999; `freshness findings` lists them\n"
    result = ok(runner.invoke(cli, ["--db", db, "accept", str(a), str(b)]), 1)
    assert "is resolved" in result.output and result.output.count("\n") == 1
    assert stored(db, a)[0].status == "open"
    assert ok(runner.invoke(cli, ["--db", db, "snooze", str(a)]), 2)
    assert ok(runner.invoke(cli, ["--db", db, "snooze", str(a), "--days", "0"]), 2)


def test_snoozed_findings_come_back_when_their_time_is_up(world) -> None:  # type: ignore[no-untyped-def]
    runner, db, _ = world
    [a, b] = store_findings(db, EVERY_KIND[:2])

    def at(days: float) -> dict[str, str]:
        return {"FRESHNESS_NOW": (NOW + dt.timedelta(days=days)).isoformat()}

    result = ok(runner.invoke(cli, ["--db", db, "snooze", str(a), "--days", "3"], env=at(0)))
    assert f"snoozed {a} until 2026-11-26 12:00" in result.output
    shown = ok(runner.invoke(cli, ["--db", db, "review"], env=at(2.9))).output
    assert f"│ {a} " not in shown and f"│ {b} " in shown
    shown = ok(runner.invoke(cli, ["--db", db, "review"], env=at(3))).output
    assert f"│ {a} " in shown
    record, decisions = stored(db, a)
    assert record.status == "open" and record.snoozed_until is None
    assert decisions[0]["action"] == "snoozed"


# -- end to end: real crawls of the simulated web -----------------------------------------------

HOME = (
    "<html><head><title>{org}</title></head><body><h1>{org}</h1><p>Peer support.</p></body></html>"
)
SCENARIOS = {
    "oldhome.test": {
        "pages": {"/": {"redirect": "{url:newhome.test/}"}},
        "states": {"elsewhere": {"/": {"redirect": "{url:otherhome.test/}"}}},
    },
    "newhome.test": {"vars": {"org": "Oldhome"}, "pages": {"/": HOME}},
    "otherhome.test": {"vars": {"org": "Oldhome"}, "pages": {"/": HOME}},
    "gone.test": {"pages": {"/": {"status": 404, "body": "gone"}}},
}


REVIVAL = {
    "site.test": {
        "vars": {"org": "Site"},
        "pages": {"/": HOME, "/meetings": {"status": 404, "body": "no such page"}},
        "states": {
            "back": {
                "/meetings": {
                    "body": "<html><head><title>Meetings</title></head><body><h1>Meetings"
                    "</h1><p>Peer support meetings every Tuesday evening.</p></body></html>"
                }
            }
        },
    },
}

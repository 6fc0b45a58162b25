"""The service functions the commands call: importing and exporting the directory, listing
organisations and findings, and a curator's decisions on findings.

Each test works on a real SQLite store in ``tmp_path``; findings are opened through the
repository, as a run's conclusion opens them.
"""

from __future__ import annotations

import datetime as dt
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from monitor.app.service import (
    decide_findings,
    export_directory,
    import_directory,
    list_findings,
    list_organisations,
    review_findings,
)
from monitor.directory.load import load_directory
from monitor.directory.problems import DirectoryError
from monitor.errors import FreshnessError
from storage.db import Store
from storage.records import Finding

NOW = dt.datetime(2026, 11, 23, 3, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)

DIRECTORY = """\
organisations:
  - id: nurses
    name: Nurse Circle
    aliases: [Old Nurse Circle]
    url: https://nurses.org/
    profession: Nursing
    groups_url: https://nurses.org/groups
    group_selector: ul.groups > li
    groups: [Night Shift, New Grads]
    links: [https://nurses.org/contact]
    check_every: 12h

  - id: medics
    name: Medic Peers
    url: https://medics.org/

  # No id: one is made from the name.
  - name: Lawyers Together
    url: https://lawyers.org/
    check_every: 2w
"""


@pytest.fixture(scope="module")
def empty_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty, migrated store, made once and copied for each test (migrating is the slow
    part of opening a new store)."""
    path = tmp_path_factory.mktemp("service") / "empty.db"
    Store(f"sqlite:///{path}").close()
    return path


@pytest.fixture
def store(tmp_path: Path, empty_template: Path) -> Iterator[Store]:
    shutil.copyfile(empty_template, tmp_path / "freshness.db")
    opened = Store(f"sqlite:///{tmp_path / 'freshness.db'}")
    yield opened
    opened.close()


def write(tmp_path: Path, text: str, name: str = "directory.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def imported(store: Store, tmp_path: Path) -> Store:
    import_directory(store, write(tmp_path, DIRECTORY), now=NOW - 10 * DAY)
    return store


def open_finding(
    store: Store, org_id: str, kind: str, url: str, *, seen: dt.datetime = NOW
) -> Finding:
    finding = Finding(
        org_id=org_id,
        kind=kind,
        url=url,
        summary=f"{org_id}: {kind} at {url}",
        first_seen=seen,
        last_seen=seen,
        evidence=[f"404 {url}"] if kind == "dead_link" else [],
    )
    with store.transaction() as repo:
        stored, created = repo.open_finding(finding, subject=url, run_id=None)
    assert created
    return stored


@pytest.fixture
def findings(imported: Store) -> dict[str, Finding]:
    """Three open findings, the newest last seen first."""
    return {
        "dead": open_finding(
            imported, "nurses", "dead_link", "https://nurses.org/groups", seen=NOW - 2 * DAY
        ),
        "moved": open_finding(imported, "medics", "moved", "https://medics.org/", seen=NOW - DAY),
        "contact": open_finding(imported, "nurses", "dead_link", "https://nurses.org/contact"),
    }


def statuses(store: Store) -> dict[int, str]:
    return {f.id or 0: f.status for f in list_findings(store, everything=True)}


# -- importing and listing organisations ---------------------------------------------------------


def test_import_adds_every_entry_and_makes_missing_ids(store: Store, tmp_path: Path) -> None:
    diff = import_directory(store, write(tmp_path, DIRECTORY), now=NOW)
    assert diff.added == ("nurses", "medics", "lawyers-together")
    assert (diff.changed, diff.removed, diff.unchanged) == ((), (), ())


def test_listed_organisations_are_what_was_imported(imported: Store) -> None:
    orgs = list_organisations(imported)
    assert [o.id for o in orgs] == ["nurses", "medics", "lawyers-together"]
    nurses = orgs[0]
    assert nurses.entry.name == "Nurse Circle"
    assert nurses.entry.aliases == ("Old Nurse Circle",)
    assert nurses.entry.url == "https://nurses.org/"
    assert nurses.entry.profession == "Nursing"
    assert nurses.entry.groups_url == "https://nurses.org/groups"
    assert nurses.entry.group_selector == "ul.groups > li"
    assert nurses.entry.groups == ("Night Shift", "New Grads")
    assert nurses.entry.links == ("https://nurses.org/contact",)
    assert nurses.entry.check_every == "12h"
    assert orgs[2].entry.check_every == "2w"
    for org in orgs:
        assert org.active
        assert org.last_checked_at is None
        assert org.state == "unchecked"
        assert org.open_findings == 0


def test_import_matches_what_the_loader_reads(imported: Store, tmp_path: Path) -> None:
    loaded = load_directory("d.yaml", text=DIRECTORY)
    assert [o.entry for o in list_organisations(imported)] == loaded


def test_reimporting_the_same_file_changes_nothing(imported: Store, tmp_path: Path) -> None:
    diff = import_directory(imported, write(tmp_path, DIRECTORY), now=NOW)
    assert diff.unchanged == ("nurses", "medics", "lawyers-together")
    assert (diff.added, diff.changed, diff.removed) == ((), (), ())


def test_an_entry_left_out_is_kept_inactive_and_listed(imported: Store, tmp_path: Path) -> None:
    smaller = """\
    organisations:
      - id: nurses
        name: Nurse Circle
        url: https://nurses.org/
      - id: medics
        name: Medic Peers
        url: https://medics.org/
    """
    diff = import_directory(imported, write(tmp_path, smaller), now=NOW)
    assert diff.removed == ("lawyers-together",)
    assert diff.changed == ("nurses",)  # it lost its groups page, links and interval
    assert diff.unchanged == ("medics",)
    orgs = {o.id: o for o in list_organisations(imported)}
    assert set(orgs) == {"nurses", "medics", "lawyers-together"}  # inactive ones are listed too
    assert orgs["lawyers-together"].active is False
    assert orgs["lawyers-together"].state == "inactive"
    assert orgs["nurses"].entry.groups_url is None


def test_a_renamed_entry_without_an_id_keeps_its_stored_id(imported: Store, tmp_path: Path) -> None:
    renamed = DIRECTORY.replace("name: Lawyers Together", "name: Lawyers Circle")
    diff = import_directory(imported, write(tmp_path, renamed), now=NOW)
    assert diff.changed == ("lawyers-together",)
    assert diff.added == ()
    names = {o.id: o.entry.name for o in list_organisations(imported)}
    assert names["lawyers-together"] == "Lawyers Circle"


def test_a_bad_directory_writes_nothing(imported: Store, tmp_path: Path) -> None:
    before = list_organisations(imported)
    bad = """\
    organisations:
      - id: nurses
        name: Nurse Circle
        url: https://nurses.org/
      - id: broken
        name: Broken
        url: not a web address
        check_every: sometimes
    """
    with pytest.raises(DirectoryError) as caught:
        import_directory(imported, write(tmp_path, bad), now=NOW)
    assert caught.value.problems  # every problem is listed
    assert list_organisations(imported) == before


def test_import_from_a_web_address_uses_the_fetch_given(store: Store) -> None:
    asked: list[str] = []

    def fetch(url: str) -> tuple[str, str]:
        asked.append(url)
        return url, DIRECTORY

    diff = import_directory(store, "https://lists.test/directory.yaml", now=NOW, fetch=fetch)
    assert asked == ["https://lists.test/directory.yaml"]
    assert diff.added == ("nurses", "medics", "lawyers-together")


def test_import_from_a_web_address_without_fetch_is_refused(store: Store) -> None:
    with pytest.raises(DirectoryError, match="no fetch function"):
        import_directory(store, "https://lists.test/directory.yaml", now=NOW)
    assert list_organisations(store) == []


def test_open_findings_are_counted_per_organisation(
    imported: Store, findings: dict[str, Finding]
) -> None:
    counts = {o.id: o.open_findings for o in list_organisations(imported)}
    assert counts == {"nurses": 2, "medics": 1, "lawyers-together": 0}


# -- exporting -----------------------------------------------------------------------------------


def test_export_round_trips_what_was_imported(imported: Store, tmp_path: Path) -> None:
    text = export_directory(imported)
    assert load_directory("export.yaml", text=text) == [
        o.entry for o in list_organisations(imported)
    ]
    # Every id is written out, the made-up one too.
    ids = [entry["id"] for entry in yaml.safe_load(text)["organisations"]]
    assert ids == ["nurses", "medics", "lawyers-together"]


def test_importing_the_export_changes_nothing(imported: Store, tmp_path: Path) -> None:
    exported = write(tmp_path, export_directory(imported), name="exported.yaml")
    diff = import_directory(imported, exported, now=NOW)
    assert diff.unchanged == ("nurses", "medics", "lawyers-together")
    assert (diff.added, diff.changed, diff.removed) == ((), (), ())


def test_export_leaves_inactive_organisations_out(imported: Store, tmp_path: Path) -> None:
    only_medics = """\
    organisations:
      - id: medics
        name: Medic Peers
        url: https://medics.org/
    """
    import_directory(imported, write(tmp_path, only_medics), now=NOW)
    entries = yaml.safe_load(export_directory(imported))["organisations"]
    assert entries == [{"id": "medics", "name": "Medic Peers", "url": "https://medics.org/"}]


def test_an_empty_store_exports_an_empty_directory(store: Store) -> None:
    text = export_directory(store)
    assert yaml.safe_load(text) == {"organisations": []}
    assert load_directory("export.yaml", text=text) == []


# -- listing findings ----------------------------------------------------------------------------


def test_list_findings_gives_the_open_ones_newest_first(
    imported: Store, findings: dict[str, Finding]
) -> None:
    listed = list_findings(imported)
    assert [f.id for f in listed] == [
        findings["contact"].id,
        findings["moved"].id,
        findings["dead"].id,
    ]
    assert all(f.status == "open" for f in listed)
    assert listed[0].url == "https://nurses.org/contact"
    assert listed[0].evidence == ["404 https://nurses.org/contact"]


def test_list_findings_by_kind_and_organisation(
    imported: Store, findings: dict[str, Finding]
) -> None:
    assert [f.id for f in list_findings(imported, kind="moved")] == [findings["moved"].id]
    assert {f.id for f in list_findings(imported, org_id="nurses")} == {
        findings["dead"].id,
        findings["contact"].id,
    }
    assert [f.id for f in list_findings(imported, kind="dead_link", org_id="medics")] == []


def test_list_findings_of_an_empty_store_is_empty(store: Store) -> None:
    assert list_findings(store) == []
    assert list_findings(store, everything=True) == []


def test_decided_findings_are_listed_only_with_everything(
    imported: Store, findings: dict[str, Finding]
) -> None:
    decide_findings(imported, [findings["moved"].id or 0], "dismissed", by="ana", now=NOW)
    assert findings["moved"].id not in {f.id for f in list_findings(imported)}
    everything = {f.id: f.status for f in list_findings(imported, everything=True)}
    assert everything[findings["moved"].id] == "dismissed"
    assert len(everything) == 3


# -- decisions -----------------------------------------------------------------------------------


def test_accept_records_the_decision(imported: Store, findings: dict[str, Finding]) -> None:
    finding_id = findings["dead"].id or 0
    decided = decide_findings(imported, [finding_id], "accepted", by="ana", now=NOW)
    assert [(f.id, f.status) for f in decided] == [(finding_id, "accepted")]
    assert decided[0].snoozed_until is None
    with imported.transaction() as repo:
        assert repo.decisions(finding_id) == [
            {"action": "accepted", "by": "ana", "at": NOW, "reason": None}
        ]
    # The others are left as they were.
    assert statuses(imported)[findings["moved"].id or 0] == "open"


def test_dismiss_keeps_the_reason(imported: Store, findings: dict[str, Finding]) -> None:
    finding_id = findings["moved"].id or 0
    decided = decide_findings(
        imported, [finding_id], "dismissed", by="ben", now=NOW, reason="the old site redirects"
    )
    assert decided[0].status == "dismissed"
    with imported.transaction() as repo:
        assert repo.decisions(finding_id) == [
            {"action": "dismissed", "by": "ben", "at": NOW, "reason": "the old site redirects"}
        ]


def test_decide_several_at_once_and_repeats_count_once(
    imported: Store, findings: dict[str, Finding]
) -> None:
    a, b = findings["dead"].id or 0, findings["contact"].id or 0
    decided = decide_findings(imported, [a, b, a], "accepted", by="ana", now=NOW)
    assert [f.id for f in decided] == [a, b]
    with imported.transaction() as repo:
        assert len(repo.decisions(a)) == 1


def test_snooze_hides_a_finding_for_that_many_days(
    imported: Store, findings: dict[str, Finding]
) -> None:
    finding_id = findings["dead"].id or 0
    decided = decide_findings(imported, [finding_id], "snoozed", by="ana", now=NOW, days=3)
    assert decided[0].status == "snoozed"
    assert decided[0].snoozed_until == NOW + 3 * DAY
    assert finding_id not in {f.id for f in list_findings(imported)}
    # Still snoozed the day before; open again (for review) once the days are up.
    assert finding_id not in {f.id for f in review_findings(imported, now=NOW + 2 * DAY)}
    woken = {f.id: f for f in review_findings(imported, now=NOW + 3 * DAY)}
    assert woken[finding_id].status == "open"
    assert woken[finding_id].snoozed_until is None


@pytest.mark.parametrize("days", [None, 0, -2])
def test_snooze_without_days_is_refused_and_changes_nothing(
    imported: Store, findings: dict[str, Finding], days: int | None
) -> None:
    before = statuses(imported)
    with pytest.raises(FreshnessError, match="snooze needs --days N"):
        decide_findings(
            imported, [findings["dead"].id or 0], "snoozed", by="ana", now=NOW, days=days
        )
    assert statuses(imported) == before
    with imported.transaction() as repo:
        assert repo.decisions(findings["dead"].id or 0) == []


def test_an_unknown_decision_is_a_value_error(
    imported: Store, findings: dict[str, Finding]
) -> None:
    with pytest.raises(ValueError, match="not 'resolved'"):
        decide_findings(imported, [findings["dead"].id or 0], "resolved", by="ana", now=NOW)
    assert statuses(imported)[findings["dead"].id or 0] == "open"


def test_a_resolved_finding_cannot_be_decided_and_nothing_changes(
    imported: Store, findings: dict[str, Finding]
) -> None:
    resolved = findings["contact"].id or 0
    with imported.transaction() as repo:
        repo.resolve_finding(resolved, NOW, None)
    before = statuses(imported)
    with pytest.raises(FreshnessError, match=f"finding {resolved} is resolved"):
        decide_findings(
            imported, [findings["dead"].id or 0, resolved], "accepted", by="ana", now=NOW
        )
    assert statuses(imported) == before  # all or nothing: the first one was not accepted


def test_an_unknown_finding_id_changes_nothing(
    imported: Store, findings: dict[str, Finding]
) -> None:
    before = statuses(imported)
    with pytest.raises(LookupError, match="no finding with id 999"):
        decide_findings(imported, [findings["dead"].id or 0, 999], "dismissed", by="a", now=NOW)
    assert statuses(imported) == before


def test_a_decision_can_be_changed(imported: Store, findings: dict[str, Finding]) -> None:
    finding_id = findings["moved"].id or 0
    decide_findings(imported, [finding_id], "snoozed", by="ana", now=NOW, days=7)
    decided = decide_findings(imported, [finding_id], "accepted", by="ben", now=NOW + DAY)
    assert decided[0].status == "accepted"
    assert decided[0].snoozed_until is None
    with imported.transaction() as repo:
        assert [(d["action"], d["by"]) for d in repo.decisions(finding_id)] == [
            ("snoozed", "ana"),
            ("accepted", "ben"),
        ]

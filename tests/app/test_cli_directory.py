"""The directory through the real CLI: import (file, CSV, a page's URL), re-import, orgs,
export round trip, and all-or-nothing on errors."""

from __future__ import annotations

import datetime as dt
import json

import yaml

from monitor.simweb import SimWeb
from storage.db import Store
from storage.records import Observation

GOOD = {
    "organisations": [
        {
            "id": "nursegroups",
            "name": "NurseGroups",
            "url": "https://nursegroups.example/",
            "groups": ["Night Shift Circle"],
        },
        {
            "name": "Physicians Anonymous",
            "url": "https://physicians.example/",
            "aliases": ["PA"],
            "check_every": "12h",
        },
    ]
}


def write(tmp_path, name: str, data: dict) -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


def test_import_reimport_orgs_and_export_round_trip(freshness, tmp_path) -> None:
    first = freshness("import", write(tmp_path, "d.yaml", GOOD), check=True)
    assert "added    nursegroups" in first.stdout
    assert "added    physicians-anonymous" in first.stdout
    assert "2 added, 0 changed, 0 removed" in first.stdout

    changed = {
        "organisations": [
            {**GOOD["organisations"][0], "groups": ["Night Shift Circle", "Grief Circle"]},
            {"name": "Journalist Trauma Support Network", "url": "https://jtsn.example/"},
        ]
    }
    second = freshness("import", write(tmp_path, "d2.yaml", changed), check=True)
    assert "changed  nursegroups" in second.stdout
    assert "added    journalist-trauma-support-network" in second.stdout
    assert "removed  physicians-anonymous" in second.stdout

    orgs = freshness("orgs", check=True).stdout
    assert "nursegroups" in orgs and "never" in orgs and "inactive" in orgs

    exported = freshness("export", check=True).stdout
    again = tmp_path / "again.yaml"
    again.write_text(exported)
    third = freshness("import", str(again), check=True)
    assert "0 added, 0 changed, 0 removed" in third.stdout
    entries = {e["id"]: e for e in yaml.safe_load(exported)["organisations"]}
    assert entries["nursegroups"]["groups"] == ["Night Shift Circle", "Grief Circle"]


def test_one_bad_entry_imports_nothing_and_names_file_line_field(freshness, tmp_path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "organisations:\n"
        "  - name: Good One\n"
        "    url: https://good.example/\n"
        "  - name: Bad One\n"
        "    url: ftp://bad.example/\n"
        "    colour: blue\n"
    )
    result = freshness("import", str(path))
    assert result.returncode == 1
    assert "bad.yaml:5: field 'url'" in result.stderr
    assert "bad.yaml:6" in result.stderr and "colour" in result.stderr
    assert "Traceback" not in result.stderr
    assert json.loads(freshness("findings", "--format", "json", check=True).stdout) == []
    assert "good-one" not in freshness("orgs", check=True).stdout


def test_import_a_published_directory_page_by_url(freshness, tmp_path) -> None:
    page = (
        "<html><body><nav><a href='https://twitter.com/x'>Twitter</a></nav><main>"
        "<h2>Nursing</h2><ul><li><a href='http://nurses.test/'>Nurse Peer Network</a></li></ul>"
        "<h2>Law</h2><ul><li><a href='http://lawyers.test/'>Lawyers Support Circle</a></li></ul>"
        "</main><footer><a href='http://footer.test/'>Site by Acme</a></footer></body></html>"
    )
    with SimWeb({"directory.test": {"pages": {"/peer-support.html": page}}}) as web:
        result = freshness(
            "import",
            "http://directory.test/peer-support.html",
            env={"http_proxy": web.proxy_url},
            check=True,
        )
    assert "added    nurse-peer-network" in result.stdout
    assert "added    lawyers-support-circle" in result.stdout
    assert "2 added" in result.stdout  # not the nav's Twitter nor the footer's credit


def record_observation(tmp_path, org_id: str) -> None:
    """An observation of the org's homepage, in the database the CLI uses in tmp_path."""
    store = Store(f"sqlite:///{tmp_path / 'freshness.db'}")
    try:
        with store.transaction() as repo:
            link = repo.link_states([org_id])[0]
            fetched = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
            repo.record_observations(
                [Observation(org_id=org_id, url=link.url, fetched_at=fetched, link_id=link.id)]
            )
    finally:
        store.close()


def observation_count(tmp_path, org_id: str) -> int:
    store = Store(f"sqlite:///{tmp_path / 'freshness.db'}")
    try:
        with store.transaction() as repo:
            return len(repo.observations(org_id=org_id))
    finally:
        store.close()


def test_rename_in_a_file_without_ids_is_a_change_that_keeps_history(freshness, tmp_path) -> None:
    freshness("import", write(tmp_path, "d.yaml", GOOD), check=True)
    record_observation(tmp_path, "physicians-anonymous")

    renamed = {
        "organisations": [
            GOOD["organisations"][0],
            {**GOOD["organisations"][1], "name": "Physicians Peer Support"},
        ]
    }
    result = freshness("import", write(tmp_path, "d.yaml", renamed), check=True)

    assert result.stdout.splitlines() == [
        "changed  physicians-anonymous",
        "0 added, 1 changed, 0 removed (marked inactive), 1 unchanged",
    ]
    assert observation_count(tmp_path, "physicians-anonymous") == 1
    exported = yaml.safe_load(freshness("export", check=True).stdout)["organisations"]
    assert exported[1]["id"] == "physicians-anonymous"
    assert exported[1]["name"] == "Physicians Peer Support"


def test_made_id_colliding_with_a_kept_one_imports_nothing(freshness, tmp_path) -> None:
    freshness("import", write(tmp_path, "d.yaml", GOOD), check=True)
    # The old name goes to a new organisation while the listed one is renamed.
    clash = {
        "organisations": [
            GOOD["organisations"][0],
            {**GOOD["organisations"][1], "name": "Physicians Peer Support"},
            {"name": "Physicians Anonymous", "url": "https://pa-new.example/"},
        ]
    }
    path = write(tmp_path, "clash.yaml", clash)
    line = next(
        n
        for n, text in enumerate((tmp_path / "clash.yaml").read_text().splitlines(), 1)
        if text.endswith("name: Physicians Anonymous")
    )
    result = freshness("import", path)

    assert result.returncode == 1
    assert f"clash.yaml:{line}: field 'id': duplicate id 'physicians-anonymous'" in result.stderr
    assert "give this entry an explicit id" in result.stderr
    assert "Traceback" not in result.stderr
    orgs = freshness("orgs", check=True).stdout
    assert "Physicians Anonymous" in orgs and "Physicians Peer Support" not in orgs


def test_explicit_id_wins_over_a_homepage_match_through_the_cli(freshness, tmp_path) -> None:
    freshness("import", write(tmp_path, "d.yaml", GOOD), check=True)
    record_observation(tmp_path, "physicians-anonymous")
    # Physicians Anonymous moved, and is listed by id; a newcomer took its old homepage.
    moved = {
        "organisations": [
            GOOD["organisations"][0],
            {
                "id": "physicians-anonymous",
                "name": "Physicians Anonymous",
                "url": "https://pa-moved.example/",
            },
            {"name": "Doctors Circle", "url": "https://physicians.example/"},
        ]
    }
    result = freshness("import", write(tmp_path, "d.yaml", moved), check=True)

    assert "added    doctors-circle" in result.stdout
    assert "changed  physicians-anonymous" in result.stdout
    assert "1 added, 1 changed, 0 removed" in result.stdout
    assert observation_count(tmp_path, "physicians-anonymous") == 1
    assert observation_count(tmp_path, "doctors-circle") == 0

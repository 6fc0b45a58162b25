"""The directory through the real CLI: import (file, CSV, a page's URL), re-import, orgs,
export round trip, and all-or-nothing on errors."""

from __future__ import annotations

import json

import yaml

from monitor.simweb import SimWeb

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

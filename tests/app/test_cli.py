"""The command line, run as a user would: help, errors, and the findings JSON contract."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.app.cli import cli
from storage.db import Store
from storage.records import DirectoryEntry, Finding

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def all_commands() -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = [()]

    def walk(group, prefix):  # type: ignore[no-untyped-def]
        for name, command in group.commands.items():
            out.append((*prefix, name))
            if hasattr(command, "commands"):
                walk(command, (*prefix, name))

    walk(cli, ())
    return out


@pytest.mark.parametrize("path", all_commands(), ids=lambda p: " ".join(p) or "freshness")
def test_every_command_has_help_with_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output
    assert "freshness" in result.output.split("Example:", 1)[1]


def test_every_command_is_in_the_readme() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for path in all_commands()[1:]:
        assert f"freshness {' '.join(path)}" in readme, path


def test_unknown_org_is_one_clear_line(tmp_path) -> None:
    db = f"sqlite:///{tmp_path}/f.db"
    result = CliRunner().invoke(cli, ["--db", db, "check", "nobody"])
    assert result.exit_code == 1
    assert result.output.strip() == (
        "error: no organisation with id 'nobody'; `freshness orgs` lists them"
    )


def test_run_on_an_empty_directory_says_what_to_do(freshness, tmp_path) -> None:
    result = freshness("run")
    assert result.returncode == 1
    assert "freshness import directory.yaml" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_setting_override_is_a_usage_error(freshness) -> None:
    result = freshness("run", "-s", "NOEQUALS")
    assert result.returncode == 2
    assert "NAME=VALUE" in result.stderr


def test_bad_config_file_is_named(freshness, tmp_path) -> None:
    (tmp_path / "freshness.toml").write_text("this is = = not toml")
    result = freshness("orgs")
    assert result.returncode == 2
    assert "freshness.toml is not valid TOML" in result.stderr


FINDING_KINDS = {
    "dead_link": {"reason": "http_404"},
    "moved": {"new_url": "https://b.test/", "old_url": "http://a.test/"},
    "rename": {"new_name": "New Name", "old_name": "Old Name"},
    "new_group": {"group": "The Anxiety Toolbox"},
    "removed_group": {"group": "Old Group"},
    "new_organisation": {
        "name": "Peer Net",
        "domain": "peernet.test",
        "linked_from": ["http://a.test/links", "http://a.test/partners"],
    },
    "unverifiable": {"reason": "blocked"},
}
PER_KIND_KEY = {
    "dead_link": "reason",
    "moved": "new_url",
    "rename": "new_name",
    "new_group": "group",
    "removed_group": "group",
}


def test_findings_json_contract(freshness, tmp_path) -> None:
    db = f"sqlite:///{tmp_path}/f.db"
    store = Store(db)
    with store.transaction() as repo:
        repo.sync_directory([DirectoryEntry(id="a", name="A", url="http://a.test/")], NOW)
        for kind, details in FINDING_KINDS.items():
            repo.open_finding(
                Finding(
                    org_id="a",
                    kind=kind,
                    url="http://a.test/",
                    summary=f"a {kind}",
                    first_seen=NOW,
                    last_seen=NOW,
                    confidence=0.8,
                    evidence=["301 http://a.test/ → 200 https://b.test/"],
                    details=details,
                ),
                subject=kind,
                run_id=None,
            )
    store.close()
    result = freshness("--db", db, "findings", "--format", "json", check=True)
    data = json.loads(result.stdout)
    assert isinstance(data, list) and len(data) == len(FINDING_KINDS)
    types = {
        "id": int,
        "org": str,
        "kind": str,
        "url": str,
        "status": str,
        "first_seen": str,
        "last_seen": str,
        "confidence": float,
        "summary": str,
        "evidence": list,
    }
    for item in data:
        for key, expected in types.items():
            assert isinstance(item[key], expected), (key, item)
        assert 0 <= item["confidence"] <= 1
        assert dt.datetime.fromisoformat(item["first_seen"].replace("Z", "+00:00")) == NOW
        assert all(isinstance(e, str) for e in item["evidence"])
        if item["kind"] in PER_KIND_KEY:
            assert isinstance(item[PER_KIND_KEY[item["kind"]]], str)
        if item["kind"] == "new_organisation":
            assert item["name"] == "Peer Net"
            assert item["domain"] == "peernet.test"
            assert item["linked_from"] == ["http://a.test/links", "http://a.test/partners"]
        else:  # the candidate's keys belong to its kind alone
            assert "domain" not in item and "linked_from" not in item
    only = json.loads(
        freshness("--db", db, "findings", "--format", "json", "--kind", "rename", check=True).stdout
    )
    assert [f["new_name"] for f in only] == ["New Name"]


def _store_with_findings(db: str) -> dict[str, int]:
    """Two organisations with one open finding each; returns their ids by organisation."""
    store = Store(db)
    ids = {}
    with store.transaction() as repo:
        repo.sync_directory(
            [
                DirectoryEntry(id="a", name="A", url="http://a.test/"),
                DirectoryEntry(id="b", name="B", url="http://b.test/"),
            ],
            NOW,
        )
        for org_id, kind, details in (
            ("a", "dead_link", {"reason": "http_404"}),
            ("b", "rename", {"new_name": "Bee", "old_name": "B"}),
        ):
            stored, _ = repo.open_finding(
                Finding(
                    org_id=org_id,
                    kind=kind,
                    url=f"http://{org_id}.test/",
                    summary=f"{org_id}: a {kind}",
                    first_seen=NOW,
                    last_seen=NOW,
                    details=details,
                ),
                subject=kind,
                run_id=None,
            )
            ids[org_id] = stored.id
    store.close()
    return ids


def table_rows(output: str) -> list[list[str]]:
    """A Rich table's header then body rows, as lists of stripped cells."""
    return [
        [cell.strip() for cell in re.split("[│┃]", line.strip())[1:-1]]
        for line in output.splitlines()
        if line.startswith(("│", "┃"))
    ]


def test_findings_filter_by_org_in_json_and_table(freshness, tmp_path) -> None:
    db = f"sqlite:///{tmp_path}/f.db"
    ids = _store_with_findings(db)
    every = json.loads(freshness("--db", db, "findings", "--format", "json", check=True).stdout)
    assert {f["org"] for f in every} == {"a", "b"}

    only_b = freshness("--db", db, "findings", "--org", "b", "--format", "json", check=True)
    assert [(f["id"], f["org"], f["kind"]) for f in json.loads(only_b.stdout)] == [
        (ids["b"], "b", "rename")
    ]

    table = freshness("--db", db, "findings", "--org", "a", "--format", "table", check=True)
    header, *rows = table_rows(table.stdout)
    assert header[:3] == ["id", "org", "kind"]
    assert [row[:4] for row in rows] == [[str(ids["a"]), "a", "dead_link", "open"]]
    assert "rename" not in table.stdout  # b's finding is filtered out

    nobody = freshness("--db", db, "findings", "--org", "nobody", "--format", "json", check=True)
    assert json.loads(nobody.stdout) == []


def test_db_upgrade_brings_an_empty_file_to_head(freshness, tmp_path) -> None:
    path = tmp_path / "empty.db"
    path.touch()  # an empty file is a valid, empty SQLite database
    result = freshness("--db", str(path), "db", "upgrade", check=True)
    store = Store(f"sqlite:///{path}", upgrade=False)  # look, do not migrate
    try:
        head = store.head_revision()
        assert head is not None
        assert store.current_revision() == head
        with store.transaction() as repo:
            assert repo.organisations() == [] and repo.runs() == []  # the tables exist
    finally:
        store.close()
    assert result.stdout.strip() == f"sqlite:///{path} is at revision {head}"
    again = freshness("--db", str(path), "db", "upgrade", check=True)
    assert again.stdout == result.stdout  # already at head: nothing to do, same answer


def _import_one(freshness, tmp_path, org_id: str, *args: str, env=None) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / f"{org_id}.yaml"
    source.write_text(f"organisations:\n  - id: {org_id}\n    name: X\n    url: http://x.test/\n")
    freshness(*args, "import", str(source), env=env, check=True)


def _org_ids(path: Path) -> list[str]:
    store = Store(f"sqlite:///{path}", upgrade=False)
    try:
        with store.transaction() as repo:
            return [o.id for o in repo.organisations()]
    finally:
        store.close()


def test_explicit_config_file_and_freshness_db_are_honoured(freshness, tmp_path) -> None:
    elsewhere = tmp_path / "etc"
    elsewhere.mkdir()
    config = elsewhere / "monitor.toml"  # not ./freshness.toml: only --config can find it
    from_config = tmp_path / "from-config.db"
    config.write_text(f'db = "sqlite:///{from_config}"\n')

    _import_one(freshness, tmp_path, "one", "--config", str(config))
    assert _org_ids(from_config) == ["one"]
    assert not (tmp_path / "freshness.db").exists()  # the default was not used

    # FRESHNESS_DB outranks the config file's db, and --db outranks both. run_freshness drops
    # the caller's FRESHNESS_* variables, so the one under test is passed explicitly.
    from_env = tmp_path / "from-env.db"
    env = {"FRESHNESS_DB": f"sqlite:///{from_env}"}
    _import_one(freshness, tmp_path, "two", "--config", str(config), env=env)
    assert _org_ids(from_env) == ["two"]
    from_flag = tmp_path / "from-flag.db"
    _import_one(
        freshness, tmp_path, "three", "--db", str(from_flag), "--config", str(config), env=env
    )
    assert _org_ids(from_flag) == ["three"]
    assert _org_ids(from_config) == ["one"] and _org_ids(from_env) == ["two"]  # untouched

    missing = freshness("--config", str(elsewhere / "nope.toml"), "orgs")
    assert missing.returncode == 2 and "nope.toml does not exist" in missing.stderr

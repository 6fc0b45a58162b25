"""The command line, run as a user would: help, errors, and the findings JSON contract."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from monitor.cli import cli
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

    readme = (Path(__file__).parent.parent / "README.md").read_text()
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
    "new_organisation": {"name": "Peer Net", "linked_from": ["http://a.test/links"]},
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
    only = json.loads(
        freshness("--db", db, "findings", "--format", "json", "--kind", "rename", check=True).stdout
    )
    assert [f["new_name"] for f in only] == ["New Name"]

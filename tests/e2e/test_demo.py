"""`freshness demo`: every finding kind, from nothing, within a minute, with no network."""

from __future__ import annotations

import json
import time

import pytest

pytestmark = pytest.mark.e2e


def test_demo_shows_every_finding_kind_within_a_minute(freshness, tmp_path) -> None:
    started = time.monotonic()
    result = freshness("demo", "--workdir", str(tmp_path / "demo"), timeout=120)
    took = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-3000:]
    assert took < 60
    out = result.stdout
    for heading in (
        "Dead link",
        "Moved",
        "Renamed",
        "New group",
        "Group removed",
        "New organisation candidate",
        "Unverifiable",
    ):
        assert heading in out, heading
    assert "The 'before' pass" in out and "The 'after' pass" in out
    assert "Entertainment Community Fund" in out
    # The healthy organisation raised nothing: no false alarm in the demo either.
    assert "lawyers-depression-project" not in out.split("digest a curator would receive")[1]


def test_demo_digest_as_json_holds_one_of_each_kind(freshness, tmp_path) -> None:
    result = freshness("demo", "--format", "json", "--workdir", str(tmp_path), timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    text = result.stdout.split("digest a curator would receive ==", 1)[1].lstrip()
    digest, _ = json.JSONDecoder().raw_decode(text)
    kinds = {f["kind"] for org in digest["organisations"] for f in org["findings"]}
    assert kinds == {
        "dead_link",
        "moved",
        "rename",
        "new_group",
        "removed_group",
        "new_organisation",
        "unverifiable",
    }

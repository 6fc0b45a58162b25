"""Digests after real runs, through the real CLI, to real receivers on loopback.

`freshness run` crawls the simulated web and mails the digest to an aiosmtpd server, or posts
it to a json:// webhook; a failing target keeps its digest in the outbox until
`freshness notify --retry` delivers it, once. Passwords in target URLs never show.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.app.cli import cli
from monitor.simweb import SimWeb
from storage.db import Store
from storage.records import DirectoryEntry, Finding
from tests.conftest import run_freshness, run_freshness_here
from tests.crawling import Monitor
from tests.receivers import SECRET, Receiver

HOME = (
    "<html><head><title>{org}</title></head><body><h1>{org}</h1><p>Peer support.</p></body></html>"
)
SCENARIOS = {
    "oldhome.test": {"pages": {"/": {"redirect": "{url:newhome.test/}"}}},
    "newhome.test": {"vars": {"org": "Oldhome"}, "pages": {"/": HOME}},
    "steady.test": {"vars": {"org": "Steady"}, "pages": {"/": HOME}},
}
DAY = dt.timedelta(days=1)


def monitor_for(web: SimWeb, tmp_path: Path, env: dict[str, str] | None = None) -> Monitor:
    def freshness(*args: str, **kw):  # type: ignore[no-untyped-def]
        return run_freshness(tmp_path, *args, env={**(env or {}), **kw.pop("env", {})}, **kw)

    monitor = Monitor(web, freshness, tmp_path)
    monitor.load([("oldhome", "oldhome.test", None), ("steady", "steady.test", None)])
    return monitor


def _outbox(db: str) -> list[tuple[int, str, str, int]]:
    """(run, masked target path, status, attempts) of every outbox entry, oldest first."""
    store = Store(db)
    try:
        with store.transaction() as repo:
            return [
                (e.run_id, e.target.split("?")[0].rsplit("/", 1)[-1], e.status, e.attempts)
                for e in repo.outbox()
            ]
    finally:
        store.close()


def test_notify_test_sends_the_sample_to_every_target(receiver: Receiver, tmp_path: Path) -> None:
    (tmp_path / "freshness.toml").write_text(
        "notify = [\n"
        f'  "{receiver.url("all", user="freshness")}",\n'
        f'  "people={receiver.url("people")}",\n'
        f'  "dead_link={receiver.url("broken")}",\n'
        "]\n"
        "[routes]\n"
        'people = ["rename", "new_organisation"]\n'
    )
    receiver.failing.add("broken")
    result = run_freshness_here(tmp_path, "notify", "--test")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["sent", "sent", "FAILED"]
    assert lines[0].split()[1].startswith("json://freshness:****@127.0.0.1")
    assert SECRET not in result.stdout + result.stderr
    [everything] = receiver.bodies("all")
    [people] = receiver.bodies("people")
    assert everything["title"].startswith("freshness: 1 dead link, 1 move, 1 rename")
    assert people["title"] == "freshness: 1 rename, 1 new organisation candidate"

    listing = run_freshness_here(tmp_path, "notify", check=True)
    assert "new_organisation, rename" in listing.stdout and "everything" in listing.stdout
    assert "the outbox is empty" in listing.stdout


def test_bad_targets_are_one_line_without_the_secret(tmp_path: Path) -> None:
    result = run_freshness_here(
        tmp_path, "notify", "--test", "--notify", f"curator=json://u:{SECRET}@127.0.0.1:9/x"
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: unknown tag 'curator'")
    assert result.stderr.count("\n") == 1 and SECRET not in result.stderr
    none = run_freshness_here(tmp_path, "notify", "--retry")
    assert none.returncode == 1 and "--notify URL" in none.stderr


# -- freshness digest: render without sending -----------------------------------------------------

NOW = dt.datetime(2026, 11, 23, 3, 0, tzinfo=dt.UTC)


@pytest.fixture
def two_runs(tmp_path: Path) -> str:
    db = f"sqlite:///{tmp_path / 'freshness.db'}"
    store = Store(db)
    with store.transaction() as repo:
        repo.sync_directory(
            [DirectoryEntry(id="nurses", name="Nurse Circle", url="https://n.test/")], NOW
        )
        for day, (kind, url) in enumerate(
            [("dead_link", "https://n.test/a"), ("unverifiable", "https://n.test/b")]
        ):
            at = NOW + day * DAY
            run_id = repo.start_run(at)
            stored, _ = repo.open_finding(
                Finding(
                    org_id="nurses",
                    kind=kind,
                    url=url,
                    summary=f"Nurse Circle: {url} <b>is</b> {kind}",
                    first_seen=at,
                    last_seen=at,
                    details={"reason": "http_404" if kind == "dead_link" else "blocked"},
                ),
                subject=url,
                run_id=run_id,
            )
            summary = {"run_id": run_id, "opened": [stored.id], "resolved": []}
            repo.finish_run(run_id, at, "completed", summary)
    store.close()
    return db


def test_digest_renders_the_latest_run_by_default(two_runs: str, tmp_path: Path) -> None:
    runner = CliRunner()
    text = runner.invoke(cli, ["--db", two_runs, "digest"])
    assert text.exit_code == 0, text.output
    assert text.output.startswith("1 unverifiable link\nRun 2 at 2026-11-24 03:00 UTC\n")
    first = runner.invoke(cli, ["--db", two_runs, "digest", "--run", "1", "--format", "json"])
    payload = json.loads(first.output)
    assert payload["run_id"] == 1 and payload["counts"] == {"dead_link": 1}
    markdown = runner.invoke(
        cli, ["--db", two_runs, "digest", "--run", "1", "--format", "markdown"]
    )
    assert markdown.output.startswith("**1 dead link**")
    out = tmp_path / "digest.html"
    since = runner.invoke(
        cli,
        ["--db", two_runs, "digest", "--since", "2026-11-01", "--format", "html", "-o", str(out)],
        env={"FRESHNESS_NOW": "2026-11-25T00:00:00Z"},
    )
    assert since.exit_code == 0 and since.stdout == ""
    html = out.read_text()
    assert "1 dead link, 1 unverifiable link" in html
    assert "&lt;b&gt;is&lt;/b&gt;" in html and "<b>is</b>" not in html


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--run", "7"], 1, "error: no run with id 7"),
        (["--run", "1", "--since", "2026-11-01"], 2, "give --run or --since, not both"),
        (["--since", "last tuesday"], 1, "error: not an ISO timestamp"),
    ],
)
def test_digest_errors_are_one_line(
    two_runs: str, args: list[str], code: int, message: str
) -> None:
    result = CliRunner().invoke(cli, ["--db", two_runs, "digest", *args])
    assert result.exit_code == code
    assert message in result.output


def test_digest_without_runs_says_what_to_do(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{tmp_path}/f.db", "digest"])
    assert result.exit_code == 1
    assert result.output == "error: no completed run yet; `freshness run` makes one\n"

"""Digests after real runs: mailed over SMTP, a failing webhook retried, a kept digest delivered
once (the notify command's unit tests are in ``tests/app/test_notify_cli.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.simweb import SimWeb
from tests.app.test_notify_cli import DAY, SCENARIOS, _outbox, monitor_for
from tests.crawling import T0
from tests.receivers import SECRET, Mailbox, Receiver, smtp_server


@pytest.fixture(scope="module")
def web() -> Iterator[SimWeb]:
    with SimWeb(SCENARIOS) as web:
        yield web
        assert web.errors == []


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as mailbox:
        yield mailbox


@pytest.mark.e2e
def test_a_real_run_mails_the_digest(web: SimWeb, mailbox: Mailbox, tmp_path: Path) -> None:
    monitor = monitor_for(web, tmp_path)
    first = monitor.run(T0, "--notify", mailbox.url())
    [move] = [f for f in monitor.findings() if f["kind"] == "moved"]

    [message] = mailbox.messages
    assert message["Subject"].startswith("freshness: ") and "1 move" in message["Subject"]
    assert message["To"] == "curators@example.org"
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert html.startswith("<!DOCTYPE html>") and "Content-Security-Policy" in html
    for part in (html, text):
        assert "Oldhome" in part
        assert web.url("newhome.test", "/") in part
        assert f"freshness accept {move['id']}" in part
        assert "Run 1 at 2026-11-01 03:00 UTC" in part
    assert "<div" not in text
    assert "notified: digest of run 1 to mailto://" in first.stdout
    assert SECRET not in first.stdout + first.stderr

    second = monitor.run(T0 + DAY, "--notify", mailbox.url())  # nothing new: nothing sent
    assert len(mailbox.messages) == 1
    assert "notified" not in second.stdout


@pytest.mark.e2e
def test_a_failing_webhook_gets_the_digest_once_on_retry(
    web: SimWeb, receiver: Receiver, tmp_path: Path
) -> None:
    good = receiver.url("good", user="freshness")
    flaky = receiver.url("flaky", user="ops")
    env = {"FRESHNESS_NOTIFY": f"{good}\n  {flaky}"}
    monitor = monitor_for(web, tmp_path, env)
    receiver.failing.add("flaky")

    first = monitor.freshness("-v", "--db", monitor.db, "run", *monitor.settings(T0), check=True)
    assert first.returncode == 0
    assert "warning: digest of run 1 to json://ops:****@127.0.0.1" in first.stderr
    assert "kept in the outbox" in first.stderr
    assert SECRET not in first.stdout + first.stderr
    [payload] = receiver.bodies("good")
    assert "1 move" in payload["title"]
    assert receiver.bodies("flaky") == []

    status = monitor.freshness("--db", monitor.db, "notify", check=True)
    assert "json://ops:****@127.0.0.1" in status.stdout and "failed" in status.stdout
    assert SECRET not in status.stdout + status.stderr

    still = monitor.freshness("--db", monitor.db, "notify", "--retry")
    assert still.returncode == 1 and "digest of run 1 to json://ops:****" in still.stdout

    receiver.failing.clear()
    retry = monitor.freshness("--db", monitor.db, "notify", "--retry", check=True)
    assert "digest of run 1 to json://ops:****" in retry.stdout and ": sent" in retry.stdout
    assert SECRET not in retry.stdout + retry.stderr
    again = monitor.freshness("--db", monitor.db, "notify", "--retry", check=True)
    assert again.stdout == "nothing waits in the outbox\n"

    monitor.run(T0 + DAY)  # nothing new, nothing pending
    assert len(receiver.bodies("good")) == 1
    [late] = receiver.bodies("flaky")
    assert late == payload
    database = Path(monitor.db.removeprefix("sqlite:///"))
    for path in database.parent.glob(database.name + "*"):
        assert SECRET.encode() not in path.read_bytes(), path


@pytest.mark.e2e
def test_the_next_run_delivers_a_kept_digest_once(
    web: SimWeb, receiver: Receiver, tmp_path: Path
) -> None:
    good = receiver.url("good", user="freshness")
    flaky = receiver.url("flaky", user="ops")
    monitor = monitor_for(web, tmp_path, {"FRESHNESS_NOTIFY": f"{good} {flaky}"})
    receiver.failing.add("flaky")  # the webhook is down for the first run

    first = monitor.run(T0)
    assert "notified: digest of run 1 to json://freshness:****@127.0.0.1" in first.stdout
    assert "warning: digest of run 1 to json://ops:****@127.0.0.1" in first.stderr
    assert "kept in the outbox" in first.stderr
    [payload] = receiver.bodies("good")
    assert "1 move" in payload["title"]
    assert receiver.bodies("flaky") == []
    assert _outbox(monitor.db) == [(1, "good", "sent", 1), (1, "flaky", "failed", 1)]

    # The webhook is back. The next run has nothing new of its own, and no `notify --retry`
    # is ever run: the run itself delivers what the outbox kept, to the target that failed.
    receiver.failing.clear()
    second = monitor.run(T0 + DAY)
    notified = [line for line in second.stdout.splitlines() if line.startswith("notified:")]
    assert len(notified) == 1
    assert notified[0].startswith("notified: digest of run 1 to json://ops:****@127.0.0.1")
    assert notified[0].endswith(": sent")
    assert "warning" not in second.stderr
    assert receiver.bodies("flaky") == [payload]  # the run 1 digest, as the good target had it
    assert receiver.bodies("good") == [payload]  # nothing sent twice
    assert _outbox(monitor.db) == [(1, "good", "sent", 1), (1, "flaky", "sent", 2)]

    third = monitor.run(T0 + 2 * DAY)
    assert "notified" not in third.stdout and "warning" not in third.stderr
    assert receiver.bodies("flaky") == [payload] and receiver.bodies("good") == [payload]
    assert len(receiver.requests) == 2
    assert _outbox(monitor.db) == [(1, "good", "sent", 1), (1, "flaky", "sent", 2)]
    assert SECRET not in first.stdout + first.stderr + second.stdout + second.stderr

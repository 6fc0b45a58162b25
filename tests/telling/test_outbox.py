"""The outbox: digests per target, routed, retried, delivered exactly once, secrets never stored.

Real Apprise plugins send to real receivers on loopback; the store is a real database.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from monitor.app.service import FreshnessError, notify_after_run, retry_notifications
from monitor.telling.notify import NotifyError, mask
from monitor.telling.outbox import NotifyConfig, deliver_outbox, queue_digests, target_key
from storage.db import Store
from storage.records import DirectoryEntry, Finding
from tests.receivers import SECRET, Receiver, http_receiver

NOW = dt.datetime(2026, 11, 23, 3, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)

ENTRIES = [
    DirectoryEntry(id="nurses", name="Nurse Circle", url="https://nurses.test/"),
    DirectoryEntry(id="medics", name="Medic Peers", url="https://medics.test/"),
]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'freshness.db'}")
    with store.transaction() as repo:
        repo.sync_directory(ENTRIES, NOW)
    yield store
    store.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with http_receiver() as receiver:
        yield receiver


def finding(org: str, kind: str, url: str, **details: object) -> Finding:
    return Finding(
        org_id=org,
        kind=kind,
        url=url,
        summary=f"{org}: {kind} at {url}",
        first_seen=NOW,
        last_seen=NOW,
        evidence=[f"404 {url}"] if kind == "dead_link" else [],
        details=dict(details),
    )


def make_run(
    store: Store, now: dt.datetime, findings: list[Finding], resolved: tuple[int, ...] = ()
) -> tuple[int, list[int]]:
    """A finished run that opened ``findings`` and resolved ``resolved``, as conclude_run does."""
    with store.transaction() as repo:
        run_id = repo.start_run(now)
        opened = []
        for f in findings:
            subject = f"{f.url}|{f.details.get('group', '')}"
            stored, _ = repo.open_finding(f, subject=subject, run_id=run_id)
            opened.append(stored.id)
        for finding_id in resolved:
            repo.resolve_finding(finding_id, now, run_id)
        summary = {"run_id": run_id, "opened": opened, "resolved": list(resolved)}
        repo.finish_run(run_id, now, "completed", summary)
    return run_id, opened


def hook(masked: str) -> str:
    """The receiver path of a masked json:// URL."""
    return masked.split("?")[0].rsplit("/", 1)[-1]


def config(*specs: str, **kw: object) -> NotifyConfig:
    return NotifyConfig.resolve(cli=specs, **kw)  # type: ignore[arg-type]


# -- routing ------------------------------------------------------------------------------------


def test_tagged_targets_receive_only_their_kinds(store: Store, receiver: Receiver) -> None:
    make_run(
        store,
        NOW,
        [
            finding("nurses", "dead_link", "https://nurses.test/contact", reason="http_404"),
            finding("medics", "new_group", "https://medics.test/groups", group="Night Shift"),
            finding(
                "medics",
                "moved",
                "https://medics.test/",
                old_url="https://medics.test/",
                new_url="https://medic-peers.test/",
            ),
        ],
    )
    targets = config(
        f"dead_link={receiver.url('dead')}",
        f"chat={receiver.url('chat')}",
        f"rename={receiver.url('renames')}",
        receiver.url("all"),
    )
    deliveries = notify_after_run(store, targets, now=NOW)
    assert sorted(d.status for d in deliveries) == ["sent", "sent", "sent"]

    [dead] = receiver.bodies("dead")
    [chat] = receiver.bodies("chat")
    [everything] = receiver.bodies("all")
    assert receiver.bodies("renames") == []  # nothing of its kind: nothing sent, nothing queued
    assert dead["title"] == "freshness: 1 dead link"
    assert "nurses.test/contact" in dead["message"] and "Night Shift" not in dead["message"]
    assert chat["title"] == "freshness: 1 new group"
    assert "Night Shift" in chat["message"] and "contact" not in chat["message"]
    assert everything["title"] == "freshness: 1 dead link, 1 move, 1 new group"
    with store.transaction() as repo:
        assert len(repo.outbox()) == 3


def test_routes_from_the_config_file(store: Store, receiver: Receiver) -> None:
    make_run(
        store,
        NOW,
        [
            finding("medics", "new_group", "https://medics.test/groups", group="Night Shift"),
            finding("nurses", "dead_link", "https://nurses.test/", reason="dns"),
        ],
    )
    routes = {"groups": ["new_group", "removed_group"]}
    notify_after_run(store, config(f"groups={receiver.url('groups')}", routes=routes), now=NOW)
    [body] = receiver.bodies("groups")
    assert body["title"] == "freshness: 1 new group"


# -- exactly once ---------------------------------------------------------------------------------


def test_a_failing_target_keeps_its_digest_until_a_retry_delivers_it_once(
    store: Store, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    targets = config(receiver.url("good", user="freshness"), receiver.url("flaky", user="ops"))
    receiver.failing.add("flaky")

    make_run(store, NOW, [finding("nurses", "dead_link", "https://nurses.test/", reason="dns")])
    first = notify_after_run(store, targets, now=NOW)
    assert [(hook(d.target), d.status) for d in first] == [
        ("good", "sent"),
        ("flaky", "failed"),
    ]
    with store.transaction() as repo:
        [failed] = repo.outbox(("failed",))
    assert failed.attempts == 1 and failed.last_error
    assert SECRET not in failed.last_error and SECRET not in failed.target

    # The next run: the old digest is tried first and fails again; the new one waits behind it.
    make_run(store, NOW + DAY, [finding("medics", "dead_link", "https://medics.test/x")])
    second = notify_after_run(store, targets, now=NOW + DAY)
    assert sorted((hook(d.target), d.run_id, d.status) for d in second) == [
        ("flaky", 1, "failed"),
        ("flaky", 2, "held"),
        ("good", 2, "sent"),
    ]

    receiver.failing.clear()
    third = retry_notifications(store, targets, now=NOW + 2 * DAY)
    assert [(d.run_id, d.status) for d in third] == [(1, "sent"), (2, "sent")]
    assert retry_notifications(store, targets, now=NOW + 2 * DAY) == []
    notify_after_run(store, targets, now=NOW + 3 * DAY)  # nothing new, nothing pending

    good, flaky = receiver.bodies("good"), receiver.bodies("flaky")
    assert [b["title"] for b in good] == ["freshness: 1 dead link"] * 2
    assert [b["message"] for b in flaky] == [b["message"] for b in good]  # same digests, in order
    assert "Run 1 " in flaky[0]["message"] and "Run 2 " in flaky[1]["message"]
    with store.transaction() as repo:
        entries = repo.outbox()
    assert [e.status for e in entries] == ["sent"] * 4
    assert SECRET not in caplog.text


def test_nothing_new_sends_nothing_unless_a_heartbeat_is_asked_for(
    store: Store, receiver: Receiver
) -> None:
    make_run(store, NOW, [])
    assert notify_after_run(store, config(receiver.url("quiet")), now=NOW) == []
    assert receiver.requests == []
    make_run(store, NOW + DAY, [])
    beating = config(receiver.url("beat"), heartbeat="true")
    assert [d.status for d in notify_after_run(store, beating, now=NOW + DAY)] == ["sent"]
    [body] = receiver.bodies("beat")
    assert body["title"] == "freshness: no changes"
    assert "No changes since the last run" in body["message"]


def test_recoveries_are_in_the_digest(store: Store, receiver: Receiver) -> None:
    _, [dead] = make_run(store, NOW, [finding("nurses", "dead_link", "https://nurses.test/")])
    make_run(store, NOW + DAY, [], resolved=(dead,))
    notify_after_run(store, config(receiver.url("all")), now=NOW + DAY)
    # Turning notifications on sends the newest run's digest only, not the history.
    [body] = receiver.bodies("all")
    assert body["title"] == "freshness: 1 recovered"


def test_runs_made_without_notifying_are_digested_together(
    store: Store, receiver: Receiver
) -> None:
    make_run(store, NOW, [])
    notify_after_run(store, config(receiver.url("all")), now=NOW)  # the first digest
    # Two runs by `scrapy crawl`, which does not notify: the next digest covers both.
    make_run(store, NOW + DAY, [finding("nurses", "dead_link", "https://nurses.test/")])
    make_run(store, NOW + 2 * DAY, [finding("medics", "rename", "https://medics.test/")])
    queued = queue_digests(store, config(receiver.url("all")), now=NOW + 2 * DAY)
    assert len(queued) == 1
    assert queue_digests(store, config(receiver.url("all")), now=NOW + 2 * DAY) == []
    deliver_outbox(store, config(receiver.url("all")), now=NOW + 2 * DAY)
    [body] = receiver.bodies("all")
    assert body["title"] == "freshness: 1 dead link, 1 rename"
    with store.transaction() as repo:
        [entry] = repo.outbox()
        assert entry.payload["runs"] == [2, 3] and entry.run_id == 3


def test_runs_without_targets_are_digested_unbuilt_and_a_new_target_starts_after_them(
    store: Store, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    import monitor.telling.outbox

    def no_render(*args: object, **kwargs: object) -> None:
        raise AssertionError("a digest was built with nobody to send it to")

    make_run(store, NOW, [finding("nurses", "dead_link", "https://nurses.test/")])
    with monkeypatch.context() as patched:
        patched.setattr(monitor.telling.outbox, "render_digest", no_render)
        assert notify_after_run(store, config(), now=NOW) == []
    with store.transaction() as repo:
        assert repo.undigested_runs() == [] and repo.outbox() == []
    # A target configured later gets the runs after it, not the ones nobody was told of.
    make_run(store, NOW + DAY, [finding("medics", "rename", "https://medics.test/")])
    notify_after_run(store, config(receiver.url("all")), now=NOW + DAY)
    [body] = receiver.bodies("all")
    assert body["title"] == "freshness: 1 rename"


# -- targets and secrets --------------------------------------------------------------------------


def test_target_urls_are_never_stored(store: Store, receiver: Receiver) -> None:
    receiver.failing.add("hook")
    url = receiver.url("hook", user="freshness")
    make_run(store, NOW, [finding("nurses", "dead_link", "https://nurses.test/")])
    notify_after_run(store, config(url), now=NOW)
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM outbox")).all()
        runs = conn.execute(text("SELECT * FROM runs")).all()
    assert len(rows) == 1
    assert SECRET not in repr(rows) and SECRET not in repr(runs)
    with store.transaction() as repo:
        [entry] = repo.outbox()
    assert entry.target == mask(url) and entry.target_key == target_key(url)
    assert len(entry.target_key) == 64


def test_a_changed_password_keeps_the_digest_going(store: Store, receiver: Receiver) -> None:
    receiver.failing.add("hook")
    old = f"json://ops:old-{SECRET}@127.0.0.1:{receiver.port}/hook"
    new = f"json://ops:new-{SECRET}@127.0.0.1:{receiver.port}/hook"
    assert mask(old) == mask(new)
    make_run(store, NOW, [finding("nurses", "dead_link", "https://nurses.test/")])
    notify_after_run(store, config(old), now=NOW)
    receiver.failing.clear()
    [delivery] = retry_notifications(store, config(new), now=NOW + DAY)
    assert delivery.status == "sent"
    assert len(receiver.bodies("hook")) == 1
    with store.transaction() as repo:
        [entry] = repo.outbox()
    assert entry.target_key == target_key(new)


def test_a_digest_for_a_target_no_longer_configured_waits(store: Store, receiver: Receiver) -> None:
    receiver.failing.add("gone")
    make_run(store, NOW, [finding("nurses", "dead_link", "https://nurses.test/")])
    notify_after_run(store, config(receiver.url("gone")), now=NOW)
    [delivery] = retry_notifications(store, config(receiver.url("other")), now=NOW)
    assert delivery.status == "waiting"
    with store.transaction() as repo:
        assert [e.status for e in repo.outbox()] == ["failed"]
    assert receiver.bodies("other") == []


def test_retry_without_targets_says_how_to_configure_them(store: Store) -> None:
    with pytest.raises(FreshnessError, match="--notify URL"):
        retry_notifications(store, NotifyConfig(), now=NOW)


# -- claims: two processes never send the same entry ---------------------------------------------


def test_an_entry_is_claimed_by_one_sender_only(store_factory) -> None:
    store = store_factory()
    with store.transaction() as repo:
        repo.sync_directory(ENTRIES, NOW)
    make_run(store, NOW, [finding("nurses", "dead_link", "https://nurses.test/")])
    queue_digests(store, config("json://127.0.0.1:9/hook"), now=NOW)
    stale = NOW - dt.timedelta(hours=1)
    with store.transaction() as repo:
        [entry] = repo.outbox()
        assert repo.claim_outbox(entry.id, NOW, stale_before=stale) is True
    with store.transaction() as repo:
        assert repo.claim_outbox(entry.id, NOW, stale_before=stale) is False
    later = NOW + dt.timedelta(hours=2)  # the first sender died: its claim is stale
    with store.transaction() as repo:
        assert repo.claim_outbox(entry.id, later, stale_before=later - dt.timedelta(hours=1))
        repo.finish_outbox(entry.id, later, sent=True)
    with store.transaction() as repo:
        assert repo.claim_outbox(entry.id, later, stale_before=later) is False
        [sent] = repo.outbox()
    assert (sent.status, sent.attempts, sent.sent_at) == ("sent", 2, later)


# -- configuration --------------------------------------------------------------------------------


def test_targets_come_from_the_first_source_that_gives_any() -> None:
    cli = config("json://127.0.0.1:9/cli", setting="json://127.0.0.1:9/env")
    assert [t.url for t in cli.targets] == ["json://127.0.0.1:9/cli"]
    env = NotifyConfig.resolve(
        setting="json://127.0.0.1:9/a  chat=json://127.0.0.1:9/b",
        config=["json://127.0.0.1:9/file"],
    )
    assert [(t.url, sorted(t.tags)) for t in env.targets] == [
        ("json://127.0.0.1:9/a", []),
        ("json://127.0.0.1:9/b", ["chat"]),
    ]
    from_file = NotifyConfig.resolve(config=["dead_link=json://127.0.0.1:9/file"])
    assert [t.url for t in from_file.targets] == ["json://127.0.0.1:9/file"]
    assert NotifyConfig.resolve().targets == ()


def test_the_same_url_twice_is_one_target() -> None:
    merged = config("dead_link=json://127.0.0.1:9/a", "moved=json://127.0.0.1:9/a")
    assert [sorted(t.tags) for t in merged.targets] == [["dead_link", "moved"]]
    widest = config("dead_link=json://127.0.0.1:9/a", "json://127.0.0.1:9/a")
    assert [t.tags for t in widest.targets] == [frozenset()]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cli": [f"curator=json://u:{SECRET}@127.0.0.1:9/a"]}, "unknown tag 'curator'"),
        ({"cli": [f"nosuch://u:{SECRET}@host/"]}, "not a URL Apprise understands"),
        ({"routes": {"team": ["dead_links"]}}, "unknown finding kinds: dead_links"),
        ({"routes": ["x"]}, "must be a table"),
        ({"config": 42}, "must be Apprise URLs"),
        ({"heartbeat": "sometimes"}, "FRESHNESS_HEARTBEAT must be true or false"),
    ],
)
def test_bad_configuration_is_one_clear_error(kwargs: dict, message: str) -> None:
    with pytest.raises(NotifyError, match=message) as caught:
        NotifyConfig.resolve(**kwargs)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), ("1", True), ("True", True), ("off", False), (None, False)],
)
def test_heartbeat_values(value: object, expected: bool) -> None:
    assert NotifyConfig.resolve(heartbeat=value).heartbeat is expected

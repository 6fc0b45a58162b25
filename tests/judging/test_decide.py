"""Deciding over time, with the clock passed in: no network, no sleeping."""

from __future__ import annotations

import datetime as dt

import pytest

from monitor.judging.classify import Outcome
from monitor.judging.decide import decide, detect_outage
from monitor.judging.judge import judge_run
from monitor.judging.policy import Policy
from storage.records import DirectoryEntry, LinkState, Observation

T0 = dt.datetime(2026, 11, 1, 3, 0, tzinfo=dt.UTC)
POLICY = Policy()  # 3 failures over at least 48 hours


def outcome(category: str) -> Outcome:
    return Outcome(category=category, evidence=(f"saw {category}",), confidence=0.9)


def walk(categories: list[str], hours_apart: float = 24) -> list:
    state = LinkState(id=1, org_id="a", url="http://a.test/", role="homepage")
    verdicts = []
    for i, category in enumerate(categories):
        now = T0 + dt.timedelta(hours=hours_apart * i)
        verdict = decide(state, outcome(category), now=now, policy=POLICY)
        verdicts.append(verdict)
        state = verdict.state
    return verdicts


def test_dead_only_after_three_failures_over_48_hours() -> None:
    verdicts = walk(["http_404", "http_404", "http_404"])
    assert [v.dead for v in verdicts] == [False, False, True]
    assert verdicts[-1].reason == "http_404"
    assert verdicts[-1].failing_since == T0


def test_three_quick_failures_are_not_enough() -> None:
    verdicts = walk(["timeout"] * 5, hours_apart=1)
    assert not any(v.dead for v in verdicts)
    assert verdicts[-1].state.consecutive_failures == 5


def test_many_quick_failures_become_dead_once_48_hours_pass() -> None:
    verdicts = walk(["timeout"] * 50, hours_apart=1)
    first_dead = next(i for i, v in enumerate(verdicts) if v.dead)
    assert first_dead == 48


def test_success_resets_the_count_and_recovers() -> None:
    verdicts = walk(["server_error", "server_error", "ok", "server_error", "server_error"])
    assert verdicts[2].recovered and verdicts[2].state.consecutive_failures == 0
    assert verdicts[-1].state.consecutive_failures == 2
    assert not any(v.dead for v in verdicts)


def test_flapping_never_becomes_dead() -> None:
    verdicts = walk(["server_error", "ok"] * 5)
    assert not any(v.dead for v in verdicts)


def test_blocked_neither_counts_nor_resets() -> None:
    verdicts = walk(["http_404", "blocked", "http_404", "blocked", "http_404"])
    assert [v.state.consecutive_failures for v in verdicts] == [1, 1, 2, 2, 3]
    assert verdicts[-1].dead


def test_persistent_blocking_becomes_unverifiable_never_dead() -> None:
    verdicts = walk(["blocked"] * 4)
    assert [v.unverifiable for v in verdicts] == [False, False, True, True]
    assert not any(v.dead for v in verdicts)


def test_policy_reads_settings_and_rejects_junk() -> None:
    from monitor.judging.policy import PolicyError

    policy = Policy.from_settings(
        {"FRESHNESS_DEAD_AFTER_FAILURES": "5", "FRESHNESS_DEAD_AFTER_HOURS": "12"}
    )
    assert policy.dead_after_failures == 5
    assert policy.dead_after == dt.timedelta(hours=12)
    with pytest.raises(PolicyError):
        Policy.from_settings({"FRESHNESS_DEAD_AFTER_FAILURES": "many"})


@pytest.mark.parametrize(
    ("per_host", "expected"),
    [
        ({"a": "dns", "b": "dns", "c": "connection"}, True),  # laptop offline
        ({"a": "dns"}, False),  # one host, and the failure is no sign of being offline
        ({"a": "dns", "b": "ok"}, False),
        ({f"h{i}": "dns" for i in range(8)} | {"ok1": "ok", "ok2": "ok"}, True),  # 80%
        ({f"h{i}": "dns" for i in range(6)} | {f"ok{i}": "ok" for i in range(4)}, False),
        ({"a": "http_404", "b": "http_404"}, False),  # dead, but the web answered
    ],
)
def test_outage_guard(per_host: dict[str, str], expected: bool) -> None:
    outcomes = {f"http://{host}.test/": outcome(cat) for host, cat in per_host.items()}
    assert (detect_outage(outcomes, [], POLICY) is not None) is expected


# Evidence as the classifier writes it from the spider's real error messages.
NXDOMAIN = "DNS lookup failed for a.test: \"address 'a.test' not found: [Errno -2] Name or service not known.\""
EAI_AGAIN = "DNS lookup failed for a.test: \"address 'a.test' not found: [Errno -3] Temporary failure in name resolution.\""
REFUSED = "connection refused for a.test: 'Connection was refused by other side: 111: Connection refused.'"
UNREACHABLE = "connection failed for a.test: 'An error occurred while connecting: 101: Network is unreachable.'"


@pytest.mark.parametrize(
    ("failures", "offline"),
    [
        ([("dns", EAI_AGAIN)], True),  # no resolver could be asked
        ([("connection", UNREACHABLE)], True),  # no route out
        ([("timeout", "Getting http://a.test/ took longer than 30.0 seconds.")], True),
        ([("dns", EAI_AGAIN), ("timeout", "took longer")], True),
        ([("dns", NXDOMAIN)], False),  # the name servers answered: no such domain
        ([("connection", REFUSED)], False),  # the server's machine answered
        ([("dns", EAI_AGAIN), ("connection", REFUSED)], False),  # the network worked once
        ([("dns", EAI_AGAIN), ("ok", "HTTP 200")], False),
    ],
)
def test_a_lone_host_is_inconclusive_only_when_it_fails_like_an_offline_machine(
    failures: list[tuple[str, str]], offline: bool
) -> None:
    # A one-organisation run has no other host to compare with: the kind of failure decides.
    outcomes = {
        f"http://a.test/{i}": Outcome(category, (evidence,), 0.9)
        for i, (category, evidence) in enumerate(failures)
    }
    why = detect_outage(outcomes, [], POLICY)
    assert (why is not None) is offline
    if why:
        assert "a.test" in why and "FRESHNESS_CANARY_URLS" in why
    # Canaries that answer settle it: the machine is online, so the failures count.
    assert detect_outage(outcomes, [outcome("ok")], POLICY) is None


def test_failing_canaries_mean_outage() -> None:
    assert detect_outage({"http://a.test/": outcome("ok")}, [outcome("dns")], POLICY)
    assert detect_outage({}, [outcome("ok")], POLICY) is None


def _obs(url: str, link_id: int, **kw: object) -> Observation:
    return Observation(org_id="a", url=url, link_id=link_id, fetched_at=T0, **kw)  # type: ignore[arg-type]


def test_inconclusive_run_changes_nothing() -> None:
    entries = {"a": DirectoryEntry(id="a", name="A", url="http://a.test/")}
    states = {
        i: LinkState(
            id=i,
            org_id="a",
            url=f"http://h{i}.test/",
            role="link",
            consecutive_failures=2,
            first_failure_at=T0 - dt.timedelta(days=3),
        )
        for i in range(3)
    }
    observed = [(_obs(s.url, s.id, error="dns"), outcome("dns")) for s in states.values()]
    judgement = judge_run(observed, states, entries, now=T0, policy=POLICY)
    assert judgement.outage and judgement.states == [] and judgement.open == []


def test_permanent_redirect_is_a_move_and_canonical_change_is_low_confidence() -> None:
    entries = {"a": DirectoryEntry(id="a", name="A", url="http://a.test/")}
    states = {
        1: LinkState(id=1, org_id="a", url="http://a.test/", role="homepage"),
        2: LinkState(id=2, org_id="a", url="http://a.test/groups", role="groups"),
    }
    observed = [
        (
            _obs(
                "http://a.test/",
                1,
                status=200,
                final_url="https://b.test/",
                redirect_chain=[
                    {"url": "http://a.test/", "status": 301, "location": "https://b.test/"}
                ],
            ),
            outcome("ok"),
        ),
        (
            _obs(
                "http://a.test/groups",
                2,
                status=200,
                final_url="https://a.test/groups/",
                redirect_chain=[
                    {
                        "url": "http://a.test/groups",
                        "status": 301,
                        "location": "https://a.test/groups/",
                    }
                ],
            ),
            outcome("ok"),
        ),
    ]
    judgement = judge_run(observed, states, entries, now=T0, policy=POLICY)
    moves = {d.finding.url: d.finding for d in judgement.open}
    assert moves["http://a.test/"].details["new_url"] == "https://b.test/"
    assert moves["http://a.test/"].confidence >= 0.8
    assert moves["http://a.test/groups"].details["same_site"] is True
    assert moves["http://a.test/groups"].confidence < 0.5


def test_temporary_redirect_is_a_move_only_when_it_persists() -> None:
    entries = {"a": DirectoryEntry(id="a", name="A", url="http://a.test/")}
    states = {1: LinkState(id=1, org_id="a", url="http://a.test/", role="homepage")}
    hop = [{"url": "http://a.test/", "status": 302, "location": "http://a.test/campaign"}]
    now_obs = _obs(
        "http://a.test/", 1, status=200, final_url="http://a.test/campaign", redirect_chain=hop
    )
    first = judge_run([(now_obs, outcome("ok"))], states, entries, now=T0, policy=POLICY)
    assert [d.finding.kind for d in first.open] == []
    second = judge_run(
        [(now_obs, outcome("ok"))], states, entries, now=T0, policy=POLICY, previous={1: now_obs}
    )
    assert [d.finding.kind for d in second.open] == ["moved"]


def _groups_obs(status: int, groups: list[str] | None = None, **facts: object) -> Observation:
    if groups is not None:
        facts["groups"] = [{"name": g} for g in groups]
    return _obs("http://a.test/groups", 2, status=status, facts={"role": "groups", **facts})


@pytest.mark.parametrize(
    ("reading", "kinds"),
    [
        # The last full reading lacked "Two": the 304 confirms it, a second miss.
        (["One"], ["removed_group"]),
        # The last full reading had every listed group and a new one, seen before: no change.
        (["One", "Two", "Three"], []),
    ],
)
def test_a_304_groups_page_is_judged_on_its_last_full_reading(
    reading: list[str], kinds: list[str]
) -> None:
    entries = {"a": DirectoryEntry(id="a", name="A", url="http://a.test/", groups=("One", "Two"))}
    states = {2: LinkState(id=2, org_id="a", url="http://a.test/groups", role="groups")}
    judgement = judge_run(
        [(_groups_obs(304, not_modified=True), outcome("ok"))],
        states,
        entries,
        previous={2: _groups_obs(200, reading)},
        groups_seen={2: reading},
        now=T0,
        policy=POLICY,
    )
    assert [d.finding.kind for d in judgement.open] == kinds
    assert judgement.states[0].etag is None  # a 304 keeps the validators it was sent with


@pytest.mark.parametrize(
    "before",
    [None, _groups_obs(200, None), _groups_obs(200, [], groups_error="bad selector")],
    ids=["never read", "read without groups", "selector error"],
)
def test_a_304_without_a_usable_reading_says_nothing_about_groups(
    before: Observation | None,
) -> None:
    entries = {"a": DirectoryEntry(id="a", name="A", url="http://a.test/", groups=("One", "Two"))}
    states = {2: LinkState(id=2, org_id="a", url="http://a.test/groups", role="groups")}
    judgement = judge_run(
        [(_groups_obs(304, not_modified=True), outcome("ok"))],
        states,
        entries,
        previous={2: before} if before is not None else {},
        groups_seen={2: ["One"]},
        now=T0,
        policy=POLICY,
    )
    assert judgement.open == []
    # Nor is anything resolved: an unread page cannot show a listed group is back.
    assert not [r for r in judgement.resolve if r[1] in ("removed_group", "new_group")]


def test_groups_pages_keep_their_validators_for_conditional_revisits() -> None:
    entries = {"a": DirectoryEntry(id="a", name="A", url="http://a.test/", groups=("One",))}
    states = {2: LinkState(id=2, org_id="a", url="http://a.test/groups", role="groups")}
    read = _groups_obs(200, ["One"])
    read.headers = {"etag": '"v1"', "last-modified": "Mon, 05 Jan 2026 10:00:00 GMT"}
    judgement = judge_run([(read, outcome("ok"))], states, entries, now=T0, policy=POLICY)
    assert (judgement.states[0].etag, judgement.states[0].last_modified) == (
        '"v1"',
        "Mon, 05 Jan 2026 10:00:00 GMT",
    )


def test_a_link_marked_dead_that_works_is_told_and_one_that_fails_is_not() -> None:
    entry = DirectoryEntry(
        id="a",
        name="A",
        url="http://a.test/",
        links=("http://a.test/x", "http://a.test/y"),
        dead_links=("http://a.test/x since 2026-10-02", "http://a.test/y"),
    )
    states = {
        1: LinkState(id=1, org_id="a", url="http://a.test/x", role="link"),
        2: LinkState(id=2, org_id="a", url="http://a.test/y", role="link"),
        3: LinkState(id=3, org_id="a", url="http://a.test/", role="homepage"),
    }
    observed = [
        (_obs("http://a.test/x", 1, status=200), outcome("ok")),
        (_obs("http://a.test/y", 2, status=404), outcome("http_404")),
        (_obs("http://a.test/", 3, status=200), outcome("ok")),  # not marked: nothing to tell
    ]
    judgement = judge_run(observed, states, {"a": entry}, now=T0, policy=POLICY)
    [revived] = [d for d in judgement.open if d.finding.kind == "revived"]
    assert (revived.subject, revived.finding.details["dead_since"]) == (
        "http://a.test/x",
        "2026-10-02",
    )
    assert "marked dead in the directory since 2026-10-02" in revived.finding.summary
    # The one still failing closes any revived finding it had.
    assert ("a", "revived", "http://a.test/y") in judgement.resolve
    assert ("a", "revived", "http://a.test/x") not in judgement.resolve

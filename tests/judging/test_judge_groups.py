"""A removed group takes two consecutive successful readings of the groups page.

Runs are judged one after another the way ``monitor.app.service`` does it: each run gets the link
state the last one left and, as ``previous``, the last observation of the link that was not a
304, failed fetches included. The clock is passed in; nothing sleeps.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pytest

from monitor.judging.classify import Outcome, classify
from monitor.judging.judge import Judgement, judge_run
from monitor.judging.policy import Policy
from monitor.pages.group_names import normalise_group_name
from storage.records import DirectoryEntry, LinkState, Observation

T0 = dt.datetime(2026, 11, 1, 3, 0, tzinfo=dt.UTC)
POLICY = Policy()
GROUPS_URL = "https://nursegroups.test/groups/"
LINK_ID = 7
ENTRIES = {
    "nurses": DirectoryEntry(
        id="nurses",
        name="NurseGroups",
        url="https://nursegroups.test/",
        groups_url=GROUPS_URL,
        groups=("Grief Circle", "Night Shift Check-in", "Second Victim Support"),
    )
}
GONE = normalise_group_name("Night Shift Check-in")


def read(day: int, groups: Sequence[str], **extra: Any) -> Observation:
    """A 200 groups page as the spider records it, listing ``groups``."""
    facts: dict[str, Any] = {
        "role": "groups",
        "content_type": "text/html",
        "title": "Our groups | NurseGroups",
        "text": "Our groups. " + ". ".join(groups) + ". All groups are free and confidential.",
        "groups": [
            {"name": g, "url": f"{GROUPS_URL}{normalise_group_name(g).replace(' ', '-')}/"}
            for g in groups
        ],
    }
    return _observation(day, status=200, facts={**facts, **extra})


def _observation(day: int, **kw: Any) -> Observation:
    return Observation(
        org_id="nurses",
        url=GROUPS_URL,
        link_id=LINK_ID,
        fetched_at=T0 + dt.timedelta(days=day),
        final_url=GROUPS_URL,
        **kw,
    )


# The ways a groups fetch fails; none of them is a reading of the page.
FAILED = {
    "http-500": lambda day: _observation(
        day,
        status=500,
        facts={"role": "groups", "content_type": "text/html", "title": "Internal Server Error"},
    ),
    # An error page in the site's template, whose menu the extractor read as groups.
    "http-503-with-groups": lambda day: _observation(
        day,
        status=503,
        facts={
            "role": "groups",
            "content_type": "text/html",
            "title": "Down for maintenance | NurseGroups",
            "groups": [{"name": "Grief Circle", "url": None}, {"name": "Contact", "url": None}],
        },
    ),
    "timeout": lambda day: _observation(
        day,
        status=None,
        error="timeout",
        error_message="no answer in 30s",
        facts={"role": "groups"},
    ),
    "dns": lambda day: _observation(
        day, status=None, error="dns", error_message="NXDOMAIN", facts={"role": "groups"}
    ),
}


class Runs:
    """Consecutive runs over one groups link, carrying state and ``previous`` between them."""

    def __init__(self) -> None:
        self.state = LinkState(id=LINK_ID, org_id="nurses", url=GROUPS_URL, role="groups")
        self.previous: Observation | None = None
        self.seen: list[str] = []

    def judge(self, obs: Observation) -> Judgement:
        judgement = judge_run(
            [(obs, classify(obs))],
            {LINK_ID: self.state},
            ENTRIES,
            previous={LINK_ID: self.previous} if self.previous else {},
            groups_seen={LINK_ID: list(self.seen)},
            # One host alone cannot show the machine is online; a canary that answers does.
            canaries=[Outcome("ok")],
            now=obs.fetched_at,
            policy=POLICY,
        )
        assert judgement.outage is None
        [self.state] = judgement.states
        if obs.status != 304:  # as Repository.latest_readings: a 304 is passed over
            self.previous = obs
        self.seen += [g["name"] for g in obs.facts.get("groups") or []]
        return judgement


def kinds(judgement: Judgement) -> list[str]:
    return [draft.finding.kind for draft in judgement.open]


def removal_resolved(judgement: Judgement, key: str) -> bool:
    return ("nurses", "removed_group", key) in judgement.resolve


def test_missing_on_two_consecutive_successful_runs_is_a_removed_group() -> None:
    runs = Runs()
    first = runs.judge(read(0, ["Grief Circle", "Second Victim Support"]))
    assert kinds(first) == []  # one miss may be a page mid-edit
    assert not removal_resolved(first, GONE)  # nor does it clear anything

    second = runs.judge(read(1, ["Grief Circle", "Second Victim Support"]))
    [draft] = second.open
    finding = draft.finding
    assert finding.kind == "removed_group"
    assert (finding.org_id, finding.link_id, finding.url) == ("nurses", LINK_ID, GROUPS_URL)
    assert finding.summary == "NurseGroups no longer lists the group Night Shift Check-in"
    assert finding.details == {"group": "Night Shift Check-in"}
    assert finding.evidence == [
        f"'Night Shift Check-in' is missing from {GROUPS_URL} on two consecutive successful checks"
    ]
    assert finding.first_seen == T0 + dt.timedelta(days=1)
    assert (draft.subject, draft.material) == (GONE, GONE)
    # The groups still listed are resolved, the missing one is not.
    assert removal_resolved(second, normalise_group_name("Grief Circle"))
    assert not removal_resolved(second, GONE)


@pytest.mark.parametrize("failure", list(FAILED), ids=list(FAILED))
def test_a_failed_fetch_between_two_misses_is_not_a_second_miss(failure: str) -> None:
    runs = Runs()
    assert kinds(runs.judge(read(0, ["Grief Circle", "Second Victim Support"]))) == []

    failed = FAILED[failure](1)
    outcome = classify(failed)
    assert not outcome.is_ok, "the fixture should be a failed fetch"
    during = runs.judge(failed)
    assert kinds(during) == []
    assert not [r for r in during.resolve if r[1] == "removed_group"]  # nor read as back
    assert runs.state.consecutive_failures == 1

    # Missing again, but the run before did not read the page: this is a first miss again.
    after = runs.judge(read(2, ["Grief Circle", "Second Victim Support"]))
    assert runs.previous is not None and runs.previous.fetched_at == T0 + dt.timedelta(days=2)
    assert kinds(after) == []
    assert not removal_resolved(after, GONE)
    assert runs.state.consecutive_failures == 0

    # One more successful run with the group still missing: now it is two in a row.
    again = runs.judge(read(3, ["Grief Circle", "Second Victim Support"]))
    assert kinds(again) == ["removed_group"]
    assert again.open[0].finding.details == {"group": "Night Shift Check-in"}


def test_a_page_that_lists_nothing_is_not_a_successful_reading() -> None:
    # A 200 whose groups the extractor could not read (a JavaScript shell after a redesign).
    runs = Runs()
    assert kinds(runs.judge(read(0, ["Grief Circle", "Second Victim Support"]))) == []
    assert kinds(runs.judge(read(1, []))) == []
    assert kinds(runs.judge(read(2, ["Grief Circle", "Second Victim Support"]))) == []
    assert kinds(runs.judge(read(3, ["Grief Circle", "Second Victim Support"]))) == [
        "removed_group"
    ]


def test_a_page_that_lists_nothing_does_not_clear_a_removed_group() -> None:
    runs = Runs()
    runs.judge(read(0, ["Grief Circle", "Second Victim Support"]))
    assert kinds(runs.judge(read(1, ["Grief Circle", "Second Victim Support"]))) == [
        "removed_group"
    ]
    shell = runs.judge(read(2, []))
    # Nothing was read, so nothing shows the group is back (as for a 304 with no reading).
    assert not removal_resolved(shell, GONE)


def test_a_group_that_comes_back_is_resolved_and_its_count_restarts() -> None:
    runs = Runs()
    runs.judge(read(0, ["Grief Circle", "Second Victim Support"]))
    back = runs.judge(read(1, ["Grief Circle", "Night Shift Check-in", "Second Victim Support"]))
    assert kinds(back) == []
    assert removal_resolved(back, GONE)
    assert kinds(runs.judge(read(2, ["Grief Circle", "Second Victim Support"]))) == []
    assert kinds(runs.judge(read(3, ["Grief Circle", "Second Victim Support"]))) == [
        "removed_group"
    ]

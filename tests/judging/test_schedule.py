"""When organisations are due, with the clock passed in."""

from __future__ import annotations

import datetime as dt

from monitor.judging.schedule import is_due
from storage.records import DirectoryEntry, Organisation

T0 = dt.datetime(2026, 11, 1, 0, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def org(org_id: str, last: dt.datetime | None, every: str | None = None) -> Organisation:
    entry = DirectoryEntry(id=org_id, name=org_id, url=f"http://{org_id}.test/", check_every=every)
    return Organisation(entry=entry, active=True, last_checked_at=last)


def test_never_checked_is_due() -> None:
    assert is_due(org("a", None), now=T0, default=DAY)


def test_default_interval_applies() -> None:
    o = org("a", T0)
    assert not is_due(o, now=T0 + dt.timedelta(hours=12), default=DAY)
    assert is_due(o, now=T0 + DAY, default=DAY)


def test_per_organisation_interval_wins() -> None:
    hourly = org("a", T0, "1h")
    weekly = org("b", T0, "1w")
    later = T0 + dt.timedelta(hours=2)
    assert is_due(hourly, now=later, default=DAY)
    assert not is_due(weekly, now=T0 + 3 * DAY, default=DAY)
    assert is_due(weekly, now=T0 + 7 * DAY, default=DAY)


def test_due_times_are_spread_but_never_more_than_a_tenth_early() -> None:
    orgs = [org(f"org{i}", T0) for i in range(200)]
    offsets = set()
    for o in orgs:
        # find the first hour at which each becomes due
        hour = next(
            h for h in range(0, 49) if is_due(o, now=T0 + dt.timedelta(hours=h), default=DAY)
        )
        assert 21 <= hour <= 24  # at most 10% of a day early
        offsets.add(hour)
    assert len(offsets) > 1  # an hourly cron does not visit them all in the same hour

"""The detection policy: ``FRESHNESS_`` thresholds parsed from a plain mapping, the clock the
settings give, and ISO timestamps.

Defaults are never written out here as numbers: they come from ``spiders.settings`` (the one
table of them), so the tests compare against ``Policy()`` and that table.
"""

from __future__ import annotations

import datetime as dt

import pytest

import spiders.settings as table
from monitor.crawl.layers import LayeredSettings
from monitor.judging.intervals import parse_interval
from monitor.judging.policy import (
    POLICY_SETTINGS,
    Policy,
    PolicyError,
    clock_from_settings,
    parse_timestamp,
)

# -- defaults ------------------------------------------------------------------------------------


def test_empty_settings_give_the_default_policy() -> None:
    assert Policy.from_settings({}) == Policy()
    assert Policy.from_settings(None) == Policy()


def test_empty_strings_and_none_mean_the_default() -> None:
    blank = {name: "" for name in POLICY_SETTINGS}
    assert Policy.from_settings(blank) == Policy()
    assert Policy.from_settings(dict.fromkeys(POLICY_SETTINGS)) == Policy()


def test_defaults_are_the_settings_table() -> None:
    policy = Policy()
    assert policy.dead_after_failures == table.FRESHNESS_DEAD_AFTER_FAILURES
    assert policy.dead_after == dt.timedelta(hours=table.FRESHNESS_DEAD_AFTER_HOURS)
    assert policy.unverifiable_after_blocked == table.FRESHNESS_UNVERIFIABLE_AFTER_BLOCKED
    assert policy.unverifiable_after == dt.timedelta(hours=table.FRESHNESS_UNVERIFIABLE_AFTER_HOURS)
    assert policy.default_check_every == parse_interval(table.FRESHNESS_DEFAULT_CHECK_EVERY)
    assert policy.canary_urls == tuple(table.FRESHNESS_CANARY_URLS)
    assert policy.outage_min_hosts == table.FRESHNESS_OUTAGE_MIN_HOSTS
    assert policy.outage_failure_ratio == table.FRESHNESS_OUTAGE_FAILURE_RATIO


def test_the_table_itself_parses_to_the_default_policy() -> None:
    """Handing the table's values in explicitly changes nothing."""
    explicit = {name: getattr(table, name) for name in POLICY_SETTINGS}
    assert Policy.from_settings(explicit) == Policy()


# -- values from strings -------------------------------------------------------------------------


def test_values_are_parsed_from_strings() -> None:
    policy = Policy.from_settings(
        {
            "FRESHNESS_DEAD_AFTER_FAILURES": "7",
            "FRESHNESS_DEAD_AFTER_HOURS": "36",
            "FRESHNESS_UNVERIFIABLE_AFTER_BLOCKED": "9",
            "FRESHNESS_UNVERIFIABLE_AFTER_HOURS": "1.5",
            "FRESHNESS_DEFAULT_CHECK_EVERY": "12h",
            "FRESHNESS_OUTAGE_MIN_HOSTS": "11",
            "FRESHNESS_OUTAGE_FAILURE_RATIO": "0.25",
            "FRESHNESS_PROBE_TTL": "3d",
            "FRESHNESS_DISCOVERY_EVERY": "2w",
        }
    )
    assert policy.dead_after_failures == 7
    assert policy.dead_after == dt.timedelta(hours=36)
    assert policy.unverifiable_after_blocked == 9
    assert policy.unverifiable_after == dt.timedelta(minutes=90)
    assert policy.default_check_every == dt.timedelta(hours=12)
    assert policy.outage_min_hosts == 11
    assert policy.outage_failure_ratio == 0.25
    assert policy.probe_ttl == dt.timedelta(days=3)
    assert policy.discovery_every == dt.timedelta(weeks=2)


def test_native_values_are_taken_as_they_are() -> None:
    policy = Policy.from_settings(
        {"FRESHNESS_DEAD_AFTER_FAILURES": 4, "FRESHNESS_DEAD_AFTER_HOURS": 72.0}
    )
    assert policy.dead_after_failures == 4
    assert policy.dead_after == dt.timedelta(days=3)


def test_one_setting_changes_only_its_own_field() -> None:
    policy = Policy.from_settings({"FRESHNESS_DEAD_AFTER_HOURS": "48"})
    assert policy.dead_after == dt.timedelta(hours=48)
    default = Policy()
    assert policy.dead_after_failures == default.dead_after_failures
    assert policy.default_check_every == default.default_check_every
    assert policy.unverifiable_after == default.unverifiable_after


def test_canaries_from_text_split_on_commas_and_spaces() -> None:
    policy = Policy.from_settings(
        {"FRESHNESS_CANARY_URLS": "https://a.test/, https://b.test/  https://c.test/,"}
    )
    assert policy.canary_urls == ("https://a.test/", "https://b.test/", "https://c.test/")


def test_canaries_from_a_list_keep_their_order() -> None:
    policy = Policy.from_settings({"FRESHNESS_CANARY_URLS": ["https://z.test/", "https://a.test/"]})
    assert policy.canary_urls == ("https://z.test/", "https://a.test/")


@pytest.mark.parametrize("name", ["FRESHNESS_PROBE_TTL", "FRESHNESS_DISCOVERY_EVERY"])
def test_zero_interval_means_every_time(name: str) -> None:
    field = {"FRESHNESS_PROBE_TTL": "probe_ttl", "FRESHNESS_DISCOVERY_EVERY": "discovery_every"}
    policy = Policy.from_settings({name: "0"})
    assert getattr(policy, field[name]) == dt.timedelta(0)


def test_the_policy_is_frozen() -> None:
    policy = Policy()
    with pytest.raises(AttributeError):
        policy.dead_after_failures = 1  # type: ignore[misc]


# -- bad values ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FRESHNESS_DEAD_AFTER_FAILURES", "three"),
        ("FRESHNESS_DEAD_AFTER_HOURS", "two days"),
        ("FRESHNESS_UNVERIFIABLE_AFTER_BLOCKED", "1.5"),
        ("FRESHNESS_UNVERIFIABLE_AFTER_HOURS", "lots"),
        ("FRESHNESS_DEFAULT_CHECK_EVERY", "soon"),
        ("FRESHNESS_DEFAULT_CHECK_EVERY", "12"),
        ("FRESHNESS_DEFAULT_CHECK_EVERY", "0h"),
        ("FRESHNESS_OUTAGE_MIN_HOSTS", "many"),
        ("FRESHNESS_OUTAGE_FAILURE_RATIO", "most"),
        ("FRESHNESS_PROBE_TTL", "a while"),
        ("FRESHNESS_DISCOVERY_EVERY", "1M"),
    ],
)
def test_a_bad_value_is_a_policy_error_that_shows_it(name: str, value: str) -> None:
    with pytest.raises(PolicyError) as caught:
        Policy.from_settings({name: value})
    message = str(caught.value)
    assert message.startswith("bad FRESHNESS_ setting")
    assert repr(value) in message  # the offending value, so the user can find it


def test_a_policy_error_is_a_value_error() -> None:
    """Callers that catch ValueError (settings checks) catch it too."""
    with pytest.raises(ValueError):
        Policy.from_settings({"FRESHNESS_OUTAGE_MIN_HOSTS": "x"})


# -- parsed once per settings object -------------------------------------------------------------


def test_layered_settings_answer_with_the_same_policy_until_changed() -> None:
    settings = LayeredSettings(project={"FRESHNESS_DEAD_AFTER_FAILURES": "5"})
    first = Policy.from_settings(settings)
    assert first.dead_after_failures == 5
    assert Policy.from_settings(settings) is first
    settings.set("FRESHNESS_DEAD_AFTER_FAILURES", "6", priority="cmdline")
    changed = Policy.from_settings(settings)
    assert changed is not first
    assert changed.dead_after_failures == 6


def test_layered_settings_with_nothing_set_give_the_default_policy() -> None:
    assert Policy.from_settings(LayeredSettings()) == Policy()


def test_a_plain_dict_is_parsed_afresh_each_time() -> None:
    settings = {"FRESHNESS_DEAD_AFTER_FAILURES": "5"}
    first = Policy.from_settings(settings)
    settings["FRESHNESS_DEAD_AFTER_FAILURES"] = "8"
    assert first.dead_after_failures == 5
    assert Policy.from_settings(settings).dead_after_failures == 8


# -- the clock -----------------------------------------------------------------------------------


def test_clock_without_freshness_now_is_the_real_utc_clock() -> None:
    before = dt.datetime.now(dt.UTC)
    for settings in ({}, {"FRESHNESS_NOW": ""}, None):
        now = clock_from_settings(settings)
        assert now.utcoffset() == dt.timedelta(0)
        assert before <= now <= dt.datetime.now(dt.UTC)


def test_clock_with_freshness_now_is_that_time() -> None:
    now = clock_from_settings({"FRESHNESS_NOW": "2026-11-23T03:00:00Z"})
    assert now == dt.datetime(2026, 11, 23, 3, 0, tzinfo=dt.UTC)
    assert now.tzinfo is not None
    assert now.utcoffset() == dt.timedelta(0)


def test_clock_reads_freshness_now_from_layered_settings() -> None:
    settings = LayeredSettings(project={"FRESHNESS_NOW": "2027-01-02T10:30:00+00:00"})
    assert clock_from_settings(settings) == dt.datetime(2027, 1, 2, 10, 30, tzinfo=dt.UTC)


def test_clock_with_a_bad_freshness_now_is_a_policy_error() -> None:
    with pytest.raises(PolicyError, match="not an ISO timestamp: 'yesterday'"):
        clock_from_settings({"FRESHNESS_NOW": "yesterday"})


# -- timestamps ----------------------------------------------------------------------------------


def test_parse_timestamp_naive_is_utc() -> None:
    assert parse_timestamp("2026-11-23 03:00") == dt.datetime(2026, 11, 23, 3, 0, tzinfo=dt.UTC)
    assert parse_timestamp("2026-11-23") == dt.datetime(2026, 11, 23, tzinfo=dt.UTC)


def test_parse_timestamp_converts_an_offset_to_utc() -> None:
    parsed = parse_timestamp("2026-11-23T03:00:00+02:00")
    assert parsed == dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)
    assert parsed.tzinfo is dt.UTC


def test_parse_timestamp_accepts_z_and_surrounding_space() -> None:
    assert parse_timestamp("  2026-11-23T03:00:00Z \n") == dt.datetime(
        2026, 11, 23, 3, 0, tzinfo=dt.UTC
    )


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01", "23/11/2026"])
def test_parse_timestamp_rejects_what_is_not_iso(text: str) -> None:
    with pytest.raises(PolicyError, match="not an ISO timestamp"):
        parse_timestamp(text)

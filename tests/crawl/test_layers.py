"""LayeredSettings: the coordinator's Scrapy-free settings read exactly as Scrapy's do."""

from __future__ import annotations

import pytest
from scrapy.settings import Settings

from monitor.crawl.layers import LayeredSettings, build_settings, scrapy_settings

PROJECT = {
    "FRESHNESS_PROCESSES": "2",
    "FRESHNESS_DISCOVERY": "false",
    "DOWNLOAD_TIMEOUT": "12.5",
    "FRESHNESS_CANARY_URLS": "https://a.example/,https://b.example/",
    "FRESHNESS_HOSTS": '{"org.test": "127.0.0.1"}',
}
CMDLINE = {"FRESHNESS_PROCESSES": "3", "FRESHNESS_ORGS": ["nursegroups"], "LOG_LEVEL": "INFO"}


@pytest.mark.parametrize(
    ("getter", "name"),
    [
        ("getint", "FRESHNESS_PROCESSES"),
        ("getbool", "FRESHNESS_DISCOVERY"),
        ("getbool", "FRESHNESS_SOFT404_PROBE"),
        ("getfloat", "DOWNLOAD_TIMEOUT"),
        ("getlist", "FRESHNESS_CANARY_URLS"),
        ("getlist", "FRESHNESS_ORGS"),
        ("getdict", "FRESHNESS_HOSTS"),
        ("get", "LOG_LEVEL"),
        ("get", "FRESHNESS_DB"),
        ("getpriority", "FRESHNESS_PROCESSES"),
        ("getpriority", "FRESHNESS_DISCOVERY"),
        ("getpriority", "FRESHNESS_DEAD_AFTER_FAILURES"),
    ],
)
def test_every_getter_answers_what_scrapys_settings_answer(getter: str, name: str) -> None:
    layered = LayeredSettings(PROJECT, CMDLINE)
    real = build_settings(PROJECT, CMDLINE)
    assert getattr(layered, getter)(name) == getattr(real, getter)(name)


def test_a_lower_layer_never_overrides_a_higher_one() -> None:
    settings = LayeredSettings(PROJECT, CMDLINE)
    settings.set("FRESHNESS_PROCESSES", "9", priority="project")  # below the command line
    assert settings.getint("FRESHNESS_PROCESSES") == 3
    settings.set("FRESHNESS_PROCESSES", "5", priority="cmdline")
    assert settings.getint("FRESHNESS_PROCESSES") == 5
    with pytest.raises(ValueError, match="priority"):
        settings.set("FRESHNESS_PROCESSES", "1", priority="spider")


def test_a_copy_is_independent_and_a_bad_boolean_is_refused() -> None:
    settings = LayeredSettings({"FRESHNESS_DISCOVERY": "maybe"})
    copy = settings.copy()
    copy.set("FRESHNESS_ORGS", ["a"], priority="cmdline")
    assert settings.getlist("FRESHNESS_ORGS") == []
    with pytest.raises(ValueError, match="boolean"):
        settings.getbool("FRESHNESS_DISCOVERY")


def test_scrapy_settings_are_built_from_the_same_layers() -> None:
    layered = LayeredSettings(PROJECT, CMDLINE)
    layered.set("FRESHNESS_RUN_ID", 7, priority="cmdline")
    real = scrapy_settings(layered)
    assert isinstance(real, Settings)
    assert real.getint("FRESHNESS_RUN_ID") == 7
    assert real.getint("FRESHNESS_PROCESSES") == 3
    assert real.getpriority("FRESHNESS_PROCESSES") == 40
    assert real.getint("CONCURRENT_REQUESTS") == layered.getint("CONCURRENT_REQUESTS")
    # Scrapy's own defaults come with the real thing only.
    assert real.get("DOWNLOAD_HANDLERS_BASE") and layered.get("DOWNLOAD_HANDLERS_BASE") is None
    assert scrapy_settings(real) is real
    # Every setting chosen above Scrapy's defaults, as handed to a crawler process.
    chosen = {k: v for k, v in real.copy_to_dict().items() if (real.getpriority(k) or 0) > 0}
    assert layered.copy_to_dict() == chosen

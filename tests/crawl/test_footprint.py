"""What a crawl in this process loads: nothing that its settings switch off."""

from __future__ import annotations

from monitor.crawl.layers import build_settings
from monitor.crawl.process import for_given_spider
from tests.conftest import python_output

COOKIES = "scrapy.downloadermiddlewares.cookies.CookiesMiddleware"
REMOTE_CONTROL = "scrapy.extensions.remote_control.RemoteControl"
TELNET = "scrapy.extensions.telnet.TelnetConsole"


def test_components_switched_off_are_left_out_of_their_base() -> None:
    settings = for_given_spider(build_settings())
    assert COOKIES not in settings.getdict("DOWNLOADER_MIDDLEWARES_BASE")
    assert REMOTE_CONTROL not in settings.getdict("EXTENSIONS_BASE")
    assert TELNET not in settings.getdict("EXTENSIONS_BASE")
    # the rest of the base is Scrapy's own
    assert "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware" in settings.getdict(
        "DOWNLOADER_MIDDLEWARES_BASE"
    )
    assert settings.getlist("SPIDER_MODULES") == []


def test_a_component_switched_on_again_is_kept() -> None:
    settings = for_given_spider(build_settings({}, {"COOKIES_ENABLED": "true"}))
    assert COOKIES in settings.getdict("DOWNLOADER_MIDDLEWARES_BASE")
    assert REMOTE_CONTROL not in settings.getdict("EXTENSIONS_BASE")


def test_the_callers_settings_are_not_changed() -> None:
    settings = build_settings()
    for_given_spider(settings)
    assert COOKIES in settings.getdict("DOWNLOADER_MIDDLEWARES_BASE")


def test_a_crawl_never_imports_what_it_switched_off(tmp_path) -> None:
    # aiohttp is the remote control's; tldextract, requests and urllib3 the cookie
    # middleware's; scrapy_redis and redis come with the worker spider, which Scrapy's spider
    # loader would import to look for spiders.
    printed = python_output(
        "import subprocess, sys\n"
        "spawned = []\n"
        "subprocess.Popen.__init__ = lambda self, args, *a, **k: spawned.append(args)\n"
        "from monitor.crawl.layers import build_settings\n"
        "from monitor.crawl.process import run_crawl\n"
        f"settings = build_settings({{'FRESHNESS_DB': 'sqlite:///{tmp_path}/f.db'}})\n"
        "_, stats = run_crawl(settings, targets=[], record=False)\n"
        "print(stats.get('finish_reason'))\n"
        "heavy = ('aiohttp', 'tldextract', 'requests', 'urllib3', 'redis', 'scrapy_redis')\n"
        "print(sorted(name for name in heavy if name in sys.modules))\n"
        "import logging\n"
        "print([logging.getLogger(n).getEffectiveLevel() for n in"
        " ('scrapy', 'charset_normalizer', 'protego')])\n"
        "print(spawned)\n",
        cwd=tmp_path,
    )
    # The libraries that log per page build no records below LOG_LEVEL (INFO here), and no
    # process is started: Scrapy's "Platform" version line ran `uname -p` in a forked copy.
    assert printed.split("\n")[:4] == ["finished", "[]", "[20, 20, 20]", "[]"]

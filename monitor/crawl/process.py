"""Crawler processes: a crawl of the sites spider, or of a Redis worker, in this process.

With the settings layering (``layers``) and the pipelines (``pipelines``), this is the Scrapy
glue of ``monitor``. The spider observes; its items go to the pipeline that the settings name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from monitor.crawl.layers import LayeredSettings, scrapy_settings, targets_by_organisation

logger = logging.getLogger("freshness.crawl")

# Built-in components that are switched off by a setting, with the libraries they would load.
# Scrapy imports a component before it learns the component is off, and it imports every key of
# a component setting to deduplicate it, so naming one None still imports it. Left out of the
# ``_BASE`` dict, it is never imported: about 15 MB in each crawler process, measured.
_SWITCHED_OFF_COMPONENTS = (
    # aiohttp, for an HTTP server that runs code sent to it; on by default since Scrapy 2.19
    ("EXTENSIONS_BASE", "scrapy.extensions.remote_control.RemoteControl", "REMOTE_CONTROL_ENABLED"),
    # twisted.conch
    ("EXTENSIONS_BASE", "scrapy.extensions.telnet.TelnetConsole", "TELNETCONSOLE_ENABLED"),
    # tldextract, requests, urllib3 and filelock
    (
        "DOWNLOADER_MIDDLEWARES_BASE",
        "scrapy.downloadermiddlewares.cookies.CookiesMiddleware",
        "COOKIES_ENABLED",
    ),
)


def for_given_spider(settings: Settings) -> Settings:
    """A copy of ``settings`` for a crawl whose spider class is given, not looked up: without the
    components that are switched off (see ``_SWITCHED_OFF_COMPONENTS``), and with no spider
    modules to search (Scrapy's loader would import each, and the worker's brings redis)."""
    settings = settings.copy()
    for base_name, path, switch in _SWITCHED_OFF_COMPONENTS:
        if not settings.getbool(switch):
            base = {k: v for k, v in settings.getdict(base_name).items() if k != path}
            settings.set(base_name, base, priority=settings.getpriority(base_name) or "default")
    settings.set("SPIDER_MODULES", [], priority="cmdline")
    return settings


def _log_as_configured(settings: Settings) -> None:
    """Logging for a crawl in this process, once Scrapy has installed its handler.

    An unreachable robots.txt is logged with a traceback; for us it is an observation. And
    Scrapy filters by ``LOG_LEVEL`` in its handler, after a logger has built the record,
    so at our default (WARNING) every page's "Crawled" and "Scraped from" DEBUG records were
    built and thrown away. The "scrapy" logger's own level stops them before they are built
    (not the root's: Scrapy resets that when the crawl starts). The same goes for the
    libraries that log per page: charset_normalizer builds a TRACE record for each code page
    it rules out while guessing an encoding (11,000 in one crawler process of a
    1,000-organisation run), protego a DEBUG record per robots.txt rule.
    """
    raw = settings.get("LOG_LEVEL")
    level = raw if isinstance(raw, int) else logging.getLevelName(str(raw).upper())
    if isinstance(level, int) and settings.getbool("LOG_ENABLED"):
        for name in ("scrapy", "charset_normalizer", "protego"):
            logging.getLogger(name).setLevel(level)
    if isinstance(level, int) and level >= logging.WARNING:
        logging.getLogger("scrapy.downloadermiddlewares.robotstxt").setLevel(logging.CRITICAL)


ProgressCallback = Callable[[int, int, str], None]


def run_crawl(
    settings: Settings | LayeredSettings,
    *,
    targets: Iterable[dict[str, Any]] | None = None,
    target_counts: Mapping[str, int] | None = None,
    listed_domains: Sequence[str] = (),
    record: bool = True,
    collect: bool = False,
    progress: ProgressCallback | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Run the directory spider in this process. Returns the items (with ``collect``) and the
    crawl's stats.

    With ``record=False`` nothing is written anywhere (an ad-hoc ``freshness check URL``).
    ``progress(done, total, host)`` is called as organisations finish. ``listed_domains`` are
    the directory's sites, which discovery does not fetch as candidates. The crawl takes
    ``targets`` and empties the list as it schedules them; pass a list nobody reads after.
    ``targets`` may also be an iterator, read as the crawl goes; then ``target_counts``
    (targets by organisation) tells ``progress`` when each organisation is done, and
    ``listed_domains`` must include the targets' own domains.
    """
    from spiders.sites import DirectorySpider

    settings = for_given_spider(scrapy_settings(settings))
    if not record:
        settings.set("ITEM_PIPELINES", {}, priority="cmdline")
    items: list[dict[str, Any]] = []
    if target_counts is None:
        if targets is not None and not isinstance(targets, list):
            targets = list(targets)  # counted, then crawled
        target_counts = targets_by_organisation(targets or [])
    total = len(target_counts)
    on_item = _item_listener(items if collect else None, target_counts, progress)

    process = CrawlerProcess(settings)
    _log_as_configured(settings)
    crawler = process.create_crawler(DirectorySpider)
    # The signal manager keeps weak references: `on_item` lives until this function returns.
    crawler.signals.connect(on_item, signal=signals.item_scraped)
    if progress is not None:
        progress(0, total, "")
    kwargs: dict[str, Any] = {"listed_domains": list(listed_domains)}
    if targets is not None:
        kwargs["targets"] = targets  # taken, not copied: the spider empties it as it goes
    process.crawl(crawler, **kwargs)
    process.start()
    stats = dict(crawler.stats.get_stats()) if crawler.stats else {}
    return items, stats


def _item_listener(
    items: list[dict[str, Any]] | None,
    target_counts: Mapping[str, int],
    progress: ProgressCallback | None,
) -> Callable[..., None]:
    """The crawl's ``item_scraped`` handler: it keeps each item in ``items`` (unless None) and
    calls ``progress`` as an organisation's last target (by ``target_counts``) is scraped."""
    remaining = dict(target_counts)
    total = len(remaining)
    done = 0

    def on_item(item: dict[str, Any], **_: Any) -> None:
        nonlocal done
        if items is not None:
            items.append(item)
        org_id = item.get("org_id")
        if progress is None or item.get("role") in ("candidate", "canary") or not org_id:
            return
        if org_id in remaining:
            remaining[org_id] -= 1
            if remaining[org_id] == 0:
                del remaining[org_id]
                done += 1
        progress(done, total, urlsplit(item.get("url") or "").hostname or "")

    return on_item


def run_worker(
    settings: Settings | LayeredSettings, redis_url: str, *, idle: int
) -> dict[str, Any]:
    """Process queued organisations until the queue stays empty for ``idle`` seconds."""
    from spiders.worker import WorkerSpider

    settings = for_given_spider(scrapy_settings(settings))
    settings.set("REDIS_URL", redis_url, priority="cmdline")
    settings.set("MAX_IDLE_TIME_BEFORE_CLOSE", idle, priority="cmdline")
    settings.set("ITEM_PIPELINES", {"monitor.runs.worker.WorkerPipeline": 300}, priority="cmdline")
    process = CrawlerProcess(settings)
    _log_as_configured(settings)
    crawler = process.create_crawler(WorkerSpider)
    process.crawl(crawler)
    process.start()
    return dict(crawler.stats.get_stats()) if crawler.stats else {}

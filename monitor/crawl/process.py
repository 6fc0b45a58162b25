"""The Scrapy glue: settings, the targets of a run, recording observations, running a crawl.

This is the one place in ``monitor`` that imports Scrapy. The spider observes; the pipeline
here classifies each observation, writes it in batches (so a killed run keeps what it saw),
and, when the crawl ends, hands the run to ``monitor.app.service.conclude_run``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from monitor.crawl.layers import LayeredSettings, scrapy_settings
from monitor.judging.classify import Outcome, classify
from monitor.judging.policy import Policy, clock_from_settings, parse_timestamp
from storage.records import Observation

if TYPE_CHECKING:
    from storage.db import Store

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


def build_settings(
    project: Mapping[str, Any] | None = None, cmdline: Mapping[str, Any] | None = None
) -> Settings:
    """Scrapy settings with their priorities: defaults < project (module, then config file) <
    command line (``-s NAME=VALUE``)."""
    settings = Settings()
    settings.setmodule("spiders.settings", priority="project")
    for name, value in (project or {}).items():
        settings.set(name, value, priority="project")
    for name, value in (cmdline or {}).items():
        settings.set(name, value, priority="cmdline")
    return settings


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


def item_to_observation(item: Mapping[str, Any]) -> Observation:
    fetched = item.get("fetched_at")
    if isinstance(fetched, str):
        fetched_at = parse_timestamp(fetched)
    elif isinstance(fetched, dt.datetime):
        fetched_at = fetched
    else:
        fetched_at = dt.datetime.now(dt.UTC)
    facts = dict(item.get("facts") or {})
    facts["role"] = item.get("role")
    return Observation(
        org_id=item.get("org_id") or "",
        link_id=item.get("link_id"),
        url=item["url"],
        fetched_at=fetched_at,
        status=item.get("status"),
        final_url=item.get("final_url"),
        redirect_chain=list(item.get("redirect_chain") or []),
        error=item.get("error"),
        error_message=item.get("error_message"),
        elapsed_ms=item.get("elapsed_ms"),
        headers=dict(item.get("headers") or {}),
        facts=facts,
    )


def record_outcome(observation: Observation, outcome: Outcome, stored_text: int) -> None:
    """Keep the verdict's reasons with the observation, and only an excerpt of the page text:
    the classifier has read it all; the store need not hold 20,000 characters a page."""
    observation.category = outcome.category
    observation.evidence = list(outcome.evidence)
    observation.confidence = outcome.confidence
    text = observation.facts.get("text")
    if isinstance(text, str) and len(text) > stored_text:
        observation.facts["text"] = text[:stored_text]
        observation.facts["text_stored_chars"] = stored_text
    probe = observation.facts.get("probe")
    if isinstance(probe, dict) and isinstance(probe.get("text"), str):
        # The probe's text was compared with the page's; an excerpt is evidence enough.
        observation.facts["probe"] = {**probe, "text": probe["text"][:stored_text]}


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
        from monitor.runs.plan import targets_by_organisation

        if targets is not None and not isinstance(targets, list):
            targets = list(targets)  # counted, then crawled
        target_counts = targets_by_organisation(targets or [])
    remaining = dict(target_counts)
    total = len(remaining)
    done = 0

    def on_item(item: dict[str, Any], **_: Any) -> None:
        nonlocal done
        if collect:
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


class _ObservationPipeline:
    """Classify each observation on its full text, keep the verdict's reasons with it, and
    keep it in batches of ``FRESHNESS_BATCH_SIZE`` under ``FRESHNESS_RUN_ID``; subclasses say
    where a batch goes (``flush``).

    Reads ``FRESHNESS_BATCH_SIZE``, ``FRESHNESS_STORED_TEXT``.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.settings = crawler.settings
        self.run_id: int | None = self.settings.getint("FRESHNESS_RUN_ID") or None
        self.batch_size = max(1, self.settings.getint("FRESHNESS_BATCH_SIZE"))
        self.stored_text = self.settings.getint("FRESHNESS_STORED_TEXT")
        self.buffer: list[Observation] = []

    @classmethod
    def from_crawler(cls, crawler: Any) -> Any:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        observation = item_to_observation(item)
        observation.run_id = self.run_id or item.get("run_id")
        if item.get("role") == "canary":
            self.canary(classify(observation))  # not the directory's business, not stored
            return item
        if item.get("role") != "candidate":  # candidates are judged when the run concludes
            record_outcome(observation, classify(observation), self.stored_text)
        self.buffer.append(observation)
        if len(self.buffer) >= self.batch_size:
            self.flush()
        return item

    def canary(self, outcome: Outcome) -> None:
        # The parent judges whether this machine was online: tell it.
        print(f"canary {outcome.category}", flush=True)

    def flush(self) -> None:
        raise NotImplementedError

    def close_spider(self) -> None:
        self.flush()


class StorePipeline(_ObservationPipeline):
    """Records each batch in the store (a killed crawl keeps what it saw). The single-process
    and the worker recorders build on it.

    Reads ``FRESHNESS_DB``, ``FRESHNESS_BATCH_SIZE``, ``FRESHNESS_STORED_TEXT``.
    """

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self.store: Store | None = None

    def open_spider(self) -> None:
        from monitor.runs.plan import open_store

        self.store = open_store(self.settings)

    def flush(self) -> None:
        if not self.buffer or self.store is None:
            return
        with self.store.transaction() as repo:
            repo.record_observations(self.buffer)
        self.buffer = []

    def close_spider(self) -> None:
        self.flush()
        if self.store is not None:
            self.store.close()


class ToParentPipeline(_ObservationPipeline):
    """A crawler process's recorder: hands each observation to the coordinating process, one
    ``observation <json>`` line on stdout; the coordinator records them (``monitor.runs.shards``).
    A crawler process never opens the store, so it never loads SQLAlchemy (about 20 MB a
    process, measured).
    """

    parent_gone = False

    def flush(self) -> None:
        lines = ["observation " + json.dumps(o.to_plain()) + "\n" for o in self.buffer]
        self.buffer = []
        if self.parent_gone:
            return
        try:
            sys.stdout.writelines(lines)
            sys.stdout.flush()
        except BrokenPipeError:
            # The coordinator is gone, and the run with it: stop crawling for nobody.
            self.parent_gone = True
            logger.error("the coordinating process is gone; stopping this crawler")
            self.crawler.stop()


class RecordObservationsPipeline(StorePipeline):
    """A single-process run's recorder: starts the run, records as ``StorePipeline`` does,
    and concludes the run from the store when the crawl closes.

    Reads ``FRESHNESS_DB``, ``FRESHNESS_BATCH_SIZE``, ``FRESHNESS_NOW`` and the detection policy.
    """

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self.policy = Policy.from_settings(self.settings)
        self.canaries: list[Outcome] = []
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    def open_spider(self) -> None:
        from monitor.app.service import start_run

        super().open_spider()
        assert self.store is not None
        self.run_id = start_run(self.store, clock_from_settings(self.settings))
        self.crawler.stats.set_value("freshness/run_id", self.run_id)

    def canary(self, outcome: Outcome) -> None:
        self.canaries.append(outcome)

    def close_spider(self) -> None:
        pass  # the run is concluded on spider_closed, with the crawl's finish reason

    def spider_closed(self, spider: Any = None, reason: str = "finished") -> None:
        from monitor.app.service import conclude_run

        if self.store is None or self.run_id is None:
            return
        self.flush()
        summary = conclude_run(
            self.store,
            self.run_id,
            self.canaries,
            now=clock_from_settings(self.settings),
            policy=self.policy,
            interrupted=reason != "finished",
            finish_reason=reason,
        )
        self.crawler.stats.set_value("freshness/summary", summary)
        self.store.close()


class WorkerPipeline(StorePipeline):
    """A distributed worker's recorder: observations go to the shared store under the run
    named in each item; an organisation is reported done to Redis only after its observations
    are committed, so a worker killed at any moment loses nothing the coordinator counts on.

    Reads ``FRESHNESS_DB``, ``FRESHNESS_BATCH_SIZE``, ``FRESHNESS_STORED_TEXT``, ``REDIS_URL``.
    """

    def __init__(self, crawler: Any) -> None:
        from monitor.runs.distributed import redis_client

        super().__init__(crawler)
        self.run_id = None  # each queue message carries its own run
        self.redis = redis_client(self.settings.get("REDIS_URL"))

    def process_item(self, item: Any) -> Any:
        from monitor.runs.distributed import mark_done

        if "org_done" in item:
            self.flush()
            mark_done(self.redis, item["run_id"], item["org_done"])
            return item
        return super().process_item(item)


def run_worker(
    settings: Settings | LayeredSettings, redis_url: str, *, idle: int
) -> dict[str, Any]:
    """Process queued organisations until the queue stays empty for ``idle`` seconds."""
    from spiders.worker import WorkerSpider

    settings = for_given_spider(scrapy_settings(settings))
    settings.set("REDIS_URL", redis_url, priority="cmdline")
    settings.set("MAX_IDLE_TIME_BEFORE_CLOSE", idle, priority="cmdline")
    settings.set(
        "ITEM_PIPELINES", {"monitor.crawl.process.WorkerPipeline": 300}, priority="cmdline"
    )
    process = CrawlerProcess(settings)
    _log_as_configured(settings)
    crawler = process.create_crawler(WorkerSpider)
    process.crawl(crawler)
    process.start()
    return dict(crawler.stats.get_stats()) if crawler.stats else {}

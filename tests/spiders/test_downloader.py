"""Scrapy parts replaced for a monitor: the downloader forgets an idle host's slot after
FRESHNESS_IDLE_SLOT_SECONDS, never sooner; crawl stats are read without Scrapy's shim; the
robots.txt middleware holds the rules of FRESHNESS_ROBOTS_PARSERS hosts at most, takes a
robots.txt reached by a redirect as the new host's, and reads a 4xx robots.txt as no rules."""

from __future__ import annotations

from pathlib import Path
from time import monotonic

from scrapy import Request
from scrapy.utils.test import get_crawler

from monitor.crawl.layers import build_settings
from spiders.handlers import ShortIdleSlotDownloader


def test_idle_slots_are_dropped_after_their_delay_and_the_idle_seconds() -> None:
    assert build_settings().get("DOWNLOADER") == "spiders.handlers.ShortIdleSlotDownloader"
    # No reactor runs here: the slot collector's timer is never waited for.
    crawler = get_crawler(
        settings_dict={
            "FRESHNESS_IDLE_SLOT_SECONDS": "12",
            "DOWNLOAD_DELAY": 0.25,
            "TWISTED_REACTOR": None,
        }
    )
    downloader = ShortIdleSlotDownloader(crawler)
    try:
        assert downloader._SLOT_GC_INTERVAL == 4.0
        now = monotonic()
        slots = {}
        for host in ("idle", "recent", "busy", "throttled"):
            _, slots[host] = downloader._get_slot(Request(f"http://{host}.test/"))
        slots["idle"].lastseen = now - 13
        slots["recent"].lastseen = now - 5
        slots["busy"].lastseen = now - 60
        slots["busy"].active.add(Request("http://busy.test/page"))  # queued or in flight
        slots["throttled"].lastseen = now - 13
        slots["throttled"].delay = 10.0  # its delay has not run out 12 s before now
        downloader._slot_gc()
        assert sorted(downloader.slots) == ["busy.test", "recent.test", "throttled.test"]
    finally:
        downloader.close()


def test_crawl_stats_count_as_scrapys_without_its_attribute_shim() -> None:
    from scrapy.statscollectors import StatsCollector

    from spiders.stats import PlainMemoryStatsCollector

    assert build_settings().get("STATS_CLASS") == "spiders.stats.PlainMemoryStatsCollector"
    crawler = get_crawler(settings_dict={"TWISTED_REACTOR": None})
    stats = PlainMemoryStatsCollector(crawler)
    assert StatsCollector.__getattribute__ is not object.__getattribute__  # Scrapy's shim
    assert type(stats).__getattribute__ is object.__getattribute__
    stats.open_spider()
    stats.inc_value("pages")
    stats.inc_value("pages", 2)
    stats.max_value("largest", 5)
    stats.max_value("largest", 3)
    stats.set_value("reason", "finished")
    assert stats.get_stats() == {"pages": 3, "largest": 5, "reason": "finished"}
    assert stats.get_value("missing", "none") == "none"


def test_robots_rules_of_the_least_recently_used_hosts_are_dropped_and_fetched_again() -> None:
    import asyncio
    from types import SimpleNamespace

    from scrapy.http import TextResponse
    from twisted.internet.defer import Deferred

    from spiders.robotscache import BoundedRobotsTxtMiddleware

    middlewares = build_settings().getdict("DOWNLOADER_MIDDLEWARES")
    assert middlewares["spiders.robotscache.BoundedRobotsTxtMiddleware"] == 100
    assert middlewares["scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware"] is None
    crawler = get_crawler(
        settings_dict={
            "ROBOTSTXT_OBEY": True,
            "FRESHNESS_ROBOTS_PARSERS": "3",
            "TWISTED_REACTOR": None,
        }
    )
    crawler.stats.open_spider()
    fetched: list[str] = []

    async def download_async(request: Request) -> TextResponse:
        fetched.append(request.url)
        return TextResponse(request.url, body=b"User-agent: *\nDisallow: /private/\n")

    crawler.engine = SimpleNamespace(download_async=download_async)
    middleware = BoundedRobotsTxtMiddleware(crawler)
    # A host whose robots.txt is still on its way: requests wait on it, so it must stay. It
    # takes one of the three places; a.test, b.test and c.test share the other two.
    middleware._parsers["pending.test"] = Deferred()

    async def rules(host: str, path: str = "/") -> bool:
        parser = await middleware.robot_parser(Request(f"http://{host}{path}"))
        return parser.allowed(f"http://{host}{path}", "freshness")

    async def crawl() -> list[bool]:
        # a.test used again before c.test comes: b.test is the least recently used
        allowed = [await rules(host) for host in ("a.test", "b.test", "a.test", "c.test")]
        allowed.append(await rules("b.test", "/private/x"))  # dropped: asked for again
        return allowed

    assert asyncio.run(crawl()) == [True, True, True, True, False]
    assert fetched == [
        "http://a.test/robots.txt",
        "http://b.test/robots.txt",
        "http://c.test/robots.txt",
        "http://b.test/robots.txt",
    ]
    assert list(middleware._parsers) == ["c.test", "pending.test", "b.test"]
    assert isinstance(middleware._parsers["pending.test"], Deferred)


def test_robots_cache_entries_are_one_file_each_and_unreadable_ones_are_misses(tmp_path) -> None:
    from scrapy.http import TextResponse
    from scrapy.spiders import Spider

    from spiders.robotscache import SafeFilesystemCacheStorage

    crawler = get_crawler(settings_dict={"HTTPCACHE_DIR": str(tmp_path), "TWISTED_REACTOR": None})
    spider = Spider("directory")
    spider.crawler = crawler
    storage = SafeFilesystemCacheStorage(crawler.settings)
    storage.open_spider(spider)
    request = Request("http://a.test/robots.txt")
    body = b"User-agent: *\nDisallow: /private/\n"
    response = TextResponse(
        "http://a.test/robots.txt",
        status=200,
        headers={"ETag": '"v1"', "Content-Type": "text/plain"},
        body=body,
    )
    assert storage.retrieve_response(spider, Request(request.url)) is None  # nothing yet
    storage.store_response(spider, request, response)
    (entry,) = (p for p in tmp_path.rglob("*") if p.is_file())
    assert entry.suffix == ".entry"  # one file, and no partial one left beside it

    again = Request(request.url)
    cached = storage.retrieve_response(spider, again)
    assert isinstance(cached, TextResponse)
    assert (cached.url, cached.status, cached.body) == (response.url, 200, body)
    assert cached.headers[b"ETag"] == b'"v1"'  # what the next run revalidates with
    assert again.meta["cache_timestamp"] > 0

    for damage in (b"", b"not a pickle", entry.read_bytes()[:20]):
        entry.write_bytes(damage)  # half-written by a crashed process, or anything else
        assert storage.retrieve_response(spider, Request(request.url)) is None
    # An entry in Scrapy's own layout (a directory of files) is a miss too, not an error.
    entry.unlink()
    old = Path(f"{entry.with_suffix('')}")
    old.mkdir()
    (old / "pickled_meta").write_bytes(b"x")
    assert storage.retrieve_response(spider, Request(request.url)) is None

    # A cache that cannot be written costs the next run a download, never this fetch.
    blocked = Request("http://b.test/robots.txt")
    where = storage._entry_path(spider, blocked)
    where.parent.parent.mkdir(parents=True, exist_ok=True)
    where.parent.write_bytes(b"a file where the entry's directory should be")
    storage.store_response(spider, blocked, response)  # logged, not raised
    assert storage.retrieve_response(spider, Request(blocked.url)) is None


def test_a_redirected_robots_txt_holds_for_its_new_host_and_a_404_allows_all() -> None:
    import asyncio
    from types import SimpleNamespace

    from scrapy.http import HtmlResponse, TextResponse

    from spiders.robotscache import BoundedRobotsTxtMiddleware

    crawler = get_crawler(settings_dict={"ROBOTSTXT_OBEY": True, "TWISTED_REACTOR": None})
    crawler.stats.open_spider()
    fetched: list[str] = []
    # What the engine hands back after Scrapy's redirect middleware has followed the hops.
    answers = {
        "http://old.test/robots.txt": TextResponse(
            "https://new.test/robots.txt", body=b"User-agent: *\nDisallow: /private/\n"
        ),
        "http://gone.test/robots.txt": TextResponse(
            "http://parking.test/", body=b"User-agent: *\nDisallow: /\n"
        ),
        # A "not found" page that happens to read as rules: a 4xx means no rules at all.
        "http://missing.test/robots.txt": HtmlResponse(
            "http://missing.test/robots.txt",
            status=404,
            body=b"<html><body><pre>\nUser-agent: *\nDisallow: /\n</pre></body></html>",
        ),
    }

    async def download_async(request: Request) -> TextResponse:
        fetched.append(request.url)
        return answers.get(request.url) or TextResponse(request.url, body=b"")

    crawler.engine = SimpleNamespace(download_async=download_async)
    middleware = BoundedRobotsTxtMiddleware(crawler)

    async def allowed(url: str) -> bool:
        parser = await middleware.robot_parser(Request(url))
        return parser.allowed(url, "freshness")

    async def crawl() -> list[bool]:
        return [
            await allowed("http://old.test/private/a"),
            await allowed("https://new.test/private/b"),  # the same file: not asked again
            await allowed("https://new.test/open"),
            await allowed("http://gone.test/anything"),
            await allowed("http://parking.test/anything"),  # a page, not its robots.txt
            await allowed("http://missing.test/anything"),
        ]

    assert asyncio.run(crawl()) == [False, False, True, False, True, True]
    assert fetched == [
        "http://old.test/robots.txt",
        "http://gone.test/robots.txt",
        "http://parking.test/robots.txt",
        "http://missing.test/robots.txt",
    ]

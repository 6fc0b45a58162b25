"""The crawl's scheduler and queue (spiders/scheduler.py, spiders/pqueues.py), over Scrapy's
real downloader and queues: no network, no crawl."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from scrapy import Request
from scrapy.core.downloader import Downloader
from scrapy.utils.test import get_crawler

from spiders import settings as crawl_settings
from spiders.pqueues import HostAwarePriorityQueue
from spiders.scheduler import StartCountingScheduler, start_request_left
from spiders.sites import DirectorySpider


@pytest.fixture
def scheduler() -> Any:
    # freshness's own settings, and no reactor: nothing is crawled.
    settings = {k: v for k, v in vars(crawl_settings).items() if k.isupper()}
    settings["TWISTED_REACTOR"] = None
    crawler = get_crawler(DirectorySpider, settings)
    crawler.spider = DirectorySpider.from_crawler(crawler, targets=[])
    # The engine's downloader is what the queue asks how busy each host is.
    crawler.engine = SimpleNamespace(downloader=Downloader(crawler))
    made = StartCountingScheduler.from_crawler(crawler)
    made.open(crawler.spider)
    yield made
    made.close("finished")


def _start(url: str) -> Request:
    return Request(url, dont_filter=True, meta={"is_start_request": True})


def test_the_defaults_use_them(scheduler: Any) -> None:
    assert isinstance(scheduler, StartCountingScheduler)
    assert isinstance(scheduler.mqs, HostAwarePriorityQueue)


def test_only_start_requests_count_as_waiting_starts(scheduler: Any) -> None:
    left: list[str] = []
    scheduler.crawler.signals.connect(
        lambda request, **_: left.append(request.url), signal=start_request_left, weak=False
    )
    scheduler.enqueue_request(_start("http://a.test/"))
    scheduler.enqueue_request(_start("http://b.test/"))
    scheduler.enqueue_request(Request("http://a.test/fr0123", dont_filter=True))
    assert (scheduler.waiting_starts, len(scheduler)) == (2, 3)
    popped = [scheduler.next_request().url for _ in range(3)]
    assert sorted(popped) == ["http://a.test/", "http://a.test/fr0123", "http://b.test/"]
    assert scheduler.waiting_starts == 0
    assert sorted(left) == ["http://a.test/", "http://b.test/"]  # the probe is not a start
    assert scheduler.next_request() is None
    assert not scheduler.has_pending_requests()


def test_a_host_with_a_download_in_progress_waits_for_the_idle_ones(scheduler: Any) -> None:
    downloader = scheduler.crawler.engine.downloader
    busy = Request("http://busy.test/", dont_filter=True)
    _, slot = downloader._get_slot(busy)
    slot.active.add(busy)  # as the downloader holds a request while it is fetched
    for url in ("http://busy.test/groups/", "http://idle1.test/", "http://idle2.test/"):
        scheduler.enqueue_request(Request(url, dont_filter=True))
    peeked = scheduler.mqs.peek().url
    order = [scheduler.next_request().url for _ in range(2)]
    assert peeked == order[0]  # peek names what pop gives next
    assert sorted(order) == ["http://idle1.test/", "http://idle2.test/"]
    assert scheduler.next_request().url == "http://busy.test/groups/"  # the least busy left
    assert len(scheduler) == 0


def test_hosts_take_turns(scheduler: Any) -> None:
    for host in ("a", "b"):
        for page in ("1", "2"):
            scheduler.enqueue_request(Request(f"http://{host}.test/{page}", dont_filter=True))
    hosts = [scheduler.next_request().url.split("/")[2] for _ in range(4)]
    assert hosts[0] != hosts[1] and hosts[2] != hosts[3]
    assert sorted(hosts) == ["a.test", "a.test", "b.test", "b.test"]
    assert len(scheduler) == 0 and scheduler.next_request() is None

"""The baseline: a bare Scrapy spider that only GETs the listed URLs.

No robots.txt, no probes, no parsing, no storage: each response is counted and dropped. It
uses freshness's resolver override (``spiders.resolver``) so it reaches the same simulated
web, and freshness's concurrency (``CONCURRENT_REQUESTS``, ``CONCURRENT_REQUESTS_PER_DOMAIN``).
With ``--polite`` it also takes freshness's politeness defaults from ``spiders/settings.py`` (robots.txt, download
delay, AutoThrottle), to separate the cost of politeness from the cost of freshness's work.

    python -m bench.bare_spider --urls urls.txt --hosts hosts.json --stats stats.json
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import CrawlerProcess


class BareSpider(Spider):
    name = "bare"

    def __init__(self, urls: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = urls
        self.statuses: Counter[str] = Counter()

    async def start(self) -> AsyncIterator[Request]:
        for url in self.urls:
            yield Request(url, callback=self.parse, errback=self.failed, dont_filter=True)

    def parse(self, response: Any) -> None:
        self.statuses[str(response.status)] += 1

    def failed(self, failure: Any) -> None:
        self.statuses[type(failure.value).__name__] += 1


def settings_for(hosts: dict[str, str], *, polite: bool) -> dict[str, Any]:
    import spiders.settings as freshness_defaults

    settings: dict[str, Any] = {
        "TWISTED_DNS_RESOLVER": "spiders.resolver.OverridableResolver",
        "FRESHNESS_HOSTS": hosts,
        "FRESHNESS_HOSTS_ONLY": True,
        "CONCURRENT_REQUESTS": freshness_defaults.CONCURRENT_REQUESTS,
        "CONCURRENT_REQUESTS_PER_DOMAIN": freshness_defaults.CONCURRENT_REQUESTS_PER_DOMAIN,
        "DOWNLOAD_TIMEOUT": freshness_defaults.DOWNLOAD_TIMEOUT,
        "HTTPERROR_ALLOW_ALL": True,
        "ROBOTSTXT_OBEY": False,
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
    }
    if polite:
        for name in (
            "ROBOTSTXT_OBEY",
            "DOWNLOAD_DELAY",
            "AUTOTHROTTLE_ENABLED",
            "AUTOTHROTTLE_START_DELAY",
            "AUTOTHROTTLE_MAX_DELAY",
            "AUTOTHROTTLE_TARGET_CONCURRENCY",
            "RETRY_TIMES",
            "COOKIES_ENABLED",
        ):
            settings[name] = getattr(freshness_defaults, name)
    return settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--urls", type=Path, required=True, help="one URL a line")
    parser.add_argument("--hosts", type=Path, required=True, help="JSON: host -> address")
    parser.add_argument("--stats", type=Path, required=True, help="where to write the counts")
    parser.add_argument("--polite", action="store_true", help="freshness's politeness defaults")
    args = parser.parse_args(argv)
    urls = [u for u in args.urls.read_text().split() if u]
    hosts = json.loads(args.hosts.read_text())
    process = CrawlerProcess(settings_for(hosts, polite=args.polite))
    crawler = process.create_crawler(BareSpider)
    process.crawl(crawler, urls=urls)
    process.start()
    spider = crawler.spider
    stats = crawler.stats.get_stats() if crawler.stats else {}
    args.stats.write_text(
        json.dumps(
            {
                "urls": len(urls),
                "outcomes": dict(spider.statuses) if spider else {},
                "finish_reason": stats.get("finish_reason"),
                "requests": stats.get("downloader/request_count"),
            }
        )
    )


if __name__ == "__main__":
    main()

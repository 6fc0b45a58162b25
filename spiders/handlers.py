"""HTTP downloads for a monitor of many hosts, a few pages each.

Twisted's connection pool keeps an idle persistent connection for 240 seconds. Worse for a
monitor, a connection the server has closed stays in the pool too, with its protocol,
transport and timer, until those 240 seconds are up or the next request to that host. A
crawler visits each host for a few pages, seconds apart, and then never again, so it ended
a 10,000-organisation run holding several thousand dead connections (about 3,900 per crawler
process at one moment, against about 600 open sockets).
"""

from __future__ import annotations

from typing import Any

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler


class ShortIdleHTTP11DownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler, with idle connections dropped after
    ``FRESHNESS_IDLE_CONNECTION_SECONDS`` instead of Twisted's 240."""

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        # Scrapy builds the pool itself and sets its other knobs the same way.
        self._pool.cachedConnectionTimeout = crawler.settings.getfloat(
            "FRESHNESS_IDLE_CONNECTION_SECONDS"
        )

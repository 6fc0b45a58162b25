"""HTTP downloads for a monitor of many hosts, a few pages each.

Twisted's connection pool keeps an idle persistent connection for 240 seconds. Worse for a
monitor, a connection the server has closed stays in the pool too, with its protocol,
transport and timer, until those 240 seconds are up or the next request to that host. A
crawler visits each host for a few pages, seconds apart, and then never again, so it ended
a 10,000-organisation run holding several thousand dead connections (about 3,900 per crawler
process at one moment, against about 600 open sockets).

Scrapy's downloader likewise keeps each host's slot (its queue, its delay, AutoThrottle's
reading of it) for 60 to 120 seconds after the host's last request: about 4,200 slots alive
in one crawler process at once, in the same run.
"""

from __future__ import annotations

from typing import Any

from scrapy.core.downloader import Downloader
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


class ShortIdleSlotDownloader(Downloader):
    """Scrapy's downloader, dropping a host's slot once it has been idle for
    ``FRESHNESS_IDLE_SLOT_SECONDS`` past its delay (checked every third of that), instead of
    Scrapy's 60 seconds checked every 60.

    Politeness holds: a slot is only dropped with nothing queued or in flight, after its delay
    has run out, and a host that comes back gets a new slot at the start delay, which is at
    least ``DOWNLOAD_DELAY``.
    """

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self._idle_slot_seconds = max(1.0, crawler.settings.getfloat("FRESHNESS_IDLE_SLOT_SECONDS"))
        self._SLOT_GC_INTERVAL = self._idle_slot_seconds / 3

    def _slot_gc(self, age: float = 60) -> None:
        super()._slot_gc(age=self._idle_slot_seconds)

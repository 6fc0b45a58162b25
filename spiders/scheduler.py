"""Scrapy's scheduler, counting the start requests it holds.

``DirectorySpider.start`` admits a new organisation while fewer than
``FRESHNESS_START_BACKLOG`` start requests wait here. Counting every waiting request instead
(a host's probes and discovery pages too) held new hosts back while earlier ones finished,
so the last hosts started late and their chains of requests, each a per-host delay apart,
were the tail of a pass.
"""

from __future__ import annotations

from typing import Any

from scrapy.core.scheduler import Scheduler

#: Sent (with ``request``) when a start request leaves the scheduler for the downloader.
start_request_left = object()


class StartCountingScheduler(Scheduler):
    """``waiting_starts``: how many start requests wait in the queues now."""

    waiting_starts = 0

    def enqueue_request(self, request: Any) -> bool:
        stored = super().enqueue_request(request)
        if stored and request.meta.get("is_start_request"):
            self.waiting_starts += 1
        return stored

    def next_request(self) -> Any:
        request = super().next_request()
        if request is not None and request.meta.get("is_start_request"):
            self.waiting_starts -= 1
            self.crawler.signals.send_catch_log(signal=start_request_left, request=request)
        return request

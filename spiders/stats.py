"""Scrapy's in-memory crawl stats, without a cost on every attribute read.

Scrapy 2.19's ``StatsCollector`` defines ``__getattribute__`` to wrap its methods in a warning
about a deprecated ``spider`` argument. Every attribute read of a collector, ``self._stats``
inside its own methods included, then first formats a name, looks for a cached wrapper, and
raises and catches an ``AttributeError``. A crawl updates its stats several times a request:
1.1% of a 1,000-organisation pass's profile was that method's own time. The methods still
accept ``spider``; only the warning is gone.
"""

from __future__ import annotations

from scrapy.statscollectors import MemoryStatsCollector


class PlainMemoryStatsCollector(MemoryStatsCollector):
    """``MemoryStatsCollector`` with Python's own attribute lookup."""

    __getattribute__ = object.__getattribute__

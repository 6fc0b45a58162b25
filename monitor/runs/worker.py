"""A distributed worker's recorder, built by Scrapy inside ``freshness worker``'s crawl."""

from __future__ import annotations

from typing import Any

from monitor.crawl.pipelines import StorePipeline
from monitor.runs.distributed import mark_done, redis_client


class WorkerPipeline(StorePipeline):
    """A distributed worker's recorder: observations go to the shared store under the run
    named in each item; an organisation is reported done to Redis only after its observations
    are committed, so a worker killed at any moment loses nothing the coordinator counts on.

    Reads ``FRESHNESS_DB``, ``FRESHNESS_BATCH_SIZE``, ``FRESHNESS_STORED_TEXT``, ``REDIS_URL``.
    """

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self.run_id = None  # each queue message carries its own run
        self.redis = redis_client(self.settings.get("REDIS_URL"))

    def process_item(self, item: Any) -> Any:
        if "org_done" in item:
            self.flush()
            mark_done(self.redis, item["run_id"], item["org_done"])
            return item
        return super().process_item(item)

"""The recorder of a run crawled in this process (``scrapy crawl directory``, or ``freshness
run`` with one process): it starts the run, records, and concludes the run when the crawl ends.

Every crawler process imports the pipeline classes its settings name, including this one, so
this module loads no SQLAlchemy itself (about 18 MB a process, measured): the run's lifecycle is
imported where the pipeline uses it, in a crawl that records to the store.
"""

from __future__ import annotations

from typing import Any

from monitor.crawl.pipelines import StorePipeline
from monitor.judging.classify import Outcome
from monitor.judging.policy import Policy, clock_from_settings


class RecordObservationsPipeline(StorePipeline):
    """A single-process run's recorder: starts the run, records as ``StorePipeline`` does,
    and concludes the run from the store when the crawl closes.

    Reads ``FRESHNESS_DB``, ``FRESHNESS_BATCH_SIZE``, ``FRESHNESS_NOW`` and the detection policy.
    """

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self.policy = Policy.from_settings(self.settings)
        self.canaries: list[Outcome] = []
        # Imported here: this module is imported by coordinators, which never load Scrapy;
        # the pipeline itself is only built inside a crawl.
        from scrapy import signals

        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    def open_spider(self) -> None:
        from monitor.runs.lifecycle import start_run

        super().open_spider()
        assert self.store is not None
        self.run_id = start_run(self.store, clock_from_settings(self.settings))
        self.crawler.stats.set_value("freshness/run_id", self.run_id)

    def canary(self, outcome: Outcome) -> None:
        self.canaries.append(outcome)

    def close_spider(self) -> None:
        pass  # the run is concluded on spider_closed, with the crawl's finish reason

    def spider_closed(self, spider: Any = None, reason: str = "finished") -> None:
        from monitor.runs.lifecycle import conclude_run

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

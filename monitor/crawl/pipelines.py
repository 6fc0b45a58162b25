"""The pipelines that record what a crawl observed: each item becomes an observation,
classified on its full text and kept in batches (so a killed crawl keeps what it saw).

``StorePipeline`` writes to the store and ``ToParentPipeline`` hands observations to the
coordinating process. The pipelines bound to a run's life build on them in ``monitor.runs``.
Nothing here imports Scrapy: coordinators import this module, crawls build its pipelines.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from monitor.crawl.layers import open_store
from monitor.judging.classify import Outcome, classify
from monitor.judging.policy import parse_timestamp
from storage.records import Observation

if TYPE_CHECKING:
    from storage.db import Store

logger = logging.getLogger("freshness.crawl")


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

"""The distributed worker spider: the directory spider fed from a Redis queue by scrapy-redis.

The coordinator (``freshness run --redis URL``) pushes one JSON message per due organisation::

    {"run_id": 7, "org_id": "nursegroups", "targets": [{...target as for the directory spider...}]}

Each worker (``freshness worker --redis URL``) pops messages when idle, crawls the
organisation's URLs exactly as a single-process run does, and closes itself once the queue has
stayed empty for ``MAX_IDLE_TIME_BEFORE_CLOSE`` seconds while no organisation of its runs is
out with another worker (which could die and leave it to be queued again), so workers suit
cron and batch schedulers.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy import Request
from scrapy_redis.spiders import RedisMixin

from monitor.pages.links import registered_domain
from monitor.runs.queue_keys import QUEUE_KEY, done_key, taken_key
from spiders.sites import CALLBACKS, DirectorySpider

LEASE_GRACE = 10.0  # seconds past a lease for the coordinator to queue it again


class WorkerSpider(RedisMixin, DirectorySpider):
    name = "directory-worker"
    redis_key = QUEUE_KEY

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(targets=[], **kwargs)
        self.outstanding: dict[str | None, int] = {}
        self.runs_served: set[int] = set()

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> WorkerSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        # scrapy-redis takes CONCURRENT_REQUESTS messages at a time unless told: organisations
        # here, each leased from the moment it is taken, so their number is set on its own.
        spider.redis_batch_size = max(1, crawler.settings.getint("FRESHNESS_WORKER_BATCH", 64))
        spider.lease = crawler.settings.getfloat("FRESHNESS_REDIS_LEASE", 600)
        spider.setup_redis(crawler)
        return spider

    def spider_idle(self) -> None:
        """scrapy-redis closes a worker whose queue stays empty for its idle time. An
        organisation another worker took is queued again if that worker dies, once its lease
        runs out: while one is out and within its lease (and a little after, for the
        coordinator to notice), the queue is not idle for good, so the worker stays."""
        if self._work_out():
            self.spider_idle_start_time = int(time.time())
        super().spider_idle()

    def _work_out(self) -> bool:
        # A coordinator that died leaves its leases behind: they age past the lease, and the
        # worker then closes as usual.
        now = time.time()
        for run_id in self.runs_served:
            done = {d.decode() for d in self.server.smembers(done_key(run_id))}
            for org_id, since in self.server.hgetall(taken_key(run_id)).items():
                if org_id.decode() not in done and now - float(since) < self.lease + LEASE_GRACE:
                    return True
        return False

    async def start(self) -> AsyncIterator[Request]:
        for request in self.next_requests():
            yield request

    def next_requests(self) -> Iterator[Request]:
        """A batch of organisations from the queue, every one marked taken before any is
        crawled. scrapy-redis makes each message's requests only as Scrapy asks for them: a
        worker killed in between held organisations that were neither queued nor taken, and
        so never queued again, and the run waited for them until it gave up. The whole batch
        is marked in one round trip per run (usually one), so the window between popping it
        and marking it is one round trip, not one per organisation."""
        batch = self.fetch_data(self.redis_key, self.redis_batch_size)
        taken = [message for message in map(self._read_message, batch) if message is not None]
        since = str(time.time())
        leases: dict[int, dict[str, str]] = {}
        for message in taken:
            leases.setdefault(message["run_id"], {})[message["org_id"]] = since
        for run_id, taken_now in leases.items():
            self.server.hset(taken_key(run_id), mapping=taken_now)
            self.runs_served.add(run_id)
        for message in taken:
            yield from self._requests_for(message)

    def _read_message(self, data: bytes | str) -> dict[str, Any] | None:
        """A queue message, or None (logged) when it is not one of ours."""
        try:
            message = json.loads(data)
        except ValueError:
            message = None
        if not (
            isinstance(message, dict)
            and "run_id" in message
            and "org_id" in message
            and isinstance(message.get("targets"), list)
        ):
            self.logger.warning("ignoring a malformed queue message: %r", data[:200])
            return None
        return message

    def _requests_for(self, message: dict[str, Any]) -> Iterator[Request]:
        run_id, org_id, targets = message["run_id"], message["org_id"], message["targets"]
        self.outstanding[org_id] = self.outstanding.get(org_id, 0) + len(targets)
        self.listed_domains.update(registered_domain(t["url"]) for t in targets if t.get("url"))
        for target in targets:
            target = {**target, "run_id": run_id, "org_total": len(targets)}
            conditional = not (self.discovery and target.get("discover"))
            yield self._request(target["url"], target, chain=[], conditional=conditional)

    def _item(self, target: dict[str, Any], meta: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        item = super()._item(target, meta, **kwargs)
        item["run_id"] = target.get("run_id")
        item["org_total"] = target.get("org_total")
        return item


def _org_of(meta: dict[str, Any]) -> tuple[str | None, int | None]:
    target = meta.get("target") or (meta.get("item") or {})
    org_id = target.get("org_id") or meta.get("org_id")
    run_id = target.get("run_id") or meta.get("run_id")
    return org_id, run_id


def _tracking(method_name: str) -> Any:
    """Wrap a DirectorySpider callback so the worker knows when an organisation is finished."""

    def wrapper(self: WorkerSpider, response_or_failure: Any) -> Iterator[Any]:
        request = getattr(response_or_failure, "request", None)
        meta = request.meta if request is not None else {}
        org_id, run_id = _org_of(meta)
        base = getattr(DirectorySpider, method_name)
        for result in base(self, response_or_failure) or ():
            if isinstance(result, dict) and result.get("run_id") is None:
                result["run_id"] = run_id
            if isinstance(result, Request):
                result.meta.setdefault("run_id", run_id)
                self.outstanding[org_id] = self.outstanding.get(org_id, 0) + 1
            yield result
        self.outstanding[org_id] = self.outstanding.get(org_id, 1) - 1
        if self.outstanding[org_id] <= 0:
            self.outstanding.pop(org_id, None)
            # Last in this organisation's output: the pipeline commits, then tells Redis.
            yield {"org_done": org_id, "run_id": run_id}

    wrapper.__name__ = method_name
    return wrapper


for _name in CALLBACKS:
    setattr(WorkerSpider, _name, _tracking(_name))

"""robots.txt kept between runs and revalidated, through Scrapy's own HTTP cache.

Scrapy fetches every host's robots.txt once per crawl and forgets it when the crawl ends, so
each nightly run downloads thousands of unchanged robots.txt files again. Here Scrapy's
``HttpCacheMiddleware`` stores robots.txt responses only (``HTTPCACHE_DIR``), and every run
asks the server again with ``If-None-Match`` / ``If-Modified-Since``: a 304 costs a few hundred
bytes and the stored rules stand. Rules are never used without asking: RFC 9309 (section 2.4)
allows a cached copy for 24 hours at most, and a conditional request is a fresh answer.
Listed pages, probes and discovery are never cached here: they carry their own validators
(``monitor.judging.judge``), and every fetch of theirs is an observation.

Within a run, Scrapy's robots middleware keeps every host's parsed rules to the end, about
2 KB a host: 10 MB in each crawler of a 10,000-organisation run. ``BoundedRobotsTxtMiddleware``
keeps the ``FRESHNESS_ROBOTS_PARSERS`` most recently used. A host's pages are fetched close
together, so a host whose rules were dropped rarely comes back; if one does, its robots.txt
is asked for again (a 304 from the cache above).
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.extensions.httpcache import FilesystemCacheStorage, RFC2616Policy
from scrapy.http import Request, Response
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.response import response_from_dict
from twisted.internet.defer import Deferred

logger = logging.getLogger(__name__)

ROBOTS_PATH = "/robots.txt"


class RobotsTxtRevalidationPolicy(RFC2616Policy):
    """Cache robots.txt (200s with a validator), and revalidate it on every use."""

    def should_cache_request(self, request: Request) -> bool:
        return urlparse_cached(request).path == ROBOTS_PATH and super().should_cache_request(
            request
        )

    def should_cache_response(self, response: Response, request: Request) -> bool:
        # Only a 200 (with a validator, says the RFC 2616 policy): a 404 or an error page is
        # fetched in full again each run.
        return response.status == 200 and super().should_cache_response(response, request)

    def is_cached_response_fresh(self, cachedresponse: Response, request: Request) -> bool:
        # Never fresh: always ask the server, conditionally. The robots middleware asks once per
        # host and crawl, so this is one small request per host and run.
        self._set_conditional_validators(request, cachedresponse)
        return False

    def is_cached_response_valid(
        self, cachedresponse: Response, response: Response, request: Request
    ) -> bool:
        # Only "not modified" keeps the stored rules. A 5xx is the site's answer today and goes
        # to the robots middleware as it is, exactly as without a cache.
        return response.status == 304


class SafeFilesystemCacheStorage(FilesystemCacheStorage):
    """Scrapy's filesystem cache, with each entry in one file, written whole or not at all;
    an unreadable entry is a miss, not a crash.

    Scrapy's own storage writes seven files and a directory per response. That was about 2% of
    a crawler's CPU in a first pass over 1,000 organisations (py-spy), for robots.txt alone.
    Two crawler processes of one run may write the same host's entry at once (a linked site
    reached from both shards): each writes a file of its own and renames it into place, so a
    reader finds one whole entry or none. An entry Scrapy's storage wrote (a directory) is a
    miss: that host's robots.txt is fetched in full once more.
    """

    def retrieve_response(self, spider: Any, request: Request) -> Response | None:
        path = self._entry_path(spider, request)
        try:
            with open(path, "rb") as f:
                entry = pickle.load(f)  # noqa: S301 (our own cache directory, as Scrapy's)
            timestamp = float(entry["timestamp"])
            response = response_from_dict(entry["response"])
        except FileNotFoundError:
            return None
        except (OSError, EOFError, pickle.UnpicklingError, ValueError, KeyError, TypeError) as exc:
            logger.debug("robots.txt cache entry for %s unreadable (%s)", request.url, exc)
            return None
        if 0 < self.expiration_secs < time.time() - timestamp:
            return None
        request.meta["cache_timestamp"] = timestamp
        return response

    def store_response(self, spider: Any, request: Request, response: Response) -> None:
        # The cache only saves a download next run: failing to write it (a full disk, an
        # unwritable HTTPCACHE_DIR) must not fail the robots.txt fetch that is under way.
        path = self._entry_path(spider, request)
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        entry = {"url": request.url, "timestamp": time.time(), "response": response.to_dict()}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(partial, "wb") as f:
                pickle.dump(entry, f, protocol=4)
            os.replace(partial, path)
        except (OSError, pickle.PicklingError, TypeError) as exc:
            logger.warning("robots.txt for %s not cached: %s", request.url, exc)
            with contextlib.suppress(OSError):
                partial.unlink()

    def _entry_path(self, spider: Any, request: Request) -> Path:
        return Path(f"{self._get_request_path(spider, request)}.entry")


class BoundedRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, holding the rules of at most ``FRESHNESS_ROBOTS_PARSERS``
    hosts: the least recently used go first. A host whose robots.txt is still being fetched
    (its entry is a Deferred other requests wait on) is never dropped.

    Two more differences from Scrapy's, both for renamed and moved sites:

    - A robots.txt answered with a 4xx allows everything (RFC 9309, section 2.3.1.3). Scrapy
      parses the body anyway, so a "not found" page was read as rules, line by line.
    - A host whose robots.txt redirects to another host's ``/robots.txt`` (an organisation's
      old domain, sending everything to its new one) has been answered with the new host's
      own file: those rules are the new host's too. Scrapy fetched it again as soon as a page
      of the new host came up, a request more for every renamed organisation.
    """

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self.max_parsers = max(1, crawler.settings.getint("FRESHNESS_ROBOTS_PARSERS", 1000))
        self._parsers: OrderedDict[str, Any] = OrderedDict()

    async def robot_parser(self, request: Request) -> Any:
        parser = await super().robot_parser(request)
        netloc = urlparse_cached(request).netloc
        if netloc in self._parsers:
            self._parsers.move_to_end(netloc)
        self._drop_least_recent()
        return parser

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        # Scrapy's own step from a robots.txt response to a host's rules, the one place that
        # sees both the response and the host. It is not public API: test_downloader fails if
        # a Scrapy release stops calling it.
        if 400 <= response.status < 500:
            response = response.replace(body=b"")
        await super()._parse_robots(response, netloc, request)
        answered = urlparse_cached(response)
        if (
            answered.netloc != netloc
            and answered.path == ROBOTS_PATH
            and answered.netloc not in self._parsers
        ):
            self._parsers[answered.netloc] = self._parsers[netloc]

    def _drop_least_recent(self) -> None:
        # Each pending fetch met at the front is moved to the back: at most one look per entry.
        for _ in range(len(self._parsers)):
            if len(self._parsers) <= self.max_parsers:
                return
            netloc, parser = next(iter(self._parsers.items()))
            if isinstance(parser, Deferred):
                self._parsers.move_to_end(netloc)
            else:
                del self._parsers[netloc]

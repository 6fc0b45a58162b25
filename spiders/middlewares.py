"""Downloader middlewares: a descriptive User-Agent, and honouring Retry-After."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from typing import Any

from scrapy import Request, Spider
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

logger = logging.getLogger(__name__)

VERSION = "0.1"


class ContactUserAgentMiddleware:
    """Send ``freshness/VERSION (+FRESHNESS_CONTACT_URL)`` so site owners know who we are.

    ``USER_AGENT`` still wins when it is set explicitly at a priority above the default.
    """

    def __init__(self, user_agent: str) -> None:
        self.user_agent = user_agent

    @classmethod
    def from_crawler(cls, crawler: Any) -> ContactUserAgentMiddleware:
        settings = crawler.settings
        if settings.getpriority("USER_AGENT") > 0:  # set by the project or the command line
            return cls(settings.get("USER_AGENT"))
        contact = settings.get("FRESHNESS_CONTACT_URL")
        return cls(f"freshness/{VERSION} (link checker for curated directories; +{contact})")

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        request.headers.setdefault(b"User-Agent", self.user_agent.encode())


def retry_after_seconds(value: str | bytes | None, now: float | None = None) -> float | None:
    """Parse a Retry-After header: delta-seconds or an HTTP date. None when absent or junk."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class RetryAfterMiddleware:
    """On 429 or 503 with a Retry-After we can afford, wait that long and try once more.

    Longer waits are not worth holding a run for: the response goes through and the
    classifier records the 429 as blocked (never dead).
    """

    def __init__(self, max_wait: float, max_tries: int) -> None:
        self.max_wait = max_wait
        self.max_tries = max_tries

    @classmethod
    def from_crawler(cls, crawler: Any) -> RetryAfterMiddleware:
        max_wait = crawler.settings.getfloat("FRESHNESS_MAX_RETRY_AFTER")
        if max_wait <= 0:
            raise NotConfigured("FRESHNESS_MAX_RETRY_AFTER is 0")
        return cls(max_wait, crawler.settings.getint("RETRY_TIMES", 2))

    async def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        if response.status not in (429, 503):
            return response
        wait = retry_after_seconds(response.headers.get(b"Retry-After"))
        tries = request.meta.get("retry_after_tries", 0)
        if wait is None or wait > self.max_wait or tries >= self.max_tries:
            return response
        logger.info("Retry-After %.1fs from %s (HTTP %d)", wait, request.url, response.status)
        await asyncio.sleep(wait)
        retry = request.replace(dont_filter=True)
        retry.meta["retry_after_tries"] = tries + 1
        retry.meta["retry_after_waited"] = request.meta.get("retry_after_waited", 0) + wait
        return retry

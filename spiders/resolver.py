"""A DNS resolver with overrides, like ``curl --resolve``.

``FRESHNESS_HOSTS`` maps host names to IP addresses. With ``FRESHNESS_HOSTS_ONLY`` every other
name fails as a DNS error, so a test or benchmark can never reach the real internet: as a
domain that does not exist, or, when the map is empty, as a machine with no resolver to ask
(which is how the simulated web plays "no network at all").

Why a lookup failed is kept (``lookup_failure``), because Twisted's endpoint reports only "no
results", and the reason is what tells an offline machine ("Temporary failure in name
resolution") from a dead domain ("Name or service not known").
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from scrapy.resolver import CachingThreadedResolver
from twisted.internet import defer
from twisted.internet.error import DNSLookupError
from twisted.python.failure import Failure

# Enough for every host of a large run's failures; older reasons are forgotten first.
_MAX_FAILURES = 4096
_failures: OrderedDict[str, str] = OrderedDict()

NO_RESOLVER = "Temporary failure in name resolution (FRESHNESS_HOSTS_ONLY with no hosts)"
NO_SUCH_NAME = "Name or service not known (not in FRESHNESS_HOSTS)"


def lookup_failure(name: str) -> str | None:
    """Why the last lookup of ``name`` in this process failed, or None."""
    return _failures.get(name.lower())


def _remember(name: str, reason: str) -> None:
    _failures[name.lower()] = reason
    _failures.move_to_end(name.lower())
    if len(_failures) > _MAX_FAILURES:
        _failures.popitem(last=False)


def parse_hosts(value: Any) -> dict[str, str]:
    """Accept a mapping, or "host=ip,host2=ip2" as given with ``-s`` on the command line."""
    if not value:
        return {}
    if isinstance(value, dict):
        return {str(k).lower(): str(v) for k, v in value.items()}
    pairs = [p.strip() for p in str(value).replace(";", ",").split(",") if p.strip()]
    out: dict[str, str] = {}
    for pair in pairs:
        host, sep, ip = pair.partition("=")
        if not sep:
            host, sep, ip = pair.partition(":")
        if not sep or not host or not ip:
            raise ValueError(f"FRESHNESS_HOSTS entry {pair!r} is not host=ip")
        out[host.strip().lower()] = ip.strip()
    return out


class OverridableResolver(CachingThreadedResolver):
    def __init__(
        self, reactor: Any, cache_size: int, timeout: float, hosts: dict[str, str], only: bool
    ):
        super().__init__(reactor, cache_size, timeout)
        self.hosts = hosts
        self.only = only

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> OverridableResolver:
        settings = crawler.settings
        cache_size = settings.getint("DNSCACHE_SIZE") if settings.getbool("DNSCACHE_ENABLED") else 0
        return cls(
            reactor,
            cache_size,
            settings.getfloat("DNS_TIMEOUT"),
            parse_hosts(settings.get("FRESHNESS_HOSTS")),
            settings.getbool("FRESHNESS_HOSTS_ONLY"),
        )

    def getHostByName(self, name: str, timeout: Any = ()) -> defer.Deferred[str]:  # noqa: N802
        ip = self.hosts.get(name.lower())
        if ip is not None:
            return defer.succeed(ip)
        if self.only:
            reason = NO_SUCH_NAME if self.hosts else NO_RESOLVER
            _remember(name, reason)
            return defer.fail(DNSLookupError(f"{name}: {reason}"))

        def failed(failure: Failure) -> Failure:
            _remember(name, failure.getErrorMessage())
            return failure

        return super().getHostByName(name, timeout).addErrback(failed)

"""A DNS resolver with overrides, like ``curl --resolve``.

``FRESHNESS_HOSTS`` maps host names to IP addresses. With ``FRESHNESS_HOSTS_ONLY`` every other
name fails as a DNS error, so a test or benchmark can never reach the real internet.
"""

from __future__ import annotations

from typing import Any

from scrapy.resolver import CachingThreadedResolver
from twisted.internet import defer
from twisted.internet.error import DNSLookupError


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
            return defer.fail(DNSLookupError(f"{name}: not in FRESHNESS_HOSTS"))
        return super().getHostByName(name, timeout)

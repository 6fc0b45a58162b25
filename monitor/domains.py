"""Registrable domains, from tldextract's bundled public-suffix snapshot.

Nothing is ever downloaded. Kept apart from ``monitor.outbound`` (which parses pages) so a
process that only plans and shards a run, by domain, imports neither lxml nor the extractors.

    >>> registered_domain("https://www.nurses.example.co.uk/groups")
    'example.co.uk'
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

import tldextract

__all__ = ["domains_of", "registered_domain"]


@functools.cache
def _extractor() -> tldextract.TLDExtract:
    # Built once, on first use, from the bundled snapshot: no list URLs, no cache directory.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


_SCHEME_WITHOUT_HOST = re.compile(r"^[a-z][a-z0-9+.-]*:(?!//|\d)", re.IGNORECASE)


def _hostname(url: str) -> str:
    url = url.strip()
    if "//" not in url:
        if _SCHEME_WITHOUT_HOST.match(url):
            return ""  # mailto:, tel:, javascript: ...
        url = f"//{url}"  # a bare host, "example.com/path"
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.strip(".").lower()


def registered_domain(url: str) -> str:
    """The registrable domain of ``url``: "https://a.b.example.co.uk/x" -> "example.co.uk".

    Hosts without a public suffix (``nursegroups.test``, ``localhost``) keep their last two
    labels; IP addresses are returned as they are; "" when there is no host.
    """
    host = _hostname(url or "")
    return _host_domain(host) if host else ""


def domains_of(urls: Iterable[str]) -> set[str]:
    """The registered domain of each of these URLs."""
    domains = {registered_domain(url) for url in urls}
    domains.discard("")
    return domains


@functools.lru_cache(maxsize=4096)
def _host_domain(host: str) -> str:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return host
    result = _extractor()(host)
    domain = getattr(result, "top_domain_under_public_suffix", None)
    if domain is None:  # tldextract < 5.3
        domain = result.registered_domain
    if domain:
        return domain
    return ".".join(host.split(".")[-2:])

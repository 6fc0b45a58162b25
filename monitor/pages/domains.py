"""Registrable domains, from the public-suffix snapshot that tldextract bundles.

Nothing is ever downloaded. Kept apart from ``monitor.pages.links`` (which parses pages) so a
process that only plans and shards a run, by domain, imports neither lxml nor the extractors.

The lookup is tldextract's own (its trie walk, ICANN section only, as ``TLDExtract``'s
default), over plain sets of strings read from tldextract's snapshot file. tldextract itself
is not imported: its extractor keeps about 6 MB of trie nodes, and importing it (requests,
filelock) about 6 MB more, in every process of a run. ``tests/pages/test_links.py`` checks the
two agree on every rule of the list.

    >>> registered_domain("https://www.nurses.example.co.uk/groups")
    'example.co.uk'
"""

from __future__ import annotations

import functools
import importlib.util
import ipaddress
import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["domains_of", "registered_domain"]

# As tldextract reads the list (tldextract.suffix_list): a rule is a line's first token.
_RULE = re.compile(r"^(?P<suffix>[.*!]*\w[\S]*)", re.UNICODE | re.MULTILINE)
_PRIVATE_SECTION = "// ===BEGIN PRIVATE DOMAINS==="


@functools.cache
def _suffix_rules() -> tuple[frozenset[str], frozenset[str]]:
    """(every rule, every tail of every rule): the trie's end nodes and all its nodes, each
    named by its labels joined with dots ("co.uk", "*.ck", "!www.ck")."""
    spec = importlib.util.find_spec("tldextract")  # finds the package without importing it
    if spec is None or spec.origin is None:
        raise RuntimeError("tldextract is not installed: pip install tldextract")
    text = Path(spec.origin).with_name(".tld_set_snapshot").read_text(encoding="utf-8")
    public = text.partition(_PRIVATE_SECTION)[0]
    rules = frozenset(m.group("suffix") for m in _RULE.finditer(public))
    tails = set()
    for rule in rules:
        labels = rule.split(".")
        tails.update(".".join(labels[i:]) for i in range(len(labels)))
    return rules, frozenset(tails)


def _decode_punycode(label: str) -> str:
    lowered = label.lower()
    if lowered.startswith("xn--"):
        import idna

        try:
            return idna.decode(lowered)
        except (UnicodeError, IndexError):
            pass
    return lowered


def _public_suffix_index(labels: list[str]) -> int | None:
    """Where the public suffix of ``labels`` starts; None when it has none (tldextract's
    ``suffix_index``, node for node)."""
    rules, nodes = _suffix_rules()
    node = ""  # the root
    suffix_index = label_index = len(labels)
    for label in reversed(labels):
        decoded = _decode_punycode(label)
        child = f"{decoded}.{node}" if node else decoded
        if child in nodes:
            label_index -= 1
            node = child
            if node in rules:
                suffix_index = label_index
            continue
        if (f"*.{node}" if node else "*") in nodes:
            exception = f"!{decoded}.{node}" if node else f"!{decoded}"
            return label_index if exception in nodes else label_index - 1
        break
    return None if suffix_index == len(labels) else suffix_index


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
    labels = host.split(".")
    index = _public_suffix_index(labels)
    if index:  # a label before the public suffix: that label and the suffix
        return ".".join(labels[index - 1 :])
    return ".".join(labels[-2:])  # no public suffix, or the host is one ("co.uk")

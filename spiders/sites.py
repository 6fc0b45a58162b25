"""The sites spider: fetch every listed URL and record exactly what happened.

For each target (a listed URL of an organisation) it follows redirects hop by hop, so every
status and Location is kept; probes a random sibling path to expose soft 404s; and yields one
observation item (see ``spiders.items``). It does not decide whether anything is dead.

Targets come from the ``targets`` spider argument, from ``FRESHNESS_TARGETS``, or, when
neither is given (``scrapy crawl directory``), from the loader named by
``FRESHNESS_TARGET_LOADER`` (the store's due organisations and listed domains by default). The
``listed_domains`` argument names the sites the directory lists, which discovery need not visit.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import secrets
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit
from weakref import WeakKeyDictionary

from scrapy import Request, Spider, signals
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
    StopDownload,
)
from scrapy.http import Response, TextResponse
from scrapy.utils.misc import load_object
from twisted.internet import error as twisted_errors
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from monitor.pages.facts import page_facts
from monitor.pages.groups import extract_groups
from monitor.pages.html import as_tree
from monitor.pages.identity import extract_identity, meta_description, page_types
from monitor.pages.links import candidate_pages, outbound_links, registered_domain
from spiders import settings as table
from spiders.resolver import lookup_failure
from spiders.scheduler import start_request_left

REDIRECT_STATUSES = (301, 302, 303, 307, 308)
PROBE_CACHE_SIZE = 2048
_PROBE_META = ("item", "cache_key", "dont_redirect", "handle_httpstatus_all")
TEXT_TYPES = (
    "text/",
    "application/xhtml",
    "application/xml",
    "application/json",
    "application/ld+json",
)
KEPT_HEADERS = (
    "content-type",
    "content-length",
    "server",
    "location",
    "retry-after",
    "etag",
    "last-modified",
    "x-robots-tag",
    "cf-ray",
    "cf-mitigated",
    "x-amzn-waf-action",
)

# Every callback and errback, bound once per spider (see ``DirectorySpider.__init__``).
_LISTED_CALLBACKS = ("parse_listed", "listed_failed", "parse_probe", "probe_failed")
_DISCOVERY_CALLBACKS = ("parse_discovery_page", "parse_candidate", "discovery_failed")
CALLBACKS = _LISTED_CALLBACKS + _DISCOVERY_CALLBACKS


class DirectorySpider(Spider):
    name = "directory"

    def __init__(
        self,
        targets: Iterable[dict[str, Any]] | None = None,
        listed_domains: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.targets = targets
        # Registered domains the directory lists: checked as listed URLs already, and never
        # new organisations, so discovery does not fetch them again.
        self.listed_domains: set[str] = set(listed_domains or ())
        # Probes of this run by directory, for the other listed pages there. A host's pages are
        # fetched close together, so a bounded cache keeps nearly every reuse without holding
        # every probe's text for the whole run (tens of MB at 10,000 organisations).
        self._probe_cache: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._room = asyncio.Event()  # set when the scheduler hands a request on
        # Bytes received so far by each request being downloaded. Weak keys: an entry goes
        # with its request, whatever callback or errback ends it, and a new request can never
        # inherit a finished one's count (as it could by a reused id()).
        self._received: WeakKeyDictionary[Request, int] = WeakKeyDictionary()
        self._candidates_requested: set[str] = set()
        # "org domain" -> the pages of that organisation that link to it, and the item yielded
        # for it once fetched (without its text), to report later links too.
        self._candidate_links: dict[str, list[str]] = {}
        self._candidate_items: dict[str, dict[str, Any]] = {}
        # Scrapy reads each callback's source (inspect + ast) to warn about generators that
        # return a value, and caches the answer by the callback object. A fresh bound method
        # per request misses that cache every time (3.5% of a run's CPU); one per spider hits.
        for name in CALLBACKS:
            setattr(self, name, getattr(self, name))

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> DirectorySpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.max_bytes = settings.getint("FRESHNESS_MAX_BYTES")
        spider.max_redirects = settings.getint("FRESHNESS_MAX_REDIRECTS")
        spider.probe_enabled = settings.getbool("FRESHNESS_SOFT404_PROBE")
        spider.fixed_now = settings.get("FRESHNESS_NOW") or ""
        spider.discovery = settings.getbool("FRESHNESS_DISCOVERY")
        spider.discovery_pages = settings.getint("FRESHNESS_DISCOVERY_PAGES")
        spider.discovery_sites = settings.getint("FRESHNESS_DISCOVERY_SITES")
        spider.start_backlog = max(1, settings.getint("FRESHNESS_START_BACKLOG"))
        if spider.targets is None and settings.getlist("FRESHNESS_TARGETS"):
            spider.targets = list(settings.getlist("FRESHNESS_TARGETS"))
        if spider.targets is None:
            # The table's loader when a crawler was built without it (scrapy.utils.test).
            path = settings.get("FRESHNESS_TARGET_LOADER") or table.FRESHNESS_TARGET_LOADER
            loader = load_object(path)
            loaded = loader(settings)
            # A loader gives the targets, or the targets and the directory's listed domains
            # (the default plans both at once, from the store).
            if isinstance(loaded, tuple):
                spider.targets, domains = loaded
                spider.listed_domains.update(domains)
            else:
                spider.targets = loaded
        if isinstance(spider.targets, list):  # an iterator is for the crawl alone
            spider.listed_domains.update(
                registered_domain(t["url"]) for t in spider.targets if t.get("org_id")
            )
        crawler.signals.connect(spider.on_headers, signal=signals.headers_received)
        crawler.signals.connect(spider.on_bytes, signal=signals.bytes_received)
        crawler.signals.connect(spider.on_request_scheduled_out, signal=start_request_left)
        return spider

    # -- body size cap and binary detection ----------------------------------------------------

    def on_headers(
        self, headers: Any, body_length: int, request: Request, spider: Spider | None = None
    ) -> None:
        if (spider is not None and spider is not self) or request.method == "HEAD":
            return
        content_type = (headers.get(b"Content-Type") or b"").decode("latin-1").lower()
        if content_type and not content_type.startswith(TEXT_TYPES):
            # A PDF or an image answers "is it alive?" with its status; its bytes add nothing.
            request.meta["binary_stop"] = True
            raise StopDownload(fail=False)

    def on_bytes(self, data: bytes, request: Request, spider: Spider | None = None) -> None:
        if spider is not None and spider is not self:
            return
        total = self._received.get(request, 0) + len(data)
        self._received[request] = total
        if total > self.max_bytes:
            self._received.pop(request, None)
            raise StopDownload(fail=False)

    # -- requests ------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Request]:
        # The spider takes the list and empties it as it goes, or reads an iterator as it
        # goes: a target then lives only as long as its requests, not for the whole crawl
        # (about 10 MB per 10,000 targets).
        targets, self.targets = self.targets, None
        if isinstance(targets, list):
            targets.reverse()  # popped from the end, in the order given
            pending: Iterator[dict[str, Any]] = _emptying(targets)
        else:
            pending = iter(targets or ())
        for target in pending:
            await self._room_in_scheduler()
            # A homepage due for discovery is fetched in full: a 304 has no links to follow.
            conditional = not (self.discovery and target.get("discover"))
            yield self._request(target["url"], target, chain=[], conditional=conditional)

    async def _room_in_scheduler(self) -> None:
        """Wait while ``FRESHNESS_START_BACKLOG`` start requests are already waiting to be sent.

        Scrapy takes start requests as fast as they come, and every host started is a host in
        flight: its robots.txt rules, connection and requests are held until its pages are
        done. With 10,000 organisations queued at once Scrapy's own queue cost 44% of a
        crawler's CPU; with 512 waiting a 10,000 pass went over 300 MB, and beyond
        ``FRESHNESS_ROBOTS_PARSERS`` hosts in flight their rules are dropped and fetched
        again. The backlog still gives the queue plenty of hosts to spread the load over.
        """
        engine = getattr(self.crawler, "engine", None)
        scheduler = getattr(engine, "scheduler", None)
        if scheduler is None or not hasattr(scheduler, "__len__"):
            return
        # Start requests only (spiders.scheduler): counting a host's probes and discovery pages
        # too held new hosts back while earlier ones finished, and the last hosts' chains
        # became the pass's tail.
        while getattr(scheduler, "waiting_starts", len(scheduler)) >= self.start_backlog:
            # Woken as soon as a start request leaves the scheduler; the timeout only guards
            # against a scheduler that drains without that signal.
            self._room.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._room.wait(), 0.05)

    def on_request_scheduled_out(self, request: Request, spider: Spider | None = None) -> None:
        self._room.set()

    def _request(
        self, url: str, target: dict[str, Any], *, chain: list[dict[str, Any]], conditional: bool
    ) -> Request:
        headers = {}
        if conditional:
            if target.get("etag"):
                headers["If-None-Match"] = target["etag"]
            if target.get("last_modified"):
                headers["If-Modified-Since"] = target["last_modified"]
        return Request(
            url,
            callback=self.parse_listed,
            errback=self.listed_failed,
            headers=headers,
            dont_filter=True,
            meta={
                "target": target,
                "chain": chain,
                "dont_redirect": True,
                "handle_httpstatus_all": True,
                "started": dt.datetime.now(dt.UTC),
            },
        )

    def parse_listed(self, response: Response) -> Iterator[Any]:
        target = response.meta["target"]
        chain = response.meta["chain"]
        location = response.headers.get(b"Location")
        if response.status in REDIRECT_STATUSES and location:
            next_url = urljoin(response.url, location.decode("latin-1").strip())
            hop = {"url": response.url, "status": response.status, "location": next_url}
            chain = [*chain, hop]
            refused = _refused_redirect(chain, next_url, self.max_redirects)
            if refused is not None:
                error, message = refused
                yield self._item(target, response.meta, chain=chain, error=error, message=message)
                return
            request = self._request(next_url, target, chain=chain, conditional=False)
            request.meta["started"] = response.meta["started"]
            yield request
            return
        item = self._item(target, response.meta, chain=chain, response=response)
        facts = item["facts"]
        if (
            self.discovery
            and target.get("role") == "homepage"
            and item["org_id"]
            and target.get("discover", True)
        ):
            facts["discovered"] = True
            yield from self._discover(item, response.url, facts.pop("_candidate_pages", []))
        facts.pop("_candidate_pages", None)
        if self.probe_enabled and 200 <= response.status < 300 and not facts.get("binary"):
            probe = self._probe_request(item, target, response.url)
            if probe is not None:
                yield probe  # the item goes out with the probe's answer
                return
        yield item

    def _probe_request(
        self, item: dict[str, Any], target: dict[str, Any], url: str
    ) -> Request | None:
        """A request for a random sibling of ``url``, or None when a probe of its directory
        is cached (this run's, or a stored one for the same page), which the item then gets."""
        facts = item["facts"]
        probe_url = probe_url_for(url)
        cache_key = probe_url.rsplit("/", 1)[0]
        cached = self._probe_cache.get(cache_key) or _stored_probe(target, cache_key, facts)
        if cached is not None:
            facts["probe"] = cached
            return None
        return Request(
            probe_url,
            callback=self.parse_probe,
            errback=self.probe_failed,
            dont_filter=True,
            meta={
                "item": item,
                "cache_key": cache_key,
                "chain": [],
                "dont_redirect": True,
                "handle_httpstatus_all": True,
            },
        )

    # -- discovery of new organisations -----------------------------------------------------

    def _discover(
        self, item: dict[str, Any], page_url: str, pages: list[str]
    ) -> Iterator[Request | dict[str, Any]]:
        """Links pages one step from a listed homepage, then the sites they link to."""
        org_id = item["org_id"]
        budget = {"sites": self.discovery_sites}
        yield from self._candidate_requests(
            org_id, item["facts"].get("outbound", []), page_url, budget
        )
        for url in pages[: self.discovery_pages]:
            yield Request(
                url,
                callback=self.parse_discovery_page,
                errback=self.discovery_failed,
                dont_filter=True,  # every request gets its callback: workers count on it
                meta={"org_id": org_id, "budget": budget},
            )

    def _candidate_requests(
        self, org_id: str, links: list[dict[str, Any]], page_url: str, budget: dict[str, int]
    ) -> Iterator[Request | dict[str, Any]]:
        """A request per newly linked site; for a site already requested, note this page too.

        Each site is fetched once per organisation and run. When another page links to a site
        whose item is out already, a copy of that item (without the text) names this page.
        """
        for link in links:
            domain = link.get("domain") or ""
            key = f"{org_id} {domain}"
            if not domain or domain in self.listed_domains:
                continue
            if key in self._candidates_requested:
                pages = self._candidate_links[key]
                if page_url in pages:
                    continue
                pages.append(page_url)
                fetched = self._candidate_items.get(key)
                if fetched is not None:
                    yield {**fetched, "facts": {**fetched["facts"], "linked_from": [page_url]}}
                continue
            if budget["sites"] <= 0:
                continue
            self._candidates_requested.add(key)
            self._candidate_links[key] = [page_url]
            budget["sites"] -= 1
            yield Request(
                link["url"],
                callback=self.parse_candidate,
                errback=self.discovery_failed,
                meta={
                    "org_id": org_id,
                    "candidate_key": key,
                    "link_text": link.get("text"),
                    "domain": domain,
                },
            )

    def parse_discovery_page(self, response: Response) -> Iterator[Any]:
        if not isinstance(response, TextResponse) or response.status != 200:
            return
        links = outbound_links(as_tree(_safe_text(response)), response.url)
        yield from self._candidate_requests(
            response.meta["org_id"], links, response.url, response.meta["budget"]
        )

    def parse_candidate(self, response: Response) -> Iterator[Any]:
        """A site linked from a listed organisation: what it says about itself."""
        if not isinstance(response, TextResponse) or response.status != 200:
            return
        text = _safe_text(response)
        tree = as_tree(text)
        description, types = meta_description(tree), page_types(tree)
        site_name = extract_identity(tree, response.url).get("og_site_name")
        facts = page_facts(text, tree=tree)  # last: it strips the tree
        meta = response.meta
        key = meta["candidate_key"]
        item = {
            "org_id": meta["org_id"],
            "link_id": None,
            "role": "candidate",
            "url": response.url,
            "fetched_at": self.fixed_now or dt.datetime.now(dt.UTC).isoformat(),
            "status": response.status,
            "final_url": response.url,
            "redirect_chain": [],
            "error": None,
            "error_message": None,
            "elapsed_ms": None,
            "headers": {},
            "facts": {
                "title": facts.get("title"),
                "description": description,
                "page_types": types,
                "linked_from": list(self._candidate_links.get(key, [])),
                "link_text": meta.get("link_text"),
                "domain": meta["domain"],
                "site_name": site_name,
            },
        }
        self._candidate_items[key] = item  # kept without the text, for later links
        yield {**item, "facts": {**item["facts"], "text": (facts.get("text") or "")[:5000]}}

    def discovery_failed(self, failure: Failure) -> None:
        """A candidate that cannot be fetched is simply not proposed."""
        return None

    def parse_probe(self, response: Response) -> Iterator[Any]:
        chain = response.meta["chain"]
        location = response.headers.get(b"Location")
        if response.status in REDIRECT_STATUSES and location and len(chain) < self.max_redirects:
            next_url = urljoin(response.url, location.decode("latin-1").strip())
            if next_url not in {h["url"] for h in chain} and next_url.startswith("http"):
                hop = {"url": response.url, "status": response.status, "location": next_url}
                # Only the probe's own keys: Scrapy's (download_latency, retry_times...) belong
                # to the hop just made, and copying them draws a MetaCopyDetection warning.
                meta = {k: response.meta[k] for k in _PROBE_META if k in response.meta}
                meta["chain"] = [*chain, hop]
                yield Request(
                    next_url,
                    callback=self.parse_probe,
                    errback=self.probe_failed,
                    dont_filter=True,
                    meta=meta,
                )
                return
        probe: dict[str, Any] = {
            "url": chain[0]["url"] if chain else response.url,
            "status": response.status,
            "final_url": response.url,
            "redirect_chain": chain,
            "error": None,
        }
        if isinstance(response, TextResponse):
            facts = _safe_page_facts(response)
            probe["title"] = facts.get("title")
            probe["text"] = facts.get("text")
        yield self._finish_probe(response.meta, probe)

    def probe_failed(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        kind, message = error_kind(failure)
        probe = {
            "url": request.url,
            "status": None,
            "final_url": None,
            "redirect_chain": [],
            "error": "robots_disallowed" if kind == "robots" else kind,
            "error_message": message,
        }
        yield self._finish_probe(request.meta, probe)

    def _finish_probe(self, meta: dict[str, Any], probe: dict[str, Any]) -> dict[str, Any]:
        self._probe_cache[meta["cache_key"]] = probe
        if len(self._probe_cache) > PROBE_CACHE_SIZE:
            self._probe_cache.popitem(last=False)
        item = meta["item"]
        item["facts"]["probe"] = probe
        return item

    def listed_failed(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        kind, message = error_kind(failure)
        meta = request.meta
        if kind == "robots":
            item = self._item(meta["target"], meta, chain=meta.get("chain", []))
            item["facts"]["robots_disallowed"] = True
            item["url_blocked_by_robots"] = request.url
            yield item
            return
        yield self._item(
            meta["target"],
            meta,
            chain=meta.get("chain", []),
            error=kind,
            message=message,
            failed_url=request.url,
        )

    # -- the item ------------------------------------------------------------------------------

    def _item(
        self,
        target: dict[str, Any],
        meta: dict[str, Any],
        *,
        chain: list[dict[str, Any]],
        response: Response | None = None,
        error: str | None = None,
        message: str | None = None,
        failed_url: str | None = None,
    ) -> dict[str, Any]:
        started = meta.get("started") or dt.datetime.now(dt.UTC)
        elapsed = dt.datetime.now(dt.UTC) - started
        facts: dict[str, Any] = {"robots_disallowed": False}
        item: dict[str, Any] = {
            "org_id": target.get("org_id"),
            "link_id": target.get("link_id"),
            "role": target.get("role", "link"),
            "url": target["url"],
            "fetched_at": self.fixed_now or dt.datetime.now(dt.UTC).isoformat(),
            "status": None,
            "final_url": failed_url,
            "redirect_chain": chain,
            "error": error,
            "error_message": message,
            "elapsed_ms": int(elapsed.total_seconds() * 1000),
            "headers": {},
            "facts": facts,
        }
        if meta.get("retry_after_waited"):
            facts["retry_after_waited"] = meta["retry_after_waited"]
        if response is not None:
            self._read_response(item, target, meta, response)
        return item

    def _read_response(
        self, item: dict[str, Any], target: dict[str, Any], meta: dict[str, Any], response: Response
    ) -> None:
        """Fill ``item`` with what the response says: status, headers, size and page facts."""
        facts = item["facts"]
        item["status"] = response.status
        item["final_url"] = response.url
        item["headers"] = {
            name: response.headers.get(name).decode("latin-1")
            for name in KEPT_HEADERS
            if response.headers.get(name) is not None
        }
        size = len(response.body)
        if response.request is not None:
            self._received.pop(response.request, None)
        content_type = item["headers"].get("content-type", "").split(";")[0].strip().lower()
        facts.update(
            content_type=content_type or None,
            size=size,
            truncated="download_stopped" in response.flags and not meta.get("binary_stop"),
            binary=bool(meta.get("binary_stop")) or not isinstance(response, TextResponse),
            not_modified=response.status == 304,
        )
        if isinstance(response, TextResponse) and not facts["binary"] and response.status != 304:
            facts["encoding"] = response.encoding
            text = _safe_text(response)
            role_facts: dict[str, Any] = {}
            tree = None
            if 200 <= response.status < 300 and target.get("role") in ROLES_WITH_FACTS:
                tree = as_tree(text)  # parsed once: page_facts strips it, so it goes last
                role_facts = _role_facts(target, tree, response.url)
            facts.update(page_facts(text, tree=tree))
            if role_facts:
                facts.update(role_facts)
                if "identity" in facts and _crosses_domains(item["redirect_chain"], response.url):
                    # Whether the new site still mentions the old name is rename evidence;
                    # the page text itself is not kept for judging, so the identity carries it.
                    facts["identity"]["text"] = facts.get("text") or ""


def _refused_redirect(
    chain: list[dict[str, Any]], next_url: str, max_redirects: int
) -> tuple[str, str] | None:
    """(error, message) when the redirect to ``next_url`` is not followed, else None."""
    if next_url in {h["url"] for h in chain}:
        return "redirect_loop", f"redirect to {next_url}, already visited"
    if len(chain) > max_redirects:
        return "too_many_redirects", f"more than {max_redirects} redirects"
    if urlsplit(next_url).scheme not in ("http", "https"):
        return "other", f"redirect to a non-web URL {next_url}"
    return None


def _emptying(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Pops ``items`` from the end until it is empty."""
    while items:
        yield items.pop()


def _safe_text(response: TextResponse) -> str:
    try:
        return response.text
    except (UnicodeDecodeError, LookupError):
        return response.body.decode("utf-8", errors="replace")


def _safe_page_facts(response: TextResponse) -> dict[str, Any]:
    return page_facts(_safe_text(response))


def _crosses_domains(chain: list[dict[str, Any]], final_url: str) -> bool:
    """The redirect chain started on another host than the final page (``www.`` aside)."""
    if not chain:
        return False

    def host(url: str) -> str:
        return (urlsplit(url).hostname or "").removeprefix("www.")

    return host(chain[0]["url"]) != host(final_url)


ROLES_WITH_FACTS = ("homepage", "groups")


def _role_facts(target: dict[str, Any], tree: Any, url: str) -> dict[str, Any]:
    """What a homepage or a groups page (parsed by ``as_tree``) tells about the organisation."""
    role = target.get("role")
    if role not in ROLES_WITH_FACTS:
        return {}
    if role == "homepage":
        return {
            "identity": extract_identity(tree, url),
            "outbound": outbound_links(tree, url)[:100],
            "_candidate_pages": candidate_pages(tree, url),
        }
    try:
        return {"groups": extract_groups(tree, url, target.get("group_selector"))}
    except ValueError as exc:  # a bad selector in the directory: say so, keep crawling
        return {"groups": [], "groups_error": str(exc)}


def _stored_probe(
    target: dict[str, Any], cache_key: str, facts: dict[str, Any]
) -> dict[str, Any] | None:
    """A probe of this directory from an earlier run, while the page still looks the same.

    Only hard 404s are cached (see monitor.judging.judge); a changed title means the site may have
    changed how it answers, so it is probed again.
    """
    stored = target.get("probe_cache")
    if not stored or stored.get("key") != cache_key or stored.get("title") != facts.get("title"):
        return None
    return {**stored.get("probe", {}), "cached_at": stored.get("at")}


def probe_url_for(url: str) -> str:
    """A random path in the same directory as ``url`` (Bar-Yossef et al., 2004)."""
    parts = urlsplit(url)
    directory = parts.path.rsplit("/", 1)[0] + "/"
    token = "fr" + secrets.token_hex(6)
    return urlunsplit((parts.scheme, parts.netloc, directory + token, "", ""))


def error_kind(failure: Failure) -> tuple[str, str]:
    """Name what went wrong with a fetch: dns, connection, timeout, tls, robots or other."""
    exc = failure.value
    message = str(exc) or exc.__class__.__name__
    if isinstance(exc, IgnoreRequest):
        return ("robots" if "robots.txt" in message else "other"), message
    if _is_tls(exc) or (exc.__cause__ is not None and _is_tls(exc.__cause__)):
        return "tls", message
    # Scrapy 2.13+ wraps download errors in its own exceptions; older ones raise Twisted's.
    if isinstance(exc, CannotResolveHostError | twisted_errors.DNSLookupError):
        request = getattr(failure, "request", None)
        host = urlsplit(request.url).hostname if request is not None else None
        reason = lookup_failure(host) if host else None
        if reason and reason not in message:
            # The endpoint says only "no results"; the resolver's reason tells an offline
            # machine from a domain that does not exist (monitor.judging.decide.could_be_offline).
            message = f"{message} ({reason})"
        return "dns", message
    if isinstance(
        exc, DownloadTimeoutError | twisted_errors.TimeoutError | twisted_errors.TCPTimedOutError
    ):
        return "timeout", message
    if isinstance(
        exc, DownloadConnectionRefusedError | DownloadFailedError | ResponseDataLossError
    ):
        return "connection", message
    if isinstance(exc, ResponseFailed | ResponseNeverReceived):
        reasons = [r.value for r in getattr(exc, "reasons", [])]
        if any(_is_tls(r) for r in reasons):
            return "tls", message
        return "connection", message
    if _is_tls(exc):
        return "tls", message
    if isinstance(
        exc,
        twisted_errors.ConnectionRefusedError
        | twisted_errors.ConnectionLost
        | twisted_errors.ConnectionDone
        | twisted_errors.ConnectError
        | ConnectionError,
    ):
        return "connection", message
    if isinstance(exc, TimeoutError):
        return "timeout", message
    return "other", f"{exc.__class__.__name__}: {message}"


def _is_tls(exc: BaseException) -> bool:
    module = type(exc).__module__
    if module.startswith("OpenSSL") or "SSL" in type(exc).__name__:
        return True
    if "certificate" in str(exc).lower():
        return True
    # A failed handshake reaches us as Twisted's ResponseNeverReceived, its OpenSSL error
    # one of its ``reasons`` (Scrapy 2.13+ puts that in the ``__cause__`` of its own error).
    return any(
        isinstance(reason, Failure) and _is_tls(reason.value)
        for reason in getattr(exc, "reasons", ())
    )

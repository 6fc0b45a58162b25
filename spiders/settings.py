"""Scrapy settings for the freshness crawl, and the ``FRESHNESS_`` settings' defaults.

Scrapy's own defaults suit scraping one site hard. A monitor visits thousands of sites a few
pages each, so the choices below differ; each says why. Override any of them with
``-s NAME=VALUE`` on the command line or under ``[settings]`` in ``freshness.toml``.
"""

from __future__ import annotations

BOT_NAME = "freshness"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

# -- What freshness itself reads (parsed once into monitor.judging.policy.Policy) ----------------------
FRESHNESS_DB = "sqlite:///freshness.db"
FRESHNESS_CONTACT_URL = "https://github.com/freshness-monitor/freshness"
FRESHNESS_NOW = ""  # ISO timestamp; empty means the real clock. Tests move time with it.
FRESHNESS_DEAD_AFTER_FAILURES = 3
FRESHNESS_DEAD_AFTER_HOURS = 48.0
FRESHNESS_UNVERIFIABLE_AFTER_BLOCKED = 3
FRESHNESS_UNVERIFIABLE_AFTER_HOURS = 48.0
FRESHNESS_DEFAULT_CHECK_EVERY = "1d"
FRESHNESS_CANARY_URLS: list[str] = []  # e.g. ["https://www.wikipedia.org/"]; all failing = outage
FRESHNESS_OUTAGE_MIN_HOSTS = 5  # below this many hosts, only "every host failed" means outage
FRESHNESS_OUTAGE_FAILURE_RATIO = 0.8
FRESHNESS_ORGS: list[str] = []  # limit a run to these organisation ids
FRESHNESS_TARGETS: list[dict] = []  # ad-hoc targets (freshness check URL); bypasses the store
FRESHNESS_HOSTS: dict[str, str] = {}  # host -> IP overrides, like curl --resolve
FRESHNESS_HOSTS_ONLY = False  # True: a host not in FRESHNESS_HOSTS fails as a DNS error
FRESHNESS_MAX_BYTES = 2 * 1024 * 1024  # bodies are truncated here, not failed
FRESHNESS_MAX_REDIRECTS = 10
FRESHNESS_MAX_RETRY_AFTER = 120  # seconds; a longer Retry-After is recorded as blocked instead
FRESHNESS_SOFT404_PROBE = True
FRESHNESS_BATCH_SIZE = 100  # observations per committed write
FRESHNESS_START_BACKLOG = 256  # start requests waiting in the scheduler, at most (see spider)
FRESHNESS_PROCESSES = 0  # crawler processes per run; 0 = one per core for large runs
FRESHNESS_PROCESSES_MIN_ORGS = 200  # "auto" stays single-process below this many due orgs
FRESHNESS_STORED_TEXT = 2000  # characters of page text kept in the store (all are classified)
FRESHNESS_DISCOVERY = True  # look for new peer-support organisations linked from listed ones
FRESHNESS_DISCOVERY_PAGES = 3  # links/partners/resources pages per homepage
FRESHNESS_DISCOVERY_SITES = 10  # outbound sites per organisation and run
FRESHNESS_DISCOVERY_EVERY = "7d"  # look for new organisations this often per organisation
FRESHNESS_PROBE_TTL = "7d"  # reuse a directory's hard-404 probe this long (0: always probe)
FRESHNESS_REDIS_LEASE = 600  # seconds a worker may hold an organisation before it is re-queued
FRESHNESS_REDIS_TIMEOUT = 6 * 3600  # a distributed run gives up waiting for workers after this
FRESHNESS_WORKER_IDLE = 30  # a worker exits after the queue has been empty this many seconds
FRESHNESS_WORKER_BATCH = 64  # organisations a worker takes from the queue at a time

# -- Politeness --------------------------------------------------------------------------------
ROBOTSTXT_OBEY = True
# robots.txt groups are matched against our product token. Without this Scrapy would use
# USER_AGENT ("Scrapy/..."): our User-Agent header is only added further down the chain.
ROBOTSTXT_USER_AGENT = "freshness"
# Many hosts, few pages each: high global concurrency, low per-host concurrency. A request
# waiting out its host's delay holds one of the CONCURRENT_REQUESTS places, and a host's pages
# come one after another: with 64, the last hosts of a pass ran their chains with the CPU
# idle (benchmarks: 1,000 organisations in 15.8 s with 128 instead of 17.1 s; 10,000 alike).
CONCURRENT_REQUESTS = 128
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.25
AUTOTHROTTLE_ENABLED = True
# A host's first delay. AutoThrottle only lowers a delay after a 200, so with 0.5 the first gap
# of every host (its robots.txt is often a 404) was 0.5 s, and every gap on a host answering
# only redirects (a renamed organisation's old domain). The least it ever lowers to is
# DOWNLOAD_DELAY, so start there: a host sees a request every 0.25 s at most, and a slow one
# less often (the delay follows its latency). Scrapy's 5 s would make a 5-page site take half
# a minute.
AUTOTHROTTLE_START_DELAY = 0.25
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
# Scrapy forgets robots.txt when a crawl ends. Keep it in HTTPCACHE_DIR (a relative path is
# under .scrapy/: the Scrapy project's, else the working directory's) and revalidate it on
# every run with a conditional request (spiders/robotscache.py). Nothing else is cached.
HTTPCACHE_ENABLED = True
HTTPCACHE_POLICY = "spiders.robotscache.RobotsTxtRevalidationPolicy"
HTTPCACHE_STORAGE = "spiders.robotscache.SafeFilesystemCacheStorage"
HTTPCACHE_DIR = "freshness-cache"
HTTPCACHE_EXPIRATION_SECS = 0  # entries never expire: each use revalidates them
COOKIES_ENABLED = False  # we are not a browser session; cookies only make runs differ
# A callback yields one to a few items. Scrapy's 100 starts 100 asyncio tasks per response to
# handle them in parallel: about 15% of a run's CPU (docs/benchmarks.md), for nothing.
CONCURRENT_ITEMS = 4
# A host's few pages are fetched seconds apart. Twisted keeps an idle connection (and one the
# server already closed) 240 s: thousands of dead connections per crawler by the end of a
# large run (spiders/handlers.py). 15 s still reuses one connection for a host's pages.
# Scrapy keeps a host's downloader slot 60 to 120 s after its last request: 15 s here too.
FRESHNESS_IDLE_CONNECTION_SECONDS = 15.0
FRESHNESS_IDLE_SLOT_SECONDS = 15.0
FRESHNESS_ROBOTS_PARSERS = 1000  # hosts whose robots.txt rules a crawler holds (Scrapy: all)
DOWNLOADER = "spiders.handlers.ShortIdleSlotDownloader"
# Counts the start requests it holds, for FRESHNESS_START_BACKLOG (spiders/scheduler.py).
SCHEDULER = "spiders.scheduler.StartCountingScheduler"
# Scrapy's downloader-aware queue, at a cost that does not grow with the hosts waiting in it
# (spiders/pqueues.py).
SCHEDULER_PRIORITY_QUEUE = "spiders.pqueues.HostAwarePriorityQueue"
STATS_CLASS = "spiders.stats.PlainMemoryStatsCollector"  # see spiders/stats.py
DOWNLOAD_HANDLERS = {
    "http": "spiders.handlers.ShortIdleHTTP11DownloadHandler",
    "https": "spiders.handlers.ShortIdleHTTP11DownloadHandler",
}

# -- Robustness --------------------------------------------------------------------------------
DOWNLOAD_TIMEOUT = 30  # Scrapy's 180 s lets one dead host hold a slot for three minutes
DNS_TIMEOUT = 15
TWISTED_DNS_RESOLVER = "spiders.resolver.OverridableResolver"
RETRY_ENABLED = True
RETRY_TIMES = 2  # transient errors get two more tries inside a run
RETRY_GIVE_UP_LOG_LEVEL = "INFO"  # a failure is an observation, not an error of ours
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408]  # 429 is ours (Retry-After)
# Scrapy's list without CannotResolveHostError and DownloadConnectionRefusedError. A name that
# does not resolve, or a port that refuses, is the host's answer for now, and asking again a
# moment later made a dead host's robots.txt, homepage and groups page nine requests, one
# after another (with DNS timeouts, seconds each). The next run is the retry: a link is only
# dead after FRESHNESS_DEAD_AFTER_FAILURES failures over FRESHNESS_DEAD_AFTER_HOURS.
RETRY_EXCEPTIONS = [
    "scrapy.exceptions.DownloadFailedError",
    "scrapy.exceptions.DownloadTimeoutError",
    "scrapy.exceptions.ResponseDataLossError",
    "twisted.internet.error.ConnectionDone",
    "twisted.internet.error.ConnectError",
    "twisted.internet.error.ConnectionLost",
    "builtins.OSError",  # HttpCompression's, on an empty compressed body
    "scrapy.core.downloader.handlers.http11.TunnelError",
]
HTTPERROR_ALLOW_ALL = True  # the classifier must see every status
REDIRECT_ENABLED = True  # for robots.txt; listed pages follow redirects by hand, hop by hop
METAREFRESH_ENABLED = False  # recorded as a fact instead of followed
DOWNLOAD_MAXSIZE = 0  # the spider truncates at FRESHNESS_MAX_BYTES itself
DOWNLOAD_WARNSIZE = 0
REACTOR_THREADPOOL_MAXSIZE = 20
LOG_LEVEL = "INFO"
# Scrapy's list without "Platform": platform.platform() runs `uname -p` in a child process, so
# every crawl forked a copy of its crawler process just to log the machine's processor.
LOG_VERSIONS = [
    "lxml",
    "libxml2",
    "cssselect",
    "parsel",
    "w3lib",
    "Twisted",
    "Python",
    "pyOpenSSL",
    "cryptography",
]
TELNETCONSOLE_ENABLED = False
# Scrapy 2.19's remote control is an HTTP server in every crawl that runs code it is sent (for
# Scrapy's MCP server). A monitor has no use for it, and it should not be listening.
REMOTE_CONTROL_ENABLED = False
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
    "Accept-Language": "en",
}

DOWNLOADER_MIDDLEWARES = {
    # Scrapy's, with at most FRESHNESS_ROBOTS_PARSERS hosts' rules held (spiders/robotscache.py)
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "spiders.robotscache.BoundedRobotsTxtMiddleware": 100,
    "spiders.middlewares.ContactUserAgentMiddleware": 500,
    "scrapy.downloadermiddlewares.useragent.UserAgentMiddleware": None,
    "spiders.middlewares.RetryAfterMiddleware": 560,  # before RetryMiddleware sees the response
}
ITEM_PIPELINES = {"monitor.runs.local.RecordObservationsPipeline": 300}

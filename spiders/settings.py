"""Scrapy settings for the freshness crawl, and the ``FRESHNESS_`` settings' defaults.

This is the one table of defaults: every setting freshness reads is here, with a comment that
says what it does and why, and the README's settings table is generated from it
(``python -m monitor.crawl.settings_doc --update README.md``). Nothing here imports anything:
pure code (``monitor.judging.policy``) reads its defaults from this module.

Scrapy's own defaults suit scraping one site hard. A monitor visits thousands of sites a few
pages each, so the choices below differ; each says why. Layers, lowest first: this table <
``[settings]`` in ``freshness.toml`` < ``FRESHNESS_*`` environment variables < ``-s NAME=VALUE``
and the command's options. A ``FRESHNESS_`` name that is not in this table is an error
wherever it is given.
"""

from __future__ import annotations

# -- The Scrapy project ----------------------------------------------------------------------
BOT_NAME = "freshness"  # Scrapy's name for the project, in its log lines
SPIDER_MODULES = ["spiders"]  # where `scrapy list` and `scrapy crawl` find the spiders
NEWSPIDER_MODULE = "spiders"  # where `scrapy genspider` would put a new one

# -- What freshness itself reads (parsed once into monitor.judging.policy.Policy) ----------------------
# The store: an SQLite path or URL, or PostgreSQL as postgresql://user@host/db. The command
# line's --db sets it too.
FRESHNESS_DB = "sqlite:///freshness.db"
# The page the User-Agent links to: freshness/VERSION (link checker for curated directories;
# +FRESHNESS_CONTACT_URL).
FRESHNESS_CONTACT_URL = "https://github.com/freshness-monitor/freshness"
# An ISO timestamp to use as the time now, for every command (empty: the real clock). Tests
# and demos move time with it; a naive time is UTC.
FRESHNESS_NOW = ""
# A link is dead after this many failures in a row (over FRESHNESS_DEAD_AFTER_HOURS at least).
FRESHNESS_DEAD_AFTER_FAILURES = 3
FRESHNESS_DEAD_AFTER_HOURS = 48.0  # hours the failures must span before a link is dead
# A link is unverifiable (never dead) after this many blocked answers in a row (robots.txt
# disallows it, or the site turns robots away), over FRESHNESS_UNVERIFIABLE_AFTER_HOURS.
FRESHNESS_UNVERIFIABLE_AFTER_BLOCKED = 3
FRESHNESS_UNVERIFIABLE_AFTER_HOURS = 48.0  # hours the blocked answers must span
# How often an organisation is checked when its entry gives no check_every.
FRESHNESS_DEFAULT_CHECK_EVERY = "1d"
# Pages that should always answer, e.g. ["https://www.wikipedia.org/"]: when all of them fail,
# the run is an outage of ours (inconclusive), not dead links.
FRESHNESS_CANARY_URLS: list[str] = []
FRESHNESS_OUTAGE_MIN_HOSTS = 5  # below this many hosts, only "every host failed" means outage
# A run where this share of hosts failed is an outage of ours (inconclusive), not dead links.
FRESHNESS_OUTAGE_FAILURE_RATIO = 0.8
FRESHNESS_ORGS: list[str] = []  # limit a run to these organisation ids (run --org sets it)
FRESHNESS_TARGETS: list[dict] = []  # ad-hoc targets (freshness check URL); bypasses the store
# Internal: the spider's target loader, an import path; it gives the targets, or the targets
# and the directory's listed domains (the store's due organisations by default).
FRESHNESS_TARGET_LOADER = "monitor.runs.plan.load_run"
# Internal: the run a crawl records under, handed by a run to its crawlers (0: none).
FRESHNESS_RUN_ID = 0
# `host=ip,...` (or a table) overrides DNS, like curl --resolve.
FRESHNESS_HOSTS: dict[str, str] = {}
# True: any other host fails as a DNS error (tests, benchmarks): "no such name", or, with
# FRESHNESS_HOSTS empty, "temporary failure in name resolution", as on a machine with no
# network.
FRESHNESS_HOSTS_ONLY = False
# Bodies are truncated here, not failed (DOWNLOAD_MAXSIZE would fail them).
FRESHNESS_MAX_BYTES = 2 * 1024 * 1024
FRESHNESS_MAX_REDIRECTS = 10  # hops a listed page's redirect chain is followed, by hand
FRESHNESS_MAX_RETRY_AFTER = 120  # seconds; a longer Retry-After is recorded as blocked instead
# Fetch a made-up URL next to a page that answered 2xx, so a "not found" page served with a
# 200 is told from a real page.
FRESHNESS_SOFT404_PROBE = True
FRESHNESS_BATCH_SIZE = 100  # observations per committed write
# Start requests waiting in the scheduler at most (a host's probes and discovery pages do not
# count: counting them held new hosts back, and the last hosts' chains became the pass's
# tail). It bounds the hosts a crawler has in flight: 512 took a 10,000 pass over 300 MB, and
# a larger backlog thrashes the robots.txt rules held (FRESHNESS_ROBOTS_PARSERS).
FRESHNESS_START_BACKLOG = 256
# Crawler processes per run: 0 (auto) uses one per core once FRESHNESS_PROCESSES_MIN_ORGS
# organisations are due; one process keeps one core busy. They are started before the run is
# planned (see "Using every core"); 1 starts none.
FRESHNESS_PROCESSES = 0
FRESHNESS_PROCESSES_MIN_ORGS = 200  # "auto" stays single-process below this many due orgs
# Characters of page text kept per observation in the store; the classifier reads up to 20,000.
FRESHNESS_STORED_TEXT = 2000
FRESHNESS_DISCOVERY = True  # look for new peer-support organisations linked from listed ones
FRESHNESS_DISCOVERY_PAGES = 3  # links/partners/resources pages per homepage
FRESHNESS_DISCOVERY_SITES = 10  # outbound sites per organisation and run
# How often each organisation's links are followed to find new organisations
# (FRESHNESS_DISCOVERY=False turns it off).
FRESHNESS_DISCOVERY_EVERY = "7d"
# A directory whose soft-404 probe got a hard 404 is not probed again for this long, unless
# the page's title changes (0: probe every time).
FRESHNESS_PROBE_TTL = "7d"
FRESHNESS_REDIS_LEASE = 600  # seconds a worker may hold an organisation before it is re-queued
FRESHNESS_REDIS_TIMEOUT = 6 * 3600  # a distributed run gives up waiting for workers after this
FRESHNESS_WORKER_IDLE = 30  # a worker exits after the queue has been empty this many seconds
FRESHNESS_WORKER_BATCH = 64  # organisations a worker takes from the queue at a time
# Where digests go: Apprise URLs or TAG=URL, separated by whitespace (empty: notify = [...] in
# the config file, if any). --notify replaces it.
FRESHNESS_NOTIFY = ""
FRESHNESS_HEARTBEAT = False  # True: a run with nothing new still sends "No changes"

# -- Politeness --------------------------------------------------------------------------------
# A disallowed URL is unverifiable, never dead (Scrapy: off). Two differences from Scrapy's
# robots.txt handling (spiders/robotscache.py): a robots.txt answered with a 4xx allows
# everything (RFC 9309), where Scrapy read the "not found" page as rules; and when a host's
# robots.txt redirects to another host's /robots.txt (a renamed organisation's old domain),
# that file stands for the new host too, instead of being fetched again.
ROBOTSTXT_OBEY = True
# robots.txt groups are matched against our product token. Without this Scrapy would use
# USER_AGENT ("Scrapy/..."): our User-Agent header is only added further down the chain.
ROBOTSTXT_USER_AGENT = "freshness"
# Many hosts, few pages each: high global concurrency, low per-host concurrency (Scrapy: 16).
# A request waiting out its host's delay holds one of the CONCURRENT_REQUESTS places, and a
# host's pages come one after another: with 64, the last hosts of a pass ran their chains with
# the CPU idle (benchmarks: 1,000 organisations in 15.8 s with 128 instead of 17.1 s; 10,000
# alike).
CONCURRENT_REQUESTS = 128
CONCURRENT_REQUESTS_PER_DOMAIN = 2  # be gentle with small charity sites (Scrapy: 8)
DOWNLOAD_DELAY = 0.25  # the least gap between two requests to a host
# Adapt to slow servers (Scrapy: off): a host's delay follows its latency, never under
# DOWNLOAD_DELAY.
AUTOTHROTTLE_ENABLED = True
# A host's first delay. AutoThrottle only lowers a delay after a 200, so with 0.5 the first gap
# of every host (its robots.txt is often a 404) was 0.5 s, and every gap on a host answering
# only redirects (a renamed organisation's old domain). The least it ever lowers to is
# DOWNLOAD_DELAY, so start there: a host sees a request every 0.25 s at most, and a slow one
# less often (the delay follows its latency). Scrapy's 5 s would make a 5-page site take half
# a minute.
AUTOTHROTTLE_START_DELAY = 0.25
AUTOTHROTTLE_MAX_DELAY = 30.0  # the slowest a very slow host is asked (Scrapy: 60 s)
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0  # one request at a time in flight per host, on average
# Scrapy forgets robots.txt when a crawl ends (Scrapy: no cache). Keep it, one file per host,
# and revalidate it on every run with a conditional request, so an unchanged one costs a 304
# (spiders/robotscache.py). Nothing else is cached. A cache written by Scrapy's own storage (a
# directory per entry, as freshness wrote it before) is not read: each such host's robots.txt
# is fetched in full once more.
HTTPCACHE_ENABLED = True
HTTPCACHE_POLICY = "spiders.robotscache.RobotsTxtRevalidationPolicy"  # robots.txt only
HTTPCACHE_STORAGE = "spiders.robotscache.SafeFilesystemCacheStorage"  # a file per host
# A relative path is under .scrapy/: the Scrapy project's, else the working directory's.
HTTPCACHE_DIR = "freshness-cache"
HTTPCACHE_EXPIRATION_SECS = 0  # entries never expire: each use revalidates them
COOKIES_ENABLED = False  # we are not a browser session; cookies only make runs differ
# A callback yields one to a few items. Scrapy's 100 starts 100 asyncio tasks per response to
# handle them in parallel: about 15% of a run's CPU (docs/benchmarks.md), for nothing.
CONCURRENT_ITEMS = 4
# How long an idle connection is kept for reuse (Twisted: 240 s). A host's few pages are
# fetched seconds apart, and Twisted also keeps connections the server already closed until
# then: thousands of dead connections per crawler by the end of a large run
# (spiders/handlers.py). 15 s still reuses one connection for a host's pages.
FRESHNESS_IDLE_CONNECTION_SECONDS = 15.0
# How long a crawler keeps an idle host's downloader slot (its queue, delay and AutoThrottle's
# reading) past the host's delay (Scrapy: 60 to 120 s after its last request); a host that
# comes back starts again at the start delay.
FRESHNESS_IDLE_SLOT_SECONDS = 15.0
# How many hosts' robots.txt rules a crawler holds, the most recently used; Scrapy keeps every
# host's to the end of the crawl (about 2 KB each: 10 MB per crawler at 10,000
# organisations). A host whose rules were dropped has its robots.txt asked for again.
FRESHNESS_ROBOTS_PARSERS = 1000
# Closes idle downloader slots after FRESHNESS_IDLE_SLOT_SECONDS (spiders/handlers.py).
DOWNLOADER = "spiders.handlers.ShortIdleSlotDownloader"
# Counts the start requests it holds, for FRESHNESS_START_BACKLOG (spiders/scheduler.py).
SCHEDULER = "spiders.scheduler.StartCountingScheduler"
# Scrapy's downloader-aware queue, at a cost that does not grow with the hosts waiting in it
# (spiders/pqueues.py).
SCHEDULER_PRIORITY_QUEUE = "spiders.pqueues.HostAwarePriorityQueue"
# The same stats as Scrapy's MemoryStatsCollector without Scrapy 2.19's per-attribute
# deprecation shim, which raised and caught an exception on every read (spiders/stats.py).
STATS_CLASS = "spiders.stats.PlainMemoryStatsCollector"
# Drop idle connections after FRESHNESS_IDLE_CONNECTION_SECONDS (spiders/handlers.py).
DOWNLOAD_HANDLERS = {
    "http": "spiders.handlers.ShortIdleHTTP11DownloadHandler",
    "https": "spiders.handlers.ShortIdleHTTP11DownloadHandler",
}

# -- Robustness --------------------------------------------------------------------------------
DOWNLOAD_TIMEOUT = 30  # Scrapy's 180 s lets one dead host hold a slot for three minutes
DNS_TIMEOUT = 15  # seconds a name may take to resolve (Scrapy: 60)
# Answers FRESHNESS_HOSTS first, then asks the system (spiders/resolver.py).
TWISTED_DNS_RESOLVER = "spiders.resolver.OverridableResolver"
RETRY_ENABLED = True  # timeouts and dropped connections are retried inside a run
# Transient errors get two more tries inside a run; 429 and 503 honour Retry-After instead,
# up to FRESHNESS_MAX_RETRY_AFTER.
RETRY_TIMES = 2
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
DOWNLOAD_WARNSIZE = 0  # large bodies are expected, and truncated: no warning
REACTOR_THREADPOOL_MAXSIZE = 20  # threads for DNS lookups (Scrapy: 10)
LOG_LEVEL = "INFO"  # the commands log at WARNING unless -v is given
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
TELNETCONSOLE_ENABLED = False  # nobody should be able to log into a crawl
# Scrapy 2.19's remote control is an HTTP server in every crawl that runs code it is sent (for
# Scrapy's MCP server). A monitor has no use for it, and it should not be listening.
REMOTE_CONTROL_ENABLED = False
# HTML first, and English where a site offers a choice of language.
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
    "Accept-Language": "en",
}
# robots.txt rules bounded, our User-Agent with the contact URL, and Retry-After honoured.
DOWNLOADER_MIDDLEWARES = {
    # Scrapy's, with at most FRESHNESS_ROBOTS_PARSERS hosts' rules held (spiders/robotscache.py)
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "spiders.robotscache.BoundedRobotsTxtMiddleware": 100,
    "spiders.middlewares.ContactUserAgentMiddleware": 500,
    "scrapy.downloadermiddlewares.useragent.UserAgentMiddleware": None,
    "spiders.middlewares.RetryAfterMiddleware": 560,  # before RetryMiddleware sees the response
}
# Observations are recorded in the store, in batches of FRESHNESS_BATCH_SIZE.
ITEM_PIPELINES = {"monitor.runs.recording.RecordObservationsPipeline": 300}

"""A simulated web for end-to-end crawls: many hostnames on one loopback port, no internet.

Quick start::

    from monitor.simweb import SimWeb, load_catalogue

    with SimWeb(load_catalogue()) as web:
        start_url = web.url("healthy.test", "/groups")  # http://healthy.test:PORT/groups
        resolve = web.hosts()        # {"healthy.test": "127.0.0.1", "refused.test": "127.0.0.2", ...}
        ...                          # crawl with a resolver override built from `resolve`
        web.set_state("after")       # the world changes, no restart, no sleeping
        assert web.count("healthy.test", "/groups", "GET") == 1

The server answers on 127.0.0.1:<ephemeral port> (and over TLS on a second one, see
below) and routes by the ``Host`` header (port stripped), or by the host of an absolute
URI when used as an ``http_proxy``.
Requests for a host that is unknown (or vanished, or refused) get a 502 with
``X-Simweb: unknown-host`` (or ``refused``).

HTTPS and proxies
-----------------
``web.tls_port`` serves every host over TLS, routed the same way, with a self-signed
certificate made at start-up (its key is never left on disk). Scrapy does not verify
certificates by default, so ``web.url("healthy.test", "/", scheme="https")``
(``https://healthy.test:TLS_PORT/``) just works with a resolver override.

``web.proxy_url`` is an ``http_proxy`` and an ``https_proxy``: a ``CONNECT host:port`` is
answered ``200 Connection established`` and spliced to the TLS listener, whatever the
port, so ``https://healthy.test/`` works with no resolver override at all. The CONNECT is
logged as ``Request(host, "CONNECT", "host:port", headers)``, then the requests sent
through the tunnel as usual. A CONNECT to an unknown or refused host gets the 502 above.

Adding a scenario
=================

A scenario is one host: a few lines of YAML in ``monitor/simweb/scenarios/*.yaml``
(every file there is part of the catalogue) or a Python dict passed to ``SimWeb``::

    newsite.test:
      vars: {org: Newsite Nurses}                  # used as {org} in page templates
      pages:
        /: {file: network_home.html}               # body from monitor/simweb/pages/
        /groups: {file: groups_wordpress.html}
        /old: {redirect: /groups}                  # 301 unless status says otherwise
        /flaky: {sequence: [{status: 503}, {body: "ok"}]}   # 1st request 503, then ok
      states:
        after:                                     # web.set_state("after")
          /groups: {status: 404, body: "not here"}
          /old: null                               # page removed -> not_found
        run3: {vanished: true}                     # host options can change per state too

In Python: ``SimWeb({"newsite.test": {"pages": {"/": "<html>...</html>"}}})`` (a plain
string is shorthand for ``{body: ...}``). Combine with the catalogue:
``SimWeb({**load_catalogue(), **mine})``.

States
------
The top level of a host is the "before" state. ``states: {NAME: overrides}`` overlays
it: keys starting with "/" replace (or, with ``null``, remove) pages; other keys
replace host options (``vars`` and ``defaults`` are merged). A state a host does not
define falls back to "before". ``set_state()`` also rewinds every ``sequence``.

Response options (all optional)
-------------------------------
``status``          default 200 (301 with ``redirect``)
``headers``         mapping; overrides the defaults (Content-Type, Server, Date, ...)
``body``            text; templated, then encoded with ``encoding`` (default utf-8)
``file``            read a body from the pages dir (utf-8 on disk; templated and encoded)
``body_bytes``      raw bytes (``!!binary`` in YAML); sent as is
``encoding``        e.g. ``windows-1252``, ``shift_jis``; also named in Content-Type ...
``charset_header``  ... unless false: then Content-Type is plain ``text/html``
``content_type``    shortcut for the Content-Type header
``redirect``        Location (templated; relative or ``{url:host/path}``)
``delay``           seconds to wait before answering (cut short by ``stop()``)
``hang``            true: read the request, never answer (released by ``stop()``)
``reset``           true: close with a TCP RST and no response (SO_LINGER 0)
``sequence``        list of responses for successive requests; the last one repeats
``head``            a different response for HEAD (e.g. ``{status: 405}``)
``huge``            N: stream an N-byte HTML body, generated lazily
``binary``          N: N deterministic pseudo-random bytes (octet-stream, or
                    ``content_type: image/png`` for a PNG-signed blob)
``content_length``  false: no Content-Length, body ends when the connection closes
``etag``            false: no ETag/Last-Modified (and no 304s) for this response

Every 200 gets a strong ETag (hash of the body) and a Last-Modified (2026-01-05, one
day later each time the content of that URL changes) unless given explicitly or
``etag: false``. A matching ``If-None-Match``, or ``If-Modified-Since`` >= Last-Modified,
gets a 304 with no body.

Host options
------------
``pages``      path -> response (exact path with query string first, then without)
``catch_all``  response for every path not in ``pages`` (the soft-404 server)
``not_found``  custom 404 response (status defaults to 404); default a plain 404
``robots``     text served as /robots.txt; without it /robots.txt is a 404
``refused``    true: ``hosts()`` maps it to 127.0.0.2 (connection refused)
``vanished``   true: left out of ``hosts()`` (DNS error)
``tls``        ``broken``: every TLS handshake naming the host (SNI) fails with a
               handshake_failure alert, a real TLS error for the client (Scrapy: the
               OpenSSL error in a ``ResponseNeverReceived``); plain HTTP still works.
               Default ``ok``. A client sending no SNI always gets a working handshake.
``defaults``   response options applied under every response of the host
               (``delay``, ``headers``, ``hang``, ``reset``, ``etag``, ``encoding``,
               ``charset_header``, ``head``)
``vars``       names for templates, e.g. ``{org: Healthy Nurses Network}``
``states``     see above

Templates, in bodies, headers and redirects: ``{port}``, ``{host}``, ``{path}`` (the
request path), any ``vars`` name, and ``{url:host/path}`` / ``{url:/path}`` -> the live
``http://host:PORT/path`` (``https://host:TLS_PORT/path`` in a page served over TLS, where
``{port}`` is the TLS port too). Other braces (CSS, JSON-LD, JavaScript) are left alone.
Two values change on every request, for pages that must differ each time they are fetched
(nonces, hit counters, "updated N minutes ago"): ``{nonce}`` (16 random hex digits, new per
response) and ``{counter}`` (1 for the first response to that host and path, then 2, 3 ...;
never rewound). A ``vars`` value may use them, and ``{url:...}``, but not other names.

Observing
---------
``web.requests`` (list of ``Request(host, method, path, headers)``, headers lower-cased),
``web.count(host, path=None, method=None)``, ``web.wait_for(n, host=..., timeout=...)``
(condition variable, no polling), ``web.bytes_sent`` (per host),
``web.clear_requests()`` (log and byte counters), ``web.errors`` (server-side
tracebacks; should stay empty).

Modules
-------
``server.py``       ``SimWeb``: start and stop, addresses, states, what was observed
``connections.py``  the listeners and the request handler (routing, CONNECT tunnels, 304s)
``replies.py``      a response before it is sent; generated bodies (``huge``, ``binary``)
``tls.py``          the self-signed certificate, made at start-up
``scenario.py``     the format above: validation, per-state views, templates, loading
``demo.py``         ``freshness demo``
"""

from .scenario import (
    LIVE_IP,
    PAGES_DIR,
    REFUSED_IP,
    SCENARIOS_DIR,
    ScenarioError,
    load_catalogue,
    load_scenarios,
)
from .server import Request, SimWeb

__all__ = [
    "LIVE_IP",
    "PAGES_DIR",
    "REFUSED_IP",
    "SCENARIOS_DIR",
    "Request",
    "ScenarioError",
    "SimWeb",
    "load_catalogue",
    "load_scenarios",
]

"""The simulated web: one loopback port that answers for many hostnames, and one for TLS.

Stdlib only (plus the scenario module, and ``cryptography`` for the self-signed
certificate, in ``tls.py``). Each connection gets a thread (``connections.py``); ``stop()``
wakes every waiting handler (delays, hangs, idle keep-alive connections, CONNECT tunnels),
closes every socket and joins every thread, so nothing leaks and shutdown is quick.

The TLS listener serves the same hosts as the plain one. A ``CONNECT`` to the plain
listener (any host:port) is spliced to it, so the plain port is also an ``https_proxy``.
"""

from __future__ import annotations

import ssl
import threading
from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .connections import Listener, Request, TLSListener
from .scenario import (
    BASE_STATE,
    LIVE_IP,
    REFUSED_IP,
    HostScenario,
    HostView,
    compile_scenarios,
)
from .tls import tls_context

BASE_LAST_MODIFIED = datetime(2026, 1, 5, 10, 0, 0, tzinfo=UTC)


class SimWeb:
    """A fake internet on 127.0.0.1:<ephemeral port>, routed by the Host header.

    >>> with SimWeb(load_catalogue()) as web:            # doctest: +SKIP
    ...     web.url("healthy.test", "/groups")           # 'http://healthy.test:PORT/groups'
    ...     web.hosts()                                  # {'healthy.test': '127.0.0.1', ...}
    ...     web.set_state("after")
    """

    def __init__(
        self,
        scenarios: Mapping[str, Any],
        state: str = BASE_STATE,
        *,
        pages_dir: Path | str | None = None,
        bind: str = LIVE_IP,
    ) -> None:
        self._scenarios: dict[str, HostScenario] = compile_scenarios(scenarios, pages_dir)
        self._bind = bind
        self._lock = threading.Lock()
        self._seen = threading.Condition(self._lock)
        self._state = state
        self._views = self._make_views(state)
        self._requests: list[Request] = []
        self._bytes: defaultdict[str, int] = defaultdict(int)
        self._positions: dict[tuple[str, str], int] = {}
        self._mtimes: dict[tuple[str, str], tuple[str, datetime]] = {}
        self._hits: defaultdict[tuple[str, str], int] = defaultdict(int)
        self._errors: list[str] = []
        self._stopping = threading.Event()
        self._server: Listener | None = None
        self._tls_server: TLSListener | None = None
        self._threads: list[threading.Thread] = []
        self._tls_context: ssl.SSLContext | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> SimWeb:
        if self._server is not None:
            raise RuntimeError("SimWeb is already running")
        self._stopping.clear()
        if self._tls_context is None:  # made once: a restart keeps the same certificate
            self._tls_context = tls_context(self._tls_names(), self._bind, self._sni)
        self._server = Listener((self._bind, 0), self)
        self._tls_server = TLSListener((self._bind, 0), self, self._tls_context)
        self._threads = [
            threading.Thread(
                target=server.serve_forever,
                # Polled every 10 ms: stop() waits out one poll, and tests start and stop
                # a simulated web hundreds of times.
                kwargs={"poll_interval": 0.01},
                name=f"simweb:{server.server_address[1]}",
                daemon=True,
            )
            for server in (self._server, self._tls_server)
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: wake delayed/hanging handlers, close all sockets, join all threads."""
        if self._server is None or self._tls_server is None:
            return
        servers = (self._server, self._tls_server)
        self._stopping.set()
        # Both at once: each shutdown() waits for its listener's next poll.
        stoppers = [threading.Thread(target=server.shutdown) for server in servers]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        for thread in self._threads:
            thread.join()
        # Both listeners' sockets are shut before either joins its workers: a tunnel's
        # worker on the plain side waits on a connection owned by the TLS side.
        for server in servers:
            server.close_connections()
        for server in servers:
            server.server_close()
        self._server = self._tls_server = None
        self._threads = []

    def __enter__(self) -> SimWeb:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ addresses

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("SimWeb is not running; call start() first")
        return int(self._server.server_address[1])

    @property
    def tls_port(self) -> int:
        """The TLS listener's port: the same hosts over https, with a self-signed certificate."""
        if self._tls_server is None:
            raise RuntimeError("SimWeb is not running; call start() first")
        return int(self._tls_server.server_address[1])

    @property
    def proxy_url(self) -> str:
        """Use as ``http_proxy`` and ``https_proxy``.

        Absolute-URI requests are routed by the URI's host; ``CONNECT host:port`` opens a
        tunnel to the TLS listener (whatever the port), where the Host header routes again.
        """
        return f"http://{self._bind}:{self.port}"

    def url(self, host: str, path: str = "/", scheme: str = "http") -> str:
        """``http://host:PORT/path``, or with ``scheme="https"`` the TLS listener's URL."""
        if not path.startswith("/"):
            path = "/" + path
        if scheme not in ("http", "https"):
            raise ValueError(f"scheme must be 'http' or 'https', not {scheme!r}")
        port = self.tls_port if scheme == "https" else self.port
        return f"{scheme}://{host}:{port}{path}"

    def hosts(self) -> dict[str, str]:
        """Resolver map for the current state: live hosts -> 127.0.0.1, refused -> 127.0.0.2.

        Vanished hosts are left out, so a resolver override turns them into DNS errors.
        """
        with self._lock:
            views = self._views
        return {
            name: (REFUSED_IP if view.refused else LIVE_IP)
            for name, view in views.items()
            if not view.vanished
        }

    @property
    def host_names(self) -> list[str]:
        return sorted(self._scenarios)

    # ------------------------------------------------------------------ state

    @property
    def state(self) -> str:
        return self._state

    def set_state(self, name: str) -> None:
        """Switch every host to state ``name`` (undefined per host -> "before").

        Also rewinds every ``sequence`` to its first response.
        """
        views = self._make_views(name)
        with self._lock:
            self._state = name
            self._views = views
            self._positions.clear()

    def _make_views(self, state: str) -> dict[str, HostView]:
        return {name: scenario.view(state) for name, scenario in self._scenarios.items()}

    # ------------------------------------------------------------------ TLS

    def _tls_names(self) -> list[str]:
        return sorted(self._scenarios)

    def _sni(
        self, connection: ssl.SSLSocket | ssl.SSLObject, server_name: str | None, _: object
    ) -> int | None:
        """Abort the handshake for a host whose current state says ``tls: broken``.

        Routing needs the name before any HTTP is read, so this is the SNI name; a client
        that sends none (an IP address) always gets a working handshake.
        """
        if server_name is None:
            return None
        view = self._view(server_name.lower().rstrip("."))
        if view is not None and view.tls == "broken":
            # A fatal alert, as a server with no cipher or protocol in common would send.
            return ssl.ALERT_DESCRIPTION_HANDSHAKE_FAILURE
        return None

    # ------------------------------------------------------------------ observations

    @property
    def requests(self) -> list[Request]:
        """A snapshot of every request received, in arrival order."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        """Forget the request log and the byte counters."""
        with self._lock:
            self._requests.clear()
            self._bytes.clear()

    def count(
        self, host: str | None = None, path: str | None = None, method: str | None = None
    ) -> int:
        with self._lock:
            return self._count_locked(host, path, method)

    def _count_locked(self, host: str | None, path: str | None, method: str | None) -> int:
        return sum(
            1
            for r in self._requests
            if (host is None or r.host == host)
            and (path is None or r.path == path)
            and (method is None or r.method == method.upper())
        )

    def wait_for(
        self,
        n: int = 1,
        *,
        host: str | None = None,
        path: str | None = None,
        method: str | None = None,
        timeout: float = 5.0,
    ) -> bool:
        """Block until ``n`` matching requests have arrived (no polling); False on timeout."""
        with self._seen:
            return self._seen.wait_for(
                lambda: self._count_locked(host, path, method) >= n, timeout=timeout
            )

    @property
    def bytes_sent(self) -> dict[str, int]:
        """Bytes written (status line, headers and body) per host since the last clear."""
        with self._lock:
            return dict(self._bytes)

    @property
    def errors(self) -> list[str]:
        """Tracebacks of unexpected server-side exceptions (a healthy run has none)."""
        with self._lock:
            return list(self._errors)

    # ------------------------------------------------------------------ used by handlers

    def _log(self, request: Request) -> None:
        with self._seen:
            self._requests.append(request)
            self._seen.notify_all()

    def _add_bytes(self, host: str, n: int) -> None:
        with self._lock:
            self._bytes[host] += n

    def _record_error(self, text: str) -> None:
        with self._lock:
            self._errors.append(text)

    def _view(self, host: str) -> HostView | None:
        with self._lock:
            return self._views.get(host)

    def _pick(self, host: str, key: str, spec: dict[str, Any]) -> dict[str, Any]:
        """Resolve a ``sequence``: the n-th request gets the n-th item, the last one repeats."""
        items = spec.get("sequence")
        if items is None:
            return spec
        with self._lock:
            position = self._positions.get((host, key), 0)
            self._positions[(host, key)] = position + 1
        return items[min(position, len(items) - 1)]

    def _hit(self, host: str, path: str) -> int:
        """Count one more response for ``host`` and ``path``: the ``{counter}`` template value."""
        with self._lock:
            self._hits[(host, path)] += 1
            return self._hits[(host, path)]

    def _last_modified(self, host: str, path: str, etag: str) -> datetime:
        """A stable Last-Modified that moves forward a day whenever the content changes."""
        with self._lock:
            previous = self._mtimes.get((host, path))
            if previous is not None and previous[0] == etag:
                return previous[1]
            when = BASE_LAST_MODIFIED if previous is None else previous[1] + timedelta(days=1)
            self._mtimes[(host, path)] = (etag, when)
            return when


__all__ = ["Request", "SimWeb"]

"""The simulated web: one loopback port that answers for many hostnames, and one for TLS.

Stdlib only (plus the scenario module, and ``cryptography`` for the self-signed
certificate). Each connection gets a thread; ``stop()`` wakes every waiting handler
(delays, hangs, idle keep-alive connections, CONNECT tunnels), closes every socket and
joins every thread, so nothing leaks and shutdown is quick.

The TLS listener serves the same hosts as the plain one. A ``CONNECT`` to the plain
listener (any host:port) is spliced to it, so the plain port is also an ``https_proxy``.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import random
import secrets
import socket
import socketserver
import ssl
import struct
import sys
import tempfile
import threading
import traceback
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .scenario import (
    BASE_STATE,
    LIVE_IP,
    REFUSED_IP,
    HostScenario,
    HostView,
    compile_scenarios,
    render,
)

BASE_LAST_MODIFIED = datetime(2026, 1, 5, 10, 0, 0, tzinfo=UTC)
CHUNK = 64 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_NO_BODY_STATUSES = frozenset({204, 304})


class Request(NamedTuple):
    """One logged request. ``headers`` has lower-case names; ``path`` includes the query.

    A CONNECT is logged with its target as the path (``"host:port"``).
    """

    host: str
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class _Reply:
    status: int
    headers: dict[str, str]
    body: bytes = b""
    stream: Iterator[bytes] | None = None
    length: int | None = None  # None with a stream: no Content-Length, close the connection


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
        self._server: _Server | None = None
        self._tls_server: _TLSServer | None = None
        self._threads: list[threading.Thread] = []
        self._tls_context: ssl.SSLContext | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> SimWeb:
        if self._server is not None:
            raise RuntimeError("SimWeb is already running")
        self._stopping.clear()
        if self._tls_context is None:  # made once: a restart keeps the same certificate
            self._tls_context = _tls_context(self._tls_names(), self._bind, self._sni)
        self._server = _Server((self._bind, 0), self)
        self._tls_server = _TLSServer((self._bind, 0), self, self._tls_context)
        self._threads = [
            threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
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
        for server in servers:
            server.shutdown()
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


# ---------------------------------------------------------------------- socket server


class _Server(socketserver.TCPServer):
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], web: SimWeb) -> None:
        self.web = web
        self._guard = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._resets: set[socket.socket] = set()
        self._workers: set[threading.Thread] = set()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        # Registered here, in the serving thread, so stop() cannot miss a connection.
        worker = threading.Thread(
            target=self._work, args=(request, client_address), name="simweb-conn", daemon=True
        )
        with self._guard:
            self._connections.add(request)
            self._workers.add(worker)
        worker.start()

    def _work(self, request: Any, client_address: Any) -> None:
        connection = request
        try:
            connection = self.wrap_connection(request)
            self.finish_request(connection, client_address)
        except Exception:
            self.handle_error(connection, client_address)
        finally:
            self.shutdown_request(connection)
            with self._guard:
                self._workers.discard(threading.current_thread())

    def wrap_connection(self, request: socket.socket) -> socket.socket:
        """The socket the handler talks through: the accepted one, here."""
        return request

    def track(self, connection: socket.socket) -> None:
        """Have ``stop()`` shut ``connection`` too (a tunnel's upstream socket)."""
        with self._guard:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._guard:
            self._connections.discard(connection)

    def mark_reset(self, request: socket.socket) -> None:
        with self._guard:
            self._resets.add(request)

    def shutdown_request(self, request: Any) -> None:
        with self._guard:
            self._connections.discard(request)
            reset = request in self._resets
            self._resets.discard(request)
        if not reset:
            if isinstance(request, ssl.SSLSocket):
                _send_close_notify(request)
            super().shutdown_request(request)
            return
        with contextlib.suppress(OSError):  # linger 0: close() sends RST instead of FIN
            request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        request.close()

    def close_connections(self) -> None:
        """Wake handlers blocked reading (keep-alive, hang) by shutting their sockets."""
        with self._guard:
            for connection in self._connections:
                with contextlib.suppress(OSError):
                    # socket.socket's own shutdown: SSLSocket.shutdown would also drop the
                    # TLS state under a handler still reading from it in another thread.
                    socket.socket.shutdown(connection, socket.SHUT_RDWR)

    def server_close(self) -> None:
        super().server_close()
        with self._guard:
            workers = list(self._workers)
        for worker in workers:
            worker.join(timeout=5)
            if worker.is_alive():
                self.web._record_error(f"simweb: worker {worker.name} did not stop")

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            return  # the client went away: part of the game
        if isinstance(error, ssl.SSLError):
            return  # a failed handshake: a client that gave up, or ``tls: broken`` on purpose
        if isinstance(error, OSError) and self.web._stopping.is_set():
            return
        self.web._record_error(traceback.format_exc())


class _TLSServer(_Server):
    """The TLS listener: each accepted socket is wrapped, and its handshake run by the handler."""

    def __init__(self, address: tuple[str, int], web: SimWeb, context: ssl.SSLContext) -> None:
        self.context = context
        super().__init__(address, web)

    def wrap_connection(self, request: socket.socket) -> socket.socket:
        # Wrapping detaches the accepted socket, so the tracked one is swapped under the
        # guard: stop() must always find the live socket. No I/O happens here; the
        # handshake runs in the handler, where a failure is the client's to see.
        with self._guard:
            connection = self.context.wrap_socket(
                request, server_side=True, do_handshake_on_connect=False
            )
            self._connections.discard(request)
            self._connections.add(connection)
        return connection


def _send_close_notify(connection: ssl.SSLSocket) -> None:
    """End TLS politely without waiting for the peer's close_notify (it may never come)."""
    with contextlib.suppress(OSError, ValueError):
        connection.settimeout(0)
        connection.unwrap()


def _tls_context(names: list[str], bind: str, sni: Any) -> ssl.SSLContext:
    """A server context with a fresh self-signed certificate for every scenario host.

    Clients are not expected to verify it (Scrapy does not by default). The key never
    outlives this call on disk: ``load_cert_chain`` needs files, so it gets a private
    temporary directory that is removed once the context holds the key.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "simweb")])
    now = datetime.now(UTC)
    alternative: list[x509.GeneralName] = [x509.DNSName(n) for n in [*names, "localhost"]]
    with contextlib.suppress(ValueError):  # bound to a name, not an address: nothing to add
        alternative.append(x509.IPAddress(ipaddress.ip_address(bind)))
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(alternative), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory(prefix="simweb-tls-") as folder:
        pem = Path(folder) / "simweb.pem"
        pem.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            + certificate.public_bytes(serialization.Encoding.PEM)
        )
        context.load_cert_chain(pem)
    context.sni_callback = sni
    return context


# ---------------------------------------------------------------------- handler


class _CountingWriter:
    """Wraps the handler's wfile and adds every byte written to its host's counter."""

    def __init__(self, raw: Any, handler: _Handler) -> None:
        self._raw = raw
        self._handler = handler

    def write(self, data: bytes) -> int:
        # Counted before sending, so a client that has read a response sees it counted.
        self._handler.server.web._add_bytes(self._handler.target_host, len(data))
        return self._raw.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


def _shut(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)


def _split_host(value: str) -> str:
    value = value.strip()
    if value.startswith("["):
        return value[1 : value.find("]")].lower()
    return value.rsplit(":", 1)[0].lower().rstrip(".") if value else ""


def _huge_chunks(size: int) -> Iterator[bytes]:
    head = b'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Meeting archive</title></head><body>\n'
    tail = b"\n</body></html>\n"
    if size < len(head) + len(tail):
        yield (head + tail)[:size]
        return
    line = (
        b"<p>Archived meeting notes: peer support, shift work, and looking after each other.</p>\n"
    )
    block = line * (CHUNK // len(line))
    remaining = size - len(head) - len(tail)
    yield head
    while remaining > 0:
        piece = block[:remaining]
        remaining -= len(piece)
        yield piece
    yield tail


def _binary_chunks(size: int, png: bool) -> Iterator[bytes]:
    rng = random.Random(size)  # deterministic: same size, same bytes, same ETag
    first = True
    remaining = size
    while remaining > 0:
        piece = rng.randbytes(min(CHUNK, remaining))
        if first and png:
            piece = (PNG_SIGNATURE + piece)[: len(piece)]
        first = False
        remaining -= len(piece)
        yield piece


def _etag_matches(header: str, etag: str) -> bool:
    def opaque(tag: str) -> str:
        tag = tag.strip()
        return tag[2:] if tag.startswith("W/") else tag

    candidates = [opaque(t) for t in header.split(",")]
    return "*" in candidates or opaque(etag) in candidates


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes
    server_version = "simweb/1.0"
    server: _Server

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            # Here, in the connection's own thread: a slow or failing handshake (``tls:
            # broken``) holds up no one else, and its SSLError ends only this connection.
            self.request.do_handshake()
        super().setup()
        self.target_host = ""
        self.wfile = _CountingWriter(self.wfile, self)  # type: ignore[assignment]

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # the request log is SimWeb.requests

    # Every method is answered the same way (HEAD without a body). CONNECT opens a tunnel.
    def do_GET(self) -> None:
        self._answer()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def do_CONNECT(self) -> None:
        """Act as an https proxy: splice the client to the TLS listener, whatever the port.

        Logged as ``Request(host, "CONNECT", "host:port", headers)``; the requests sent
        through the tunnel are then logged by the TLS listener as usual.
        """
        web = self.server.web
        host = _split_host(self.path)
        self.target_host = host
        self.close_connection = True  # after a tunnel, no more requests on this connection
        web._log(Request(host, "CONNECT", self.path, self._header_map()))
        view = self._reachable_view(host)
        tls = web._tls_server
        if view is None:
            return
        if tls is None or web._stopping.is_set():
            return
        upstream = socket.create_connection(tls.server_address[:2], timeout=5)
        upstream.settimeout(None)
        self.server.track(upstream)
        try:
            self.send_response_only(200, "Connection established")
            self.end_headers()
            self.wfile.flush()
            self._splice(upstream)
        finally:
            self.server.untrack(upstream)
            upstream.close()

    def _splice(self, upstream: socket.socket) -> None:
        """Copy bytes both ways until either side closes; a reset upstream resets the client.

        Client to upstream reads ``rfile`` (bytes the client sent early may sit in its
        buffer); upstream to client runs in a helper thread joined before returning.
        """

        def downstream() -> None:
            how = socket.SHUT_RDWR
            try:
                while data := upstream.recv(CHUNK):
                    self.connection.sendall(data)
            except ConnectionResetError:
                # Passed on as a reset: no FIN first (SHUT_RD only wakes the read below),
                # and shutdown_request closes with linger 0.
                self.server.mark_reset(self.connection)
                how = socket.SHUT_RD
            except OSError:
                pass
            finally:
                with contextlib.suppress(OSError):
                    self.connection.shutdown(how)  # wakes the read below

        helper = threading.Thread(target=downstream, name="simweb-tunnel", daemon=True)
        helper.start()
        try:
            while data := self.rfile.read1(CHUNK):
                upstream.sendall(data)
        except OSError:
            pass
        finally:
            _shut(upstream)  # wakes the helper's recv
            helper.join(timeout=5)
        if helper.is_alive():
            self.server.web._record_error("simweb: a CONNECT tunnel did not stop")

    def _header_map(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        return headers

    # -------------------------------------------------------------- routing

    def _target(self) -> tuple[str, str]:
        """(host, path-with-query) from an absolute URI (proxy use) or the Host header."""
        if self.path.lower().startswith(("http://", "https://")):
            parts = urlsplit(self.path)
            path = parts.path or "/"
            if parts.query:
                path += "?" + parts.query
            return (parts.hostname or "").rstrip("."), path
        return _split_host(self.headers.get("Host", "")), self.path

    def _answer(self) -> None:
        web = self.server.web
        host, path = self._target()
        self.target_host = host
        headers = self._header_map()
        self._drain_body()
        web._log(Request(host, self.command, path, headers))

        view = self._reachable_view(host)
        if view is None:
            return

        key, spec = view.lookup(path)
        spec = view.with_defaults(web._pick(host, key, spec))
        if self.command == "HEAD" and "head" in spec:
            spec = view.with_defaults(spec["head"])
            spec.pop("head", None)

        if spec.get("delay") and web._stopping.wait(spec["delay"]):
            self.close_connection = True
            return
        if spec.get("hang"):
            self._hang()
            return
        if spec.get("reset"):
            self.server.mark_reset(self.connection)
            self.close_connection = True
            return
        self._send(self._build(spec, view, path))

    def _drain_body(self) -> None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > 0:
            self.rfile.read(length)

    def _hang(self) -> None:
        """Read and discard until the client gives up or the server stops. Never answer."""
        self.close_connection = True
        try:
            while not self.server.web._stopping.is_set():
                if not self.connection.recv(CHUNK):
                    return
        except OSError:
            return

    # -------------------------------------------------------------- building

    def _build(self, spec: Mapping[str, Any], view: HostView, path: str) -> _Reply:
        port = self.server.server_address[1]
        scheme = "https" if isinstance(self.server, _TLSServer) else "http"
        # Per response, the same in body, headers and Location: what changes on every request.
        # Expanded after the vars, so a var's value may use them too.
        volatile = {
            "{nonce}": secrets.token_hex(8),
            "{counter}": str(self.server.web._hit(view.name, path)),
        }

        def expand(text: str) -> str:
            text = render(
                text, port=port, host=view.name, path=path, variables=view.variables, scheme=scheme
            )
            for name, value in volatile.items():
                text = text.replace(name, value)
            return text

        status = spec.get("status", 301 if "redirect" in spec else 200)
        encoding = spec.get("encoding", "utf-8")
        content_type = spec.get("content_type") or (
            f"text/html; charset={encoding}" if spec.get("charset_header", True) else "text/html"
        )
        headers = {"Content-Type": content_type}
        if "redirect" in spec:
            headers["Location"] = expand(spec["redirect"])

        reply = _Reply(status=status, headers=headers)
        if "huge" in spec:
            reply.stream = _huge_chunks(spec["huge"])
            reply.length = spec["huge"] if spec.get("content_length", True) else None
            seed = f"huge:{spec['huge']}".encode()
        elif "binary" in spec:
            png = content_type.startswith("image/png")
            if "content_type" not in spec:
                headers["Content-Type"] = "application/octet-stream"
            reply.stream = _binary_chunks(spec["binary"], png)
            reply.length = spec["binary"] if spec.get("content_length", True) else None
            seed = f"binary:{spec['binary']}:{png}".encode()
        else:
            if "body_bytes" in spec:
                body = spec["body_bytes"]
            elif "body" in spec:
                body = expand(spec["body"]).encode(encoding)
            elif status != 200:
                body = self._default_body(status, headers.get("Location"))
            else:
                body = b""
            seed = body
            if spec.get("content_length", True):
                reply.body, reply.length = body, len(body)
            else:
                reply.stream = iter([body])

        for name, value in spec.get("headers", {}).items():
            for existing in [k for k in headers if k.lower() == name.lower()]:
                del headers[existing]
            headers[name] = expand(value)

        if status == 200 and spec.get("etag", True):
            self._validate(reply, view.name, path, seed)
        return reply

    def _default_body(self, status: int, location: str | None) -> bytes:
        reason = self.responses.get(status, ("Error", ""))[0]
        if location:
            text = f'<html><head><title>{status} {reason}</title></head><body><h1>{reason}</h1><p>The document has moved <a href="{location}">here</a>.</p></body></html>\n'
        else:
            text = f"<html><head><title>{status} {reason}</title></head><body><h1>{status} {reason}</h1></body></html>\n"
        return text.encode()

    def _validate(self, reply: _Reply, host: str, path: str, seed: bytes) -> None:
        """Add ETag/Last-Modified and turn a matching conditional request into a 304."""
        lower = {k.lower(): k for k in reply.headers}
        etag = reply.headers.get(lower.get("etag", ""), "")
        if not etag:
            etag = '"' + hashlib.sha256(seed).hexdigest()[:24] + '"'
            reply.headers["ETag"] = etag
        if "last-modified" in lower:
            try:
                modified = parsedate_to_datetime(reply.headers[lower["last-modified"]])
            except (TypeError, ValueError):
                modified = None
        else:
            modified = self.server.web._last_modified(host, path, etag)
            reply.headers["Last-Modified"] = format_datetime(modified, usegmt=True)

        if self.command not in ("GET", "HEAD"):
            return
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            fresh = _etag_matches(if_none_match, etag)
        else:
            fresh = False
            since = self.headers.get("If-Modified-Since")
            if since and modified is not None:
                try:
                    fresh = parsedate_to_datetime(since) >= modified
                except (TypeError, ValueError):
                    fresh = False
        if fresh:
            reply.status = 304
            reply.body, reply.stream, reply.length = b"", None, None
            for name in [
                k for k in reply.headers if k.lower() in ("content-type", "content-length")
            ]:
                del reply.headers[name]

    # -------------------------------------------------------------- sending

    def _send(self, reply: _Reply) -> None:
        self.send_response_only(reply.status)
        present = {k.lower() for k in reply.headers}
        if "server" not in present:
            self.send_header("Server", self.version_string())
        if "date" not in present:
            self.send_header("Date", self.date_time_string())
        for name, value in reply.headers.items():
            self.send_header(name, value)
        has_body = reply.status not in _NO_BODY_STATUSES and reply.status >= 200
        if has_body and "content-length" not in present:
            if reply.length is not None:
                self.send_header("Content-Length", str(reply.length))
            else:
                self.send_header("Connection", "close")
        self.end_headers()
        if not has_body or self.command == "HEAD":
            return
        if reply.stream is None:
            self.wfile.write(reply.body)
            return
        stopping = self.server.web._stopping
        for piece in reply.stream:
            if stopping.is_set():
                self.close_connection = True
                return
            self.wfile.write(piece)

    def _reachable_view(self, host: str) -> HostView | None:
        """The host's view, or None after answering the error for a host that is not there
        (unknown or vanished) or refuses connections."""
        view = self.server.web._view(host)
        if view is None or view.vanished:
            self._simweb_error("unknown-host", f"simweb: unknown host {host!r}")
            return None
        if view.refused:
            self._simweb_error("refused", f"simweb: {host!r} refuses connections")
            return None
        return view

    def _simweb_error(self, kind: str, message: str) -> None:
        body = (message + "\n").encode()
        self.send_response_only(502)
        self.send_header("Server", self.version_string())
        self.send_header("Date", self.date_time_string())
        self.send_header("X-Simweb", kind)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


__all__ = ["Request", "SimWeb"]

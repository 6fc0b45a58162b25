"""The simulated web: one loopback port that answers for many hostnames.

Stdlib only (plus the scenario module). Each connection gets a thread; ``stop()``
wakes every waiting handler (delays, hangs, idle keep-alive connections), closes
every socket and joins every thread, so nothing leaks and shutdown is quick.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
import secrets
import socket
import socketserver
import struct
import sys
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
    """One logged request. ``headers`` has lower-case names; ``path`` includes the query."""

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
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> SimWeb:
        if self._server is not None:
            raise RuntimeError("SimWeb is already running")
        self._stopping.clear()
        self._server = _Server((self._bind, 0), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"simweb:{self._server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: wake delayed/hanging handlers, close all sockets, join all threads."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stopping.set()
        server.shutdown()
        thread.join()
        server.close_connections()
        server.server_close()
        self._server = self._thread = None

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
    def proxy_url(self) -> str:
        """Use as ``http_proxy``: absolute-URI requests are routed by the URI's host."""
        return f"http://{self._bind}:{self.port}"

    def url(self, host: str, path: str = "/") -> str:
        if not path.startswith("/"):
            path = "/" + path
        return f"http://{host}:{self.port}{path}"

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
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            with self._guard:
                self._workers.discard(threading.current_thread())

    def mark_reset(self, request: socket.socket) -> None:
        with self._guard:
            self._resets.add(request)

    def shutdown_request(self, request: Any) -> None:
        with self._guard:
            self._connections.discard(request)
            reset = request in self._resets
            self._resets.discard(request)
        if not reset:
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
                    connection.shutdown(socket.SHUT_RDWR)

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
        if isinstance(error, OSError) and self.web._stopping.is_set():
            return
        self.web._record_error(traceback.format_exc())


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
        super().setup()
        self.target_host = ""
        self.wfile = _CountingWriter(self.wfile, self)  # type: ignore[assignment]

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # the request log is SimWeb.requests

    # Every method is answered the same way (HEAD without a body). CONNECT is not: 501.
    def do_GET(self) -> None:
        self._answer()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

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
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        self._drain_body()
        web._log(Request(host, self.command, path, headers))

        view = web._view(host)
        if view is None or view.vanished:
            self._simweb_error("unknown-host", f"simweb: unknown host {host!r}")
            return
        if view.refused:
            self._simweb_error("refused", f"simweb: {host!r} refuses connections")
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
        # Per response, the same in body, headers and Location: what changes on every request.
        # Expanded after the vars, so a var's value may use them too.
        volatile = {
            "{nonce}": secrets.token_hex(8),
            "{counter}": str(self.server.web._hit(view.name, path)),
        }

        def expand(text: str) -> str:
            text = render(text, port=port, host=view.name, path=path, variables=view.variables)
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

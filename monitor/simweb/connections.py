"""The listeners and the per-connection handler: where the simulated web meets sockets.

Each accepted connection gets a thread (``Listener``); its ``_Handler`` routes every request
by host to the ``SimWeb`` that owns the listener, and answers from the host's current view.
A ``CONNECT`` is spliced to the TLS listener, so the plain port is also an ``https_proxy``.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import socket
import socketserver
import ssl
import struct
import sys
import threading
import traceback
from collections.abc import Callable, Mapping
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler
from typing import Any, NamedTuple, Protocol
from urllib.parse import urlsplit

from .replies import (
    CHUNK,
    NO_BODY_STATUSES,
    Reply,
    binary_chunks,
    etag_matches,
    huge_chunks,
)
from .scenario import HostView, render
from .tls import send_close_notify


class Request(NamedTuple):
    """One logged request. ``headers`` has lower-case names; ``path`` includes the query.

    A CONNECT is logged with its target as the path (``"host:port"``).
    """

    host: str
    method: str
    path: str
    headers: dict[str, str]


class Web(Protocol):
    """What a connection uses of the ``SimWeb`` that owns its listener (``server.py``).

    A protocol, not an import: ``server.py`` imports this module.
    """

    _stopping: threading.Event
    _tls_server: TLSListener | None

    def _log(self, request: Request) -> None: ...

    def _add_bytes(self, host: str, n: int) -> None: ...

    def _record_error(self, text: str) -> None: ...

    def _view(self, host: str) -> HostView | None: ...

    def _pick(self, host: str, key: str, spec: dict[str, Any]) -> dict[str, Any]: ...

    def _hit(self, host: str, path: str) -> int: ...

    def _last_modified(self, host: str, path: str, etag: str) -> datetime: ...


# ---------------------------------------------------------------------- socket server


class Listener(socketserver.TCPServer):
    """The plain listener: a thread per connection, each tracked so ``stop()`` can end it."""

    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], web: Web) -> None:
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
                send_close_notify(request)
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


class TLSListener(Listener):
    """The TLS listener: each accepted socket is wrapped, and its handshake run by the handler."""

    def __init__(self, address: tuple[str, int], web: Web, context: ssl.SSLContext) -> None:
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


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes
    server_version = "simweb/1.0"
    server: Listener

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

    def _build(self, spec: Mapping[str, Any], view: HostView, path: str) -> Reply:
        port = self.server.server_address[1]
        scheme = "https" if isinstance(self.server, TLSListener) else "http"
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

        reply = Reply(status=status, headers=headers)
        seed = self._fill_body(reply, spec, expand)

        for name, value in spec.get("headers", {}).items():
            for existing in [k for k in headers if k.lower() == name.lower()]:
                del headers[existing]
            headers[name] = expand(value)

        if status == 200 and spec.get("etag", True):
            self._validate(reply, view.name, path, seed)
        return reply

    def _fill_body(
        self, reply: Reply, spec: Mapping[str, Any], expand: Callable[[str], str]
    ) -> bytes:
        """Give ``reply`` its body or stream and length; return the ETag's seed."""
        status, headers = reply.status, reply.headers
        encoding = spec.get("encoding", "utf-8")
        content_type = headers["Content-Type"]
        if "huge" in spec:
            reply.stream = huge_chunks(spec["huge"])
            reply.length = spec["huge"] if spec.get("content_length", True) else None
            seed = f"huge:{spec['huge']}".encode()
        elif "binary" in spec:
            png = content_type.startswith("image/png")
            if "content_type" not in spec:
                headers["Content-Type"] = "application/octet-stream"
            reply.stream = binary_chunks(spec["binary"], png)
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
        return seed

    def _default_body(self, status: int, location: str | None) -> bytes:
        reason = self.responses.get(status, ("Error", ""))[0]
        if location:
            text = f'<html><head><title>{status} {reason}</title></head><body><h1>{reason}</h1><p>The document has moved <a href="{location}">here</a>.</p></body></html>\n'
        else:
            text = f"<html><head><title>{status} {reason}</title></head><body><h1>{status} {reason}</h1></body></html>\n"
        return text.encode()

    def _validate(self, reply: Reply, host: str, path: str, seed: bytes) -> None:
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
            fresh = etag_matches(if_none_match, etag)
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

    def _send(self, reply: Reply) -> None:
        self.send_response_only(reply.status)
        present = {k.lower() for k in reply.headers}
        if "server" not in present:
            self.send_header("Server", self.version_string())
        if "date" not in present:
            self.send_header("Date", self.date_time_string())
        for name, value in reply.headers.items():
            self.send_header(name, value)
        has_body = reply.status not in NO_BODY_STATUSES and reply.status >= 200
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

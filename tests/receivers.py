"""Real notification receivers on loopback for the outbox and CLI tests: an SMTP server
(aiosmtpd, with AUTH so the password in the URL is really checked) and an HTTP receiver for
Apprise's ``json://`` that can be told to fail."""

from __future__ import annotations

import email
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SECRET = "hunter2-Secret"
SMTP_USER = "curator"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Mailbox:
    port: int
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def url(self, password: str = SECRET) -> str:
        return (
            f"mailto://{SMTP_USER}:{password}@127.0.0.1:{self.port}"
            "?smtp=127.0.0.1&mode=insecure&from=freshness@example.org&to=curators@example.org"
        )


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    def check_login(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = data.login == SMTP_USER.encode() and data.password == SECRET.encode()
        return AuthResult(success=ok, handled=False)

    mailbox = Mailbox(port=free_port())
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=mailbox.port,
        authenticator=check_login,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


@dataclass
class Receiver:
    """Records every POST; paths in ``failing`` get a 500 instead."""

    port: int
    requests: list[tuple[str, bytes]] = field(default_factory=list)
    failing: set[str] = field(default_factory=set)

    def url(self, path: str, *, user: str | None = None) -> str:
        auth = f"{user}:{SECRET}@" if user else ""
        return f"json://{auth}127.0.0.1:{self.port}/{path}"

    def bodies(self, path: str) -> list[dict[str, Any]]:
        return [json.loads(body) for p, body in self.requests if p == f"/{path}"]


@contextmanager
def http_receiver() -> Iterator[Receiver]:
    receiver = Receiver(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            failing = self.path.lstrip("/") in receiver.failing
            if not failing:
                receiver.requests.append((self.path, body))
            self.send_response(500 if failing else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    # Polled every 50 ms, not every 0.5 s: shutdown() waits out one poll, in every test.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

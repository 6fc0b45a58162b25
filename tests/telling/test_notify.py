"""Sending digests through real Apprise plugins to real local servers, and the HTML digest in
a real browser. Nothing leaves 127.0.0.1."""

from __future__ import annotations

import email
import json
import logging
import re
import shutil
import socket
import struct
import subprocess
import threading
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import apprise
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from apprise.decorators import notify as apprise_notify

from monitor.telling.digest import Digest, render_digest
from monitor.telling.notify import (
    DEFAULT_ROUTES,
    NotifyError,
    Target,
    _answer,
    body_for,
    deliver,
    deliver_one,
    kinds_for,
    mask,
    parse_targets,
    split_specs,
)
from monitor.telling.sample import sample_digest
from tests.conftest_helpers_notify import (
    HOSTILE_ORG_NAMES,
    NOW,
    ORG_NAMES,
    hostile_findings,
    opened_findings,
    recovered_findings,
)

pytestmark = [
    # Apprise's PGP helper imports the stdlib's deprecated imghdr while loading its plugins.
    pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning"),
    pytest.mark.timeout(60),
]

SECRET = "hunter2-Secret"
SMTP_USER = "curator"

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def digest() -> Digest:
    return render_digest(
        opened_findings(), recovered_findings(), org_names=ORG_NAMES, now=NOW, run_id=42
    )


# -- a real SMTP server -------------------------------------------------------------------------


@dataclass
class Mailbox:
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.envelopes.append(envelope)
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def _check_login(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    ok = data.login == SMTP_USER.encode() and data.password == SECRET.encode()
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 235/535


@pytest.fixture
def smtp_server() -> Iterator[Mailbox]:
    """aiosmtpd on loopback, with AUTH (no TLS) so the URL's password is really used."""
    mailbox = Mailbox(port=free_port())
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=mailbox.port,
        authenticator=_check_login,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


def mailto(port: int, password: str = SECRET) -> str:
    return (
        f"mailto://{SMTP_USER}:{password}@127.0.0.1:{port}"
        "?smtp=127.0.0.1&mode=insecure&from=freshness@example.org&to=curators@example.org"
    )


# -- a real HTTP receiver -----------------------------------------------------------------------


@dataclass
class Receiver:
    port: int
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)

    def url(self, path: str, scheme: str = "json") -> str:
        return f"{scheme}://127.0.0.1:{self.port}/{path}"

    def bodies(self, path: str) -> list[dict[str, Any]]:
        return [json.loads(body) for p, _, body in self.requests if p == f"/{path}"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    received: list[tuple[str, dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length", 0))
            received.append((self.path, dict(self.headers), self.rfile.read(length)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    # Polled every 50 ms: shutdown() waits out one poll (0.5 s by default) in every test.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield Receiver(port=server.server_address[1], requests=received)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# -- an in-process Apprise plugin, as the style guide suggests ------------------------------------

CAPTURED: list[dict[str, Any]] = []


def _capture(body: str, title: str, notify_type: str, meta: dict[str, Any], **kwargs: Any) -> bool:
    CAPTURED.append(
        {"body": body, "title": title, "type": str(notify_type), "host": meta.get("host")}
    )
    return meta.get("host") != "fail"


@pytest.fixture(scope="module")
def capture_schema() -> None:
    """Register ``freshcap://`` once; not at import, where the imghdr warning is not filtered."""
    apprise_notify(on="freshcap", name="freshness test capture")(_capture)


@pytest.fixture
def captured(capture_schema: None) -> Iterator[list[dict[str, Any]]]:
    CAPTURED.clear()
    yield CAPTURED
    CAPTURED.clear()


# -- email --------------------------------------------------------------------------------------


def test_email_gets_html_with_a_text_alternative(smtp_server: Mailbox, digest: Digest) -> None:
    url = mailto(smtp_server.port)
    result = deliver(digest, [Target(url)])
    assert result == {mask(url): True}
    assert SECRET not in next(iter(result))

    [message] = smtp_server.messages
    assert message["Subject"] == digest.title
    assert message["To"] == "curators@example.org"
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]

    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert html.startswith("<!DOCTYPE html>")
    assert "Content-Security-Policy" in html
    for part in (html, text):
        assert digest.summary in part
        assert "Paramedic Peers" in part
        assert "https://paramedic-peers.example.org/meetings" in part
        assert "freshness accept 11" in part
        assert "freshness dismiss 20" in part
        assert "NXDOMAIN" in part
    assert "Failing for 3 days" in text
    assert "<div" not in text


def test_email_with_a_wrong_password_fails_without_leaking_it(
    smtp_server: Mailbox, digest: Digest, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = mailto(smtp_server.port, password="wrong-" + SECRET)
    assert deliver(digest, [Target(url)]) == {mask(url): False}
    assert smtp_server.messages == []
    assert SECRET not in caplog.text


# -- webhooks and routing -----------------------------------------------------------------------


def test_json_webhook_gets_the_markdown_digest(receiver: Receiver, digest: Digest) -> None:
    url = receiver.url("hooks/freshness")
    assert deliver(digest, [Target(url)]) == {mask(url): True}
    [payload] = receiver.bodies("hooks/freshness")
    assert payload["title"] == digest.title
    assert payload["type"] == "warning"  # there are dead links
    assert payload["message"] == digest.markdown().rstrip("\n")  # Apprise trims the body
    assert "`freshness accept 11`" in payload["message"]


def test_tagged_targets_receive_only_their_kinds(receiver: Receiver, digest: Digest) -> None:
    targets = parse_targets(
        [
            f"curators={receiver.url('curators')}",
            f"new_group,removed_group={receiver.url('groups')} {receiver.url('everything')}",
            f"chat={receiver.url('chat')}",
        ]
    )
    routes = {**DEFAULT_ROUTES, "chat": ("new_group", "new_organisation")}
    result = deliver(digest, targets, routes=routes)
    assert list(result.values()) == [True, True, True, True]

    [curators] = receiver.bodies("curators")
    [groups] = receiver.bodies("groups")
    [chat] = receiver.bodies("chat")
    [everything] = receiver.bodies("everything")
    assert curators["title"] == (
        "freshness: 3 dead links, 1 move, 1 rename, 1 unverifiable link, "
        "1 revived link, 1 recovered"
    )
    assert "**Dead link**" in curators["message"]
    assert "Farm vets" not in curators["message"]
    assert groups["title"] == "freshness: 2 new groups, 1 removed group"
    assert "Equine vets" in groups["message"] and "Dead link" not in groups["message"]
    assert chat["title"] == "freshness: 2 new groups, 1 new organisation candidate"
    assert "Equine vets" not in chat["message"]
    assert everything["message"] == digest.markdown().rstrip("\n")


def test_a_target_with_nothing_for_it_is_sent_nothing(receiver: Receiver) -> None:
    dead_only = render_digest(opened_findings()[:1], [], org_names=ORG_NAMES, now=NOW)
    url = receiver.url("chat")
    assert deliver(dead_only, [Target(url, frozenset({"chat"}))]) == {}
    empty = render_digest([], [], org_names=ORG_NAMES, now=NOW)
    assert deliver(empty, [Target(url)]) == {}
    assert deliver_one(empty, Target(url)) is True
    assert receiver.requests == []


def test_heartbeat_reaches_every_target(captured: list[dict[str, Any]]) -> None:
    heartbeat = render_digest([], [], org_names=ORG_NAMES, now=NOW, heartbeat=True)
    targets = [Target("freshcap://all"), Target("freshcap://chat", frozenset({"chat"}))]
    assert list(deliver(heartbeat, targets).values()) == [True, True]
    assert [c["host"] for c in captured] == ["all", "chat"]
    assert [c["title"] for c in captured] == ["freshness: no changes"] * 2
    assert all("No changes since the last run" in c["body"] for c in captured)


def test_a_failing_target_does_not_stop_the_others(
    receiver: Receiver,
    digest: Digest,
    caplog: pytest.LogCaptureFixture,
    captured: list[dict[str, Any]],
) -> None:
    caplog.set_level(logging.DEBUG)
    closed = free_port()  # nothing listens there
    failing = f"json://freshness:{SECRET}@127.0.0.1:{closed}/hook"
    working = f"json://freshness:{SECRET}@127.0.0.1:{receiver.port}/hook"
    result = deliver(digest, [Target(failing), Target(working)])
    assert list(result.values()) == [False, True]
    assert all(SECRET not in key for key in result)
    assert all("****" in key for key in result)
    assert SECRET not in caplog.text
    assert "Could not deliver the digest to json://freshness:****@127.0.0.1" in caplog.text
    assert len(receiver.bodies("hook")) == 1
    # Apprise's own failure answer, through a plugin that says no.
    assert deliver(digest, [Target("freshcap://fail")]) == {mask("freshcap://fail"): False}


def test_targets_that_mask_alike_keep_their_own_result(captured: list[dict[str, Any]]) -> None:
    digest = sample_digest(NOW)
    result = deliver(digest, [Target("freshcap://same"), Target("freshcap://same")])
    assert list(result) == [mask("freshcap://same"), mask("freshcap://same") + " #2"]


# -- body per service ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["discord://1234567890/abcdefghijklmnop", "rocket://user:pw@chat.example.org/#curators"]
)
def test_chat_services_with_a_body_limit_get_a_shortened_digest(digest: Digest, url: str) -> None:
    plugin = apprise.Apprise.instantiate(url)
    assert len(digest.markdown()) > plugin.body_maxlen  # so it has to be shortened
    body, fmt = body_for(digest, plugin)
    assert fmt == "markdown"
    assert len(body) + len(digest.title) < plugin.body_maxlen
    assert body.startswith(f"**{digest.summary}**")
    shown = sum(line.startswith("- ") for line in body.splitlines())
    assert shown == 12 or body.endswith(f"…and {12 - shown} more\n")
    assert shown >= 4  # several findings still fit after the summary line


def test_text_only_services_get_plain_text(digest: Digest) -> None:
    ntfy = apprise.Apprise.instantiate("ntfy://freshness-topic")
    body, fmt = body_for(digest, ntfy)
    assert fmt == "text"
    assert body == digest.text()  # fits in ntfy's limit
    assert "\\(" not in body


def test_email_body_is_html() -> None:
    plugin = apprise.Apprise.instantiate(mailto(2525))
    body, fmt = body_for(sample_digest(NOW), plugin)
    assert fmt == "html" and body.startswith("<!DOCTYPE html>")


def test_apprise_three_answers() -> None:
    assert _answer(True) is True
    assert _answer(False) is False
    assert _answer(None) is None
    nothing = apprise.Apprise().notify(body="x")  # no services: Apprise's "nothing to send"
    assert _answer(nothing) is None


# -- parsing targets and masking ----------------------------------------------------------------


def test_parse_targets_syntax() -> None:
    mail = "mailtos://user:pw@example.org?to=a@example.org,b@example.org&from=f@example.org"
    targets = parse_targets(
        [
            "json://127.0.0.1:9/a",
            f"dead_link,unverifiable={mail}",
            "  curators=json://127.0.0.1:9/b\n chat=json://127.0.0.1:9/c  ",
        ]
    )
    assert targets == [
        Target("json://127.0.0.1:9/a"),
        Target(mail, frozenset({"dead_link", "unverifiable"})),
        Target("json://127.0.0.1:9/b", frozenset({"curators"})),
        Target("json://127.0.0.1:9/c", frozenset({"chat"})),
    ]
    assert split_specs("a=json://x  json://y\n") == ["a=json://x", "json://y"]
    assert split_specs(None) == []
    assert parse_targets([]) == []


def test_parse_targets_reads_apprise_config_files(tmp_path: Path) -> None:
    yaml_file = tmp_path / "apprise.yml"
    yaml_file.write_text(
        "urls:\n"
        "  - json://127.0.0.1:9/yaml:\n"
        "      tag: curators, dead_link\n"
        "  - json://127.0.0.1:9/all\n"
    )
    text_file = tmp_path / "apprise.txt"
    text_file.write_text("chat=json://127.0.0.1:9/text\n")
    targets = parse_targets([str(yaml_file), str(text_file)])
    assert [(t.url.split("?")[0], t.tags) for t in targets] == [
        ("json://127.0.0.1:9/yaml", frozenset({"curators", "dead_link"})),
        ("json://127.0.0.1:9/all", frozenset()),
        ("json://127.0.0.1:9/text", frozenset({"chat"})),
    ]
    empty = tmp_path / "empty.yml"
    empty.write_text("urls: []\n")
    with pytest.raises(NotifyError, match="no notification URLs"):
        parse_targets([str(empty)])


@pytest.mark.parametrize(
    "spec",
    [
        f"nosuchservice://user:{SECRET}@example.org/",
        f"curators=nosuchservice://user:{SECRET}@example.org/",
        f"user:{SECRET}@example.org",
        "./does-not-exist.yml",
    ],
)
def test_bad_targets_raise_without_the_secret(spec: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(NotifyError) as caught:
        parse_targets([spec])
    assert SECRET not in str(caught.value)
    assert SECRET not in caplog.text


def test_unknown_tags_are_refused_before_anything_is_sent(
    receiver: Receiver, digest: Digest
) -> None:
    good = Target(receiver.url("ok"))
    typo = Target(f"json://u:{SECRET}@127.0.0.1:{receiver.port}/x", frozenset({"curator"}))
    with pytest.raises(NotifyError, match="unknown tag 'curator'") as caught:
        deliver(digest, [good, typo])
    assert SECRET not in str(caught.value)
    assert receiver.requests == []
    assert kinds_for(good) == frozenset(DEFAULT_ROUTES["curators"]) | frozenset(
        DEFAULT_ROUTES["chat"]
    )
    with pytest.raises(NotifyError, match="unknown finding kinds"):
        kinds_for(Target("json://x", frozenset({"team"})), {"team": ["dead_links"]})


def test_mask_hides_secrets() -> None:
    masked = mask(f"json://user:{SECRET}@127.0.0.1:9/hook")
    assert SECRET not in masked and masked.startswith("json://user:****@127.0.0.1:9/hook")
    assert mask(f"nosuchservice://user:{SECRET}@host/") == "nosuchservice://***"
    assert mask(f"user:{SECRET}@host") == "***"
    assert SECRET not in repr(Target(f"json://user:{SECRET}@127.0.0.1:9/"))


def test_deliver_one_refuses_a_url_apprise_does_not_know(digest: Digest) -> None:
    with pytest.raises(NotifyError) as caught:
        deliver_one(digest, Target(f"nosuchservice://user:{SECRET}@example.org/"))
    assert SECRET not in str(caught.value)


def test_notify_is_the_only_apprise_importer() -> None:
    root = Path(__file__).resolve().parents[2]
    importers = [
        p.relative_to(root).as_posix()
        for folder in ("monitor", "storage", "spiders")
        for p in (root / folder).rglob("*.py")
        if re.search(r"^\s*(import apprise|from apprise)", p.read_text(), re.M)
    ]
    assert importers == ["monitor/telling/notify.py"]


# -- the HTML digest in a real browser ----------------------------------------------------------

needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")


def chromium(tmp_path: Path, page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            "--window-size=1000,1400",
            *args,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def png_rows(data: bytes) -> tuple[int, int, int, list[bytes]]:
    """Decode an 8-bit RGB(A) PNG into rows of pixels: (width, height, bytes per pixel, rows)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, bytearray()
    width = height = depth = colour = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunk = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
        elif kind == b"IDAT":
            idat += chunk
        elif kind == b"IEND":
            break
    assert depth == 8 and colour in (2, 6), (depth, colour)
    bpp = 3 if colour == 2 else 4
    stride = width * bpp
    raw = zlib.decompress(bytes(idat))
    rows: list[bytes] = []
    prev = bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], raw[start + 1 : start + 1 + stride]
        if kind == 2:  # Up, the common case: one pass without per-byte branching
            line = bytes([(a + b) & 0xFF for a, b in zip(line, prev, strict=True)])
        elif kind in (1, 3, 4):  # Sub, Average, Paeth
            out = bytearray(line)
            for i in range(stride):
                left = out[i - bpp] if i >= bpp else 0
                if kind == 1:
                    pred = left
                elif kind == 3:
                    pred = (left + prev[i]) >> 1
                else:
                    up, upleft = prev[i], prev[i - bpp] if i >= bpp else 0
                    pa, pb, pc = abs(up - upleft), abs(left - upleft), abs(left + up - 2 * upleft)
                    pred = left if pa <= pb and pa <= pc else up if pb <= pc else upleft
                out[i] = (out[i] + pred) & 0xFF
            line = bytes(out)
        rows.append(line)
        prev = line
    return width, height, bpp, rows


@needs_chromium
def test_html_digest_renders_in_chromium(tmp_path: Path) -> None:
    page = tmp_path / "digest.html"
    page.write_text(sample_digest(NOW).html(), encoding="utf-8")
    shot = tmp_path / "digest.png"
    chromium(tmp_path, page, f"--screenshot={shot}")
    width, height, bpp, rows = png_rows(shot.read_bytes())
    assert (width, height) == (1000, 1400)
    pixels = Counter(row[i : i + bpp] for row in rows for i in range(0, len(row), bpp))
    assert len(pixels) > 100, "the screenshot is (nearly) blank"
    [(background, count)] = pixels.most_common(1)
    assert count / (width * height) < 0.9
    # Text was drawn: dark pixels, and the red of the "Dead link" badge (#b42318).
    assert sum(n for p, n in pixels.items() if max(p[:3]) < 80) > 2000
    assert any(
        abs(p[0] - 0xB4) < 8 and abs(p[1] - 0x23) < 8 and abs(p[2] - 0x18) < 8 for p in pixels
    )


@needs_chromium
def test_hostile_digest_cannot_run_script_in_chromium(tmp_path: Path) -> None:
    """Escaping alone must hold: the CSP is removed, so only escaping stands between the page
    and the payloads that try to set document.title."""
    hostile = render_digest(hostile_findings(), [], org_names=HOSTILE_ORG_NAMES, now=NOW)
    html = hostile.html()
    without_csp = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
    assert without_csp != html
    page = tmp_path / "hostile.html"
    page.write_text(without_csp, encoding="utf-8")
    dom = chromium(tmp_path, page, "--dump-dom", "--virtual-time-budget=2000").stdout

    assert f"<title>{hostile.title}</title>" in dom
    assert "pwned" not in re.search(r"<title>(.*?)</title>", dom, re.S).group(1)
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom
    assert not re.search(r"<script\b", dom, re.I)
    assert not re.search(r"<img\b", dom, re.I)
    assert not re.search(r"\son\w+=", dom.replace("&lt;img src=x onerror=", ""), re.I)
    assert 'href="javascript:' not in dom.lower()

    # The control: the same browser does run a script that is really there.
    control = tmp_path / "control.html"
    control.write_text(
        "<!DOCTYPE html><html><head><title>freshness</title></head><body>"
        "<script>document.title='pwned'</script></body></html>",
        encoding="utf-8",
    )
    control_dom = chromium(tmp_path, control, "--dump-dom").stdout
    assert "<title>pwned</title>" in control_dom

"""HTTPS in the simulated web, and freshness over it: the TLS listener, CONNECT tunnels,
``tls: broken``, the https_proxy variables, and how a failed handshake is named.

The simweb tests use plain sockets and ``ssl`` against 127.0.0.1, sending SNI and a Host
header by hand; the end-to-end ones run the real ``freshness`` command.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from monitor.simweb import LIVE_IP, ScenarioError, SimWeb
from tests.crawling import Monitor

PAGE = (
    "<html><head><title>Secure Nurses</title></head>"
    "<body><a href='{url:/groups}'>groups</a> on {port}</body></html>"
)
SCENARIOS: dict[str, Any] = {
    "secure.test": {"pages": {"/": PAGE, "/groups": "the groups", "/reset": {"reset": True}}},
    "broken.test": {
        "tls": "broken",
        "pages": {"/": "plain http still works"},
        "states": {"mended": {"tls": "ok"}},
    },
    "hang.test": {"defaults": {"hang": True}, "catch_all": {}},
    "refused.test": {"refused": True},
}


def unverified() -> ssl.SSLContext:
    """What Scrapy does by default: TLS without checking the certificate."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def https_get(
    sock: socket.socket,
    host: str,
    path: str = "/",
    context: ssl.SSLContext | None = None,
) -> tuple[int, str]:
    """One GET over TLS on a connected socket, with SNI and Host both naming ``host``."""
    with (context or unverified()).wrap_socket(sock, server_hostname=host) as tls:
        tls.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        response = http.client.HTTPResponse(tls)
        try:
            response.begin()
            return response.status, response.read().decode()
        finally:
            response.close()


def connect(web: SimWeb, target: str) -> tuple[socket.socket, bytes]:
    """Open a CONNECT tunnel through the plain port; returns the socket and the reply head."""
    sock = socket.create_connection((LIVE_IP, web.port), timeout=5)
    sock.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        data = sock.recv(1)  # byte by byte: nothing after the head may be swallowed
        if not data:
            break
        head += data
    return sock, head


def tls_socket(web: SimWeb) -> socket.socket:
    return socket.create_connection((LIVE_IP, web.tls_port), timeout=5)


@pytest.fixture
def web() -> Iterator[SimWeb]:
    with SimWeb(SCENARIOS) as started:
        yield started
        assert started.errors == []


# --------------------------------------------------------------------------- the TLS listener


def test_tls_listener_serves_the_same_hosts_with_https_templates(web: SimWeb) -> None:
    assert web.tls_port != web.port
    assert web.url("secure.test", "/a", scheme="https") == f"https://secure.test:{web.tls_port}/a"
    assert web.url("secure.test", "/a") == f"http://secure.test:{web.port}/a"  # as before

    status, body = https_get(tls_socket(web), "secure.test")
    assert status == 200
    # A page served over TLS links to the TLS listener, so its links keep working.
    assert f"href='https://secure.test:{web.tls_port}/groups'" in body
    assert body.endswith(f"on {web.tls_port}</body></html>")
    assert https_get(tls_socket(web), "secure.test", "/groups") == (200, "the groups")

    plain = http.client.HTTPConnection(LIVE_IP, web.port, timeout=5)
    try:
        plain.request("GET", "/", headers={"Host": "secure.test"})
        plain_body = plain.getresponse().read().decode()
    finally:
        plain.close()
    assert f"href='http://secure.test:{web.port}/groups'" in plain_body
    assert [(r.host, r.method, r.path) for r in web.requests] == [
        ("secure.test", "GET", "/"),
        ("secure.test", "GET", "/groups"),
        ("secure.test", "GET", "/"),
    ]


def test_certificate_is_self_signed_for_every_host_and_never_left_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folders: list[Path] = []
    real = tempfile.TemporaryDirectory

    def spy(*args: Any, **kwargs: Any) -> tempfile.TemporaryDirectory[str]:
        folder = real(*args, **kwargs)
        folders.append(Path(folder.name))
        return folder

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(tempfile, "TemporaryDirectory", spy)
    with SimWeb(SCENARIOS) as web:
        # The key went through a file (load_cert_chain needs one), gone before serving.
        assert [f.parent for f in folders] == [tmp_path]
        assert list(tmp_path.iterdir()) == []
        with unverified().wrap_socket(tls_socket(web), server_hostname="secure.test") as tls:
            der = tls.getpeercert(binary_form=True)
        assert der is not None
        certificate = x509.load_der_x509_certificate(der)
        assert certificate.issuer == certificate.subject
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        assert set(SCENARIOS) <= set(names.value.get_values_for_type(x509.DNSName))
        # So a client that trusts this one certificate can even verify host names.
        pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
        verifying = ssl.create_default_context(cadata=pem)
        assert https_get(tls_socket(web), "secure.test", "/groups", verifying) == (
            200,
            "the groups",
        )


# --------------------------------------------------------------------------- CONNECT


def test_connect_tunnels_to_the_tls_listener_and_is_logged(web: SimWeb) -> None:
    sock, head = connect(web, "secure.test:443")
    assert head == b"HTTP/1.1 200 Connection established\r\n\r\n"
    assert https_get(sock, "secure.test", "/groups") == (200, "the groups")
    connect_request, get_request = web.requests
    assert (connect_request.host, connect_request.method, connect_request.path) == (
        "secure.test",
        "CONNECT",
        "secure.test:443",
    )
    assert connect_request.headers["host"] == "secure.test:443"
    assert (get_request.host, get_request.method, get_request.path) == (
        "secure.test",
        "GET",
        "/groups",
    )


def test_a_standard_client_uses_the_plain_port_as_an_https_proxy(web: SimWeb) -> None:
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({"https": web.proxy_url}),
        urllib.request.HTTPSHandler(context=unverified()),
    )
    with opener.open("https://secure.test/groups", timeout=5) as response:
        assert (response.status, response.read()) == (200, b"the groups")
    assert web.count("secure.test", method="CONNECT") == 1
    assert web.count("secure.test", "/groups", "GET") == 1


@pytest.mark.parametrize(
    ("target", "kind"), [("nowhere.test:443", "unknown-host"), ("refused.test:443", "refused")]
)
def test_connect_to_a_host_that_is_not_there_gets_a_502(
    web: SimWeb, target: str, kind: str
) -> None:
    sock, head = connect(web, target)
    with sock:
        assert head.startswith(b"HTTP/1.1 502 ")
        assert f"X-Simweb: {kind}\r\n".encode() in head
    assert web.count(target.split(":")[0], method="CONNECT") == 1


def test_a_reset_behind_the_tunnel_resets_the_client(web: SimWeb) -> None:
    """``reset: true`` over https reaches the client as a TCP RST, tunnel or not."""
    for opened in (lambda: tls_socket(web), lambda: connect(web, "secure.test:443")[0]):
        with unverified().wrap_socket(opened(), server_hostname="secure.test") as tls:
            tls.sendall(b"GET /reset HTTP/1.1\r\nHost: secure.test\r\n\r\n")
            # Read the TCP stream under TLS: session tickets, then the reset (not a FIN).
            with pytest.raises(ConnectionResetError):
                while socket.socket.recv(tls, 65536):
                    pass
    assert web.count("secure.test", "/reset") == 2


# --------------------------------------------------------------------------- tls: broken


def test_broken_tls_fails_the_handshake_direct_and_tunnelled(web: SimWeb) -> None:
    with pytest.raises(ssl.SSLError, match="HANDSHAKE_FAILURE"):
        https_get(tls_socket(web), "broken.test")
    sock, head = connect(web, "broken.test:443")
    assert head.startswith(b"HTTP/1.1 200 ")  # the tunnel opens; the handshake behind it fails
    with pytest.raises(ssl.SSLError, match="HANDSHAKE_FAILURE"):
        https_get(sock, "broken.test")
    # Only TLS is broken: plain HTTP answers, and no HTTP request came over TLS.
    plain = http.client.HTTPConnection(LIVE_IP, web.port, timeout=5)
    try:
        plain.request("GET", "/", headers={"Host": "broken.test"})
        assert plain.getresponse().read() == b"plain http still works"
    finally:
        plain.close()
    assert [r.method for r in web.requests if r.host == "broken.test"] == ["CONNECT", "GET"]
    # A host option like any other: a state can mend it.
    web.set_state("mended")
    assert https_get(tls_socket(web), "broken.test") == (200, "plain http still works")


def test_tls_option_is_validated() -> None:
    with pytest.raises(ScenarioError, match=r"broken.test: 'tls' must be one of"):
        SimWeb({"broken.test": {"tls": "yes"}})


# --------------------------------------------------------------------------- stopping


def test_stop_is_prompt_with_open_tunnels() -> None:
    before = threading.active_count()
    web = SimWeb(SCENARIOS).start()
    clients: list[socket.socket] = []
    try:
        # An idle tunnel with TLS up, a tunnel waiting on a hanging page, a tunnel that
        # never starts TLS (the TLS listener waits for a ClientHello), and a direct one.
        idle = unverified().wrap_socket(
            connect(web, "secure.test:443")[0], server_hostname="secure.test"
        )
        hanging = unverified().wrap_socket(
            connect(web, "hang.test:443")[0], server_hostname="hang.test"
        )
        hanging.sendall(b"GET / HTTP/1.1\r\nHost: hang.test\r\n\r\n")
        silent = connect(web, "secure.test:443")[0]
        direct = unverified().wrap_socket(tls_socket(web), server_hostname="secure.test")
        clients = [idle, hanging, silent, direct]
        assert web.wait_for(host="hang.test", method="GET")
        assert web.count(method="CONNECT") == 3
        started = time.monotonic()
        web.stop()
        assert time.monotonic() - started < 1.0
        for client in clients:
            assert _closed_by_server(client)
    finally:
        web.stop()
        for client in clients:
            client.close()
    assert web.errors == []
    assert threading.active_count() == before


def _closed_by_server(client: socket.socket) -> bool:
    """Read the TCP stream (under any TLS) to its end: True at EOF or a reset.

    A connection the server forgot would time out instead, and TimeoutError propagates.
    """
    client.settimeout(5)
    try:
        while socket.socket.recv(client, 65536):
            pass
    except ConnectionError:
        pass
    return True


# --------------------------------------------------------------------------- error_kind


def _download_failure(reason: BaseException) -> Any:
    """A failed fetch as Scrapy 2.13+ hands it to an errback: its DownloadFailedError, caused
    by Twisted's ResponseNeverReceived, whose reasons hold what really happened."""
    from scrapy.exceptions import DownloadFailedError
    from twisted.python.failure import Failure
    from twisted.web._newclient import ResponseNeverReceived

    never = ResponseNeverReceived([Failure(reason)])
    try:
        raise DownloadFailedError(str(never)) from never
    except DownloadFailedError:
        return Failure()


def test_error_kind_names_a_failed_handshake_tls_and_a_lost_connection_connection() -> None:
    from OpenSSL import SSL
    from twisted.internet import error
    from twisted.python.failure import Failure

    from spiders.sites import error_kind

    # What ``tls: broken`` produced in a real crawl (OpenSSL 3 says "sslv3 alert ...").
    handshake = SSL.Error([("SSL routines", "", "tls alert handshake failure")])
    kind, message = error_kind(_download_failure(handshake))
    assert kind == "tls"
    assert "OpenSSL.SSL.Error" in message and "handshake failure" in message
    # What a reset produced, during the handshake or after it: still a connection failure.
    assert error_kind(_download_failure(error.ConnectionLost("Connection lost")))[0] == (
        "connection"
    )
    try:
        raise error.ConnectError("Connection reset by peer")
    except error.ConnectError:
        assert error_kind(Failure())[0] == "connection"


# --------------------------------------------------------------------------- end to end


def _import(monitor: Monitor, orgs: list[tuple[str, str, str | None]], *, port: bool) -> None:
    """Like Monitor.load, with https URLs: on the TLS port, or bare for a proxy to route."""
    web = monitor.web

    def url(host: str, path: str) -> str:
        return web.url(host, path, scheme="https") if port else f"https://{host}{path}"

    entries = []
    for org_id, host, groups in orgs:
        entry = {"id": org_id, "name": org_id.title(), "url": url(host, "/")}
        if groups:
            entry["groups_url"] = url(host, groups)
        entries.append(entry)
    path = monitor.tmp_path / "directory.yaml"
    path.write_text(yaml.safe_dump({"organisations": entries}, sort_keys=False))
    monitor.freshness("--db", monitor.db, "import", str(path), check=True)


def _with_env(freshness: Callable[..., Any], env: dict[str, str]) -> Callable[..., Any]:
    return lambda *args, **kw: freshness(*args, env=env, **kw)

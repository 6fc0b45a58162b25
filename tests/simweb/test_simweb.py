"""The simulated web itself: every response option, state switching, the catalogue.

Plain http.client / urllib / sockets against 127.0.0.1 with a manual Host header.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import pytest

from monitor.simweb import (
    LIVE_IP,
    REFUSED_IP,
    Request,
    ScenarioError,
    SimWeb,
    load_catalogue,
)


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def fetch(
    web: SimWeb,
    host: str,
    path: str = "/",
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    timeout: float = 5.0,
) -> Response:
    conn = http.client.HTTPConnection(LIVE_IP, web.port, timeout=timeout)
    try:
        conn.request(method, path, headers={"Host": f"{host}:{web.port}", **(headers or {})})
        resp = conn.getresponse()
        return Response(resp.status, resp.headers, resp.read())
    finally:
        conn.close()


def raw_exchange(web: SimWeb, request: bytes) -> bytes:
    """Send raw bytes, read until the server closes; returns everything received."""
    with socket.create_connection((LIVE_IP, web.port), timeout=5) as sock:
        sock.sendall(request)
        chunks = []
        while data := sock.recv(65536):
            chunks.append(data)
    return b"".join(chunks)


@pytest.fixture
def simweb() -> Iterator[Callable[..., SimWeb]]:
    """Factory: ``simweb(scenarios, state=...)`` -> a started SimWeb, stopped afterwards."""
    started: list[SimWeb] = []

    def make(scenarios: dict[str, Any], **kwargs: Any) -> SimWeb:
        web = SimWeb(scenarios, **kwargs).start()
        started.append(web)
        return web

    yield make
    for web in started:
        web.stop()
        assert web.errors == []


NETWORK = {
    "vars": {"org": "Test Nurses"},
    "pages": {
        "/": {"file": "network_home.html"},
        "/groups": {"file": "groups_wordpress.html"},
    },
}


# --------------------------------------------------------------------------- basics


def test_status_headers_and_templates(simweb: Callable[..., SimWeb]) -> None:
    web = simweb(
        {
            "a.test": {
                "vars": {"org": "Alpha Nurses"},
                "pages": {
                    "/": (
                        '<a href="{url:b.test/x}">b</a> <a href="{url:/self}">me</a> '
                        '{org} on {host} port {port} at {path} {"@type": "Organization"} {unknown}'
                    ),
                    "/created": {
                        "status": 201,
                        "headers": {"X-Thing": "{org}", "Content-Type": "text/plain"},
                        "body": "made",
                    },
                },
            },
            "b.test": {"pages": {"/x": "x"}},
        }
    )
    home = fetch(web, "a.test", "/")
    assert home.status == 200
    assert home.headers["Content-Type"] == "text/html; charset=utf-8"
    assert home.headers["Server"] == "simweb/1.0"
    assert home.text == (
        f'<a href="http://b.test:{web.port}/x">b</a> <a href="http://a.test:{web.port}/self">me</a> '
        f'Alpha Nurses on a.test port {web.port} at / {{"@type": "Organization"}} {{unknown}}'
    )
    created = fetch(web, "a.test", "/created")
    assert (created.status, created.body) == (201, b"made")
    assert created.headers["X-Thing"] == "Alpha Nurses"
    assert created.headers.get_all("Content-Type") == ["text/plain"]
    assert fetch(web, "b.test", "/x").body == b"x"
    assert web.url("a.test", "groups") == f"http://a.test:{web.port}/groups"


def test_nonce_and_counter_change_on_every_request(simweb: Callable[..., SimWeb]) -> None:
    web = simweb(
        {
            "v.test": {
                "vars": {"org": "Volatile Nurses", "link": "{url:/groups}", "seen": "{counter}"},
                "pages": {
                    "/": "{org} visit {seen} nonce {nonce} {link}",
                    "/other": {"body": "{counter}", "headers": {"X-Nonce": "{nonce}"}},
                },
            }
        }
    )
    bodies = [fetch(web, "v.test", "/").text for _ in range(3)]
    counters = [b.split()[3] for b in bodies]
    nonces = [b.split()[5] for b in bodies]
    assert counters == ["1", "2", "3"]
    assert len(set(nonces)) == 3 and all(len(n) == 16 for n in nonces)
    assert bodies[0].startswith("Volatile Nurses visit 1 nonce ")
    assert bodies[0].endswith(f"http://v.test:{web.port}/groups")  # inside vars too
    other = fetch(web, "v.test", "/other")
    assert other.text == "1"  # counted per host and path
    assert len(other.headers["X-Nonce"]) == 16
    etags = {fetch(web, "v.test", "/").headers["ETag"] for _ in range(2)}
    assert len(etags) == 2  # a different body every time: never a 304
    web.set_state("run2")
    assert fetch(web, "v.test", "/").text.split()[3] == "6"  # not rewound by a state switch


def test_not_found_default_and_custom(simweb: Callable[..., SimWeb]) -> None:
    web = simweb(
        {
            "plain.test": {"pages": {"/": "home"}},
            "custom.test": {"pages": {"/": "home"}, "not_found": {"body": "<h1>Nope</h1>"}},
        }
    )
    plain = fetch(web, "plain.test", "/missing")
    assert plain.status == 404 and b"404" in plain.body
    custom = fetch(web, "custom.test", "/missing")
    assert (custom.status, custom.body) == (404, b"<h1>Nope</h1>")
    # query strings fall back to the bare path
    assert fetch(web, "plain.test", "/?utm_source=x").body == b"home"


def test_redirects(simweb: Callable[..., SimWeb]) -> None:
    web = simweb(
        {
            "old.test": {"catch_all": {"redirect": "{url:new.test{path}}"}},
            "new.test": {"pages": {"/": "new", "/a": {"status": 302, "redirect": "/b"}}},
        }
    )
    moved = fetch(web, "old.test", "/groups?page=2")
    assert moved.status == 301
    assert moved.headers["Location"] == f"http://new.test:{web.port}/groups?page=2"
    assert b"moved" in moved.body
    found = fetch(web, "new.test", "/a")
    assert (found.status, found.headers["Location"]) == (302, "/b")
    assert "ETag" not in found.headers


def test_catch_all_and_robots(simweb: Callable[..., SimWeb]) -> None:
    web = simweb(
        {
            "soft.test": {"pages": {"/": "home", "/groups": "groups"}, "catch_all": "home"},
            "private.test": {"pages": {"/": "home"}, "robots": "User-agent: *\nDisallow: /\n"},
        }
    )
    assert fetch(web, "soft.test", "/groups").body == b"groups"
    anything = fetch(web, "soft.test", "/no/such/page")
    assert (anything.status, anything.body) == (200, b"home")
    assert fetch(web, "soft.test", "/robots.txt").status == 404
    robots = fetch(web, "private.test", "/robots.txt")
    assert robots.status == 200
    assert robots.headers["Content-Type"].startswith("text/plain")
    assert robots.text == "User-agent: *\nDisallow: /\n"


def test_body_bytes_and_encodings(simweb: Callable[..., SimWeb]) -> None:
    web = simweb(
        {
            "enc.test": {
                "pages": {
                    "/latin": {"body": "Société des infirmières", "encoding": "windows-1252"},
                    "/sjis": {
                        "body": '<meta charset="shift_jis">看護師',
                        "encoding": "shift_jis",
                        "charset_header": False,
                    },
                    "/raw": {"body_bytes": b"\x00\xff", "content_type": "application/x-raw"},
                }
            }
        }
    )
    latin = fetch(web, "enc.test", "/latin")
    assert latin.headers["Content-Type"] == "text/html; charset=windows-1252"
    assert latin.body == "Société des infirmières".encode("cp1252")
    sjis = fetch(web, "enc.test", "/sjis")
    assert sjis.headers["Content-Type"] == "text/html"
    assert sjis.body.decode("shift_jis").endswith("看護師")
    with pytest.raises(UnicodeDecodeError):
        sjis.body.decode("utf-8")
    raw = fetch(web, "enc.test", "/raw")
    assert (raw.body, raw.headers["Content-Type"]) == (b"\x00\xff", "application/x-raw")


def test_head_and_head_override(simweb: Callable[..., SimWeb]) -> None:
    web = simweb(
        {
            "h.test": {
                "pages": {"/": "hello", "/nohead": {"body": "get me", "head": {"status": 405}}},
            },
            "all.test": {"defaults": {"head": {"status": 405}}, "pages": {"/": "get works"}},
        }
    )
    head = fetch(web, "h.test", "/", method="HEAD")
    assert (head.status, head.body, head.headers["Content-Length"]) == (200, b"", "5")
    assert fetch(web, "h.test", "/nohead", method="HEAD").status == 405
    assert fetch(web, "h.test", "/nohead").body == b"get me"
    assert fetch(web, "all.test", "/", method="HEAD").status == 405
    assert fetch(web, "all.test", "/").body == b"get works"


# --------------------------------------------------------------------------- time and state


def test_sequence_repeats_last_and_rewinds_on_state_switch(simweb: Callable[..., SimWeb]) -> None:
    web = simweb(
        {
            "s.test": {
                "pages": {
                    "/": {
                        "sequence": [
                            {"status": 429, "headers": {"Retry-After": 1}},
                            {"status": 503},
                            "ok",
                        ]
                    }
                }
            }
        }
    )
    first = fetch(web, "s.test")
    assert (first.status, first.headers["Retry-After"]) == (429, "1")
    assert [fetch(web, "s.test").status for _ in range(3)] == [503, 200, 200]
    web.set_state("run2")
    assert fetch(web, "s.test").status == 429


def test_states_overlay_and_fall_back_to_before(simweb: Callable[..., SimWeb]) -> None:
    web = simweb(
        {
            "x.test": {
                "pages": {"/": "v1", "/gone-later": "here"},
                "states": {
                    "after": {"/": "v2", "/gone-later": None},
                    "run3": {"vanished": True},
                },
            },
            "y.test": {"pages": {"/": "y"}, "states": {"after": {"refused": True}}},
        }
    )
    assert web.state == "before"
    assert fetch(web, "x.test").body == b"v1"
    assert web.hosts() == {"x.test": LIVE_IP, "y.test": LIVE_IP}

    web.set_state("after")
    assert fetch(web, "x.test").body == b"v2"
    assert fetch(web, "x.test", "/gone-later").status == 404
    assert web.hosts() == {"x.test": LIVE_IP, "y.test": REFUSED_IP}
    refused = fetch(web, "y.test")
    assert (refused.status, refused.headers["X-Simweb"]) == (502, "refused")

    web.set_state("run2")  # defined by nobody: everything as before
    assert fetch(web, "x.test").body == b"v1"
    assert web.hosts() == {"x.test": LIVE_IP, "y.test": LIVE_IP}

    web.set_state("run3")
    assert web.hosts() == {"y.test": LIVE_IP}
    assert fetch(web, "x.test").headers["X-Simweb"] == "unknown-host"


def test_etag_last_modified_and_304(simweb: Callable[..., SimWeb]) -> None:
    web = simweb(
        {
            "c.test": {
                "pages": {"/": "version one", "/plain": {"body": "no validators", "etag": False}},
                "states": {"after": {"/": "version two"}},
            }
        }
    )
    first = fetch(web, "c.test")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag.startswith('"') and etag.endswith('"')
    full_size = web.bytes_sent["c.test"]

    same = fetch(web, "c.test", headers={"If-None-Match": etag})
    assert (same.status, same.body, same.headers["ETag"]) == (304, b"", etag)
    assert "Content-Length" not in same.headers
    assert web.bytes_sent["c.test"] - full_size < full_size  # headers only
    weak = fetch(web, "c.test", headers={"If-None-Match": f'"other", W/{etag}'})
    assert weak.status == 304
    assert fetch(web, "c.test", headers={"If-Modified-Since": modified}).status == 304
    assert fetch(web, "c.test", method="HEAD", headers={"If-None-Match": etag}).status == 304
    assert fetch(web, "c.test", headers={"If-None-Match": '"stale"'}).status == 200

    web.set_state("after")
    changed = fetch(web, "c.test", headers={"If-None-Match": etag})
    assert (changed.status, changed.body) == (200, b"version two")
    assert changed.headers["ETag"] != etag
    new_modified = parsedate_to_datetime(changed.headers["Last-Modified"])
    assert new_modified > parsedate_to_datetime(modified)
    assert fetch(web, "c.test", headers={"If-Modified-Since": modified}).status == 200

    plain = fetch(web, "c.test", "/plain")
    assert "ETag" not in plain.headers and "Last-Modified" not in plain.headers


def test_delay(simweb: Callable[..., SimWeb]) -> None:
    web = simweb({"slow.test": {"defaults": {"delay": 0.3}, "pages": {"/": "finally"}}})
    started = time.monotonic()
    assert fetch(web, "slow.test").body == b"finally"
    assert time.monotonic() - started >= 0.3


def test_hang_times_out_client_and_stop_releases_waiters() -> None:
    web = SimWeb(
        {
            "hang.test": {"defaults": {"hang": True}, "catch_all": {}},
            "slow.test": {"pages": {"/": {"delay": 60, "body": "never"}}},
        }
    ).start()
    try:
        with pytest.raises(TimeoutError):
            fetch(web, "hang.test", timeout=0.5)
        # Two clients still waiting when the server stops: a hang and a long delay.
        waiting = [socket.create_connection((LIVE_IP, web.port), timeout=5) for _ in range(2)]
        try:
            for sock, host in zip(waiting, ("hang.test", "slow.test"), strict=True):
                sock.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            assert web.wait_for(host="hang.test", n=2)
            assert web.wait_for(host="slow.test")
            started = time.monotonic()
            web.stop()
            assert time.monotonic() - started < 1.0
            for sock in waiting:
                assert sock.recv(1024) == b""  # closed without an answer
        finally:
            for sock in waiting:
                sock.close()
    finally:
        web.stop()
    assert web.errors == []


def test_reset_then_ok(simweb: Callable[..., SimWeb]) -> None:
    web = simweb({"r.test": {"pages": {"/": {"sequence": [{"reset": True}, "back"]}}}})
    with pytest.raises(ConnectionResetError):
        fetch(web, "r.test")
    assert fetch(web, "r.test").body == b"back"


def test_keep_alive_serves_several_requests_on_one_connection(
    simweb: Callable[..., SimWeb],
) -> None:
    web = simweb({"k.test": {"pages": {"/1": "one", "/2": "two"}}})
    conn = http.client.HTTPConnection(LIVE_IP, web.port, timeout=5)
    try:
        bodies = []
        for path in ("/1", "/2", "/1"):
            conn.request("GET", path, headers={"Host": "k.test"})
            bodies.append(conn.getresponse().read())
    finally:
        conn.close()
    assert bodies == [b"one", b"two", b"one"]


# --------------------------------------------------------------------------- big and binary


@pytest.mark.parametrize("content_length", [True, False])
def test_huge_is_streamed_with_exact_length(
    simweb: Callable[..., SimWeb], content_length: bool
) -> None:
    size = 3_000_000
    web = simweb({"big.test": {"pages": {"/": {"huge": size, "content_length": content_length}}}})
    resp = fetch(web, "big.test")
    assert len(resp.body) == size
    assert resp.body.startswith(b"<!DOCTYPE html>") and resp.body.endswith(b"</html>\n")
    if content_length:
        assert resp.headers["Content-Length"] == str(size)
    else:
        assert "Content-Length" not in resp.headers
        assert resp.headers["Connection"] == "close"
    assert web.bytes_sent["big.test"] > size


def test_binary(simweb: Callable[..., SimWeb]) -> None:
    web = simweb(
        {
            "bin.test": {
                "pages": {
                    "/blob": {"binary": 5000},
                    "/logo.png": {"binary": 300, "content_type": "image/png"},
                }
            }
        }
    )
    blob = fetch(web, "bin.test", "/blob")
    assert (len(blob.body), blob.headers["Content-Type"]) == (5000, "application/octet-stream")
    assert fetch(web, "bin.test", "/blob").body == blob.body  # deterministic
    png = fetch(web, "bin.test", "/logo.png")
    assert png.headers["Content-Type"] == "image/png"
    assert len(png.body) == 300 and png.body.startswith(b"\x89PNG\r\n\x1a\n")


# --------------------------------------------------------------------------- routing


def test_unknown_and_vanished_hosts_get_502(simweb: Callable[..., SimWeb]) -> None:
    web = simweb({"gone.test": {"vanished": True, "pages": {"/": "x"}}})
    for host in ("nowhere.test", "gone.test"):
        resp = fetch(web, host)
        assert (resp.status, resp.headers["X-Simweb"]) == (502, "unknown-host")
    assert web.hosts() == {}


def test_refused_host_really_refuses(simweb: Callable[..., SimWeb]) -> None:
    web = simweb({"r.test": {"refused": True}})
    assert web.hosts() == {"r.test": REFUSED_IP}
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((web.hosts()["r.test"], web.port), timeout=2).close()


def test_forward_proxy(simweb: Callable[..., SimWeb]) -> None:
    web = simweb({"p.test": {"pages": {"/groups": "via proxy"}}})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": web.proxy_url}))
    with opener.open(web.url("p.test", "/groups?x=1"), timeout=5) as resp:
        assert (resp.status, resp.read()) == (200, b"via proxy")
    with pytest.raises(urllib.error.HTTPError) as info:
        opener.open(web.url("nowhere.test", "/"), timeout=5)
    try:
        assert info.value.code == 502
        assert info.value.headers["X-Simweb"] == "unknown-host"
    finally:
        info.value.close()
    assert web.count("p.test", "/groups?x=1") == 1
    assert web.count("nowhere.test") == 1


def test_request_log_count_and_bytes_sent(simweb: Callable[..., SimWeb]) -> None:
    web = simweb({"log.test": {"pages": {"/": "home", "/groups": "groups"}}})
    fetch(web, "log.test", "/", headers={"User-Agent": "freshness-test"})
    fetch(web, "log.test", "/groups")
    fetch(web, "log.test", "/groups", method="HEAD")
    assert web.count("log.test") == 3
    assert web.count("log.test", "/groups") == 2
    assert web.count("log.test", "/groups", method="get") == 1
    host, method, path, headers = web.requests[0]
    assert (host, method, path) == ("log.test", "GET", "/")
    assert headers["user-agent"] == "freshness-test"
    assert isinstance(web.requests[0], Request)

    web.clear_requests()
    assert web.requests == [] and web.bytes_sent == {}
    received = raw_exchange(web, b"GET / HTTP/1.1\r\nHost: log.test\r\nConnection: close\r\n\r\n")
    assert received.endswith(b"\r\n\r\nhome")
    assert web.bytes_sent == {"log.test": len(received)}


# --------------------------------------------------------------------------- scenario data


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"pages": {"/": {"stauts": 200}}}, "unknown option"),
        ({"pages": {"/": {"body": "a", "file": "network_home.html"}}}, "choose one of"),
        ({"pages": {"/": {"file": "no_such_page.html"}}}, "cannot read page file"),
        ({"pages": {"/": {"body": "é", "encoding": "ascii"}}}, "cannot be encoded"),
        ({"pages": {"/": {"encoding": "klingon"}}}, "unknown encoding"),
        ({"pages": {"groups": "x"}}, "must start with '/'"),
        ({"pages": {"/": {"sequence": []}}}, "non-empty list"),
        ({"pages": {"/": {"delay": True}}}, "'delay'"),
        ({"pagez": {}}, "unknown host option"),
        ({"states": {"after": {"vanishd": True}}}, "unknown override"),
        ({"defaults": {"status": 500}}, "unknown option"),
    ],
)
def test_bad_scenarios_are_rejected_with_a_useful_message(spec: dict, message: str) -> None:
    with pytest.raises(ScenarioError, match=message) as info:
        SimWeb({"bad.test": spec})
    assert "bad.test" in str(info.value)


# --------------------------------------------------------------------------- the catalogue

CATALOGUE_GETS = [
    # host, path, status, text expected in the body (decoded as utf-8 unless noted)
    ("healthy.test", "/", 200, "Welcome to Healthy Nurses Network"),
    ("healthy.test", "/groups", 200, "Night Shift Nurses Circle"),
    ("healthy.test", "/nope", 404, "Page not found"),
    ("holidays.test", "/", 200, "Office closed for the holidays"),
    ("ratelimited.test", "/", 429, "Too Many Requests"),
    ("flaky503.test", "/", 503, "Service Temporarily Unavailable"),
    ("flapping.test", "/", 503, "Service Unavailable"),
    ("nohead.test", "/groups", 200, "Support groups"),
    ("botwall.test", "/", 403, "Just a moment..."),
    ("botwall.test", "/groups", 403, "cf-chl"),
    ("robotsdeny.test", "/robots.txt", 200, "Disallow: /"),
    ("catchall.test", "/groups", 200, "Night Shift Nurses Circle"),
    ("catchall.test", "/this-does-not-exist", 200, "Welcome to Everywhere Nurses Network"),
    ("soft404.test", "/groups", 200, "Page not found"),
    ("soft404redirect.test", "/groups", 302, "moved"),
    ("homepage404.test", "/", 404, "404 Not Found"),
    ("homepage410.test", "/", 410, "Gone"),
    ("error500.test", "/", 500, "Internal Server Error"),
    ("error500.test", "/groups", 500, "Internal Server Error"),
    ("parked.test", "/", 200, "This domain may be for sale"),
    ("parked.test", "/anything", 200, "Related searches"),
    ("closed.test", "/", 200, "After 20 years, we have closed our doors"),
    ("redirectloop.test", "/", 302, ""),
    ("actorsfund.test", "/support-groups", 301, ""),
    ("entertainmentcommunity.test", "/", 200, '"alternateName": "The Actors Fund"'),
    ("entertainmentcommunity.test", "/", 200, "© 2026 Entertainment Community Fund"),
    ("entertainmentcommunity.test", "/", 200, "formerly The Actors Fund"),
    ("entertainmentcommunity.test", "/support-groups", 200, "Caregivers Support Group"),
    ("newgroup.test", "/groups", 200, "Nurses in Recovery"),
    ("goesdead.test", "/", 200, "Eastfield Nurses Group"),
]


@pytest.fixture
def catalogue_web(simweb: Callable[..., SimWeb]) -> SimWeb:
    return simweb(load_catalogue())


@pytest.mark.parametrize(("host", "path", "status", "text"), CATALOGUE_GETS)
def test_catalogue_pages(
    catalogue_web: SimWeb, host: str, path: str, status: int, text: str
) -> None:
    resp = fetch(catalogue_web, host, path)
    assert resp.status == status
    assert text in resp.text


def test_catalogue_redirects_and_resolver_map(catalogue_web: SimWeb) -> None:
    web = catalogue_web
    hosts = web.hosts()
    assert "vanished.test" not in hosts
    assert hosts["refused.test"] == REFUSED_IP
    assert hosts["healthy.test"] == LIVE_IP
    assert len(hosts) == len(load_catalogue()) - 1

    moved = fetch(web, "actorsfund.test", "/support-groups")
    assert moved.headers["Location"] == web.url("entertainmentcommunity.test", "/support-groups")
    home = fetch(web, "entertainmentcommunity.test").text
    assert "<title>Entertainment Community Fund</title>" in home
    assert '<meta property="og:site_name" content="Entertainment Community Fund">' in home

    loop = [fetch(web, "redirectloop.test", p).headers["Location"] for p in ("/", "/a", "/b")]
    assert loop == ["/a", "/b", "/a"]
    assert fetch(web, "soft404redirect.test", "/groups").headers["Location"] == web.url(
        "soft404redirect.test", "/"
    )
    assert fetch(web, "nohead.test", method="HEAD").status == 405
    assert fetch(web, "botwall.test").headers["cf-mitigated"] == "challenge"


def test_catalogue_transient_failures_recover(catalogue_web: SimWeb) -> None:
    web = catalogue_web
    limited = fetch(web, "ratelimited.test")
    assert (limited.status, limited.headers["Retry-After"]) == (429, "1")
    assert fetch(web, "ratelimited.test").status == 200
    assert fetch(web, "flaky503.test").status == 503
    assert fetch(web, "flaky503.test").status == 200
    with pytest.raises(ConnectionResetError):
        fetch(web, "flakyreset.test")
    assert fetch(web, "flakyreset.test").status == 200


def test_catalogue_states(catalogue_web: SimWeb) -> None:
    web = catalogue_web
    statuses = {}
    for state in ("before", "run2", "run3", "after"):
        web.set_state(state)
        statuses[state] = fetch(web, "flapping.test").status
    assert statuses == {"before": 503, "run2": 200, "run3": 503, "after": 503}

    assert "goesdead.test" not in web.hosts()
    assert "Menopause at Work" in fetch(web, "newgroup.test", "/groups").text
    web.set_state("before")
    assert "Menopause at Work" not in fetch(web, "newgroup.test", "/groups").text


def test_catalogue_encodings_and_odd_content(catalogue_web: SimWeb) -> None:
    web = catalogue_web
    french = fetch(web, "windows1252.test")
    assert french.headers["Content-Type"] == "text/html; charset=windows-1252"
    assert "Société des infirmières" in french.body.decode("windows-1252")
    assert b"Soci\xe9t\xe9 des infirmi\xe8res" in french.body

    japanese = fetch(web, "shiftjis.test")
    assert japanese.headers["Content-Type"] == "text/html"
    assert b'charset="Shift_JIS"' in japanese.body
    assert "看護師ピアサポートネットワーク" in japanese.body.decode("shift_jis")

    huge = fetch(web, "huge.test", method="HEAD")
    assert huge.headers["Content-Length"] == "20000000"
    binary = fetch(web, "binary.test")
    assert (len(binary.body), binary.headers["Content-Type"]) == (65536, "application/octet-stream")


def test_catalogue_hosts_can_be_edited_independently() -> None:
    catalogue = load_catalogue()
    catalogue["healthy.test"]["pages"]["/extra"] = "mine"  # pages come from a shared anchor
    assert "/extra" not in catalogue["slow.test"]["pages"]
    assert "/extra" not in load_catalogue()["healthy.test"]["pages"]


def test_catalogue_slow_and_hanging_are_configured() -> None:
    # Not fetched here (that would take 2 s, or forever); their mechanics are tested above.
    catalogue = load_catalogue()
    assert catalogue["slow.test"]["defaults"]["delay"] == 2
    assert catalogue["hanging.test"]["defaults"]["hang"] is True


def test_server_thread_count_returns_to_baseline(simweb: Callable[..., SimWeb]) -> None:
    before = threading.active_count()
    web = SimWeb({"t.test": {"pages": {"/": "x"}}}).start()
    fetch(web, "t.test")
    web.stop()
    web.stop()  # idempotent
    assert threading.active_count() == before

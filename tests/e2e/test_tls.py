"""HTTPS through the simulated web, end to end: proxies, NO_PROXY and broken handshakes, crawled
through the real CLI (the TLS unit tests are in ``tests/spiders/test_tls.py``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from monitor.simweb import REFUSED_IP, SimWeb, load_catalogue
from tests.crawling import T0, Monitor
from tests.spiders.test_tls import _import, _with_env


@pytest.fixture(scope="module")
def world() -> Iterator[SimWeb]:
    with SimWeb(load_catalogue()) as started:
        yield started
        assert started.errors == []


@pytest.mark.e2e
def test_https_through_https_proxy_without_any_resolver(world: SimWeb, freshness, tmp_path) -> None:
    """https_proxy is honoured: with no host resolvable at all, only the tunnel can work."""
    proxies = {"https_proxy": world.proxy_url, "http_proxy": world.proxy_url}
    monitor = Monitor(world, _with_env(freshness, proxies), tmp_path)
    monitor.offline = True  # FRESHNESS_HOSTS empty, FRESHNESS_HOSTS_ONLY: every name fails
    _import(monitor, [("secure", "healthy.test", "/groups")], port=False)
    world.clear_requests()
    rows = monitor.check("secure", T0)
    assert [(r["url"], r["status"], r["category"]) for r in rows] == [
        ("https://healthy.test/", 200, "ok"),
        ("https://healthy.test/groups", 200, "ok"),
    ]
    assert world.count("healthy.test", method="CONNECT") >= 1
    assert {r.path for r in world.requests if r.method == "CONNECT"} == {"healthy.test:443"}
    assert world.count("healthy.test", "/groups", "GET") >= 1
    assert monitor.findings() == []
    assert [r["status"] for r in monitor.runs()] == ["completed"]


@pytest.mark.e2e
@pytest.mark.parametrize("bypass", [True, False], ids=["no_proxy", "proxied"])
def test_no_proxy_applies_to_https_too(world: SimWeb, freshness, tmp_path, bypass: bool) -> None:
    """https_proxy names a proxy that refuses connections; no_proxy lets healthy.test past."""
    env = {"https_proxy": f"http://{REFUSED_IP}:9"}
    if bypass:
        env["no_proxy"] = "localhost,healthy.test"
    monitor = Monitor(world, _with_env(freshness, env), tmp_path)
    _import(monitor, [("secure", "healthy.test", None)], port=True)
    (row,) = monitor.check("secure", T0)
    if bypass:
        assert (row["status"], row["category"]) == (200, "ok")
    else:
        assert (row["status"], row["category"]) == (None, "connection")


@pytest.mark.e2e
@pytest.mark.parametrize("proxied", [False, True], ids=["resolved", "tunnelled"])
def test_a_broken_handshake_is_a_tls_failure(
    world: SimWeb, freshness, tmp_path, proxied: bool
) -> None:
    env = {"https_proxy": world.proxy_url} if proxied else {}
    monitor = Monitor(world, _with_env(freshness, env), tmp_path)
    monitor.offline = proxied
    _import(monitor, [("lakeside", "brokentls.test", None)], port=not proxied)
    (row,) = monitor.check("lakeside", T0)
    assert (row["status"], row["error"], row["category"]) == (None, "tls", "tls")
    (evidence,) = row["evidence"]
    assert "OpenSSL.SSL.Error" in evidence and "handshake failure" in evidence
    if proxied:
        assert world.count("brokentls.test", method="CONNECT") >= 1


@pytest.mark.e2e
def test_a_broken_handshake_makes_a_dead_link_after_three_runs(
    world: SimWeb, freshness, tmp_path
) -> None:
    """``tls`` is a dead-class category: three failures over 48 hours make a dead link."""
    monitor = Monitor(world, freshness, tmp_path)
    _import(monitor, [("lakeside", "brokentls.test", None)], port=True)
    for day in range(3):
        monitor.run(T0 + dt.timedelta(days=day))
        if day < 2:
            assert monitor.findings() == []
    (finding,) = monitor.findings()
    assert (finding["kind"], finding["reason"]) == ("dead_link", "tls")
    assert finding["url"] == world.url("brokentls.test", "/", scheme="https")

"""End to end: the real `freshness` CLI crawls the simulated web, with the clock injected.

Every scenario is listed in one directory and crawled together, as in production: three runs a
day apart make a link dead (3 failures over 48 hours); nothing healthy may be flagged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from monitor.simweb import SimWeb, load_catalogue
from tests.crawling import T0, Monitor

pytestmark = pytest.mark.e2e

HEALTHY = [
    ("healthy", "healthy.test", "/groups"),
    ("slow", "slow.test", "/groups"),
    ("flaky503", "flaky503.test", "/groups"),
    ("flakyreset", "flakyreset.test", "/groups"),
    ("flapping", "flapping.test", "/groups"),
    ("ratelimited", "ratelimited.test", "/groups"),
    ("nohead", "nohead.test", "/groups"),
    ("windows1252", "windows1252.test", "/groupes"),
    ("shiftjis", "shiftjis.test", None),
    ("catchall", "catchall.test", "/groups"),
    ("holidays", "holidays.test", "/groups"),
    ("huge", "huge.test", None),
    ("binary", "binary.test", None),
]
BLOCKED = [
    ("botwall", "botwall.test", None),
    ("robotsdeny", "robotsdeny.test", None),
]
# (org, host, groups path, the URL path expected dead, its reason)
DEAD = [
    ("homepage404", "homepage404.test", None, "/", "http_404"),
    ("homepage410", "homepage410.test", None, "/", "http_410"),
    ("vanished", "vanished.test", None, "/", "dns"),
    ("hanging", "hanging.test", None, "/", "timeout"),
    ("error500", "error500.test", None, "/", "server_error"),
    ("parked", "parked.test", None, "/", "parked"),
    ("soft404", "soft404.test", "/groups", "/groups", "soft_404"),
    ("soft404redirect", "soft404redirect.test", "/groups", "/groups", "soft_404"),
    ("redirectloop", "redirectloop.test", None, "/", "redirect_loop"),
    ("closed", "closed.test", None, "/", "closed"),
]
# flapping.test fails in "before" and "run3" and works in "run2".
STATES = ["before", "run2", "run3"]


@pytest.fixture(scope="module")
def world() -> Iterator[SimWeb]:
    with SimWeb(load_catalogue()) as web:
        yield web
        assert web.errors == []


@pytest.fixture(scope="module")
def three_runs(world: SimWeb, tmp_path_factory, request) -> Monitor:
    freshness = request.getfixturevalue("module_freshness")
    monitor = Monitor(world, freshness, tmp_path_factory.mktemp("e2e"))
    monitor.load([*HEALTHY, *BLOCKED, *((o, h, g) for o, h, g, _, _ in DEAD)])
    monitor.findings_after = []
    for day, state in enumerate(STATES):
        world.set_state(state)
        monitor.run(T0 + dt.timedelta(days=day))
        monitor.findings_after.append(monitor.findings())
    world.set_state("before")
    return monitor


@pytest.fixture(scope="module")
def module_freshness(tmp_path_factory):
    from tests.conftest import run_freshness

    cwd = tmp_path_factory.mktemp("cwd")
    return lambda *args, **kw: run_freshness(cwd, *args, **kw)


def _dead(findings: list[dict]) -> dict[str, dict]:
    return {f["org"]: f for f in findings if f["kind"] == "dead_link"}


def test_nothing_is_dead_before_three_runs_over_48_hours(three_runs: Monitor) -> None:
    assert _dead(three_runs.findings_after[0]) == {}
    assert _dead(three_runs.findings_after[1]) == {}


@pytest.mark.parametrize(
    ("org", "host", "groups", "path", "reason"), DEAD, ids=[d[0] for d in DEAD]
)
def test_dead_after_three_runs(three_runs: Monitor, org, host, groups, path, reason) -> None:
    dead = _dead(three_runs.findings_after[2])
    assert org in dead, f"{org} not declared dead; findings: {three_runs.findings_after[2]}"
    finding = dead[org]
    assert finding["reason"] == reason
    assert finding["url"] == three_runs.web.url(host, path)
    assert finding["evidence"], finding


@pytest.mark.parametrize(("org", "host", "groups"), HEALTHY, ids=[h[0] for h in HEALTHY])
def test_healthy_sites_are_never_flagged(three_runs: Monitor, org, host, groups) -> None:
    for findings in three_runs.findings_after:
        mine = [
            f for f in findings if f["org"] == org and f["kind"] in ("dead_link", "unverifiable")
        ]
        assert mine == [], mine


@pytest.mark.parametrize(("org", "host", "groups"), BLOCKED, ids=[b[0] for b in BLOCKED])
def test_blocked_sites_become_unverifiable_never_dead(
    three_runs: Monitor, org, host, groups
) -> None:
    final = three_runs.findings_after[2]
    assert org not in _dead(final)
    kinds = {f["kind"] for f in final if f["org"] == org}
    assert kinds == {"unverifiable"}, final


def test_runs_completed_with_counts(three_runs: Monitor) -> None:
    runs = three_runs.runs()
    assert [r["status"] for r in runs] == ["completed"] * 3
    assert all(r["organisations"] == len(HEALTHY) + len(BLOCKED) + len(DEAD) for r in runs)


def test_revisit_sends_conditional_requests(world: SimWeb, module_freshness, tmp_path) -> None:
    monitor = Monitor(world, module_freshness, tmp_path)
    monitor.load([("healthy", "healthy.test", "/groups")])
    world.clear_requests()
    monitor.run(T0)
    first = dict(world.bytes_sent)
    world.clear_requests()
    monitor.run(T0 + dt.timedelta(days=1))
    conditional = [
        r for r in world.requests if r.host == "healthy.test" and "if-none-match" in r.headers
    ]
    # The groups page too: a 304 stands for the group list read last time.
    assert {r.path for r in conditional} == {"/", "/groups"}
    assert world.bytes_sent["healthy.test"] < first["healthy.test"]
    assert monitor.findings() == []


def test_robots_txt_is_kept_between_runs_and_revalidated(freshness, tmp_path) -> None:
    """A second run asks for robots.txt conditionally, and the stored rules still apply."""
    page = "<html><head><title>Circle</title></head><body><h1>Peer support</h1></body></html>"
    scenario = {
        "keepout.test": {
            "robots": "User-agent: *\nDisallow: /private/\n",
            "pages": {"/": page, "/private/": page},
        },
        "norobots.test": {"pages": {"/": page}},  # robots.txt answers 404: nothing to keep
    }
    with SimWeb(scenario) as web:
        monitor = Monitor(web, freshness, tmp_path)
        monitor.load_yaml(
            "organisations:\n"
            f"  - {{id: k, name: Keep Out, url: '{web.url('keepout.test', '/')}',"
            f" links: ['{web.url('keepout.test', '/private/')}']}}\n"
            f"  - {{id: n, name: No Robots, url: '{web.url('norobots.test', '/')}'}}\n"
        )
        for day in range(2):
            monitor.run(T0 + dt.timedelta(days=day))
        robots = [r for r in web.requests if r.path == "/robots.txt"]
        kept = [r for r in robots if r.host == "keepout.test"]
        assert len(kept) == 2  # asked once a run, never taken on trust
        assert "if-none-match" not in kept[0].headers
        # The validator sent is the file's current ETag, so the server answered 304, no body.
        assert kept[1].headers["if-none-match"] == _etag(web, "keepout.test", "/robots.txt")
        none = [r for r in robots if r.host == "norobots.test"]
        assert len(none) == 2 and all("if-none-match" not in r.headers for r in none)
        # The stored rules still keep us out of /private/ on the second run: unverifiable
        # observations, never a fetch.
        assert web.count("keepout.test", "/private/", "GET") == 0
        assert [o["robots_disallowed"] for o in _private(monitor)] == [True, True]
    # Kept under the working directory, in Scrapy's HTTP cache layout with one file per
    # entry: one entry, keepout's, and no partly written file left beside it.
    cache = tmp_path / ".scrapy" / "freshness-cache"
    assert [p.suffix for p in cache.glob("directory/*/*")] == [".entry"]
    entries = list(cache.glob("directory/*/*.entry"))
    assert len(entries) == 1


def test_a_renamed_sites_new_robots_txt_is_asked_for_once(freshness, tmp_path) -> None:
    """The old domain redirects everything, robots.txt included, to the new one: the file the
    redirect led to is the new host's own, and its rules hold there without asking again."""
    page = "<html><head><title>Circle</title></head><body><h1>Peer support</h1></body></html>"
    scenario = {
        "oldname.test": {
            # As a site answers whose server sends every path on, robots.txt included.
            "pages": {"/robots.txt": {"redirect": "{url:newname.test/robots.txt}"}},
            "catch_all": {"redirect": "{url:newname.test{path}}"},
        },
        "newname.test": {
            "robots": "User-agent: *\nDisallow: /private/\n",
            "pages": {"/": page, "/private/": page},
        },
    }
    with SimWeb(scenario) as web:
        monitor = Monitor(web, freshness, tmp_path)
        monitor.load_yaml(
            "organisations:\n"
            f"  - {{id: o, name: Old Name, url: '{web.url('oldname.test', '/')}',"
            f" links: ['{web.url('oldname.test', '/private/')}']}}\n"
        )
        monitor.run(T0)
        robots = [(r.host, r.path) for r in web.requests if r.path == "/robots.txt"]
        assert robots == [("oldname.test", "/robots.txt"), ("newname.test", "/robots.txt")]
        # The rules still apply on the new host: its private page is never fetched.
        assert web.count("newname.test", "/private/", "GET") == 0
        assert web.count("newname.test", "/", "GET") == 1


def _etag(web: SimWeb, host: str, path: str) -> str:
    import http.client

    from monitor.simweb import LIVE_IP

    conn = http.client.HTTPConnection(LIVE_IP, web.port, timeout=5)
    try:
        conn.request("GET", path, headers={"Host": f"{host}:{web.port}"})
        response = conn.getresponse()
        response.read()
        return response.getheader("ETag") or ""
    finally:
        conn.close()


def _private(monitor: Monitor) -> list[dict]:
    from storage.db import Store

    store = Store(monitor.db)
    try:
        with store.transaction() as repo:
            found = repo.observations(org_id="k")
    finally:
        store.close()
    return [o.facts for o in reversed(found) if o.url.endswith("/private/")]


def test_offline_runs_never_declare_anything_dead(
    world: SimWeb, module_freshness, tmp_path
) -> None:
    monitor = Monitor(world, module_freshness, tmp_path)
    monitor.load([(o, h, g) for o, h, g in HEALTHY[:6]])
    monitor.offline = True
    for day in range(5):
        monitor.run(T0 + dt.timedelta(days=day))
    assert monitor.findings() == []
    runs = monitor.runs()
    assert [r["status"] for r in runs] == ["inconclusive"] * 5
    assert "network level" in runs[0]["outage"]
    monitor.offline = False
    monitor.run(T0 + dt.timedelta(days=6))
    assert monitor.runs()[0]["status"] == "completed"


def test_a_lone_organisation_offline_is_never_declared_dead(
    world: SimWeb, module_freshness, tmp_path
) -> None:
    # One host has no other to be compared with: its DNS failing the way an offline
    # machine's does ("Temporary failure in name resolution") makes the run inconclusive.
    monitor = Monitor(world, module_freshness, tmp_path)
    monitor.load([("healthy", "healthy.test", "/groups")])
    monitor.offline = True
    for day in range(4):
        monitor.run(T0 + dt.timedelta(days=day))
    assert monitor.findings() == []
    runs = monitor.runs()
    assert [r["status"] for r in runs] == ["inconclusive"] * 4
    assert "healthy.test" in runs[0]["outage"] and "FRESHNESS_CANARY_URLS" in runs[0]["outage"]


def test_a_lone_vanished_organisation_is_still_declared_dead(
    world: SimWeb, module_freshness, tmp_path
) -> None:
    # "No such domain" is an answer from the name servers, which an offline machine cannot
    # get: a one-organisation run still finds a vanished host dead.
    monitor = Monitor(world, module_freshness, tmp_path)
    monitor.load([("vanished", "vanished.test", None)])
    for day in range(3):
        monitor.run(T0 + dt.timedelta(days=day))
    assert [r["status"] for r in monitor.runs()] == ["completed"] * 3
    [dead] = monitor.findings()
    assert (dead["kind"], dead["reason"], dead["org"]) == ("dead_link", "dns", "vanished")
    assert any("Name or service not known" in line for line in dead["evidence"])


def test_recovery_resolves_a_dead_link(module_freshness, tmp_path) -> None:
    scenario = {
        "comeback.test": {
            "pages": {"/": {"status": 404, "body": "gone"}},
            "states": {
                "after": {
                    "/": {
                        "body": "<html><head><title>Back</title></head>"
                        "<body><h1>We are back</h1></body></html>"
                    }
                }
            },
        }
    }
    with SimWeb(scenario) as web:
        monitor = Monitor(web, module_freshness, tmp_path)
        monitor.load([("comeback", "comeback.test", None)])
        for day in range(3):
            monitor.run(T0 + dt.timedelta(days=day))
        assert [f["kind"] for f in monitor.findings()] == ["dead_link"]
        web.set_state("after")
        monitor.run(T0 + dt.timedelta(days=3))
        assert monitor.findings() == []
        (resolved,) = monitor.findings(everything=True)
        assert resolved["status"] == "resolved"


def test_check_an_ad_hoc_url_leaves_no_trace(world: SimWeb, module_freshness, tmp_path) -> None:
    monitor = Monitor(world, module_freshness, tmp_path)
    monitor.load([("healthy", "healthy.test", None)])
    rows = monitor.check(world.url("soft404.test", "/groups"), T0)
    assert [r["category"] for r in rows] == ["soft_404"]
    assert rows[0]["evidence"]
    assert monitor.runs() == []


def test_check_an_organisation_records_it(world: SimWeb, module_freshness, tmp_path) -> None:
    monitor = Monitor(world, module_freshness, tmp_path)
    monitor.load([("actors", "actorsfund.test", None)])
    (row,) = monitor.check("actors", T0)
    assert row["category"] == "ok"
    assert row["chain"].startswith("301 http://actorsfund.test")
    assert "entertainmentcommunity.test" in row["final_url"]
    assert len(monitor.runs()) == 1


def _observations(monitor: Monitor) -> dict[str, dict]:
    from storage.db import Store

    store = Store(monitor.db)
    try:
        with store.transaction() as repo:
            return {o.url: o.__dict__ for o in repo.observations()}
    finally:
        store.close()


def test_observations_keep_decoded_text_sizes_and_chains(three_runs: Monitor) -> None:
    seen = _observations(three_runs)
    web = three_runs.web
    assert "Société" in seen[web.url("windows1252.test", "/")]["facts"]["title"]
    assert seen[web.url("shiftjis.test", "/")]["facts"]["title"] == "看護師ピアサポートネットワーク"
    huge = seen[web.url("huge.test", "/")]["facts"]
    assert huge["truncated"] is True and huge["size"] < 20_000_000
    binary = seen[web.url("binary.test", "/")]["facts"]
    assert binary["binary"] is True and binary["size"] < 65536
    loop = seen[web.url("redirectloop.test", "/")]
    assert loop["error"] == "redirect_loop"
    assert [h["status"] for h in loop["redirect_chain"]] == [302, 301, 301]


def test_requests_are_polite_and_say_who_we_are(three_runs: Monitor) -> None:
    requests = [r for r in three_runs.web.requests if r.host == "healthy.test"]
    assert requests, "the module's runs should have reached healthy.test"
    assert all(r.method == "GET" for r in requests)
    agents = {r.headers.get("user-agent", "") for r in requests}
    assert all(a.startswith("freshness/") and "+http" in a for a in agents), agents
    assert any(r.path == "/robots.txt" for r in requests)


def test_scrapy_crawl_directory_does_the_same_crawl(world: SimWeb, tmp_path) -> None:
    import subprocess
    import sys
    from pathlib import Path

    from tests.conftest import run_freshness

    monitor = Monitor(world, lambda *a, **kw: run_freshness(tmp_path, *a, **kw), tmp_path)
    monitor.load([("soft404", "soft404.test", "/groups")])
    root = Path(__file__).resolve().parents[2]
    scrapy = Path(sys.executable).parent / "scrapy"
    result = subprocess.run(
        [
            str(scrapy),
            "crawl",
            "directory",
            "-s",
            f"FRESHNESS_DB={monitor.db}",
            *monitor.settings(T0),
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    runs = monitor.runs()
    assert len(runs) == 1 and runs[0]["observations"] == 2
    categories = {o["url"]: o["category"] for o in _observations(monitor).values()}
    assert categories[world.url("soft404.test", "/groups")] == "soft_404"


def test_traffic_goes_through_the_standard_proxy_variables(world: SimWeb, module_freshness) -> None:
    # No resolver override: the host name only means something to the proxy.
    result = module_freshness(
        "check",
        "http://healthy.test/groups",
        "--format",
        "json",
        "-s",
        "FRESHNESS_SOFT404_PROBE=False",
        env={"http_proxy": world.proxy_url},
        check=True,
    )
    import json

    (row,) = json.loads(result.stdout)
    assert row["status"] == 200 and row["category"] == "ok"
    assert world.count("healthy.test", "/groups") >= 1


@pytest.mark.parametrize("bypass", [True, False], ids=["no_proxy", "proxied"])
def test_no_proxy_hosts_skip_the_proxy(world: SimWeb, module_freshness, bypass: bool) -> None:
    """http_proxy names a proxy that refuses connections; no_proxy lets healthy.test past it."""
    import json

    from monitor.simweb import LIVE_IP, REFUSED_IP

    env = {"http_proxy": f"http://{REFUSED_IP}:9"}
    if bypass:
        env["no_proxy"] = "localhost,healthy.test"
    result = module_freshness(
        "check",
        world.url("healthy.test", "/groups"),
        "--format",
        "json",
        "-s",
        "FRESHNESS_SOFT404_PROBE=False",
        "-s",
        f"FRESHNESS_HOSTS=healthy.test={LIVE_IP}",
        "-s",
        "RETRY_TIMES=0",
        env=env,
        check=True,
    )
    (row,) = json.loads(result.stdout)
    if bypass:
        assert row["status"] == 200 and row["category"] == "ok"
    else:  # through the dead proxy: a connection failure, as the standard variables say
        assert row["status"] is None and row["category"] == "connection"


def test_config_file_settings_apply_and_command_line_wins(world: SimWeb, tmp_path) -> None:
    from tests.conftest import run_freshness

    (tmp_path / "freshness.toml").write_text(
        "[settings]\nFRESHNESS_DEAD_AFTER_FAILURES = 1\nFRESHNESS_DEAD_AFTER_HOURS = 0\n"
    )
    monitor = Monitor(world, lambda *a, **kw: run_freshness(tmp_path, *a, **kw), tmp_path)
    monitor.load([("gone", "homepage404.test", None)])
    monitor.run(T0, extra={"FRESHNESS_DEAD_AFTER_FAILURES": "2"})
    assert monitor.findings() == []  # -s asked for two failures
    result = monitor.run(T0 + dt.timedelta(hours=1))
    assert "nothing is due" in result.stdout  # checked an hour ago; check_every is 1d
    monitor.run(T0 + dt.timedelta(hours=1), "--org", "gone")  # --org checks it anyway
    assert [f["reason"] for f in monitor.findings()] == ["http_404"]  # the config's one


def _probes(world: SimWeb, host: str) -> list:
    return [
        r for r in world.requests if r.host == host and r.path.rsplit("/", 1)[-1].startswith("fr")
    ]


def test_revisits_reuse_a_hard_404_probe_until_the_page_changes(module_freshness, tmp_path) -> None:
    page = "<html><head><title>{t}</title></head><body><h1>Peer support</h1></body></html>"
    scenario = {
        "probecache.test": {
            "defaults": {"etag": False},  # no 304s: the page is fetched in full every time
            "pages": {"/": page.replace("{t}", "Nurses Circle")},
            "states": {"renamed": {"/": page.replace("{t}", "Something else entirely")}},
        }
    }
    with SimWeb(scenario) as web:
        monitor = Monitor(web, module_freshness, tmp_path)
        monitor.load([("pc", "probecache.test", None)])
        monitor.run(T0)
        assert len(_probes(web, "probecache.test")) == 1
        monitor.run(T0 + dt.timedelta(days=1))
        assert len(_probes(web, "probecache.test")) == 1  # reused: no second probe
        web.set_state("renamed")
        monitor.run(T0 + dt.timedelta(days=2))
        assert len(_probes(web, "probecache.test")) == 2  # the page changed: probe again
        monitor.run(T0 + dt.timedelta(days=10), "--org", "pc")
        assert len(_probes(web, "probecache.test")) == 3  # the cache is a week old: probe again


def test_discovery_runs_weekly_not_every_run(module_freshness, tmp_path) -> None:
    scenario = {
        "hub.test": {
            "pages": {
                "/": "<html><head><title>Hub Nurses</title></head><body><main>"
                "<p>See the <a href='{url:peer.test/}'>Peer Network</a>."
                "</p></main></body></html>"
            }
        },
        "peer.test": {
            "pages": {
                "/": "<html><head><title>Peer Network</title></head><body>"
                "<h1>Peer support groups</h1><p>Confidential peer support "
                "groups and a peer support network for nurses.</p>"
                "</body></html>"
            }
        },
    }
    with SimWeb(scenario) as web:
        monitor = Monitor(web, module_freshness, tmp_path)
        monitor.load([("hub", "hub.test", None)])
        monitor.run(T0)
        assert web.count("peer.test", "/", "GET") == 1
        monitor.run(T0 + dt.timedelta(days=1))
        assert web.count("peer.test", "/", "GET") == 1  # looked a day ago: not again
        monitor.run(T0 + dt.timedelta(days=8))
        assert web.count("peer.test", "/", "GET") == 2

"""End to end, in four markup styles: moves, renames, groups and new organisations (issue 4).

One simulated web (``monitor/simweb/scenarios/detection.yaml``), one directory of every
organisation below, and three runs of the real ``freshness`` CLI a day apart, in the web's
states "before", "run2" and "run3". Each test reads what the runs left behind: the findings
JSON after each run, the store, and the simulated web's request log.

Styles: ``wp`` a WordPress theme, ``bs`` Bootstrap cards, ``tb`` plain hand-made tables, ``js``
a JavaScript shell named only in meta tags and JSON-LD.
"""

from __future__ import annotations

import datetime as dt
import http.client
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from monitor.pages.group_names import normalise_group_name
from monitor.pages.groups import extract_groups
from monitor.simweb import LIVE_IP, SimWeb, load_catalogue
from tests.crawling import T0, Monitor

pytestmark = pytest.mark.e2e

STYLES = ("wp", "bs", "tb")
NAME = {
    "wp": "NurseGroups",
    "bs": "The Actors Fund",
    "tb": "Lawyers Concerned for Lawyers",
    "js": "Journalist Trauma Support Network",
}
NEW_NAME = {
    "wp": "Nurse Peer Network",
    "bs": "Entertainment Community Fund",
    "tb": "Legal Professionals Wellbeing Network",
    "js": "Newsroom Resilience Collective",
}
GROUPS_PATH = {"wp": "/groups/", "bs": "/support-groups", "tb": "/groups.html"}
GROUPS = {
    "wp": (
        "Grief Circle",
        "The Anxiety Toolbox",
        "New Grad Nurses Group",
        "Night Shift Check-in",
        "Second Victim Support",
    ),
    "bs": (
        "Performers' Anxiety Circle",
        "Backstage Crew Support Group",
        "Touring Artists Check-in",
        "Grief & Loss Group for Entertainment Professionals",
        "Sober Performers Circle",
    ),
    "tb": (
        "Boston Recovery Group",
        "Women Lawyers Support Group",
        "Anxiety & Depression Group",
        "Law Students Peer Circle",
        "Judges' Peer Group",
    ),
}
# The group the "after" pages add (name, link path) and the listed group they drop.
ADDED = {
    "wp": ("Nurse Parents Circle", "/groups/nurse-parents/"),
    "bs": ("Dancers’ Injury Recovery Group", "/support-groups/dancers-injury-recovery"),
    "tb": ("Solo Practitioners Group", "/groups/solo-practitioners.html"),
}
REMOVED = {
    "wp": "Night Shift Check-in",
    "bs": "Backstage Crew Support Group",
    "tb": "Law Students Peer Circle",
}
SELECTOR = {
    "wp": "#our-groups li > a",
    "bs": "#current-groups .card-title",
    "tb": "table.schedule td:nth-child(2)",
}
# What each style's links page is, and the candidates it links to (besides peer-direct).
LINKS_PAGE = {"wp": "/resources/", "bs": "/partners", "tb": "/links.html"}
PEERS = {  # host, path, name
    "wp": [
        ("wp-peer-direct.test", "/", "Midwives Peer Support Network"),
        ("wp-peer-partner.test", "/groups/", "Pharmacists Support Circle"),
        ("js-peer.test", "/", "Veterinary Peer Support"),
    ],
    "bs": [
        ("bs-peer-direct.test", "/", "Dancers Peer Support Network"),
        ("bs-peer-partner.test", "/", "Musicians Support Circle"),
    ],
    "tb": [
        ("tb-peer-direct.test", "/", "Judges Peer Circle"),
        ("tb-peer-partner.test", "/", "Accountants Peer Support"),
    ],
}
NOT_PEERS = ("hospital", "news")  # {style}-hospital.test, {style}-news.test
STATES = ("before", "run2", "run3")

NOTHING: tuple[tuple[str, ...], ...] = ((), (), ())


def every_run(*kinds: str) -> tuple[tuple[str, ...], ...]:
    return (kinds, kinds, kinds)


@dataclass(frozen=True)
class Org:
    id: str
    host: str
    name: str
    # The kinds of the open findings after runs 1, 2 and 3 (with repeats).
    expect: tuple[tuple[str, ...], ...] = NOTHING
    groups_path: str | None = None
    groups: tuple[str, ...] = ()
    selector: str | None = None

    def entry(self, web: SimWeb) -> dict[str, Any]:
        entry: dict[str, Any] = {"id": self.id, "name": self.name, "url": web.url(self.host)}
        if self.groups_path:
            entry["groups_url"] = web.url(self.host, self.groups_path)
            entry["groups"] = list(self.groups)
        if self.selector:
            entry["group_selector"] = self.selector
        return entry


def _orgs() -> list[Org]:
    orgs: list[Org] = []
    for s in STYLES:
        with_groups = {"groups_path": GROUPS_PATH[s], "groups": GROUPS[s]}
        orgs += [
            # -- moved
            Org(f"{s}-moved", f"{s}-moved-old.test", NAME[s], every_run("moved")),
            Org(f"{s}-campaign-once", f"{s}-campaign-once.test", NAME[s]),
            Org(
                f"{s}-campaign-twice",
                f"{s}-campaign-twice.test",
                NAME[s],
                ((), (), ("moved",)),
            ),
            # -- renames
            Org(f"{s}-rename-og", f"{s}-rename-og.test", NAME[s], every_run("rename")),
            Org(f"{s}-rename-ld", f"{s}-rename-ld.test", NAME[s], every_run("rename")),
            Org(
                f"{s}-rename-xdomain",
                f"{s}-xdomain-old.test",
                NAME[s],
                every_run("moved", "rename"),
            ),
            Org(f"{s}-rename-formerly", f"{s}-formerly.test", NAME[s], every_run("rename")),
            Org(f"{s}-decor", f"{s}-decor.test", NAME[s]),
            Org(f"{s}-tagline", f"{s}-tagline.test", NAME[s]),
            Org(f"{s}-caps", f"{s}-caps.test", NAME[s]),
            Org(f"{s}-single", f"{s}-single.test", NAME[s]),
            # -- groups
            Org(
                f"{s}-groups-new",
                f"{s}-groups-new.test",
                NAME[s],
                ((), ("new_group",), ("new_group",)),
                **with_groups,
            ),
            Org(
                f"{s}-groups-removed",
                f"{s}-groups-removed.test",
                NAME[s],
                ((), (), ("removed_group",)),
                **with_groups,
            ),
            *(
                Org(f"{s}-groups-{case}", f"{s}-groups-{case}.test", NAME[s], **with_groups)
                for case in ("blip", "reorder", "schedule", "featured", "cookie", "volatile")
            ),
            Org(
                f"{s}-groups-selector",
                f"{s}-groups-selector.test",
                NAME[s],
                ((), ("new_group",), ("new_group",)),
                selector=SELECTOR[s],
                **with_groups,
            ),
            # -- new organisations
            Org(
                f"{s}-discover",
                f"{s}-discover.test",
                NAME[s],
                every_run(*["new_organisation"] * len(PEERS[s])),
            ),
        ]
    orgs += [
        Org("wp-acronym", "wp-acronym.test", "Nurses Peer Support Network"),
        Org("bs-acronym", "bs-acronym.test", "Entertainment Community Fund"),
        Org("tb-acronym", "tb-acronym.test", NAME["tb"]),
        # Same-site canonical changes: www -> apex (homepage and groups page), apex -> www,
        # a trailing slash on the groups page.
        Org(
            "wp-canon",
            "www.wp-canon.test",
            NAME["wp"],
            every_run("moved", "moved"),
            groups_path="/groups/",
            groups=GROUPS["wp"],
        ),
        Org("bs-canon", "bs-canon.test", NAME["bs"], every_run("moved")),
        Org(
            "tb-slash",
            "tb-slash.test",
            NAME["tb"],
            every_run("moved"),
            groups_path="/groups",
            groups=GROUPS["tb"],
        ),
        # The JavaScript shell.
        Org("js-moved", "js-moved-old.test", NAME["js"], every_run("moved")),
        Org("js-unchanged", "js-unchanged.test", NAME["js"]),
        Org("js-noname", "js-noname.test", NAME["js"]),
        Org("js-renamed", "js-renamed.test", NAME["js"], every_run("rename")),
        Org(
            "js-groups",
            "js-groups.test",
            NAME["js"],
            groups_path="/groups",
            groups=("Editors Peer Circle", "Photojournalists Support Group"),
        ),
        # Listed already: discovery must not propose groups.paramedicpeers.test.
        Org("paramedicpeers", "paramedicpeers.test", "Paramedic Peer Network"),
    ]
    return orgs


ORGS = _orgs()
BY_ID = {org.id: org for org in ORGS}


# -- the three runs -----------------------------------------------------------------------------


@dataclass
class Runs:
    web: SimWeb
    monitor: Monitor
    findings: list[list[dict[str, Any]]]  # open findings after each run

    def mine(self, org_id: str, run: int = 2, kind: str | None = None) -> list[dict[str, Any]]:
        return [
            f
            for f in self.findings[run]
            if f["org"] == org_id and (kind is None or f["kind"] == kind)
        ]

    def one(self, org_id: str, kind: str, run: int = 2) -> dict[str, Any]:
        found = self.mine(org_id, run, kind)
        assert len(found) == 1, f"{org_id}: expected one {kind} after run {run + 1}: {found}"
        return found[0]

    def url(self, host: str, path: str = "/") -> str:
        return self.web.url(host, path)

    def stored_findings(self, org_id: str, kind: str) -> list[Any]:
        """Findings with all their details (the JSON shows the documented keys only)."""
        from storage.db import Store

        store = Store(self.monitor.db)
        try:
            with store.transaction() as repo:
                return repo.findings(kind=kind, org_id=org_id)
        finally:
            store.close()

    def observations(self, org_id: str, role: str) -> list[Any]:
        """The organisation's stored observations of one role, oldest first."""
        from storage.db import Store

        store = Store(self.monitor.db)
        try:
            with store.transaction() as repo:
                found = repo.observations(org_id=org_id)
        finally:
            store.close()
        return [o for o in reversed(found) if o.facts.get("role") == role]

    def last_groups(self, org_id: str) -> list[dict[str, Any]]:
        """The groups last extracted from the organisation's groups page (a 304 extracts
        nothing: the page is the one read before)."""
        read = [o for o in self.observations(org_id, "groups") if o.status != 304]
        return read[-1].facts["groups"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    from tests.conftest import run_freshness

    cwd = tmp_path_factory.mktemp("styles")
    with SimWeb(load_catalogue()) as web:
        monitor = Monitor(web, lambda *a, **kw: run_freshness(cwd, *a, **kw), cwd)
        directory = cwd / "directory.yaml"
        directory.write_text(
            yaml.safe_dump({"organisations": [o.entry(web) for o in ORGS]}, sort_keys=False)
        )
        monitor.freshness("--db", monitor.db, "import", str(directory), check=True)
        findings = []
        for day, state in enumerate(STATES):
            web.set_state(state)
            monitor.run(T0 + dt.timedelta(days=day))
            findings.append(monitor.findings())
        web.set_state("before")
        yield Runs(web, monitor, findings)
        assert web.errors == []


def _fetch(web: SimWeb, host: str, path: str) -> str:
    conn = http.client.HTTPConnection(LIVE_IP, web.port, timeout=5)
    try:
        conn.request("GET", path, headers={"Host": f"{host}:{web.port}"})
        return conn.getresponse().read().decode("utf-8")
    finally:
        conn.close()


# -- every organisation, every run: exactly the expected findings, nothing else ----------------


@pytest.mark.parametrize("org", ORGS, ids=[o.id for o in ORGS])
def test_exactly_the_expected_findings_after_each_run(runs: Runs, org: Org) -> None:
    for run, expected in enumerate(org.expect):
        got = Counter(f["kind"] for f in runs.mine(org.id, run))
        assert got == Counter(expected), f"{org.id} after run {run + 1}: {runs.mine(org.id, run)}"


def test_three_completed_runs(runs: Runs) -> None:
    assert [r["status"] for r in runs.monitor.runs()] == ["completed"] * 3


# -- moved --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("style", "status"), [("wp", 301), ("bs", 308), ("tb", 301), ("js", 301)])
def test_permanent_redirect_to_another_domain_is_moved(runs: Runs, style: str, status: int) -> None:
    moved = runs.one(f"{style}-moved", "moved", run=0)
    old, new = runs.url(f"{style}-moved-old.test"), runs.url(f"{style}-moved-new.test")
    assert (moved["url"], moved["old_url"], moved["new_url"]) == (old, old, new)
    assert moved["confidence"] >= 0.8
    assert moved["evidence"][0] == f"{status} {old} → 200 {new}"


@pytest.mark.parametrize(
    ("org_id", "listed", "served"),
    [
        ("wp-canon", ("www.wp-canon.test", "/"), ("wp-canon.test", "/")),  # www -> apex
        ("wp-canon", ("www.wp-canon.test", "/groups/"), ("wp-canon.test", "/groups/")),
        ("bs-canon", ("bs-canon.test", "/"), ("www.bs-canon.test", "/")),  # apex -> www
        ("tb-slash", ("tb-slash.test", "/groups"), ("tb-slash.test", "/groups/")),
    ],
)
def test_same_site_canonical_change_is_a_low_confidence_move(
    runs: Runs, org_id: str, listed: tuple[str, str], served: tuple[str, str]
) -> None:
    # http -> https is the commonest canonical change, but the simulated web has no TLS, so it
    # cannot be served here; monitor.judging.judge._canonical ignores the scheme the same way.
    listed_url, served_url = runs.url(*listed), runs.url(*served)
    for run in range(3):
        (moved,) = [f for f in runs.mine(org_id, run, "moved") if f["url"] == listed_url]
        assert moved["new_url"] == served_url
        assert moved["old_url"] == listed_url
        assert moved["confidence"] < 0.5
        kinds = {f["kind"] for f in runs.mine(org_id, run)}
        assert kinds == {"moved"}  # never dead, never renamed, no group changes


@pytest.mark.parametrize("style", STYLES)
def test_temporary_redirect_to_a_campaign_page_is_a_move_only_when_it_persists(
    runs: Runs, style: str
) -> None:
    appeal = {"wp": "/appeal/", "bs": "/appeal", "tb": "/appeal.html"}[style]
    # Seen once (run 2 only) and seen on run 2 but not yet run 3: nothing.
    for run in range(3):
        assert runs.mine(f"{style}-campaign-once", run) == []
    assert runs.mine(f"{style}-campaign-twice", 1) == []
    # The same temporary redirect on runs 2 and 3: moved.
    moved = runs.one(f"{style}-campaign-twice", "moved")
    home = runs.url(f"{style}-campaign-twice.test")
    assert (moved["url"], moved["new_url"]) == (
        home,
        runs.url(f"{style}-campaign-twice.test", appeal),
    )
    assert any("previous run" in line for line in moved["evidence"]), moved
    assert moved["confidence"] < 0.9


# -- renames ------------------------------------------------------------------------------------

RENAMES = [
    # (org, style, evidence fragments that name the two signals)
    *((f"{s}-rename-og", s, ("og:site_name", "title")) for s in STYLES),
    *((f"{s}-rename-ld", s, ("schema.org", "copyright")) for s in STYLES),
    *((f"{s}-rename-xdomain", s, ("title", "redirects to another domain")) for s in STYLES),
    *((f"{s}-rename-formerly", s, ("og:site_name", "the page says")) for s in STYLES),
    ("js-renamed", "js", ("og:site_name", "schema.org")),
]


@pytest.mark.parametrize(("org_id", "style", "signals"), RENAMES, ids=[r[0] for r in RENAMES])
def test_rename_backed_by_two_signals(
    runs: Runs, org_id: str, style: str, signals: tuple[str, ...]
) -> None:
    rename = runs.one(org_id, "rename", run=0)
    assert rename["old_name"] == NAME[style]
    assert rename["new_name"] == NEW_NAME[style]
    for fragment in signals:
        assert any(fragment in line for line in rename["evidence"][1:]), rename["evidence"]
    assert rename["summary"] == f"{NAME[style]} now calls itself {NEW_NAME[style]}"
    # The same finding stays open, not a new one per run.
    assert runs.one(org_id, "rename", run=2)["id"] == rename["id"]


@pytest.mark.parametrize("style", STYLES)
def test_cross_domain_rename_also_reports_the_move(runs: Runs, style: str) -> None:
    moved = runs.one(f"{style}-rename-xdomain", "moved")
    assert moved["new_url"] == runs.url(f"{style}-xdomain-new.test")
    assert moved["old_url"] == runs.url(f"{style}-xdomain-old.test")


NOT_RENAMES = [
    *(f"{s}-{case}" for s in STYLES for case in ("decor", "tagline", "caps", "acronym", "single")),
    "js-unchanged",
    "js-noname",
]


def _names(identity: dict[str, Any]) -> list[str]:
    """Every name the identity read, from every source."""
    single = [identity.get(k) for k in ("title_name", "og_site_name", "copyright_holder")]
    names = [*single, identity.get("logo_alt"), *(identity.get("schema_names") or [])]
    return [n for n in names if n]


@pytest.mark.parametrize("org_id", NOT_RENAMES)
def test_not_a_rename(runs: Runs, org_id: str) -> None:
    for run in range(3):
        assert runs.mine(org_id, run) == [], f"after run {run + 1}"
    # Not silence: the homepage was read and its names were there to be judged.
    homepage = runs.observations(org_id, "homepage")
    assert [o.status for o in homepage][:1] == [200]
    assert all(o.status in (200, 304) for o in homepage)
    identities = [o.facts["identity"] for o in homepage if o.facts.get("identity")]
    if org_id == "js-noname":
        assert _names(identities[0]) == []  # nothing to judge: never a rename
    else:
        assert len(_names(identities[0])) >= 2, identities[0]
    if org_id.endswith("-tagline"):  # a new tagline every run, each one read
        titles = {identity["title"] for identity in identities}
        assert len(identities) == 3 and len(titles) == 3
        assert {identity["title_name"] for identity in identities} == {NAME[org_id[:2]]}


# -- groups -------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["new", "selector"])
@pytest.mark.parametrize("style", STYLES)
def test_new_group_carries_its_name_and_link(runs: Runs, style: str, case: str) -> None:
    org_id = f"{style}-groups-{case}"
    host = f"{style}-groups-{case}.test"
    assert runs.mine(org_id, 0) == []  # the first visit is the baseline
    new = runs.one(org_id, "new_group", run=1)
    name, path = ADDED[style]
    assert new["group"] == name  # as the page writes it, without badges such as "NEW!"
    assert new["group_url"] == runs.url(host, path)
    assert new["url"] == runs.url(host, GROUPS_PATH[style])
    assert runs.one(org_id, "new_group", run=2)["id"] == new["id"]


@pytest.mark.parametrize("style", STYLES)
def test_listed_group_missing_twice_is_removed(runs: Runs, style: str) -> None:
    org_id = f"{style}-groups-removed"
    assert runs.mine(org_id, 1) == []  # missing once: nothing yet
    removed = runs.one(org_id, "removed_group", run=2)
    assert removed["group"] == REMOVED[style]
    assert removed["url"] == runs.url(f"{style}-groups-removed.test", GROUPS_PATH[style])
    if style == "bs":
        # Its page is byte-identical on runs 2 and 3 (the others carry a nonce or a counter):
        # run 3 revisited it conditionally, and the 304 confirmed the list read on run 2.
        assert [o.status for o in runs.observations(org_id, "groups")] == [200, 200, 304]
    # Missing once only (run 2), back on run 3: nothing at any point.
    for run in range(3):
        assert runs.mine(f"{style}-groups-blip", run) == []


@pytest.mark.parametrize("case", ["reorder", "schedule", "featured", "cookie", "volatile"])
@pytest.mark.parametrize("style", STYLES)
def test_noise_on_the_groups_page_is_not_a_change(runs: Runs, style: str, case: str) -> None:
    org_id = f"{style}-groups-{case}"
    for run in range(3):
        assert runs.mine(org_id, run) == [], f"after run {run + 1}"
    # Not silence either: every listed group was read on the last run.
    names = {normalise_group_name(g["name"]) for g in runs.last_groups(org_id)}
    assert names == {normalise_group_name(g) for g in GROUPS[style]}


@pytest.mark.parametrize("style", STYLES)
def test_group_selector_overrides_the_heuristics(runs: Runs, style: str) -> None:
    org_id, host = f"{style}-groups-selector", f"{style}-groups-selector.test"
    page = _fetch(runs.web, host, GROUPS_PATH[style])
    url = runs.url(host, GROUPS_PATH[style])
    by_selector = {
        normalise_group_name(g["name"]) for g in extract_groups(page, url, SELECTOR[style])
    }
    by_heuristics = {normalise_group_name(g["name"]) for g in extract_groups(page, url)}
    assert by_selector == {normalise_group_name(g) for g in GROUPS[style]}
    assert by_heuristics != by_selector  # the page is one where the selector matters
    stored = {normalise_group_name(g["name"]) for g in runs.last_groups(org_id)}
    assert stored == {*by_selector, normalise_group_name(ADDED[style][0])}


def test_js_shell_groups_page_removes_nothing(runs: Runs) -> None:
    # The shell lists no group at all: that says nothing about the listed groups.
    assert runs.last_groups("js-groups") == []
    for run in range(3):
        assert runs.mine("js-groups", run) == []


# -- new organisations --------------------------------------------------------------------------


@pytest.mark.parametrize("style", STYLES)
def test_linked_peer_support_networks_become_new_organisations(runs: Runs, style: str) -> None:
    org_id = f"{style}-discover"
    home = runs.url(f"{style}-discover.test")
    links_page = runs.url(f"{style}-discover.test", LINKS_PAGE[style])
    stored = {f.details["domain"]: f for f in runs.stored_findings(org_id, "new_organisation")}
    shown = {f["url"]: f for f in runs.mine(org_id, 2, "new_organisation")}
    assert set(stored) == {host for host, _, _ in PEERS[style]}
    for index, (host, path, name) in enumerate(PEERS[style]):
        finding = stored[host]
        assert finding.url == runs.url(host, path)
        assert finding.details["name"] == name
        # The direct link is on the homepage and the links page; the others on the links page.
        expected = {home, links_page} if index == 0 else {links_page}
        assert set(finding.details["linked_from"]) == expected, finding.details
        assert shown[finding.url]["name"] == name


@pytest.mark.parametrize("style", STYLES)
def test_linked_sites_that_are_not_new_peer_networks_are_not_proposed(
    runs: Runs, style: str
) -> None:
    proposed = {
        f.details["domain"] for f in runs.stored_findings(f"{style}-discover", "new_organisation")
    }
    for kind in NOT_PEERS:
        host = f"{style}-{kind}.test"
        assert runs.web.count(host, method="GET") >= 1  # fetched and judged, not skipped
        assert host not in proposed
    # In the directory already, under another host of the same registered domain: checked as
    # a listed URL, so discovery does not fetch it again, and it is never proposed.
    assert runs.web.count("groups.paramedicpeers.test", "/", "GET") == 0
    assert runs.web.count("paramedicpeers.test", "/", "GET") == 3  # once a run, as listed
    assert not any(d.endswith("paramedicpeers.test") for d in proposed)


@pytest.mark.parametrize("style", STYLES)
def test_robots_txt_keeps_discovery_out(runs: Runs, style: str) -> None:
    host = f"{style}-robots-peer.test"
    paths = {r.path for r in runs.web.requests if r.host == host}
    assert paths == {"/robots.txt"}  # asked, refused, and nothing else fetched
    proposed = runs.stored_findings(f"{style}-discover", "new_organisation")
    assert host not in {f.details["domain"] for f in proposed}

"""Where a page points: outbound links, candidate pages and the peer-support test, offline."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.pages.html import as_tree, body_of, visible_text
from monitor.pages.identity import extract_identity
from monitor.pages.links import (
    MAX_CANDIDATE_PAGES,
    candidate_pages,
    looks_like_peer_support,
    not_a_peer_network,
    outbound_links,
    registered_domain,
)
from tests.conftest import python_output

SITES = Path(__file__).resolve().parents[1] / "fixtures" / "sites"
RESOURCES = "https://nursegroups.test/resources/"


def page(style: str, name: str) -> str:
    return (SITES / style / f"{name}.html").read_bytes().decode("utf-8", errors="replace")


# ---------------------------------------------------------------------------------------------
# registered_domain
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.physiciansupportline.com/", "physiciansupportline.com"),
        ("https://groups.nurses.example.co.uk/a?b=c", "example.co.uk"),
        ("http://www.nursesmindsmatter.org.uk/groups/", "nursesmindsmatter.org.uk"),
        ("HTTPS://WWW.Example.ORG./path", "example.org"),
        ("https://user:pw@sub.example.com:8443/x", "example.com"),
        ("example.com/path", "example.com"),
        # the simulated web's hosts have no public suffix: keep the last two labels
        ("http://nursegroups.test/", "nursegroups.test"),
        ("http://blog.nursegroups.test/", "nursegroups.test"),
        ("http://localhost:8080/", "localhost"),
        ("http://127.0.0.1:8080/", "127.0.0.1"),
        ("http://[::1]:8080/", "::1"),
        ("", ""),
        ("mailto:hello@nursegroups.test", ""),
        ("http://[::1/", ""),
    ],
)
def test_registered_domain(url, expected):
    assert registered_domain(url) == expected


def test_registered_domain_never_touches_the_network_or_the_disk(tmp_path):
    code = (
        "import socket\n"
        "def refuse(*a, **k):\n"
        "    raise AssertionError('network used')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "socket.getaddrinfo = refuse\n"
        "from monitor.pages.links import registered_domain\n"
        "print(registered_domain('https://a.b.example.co.uk/'))\n"
    )
    env = {**os.environ, "TLDEXTRACT_CACHE": str(tmp_path / "cache"), "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "example.co.uk"
    assert list(tmp_path.rglob("*")) == []


# ---------------------------------------------------------------------------------------------
# outbound_links
# ---------------------------------------------------------------------------------------------


def test_outbound_links_of_the_resources_page():
    assert outbound_links(page("wordpress", "resources"), RESOURCES) == [
        {
            "url": "https://www.physiciansupportline.com/",
            "text": "Physician Support Line",
            "domain": "physiciansupportline.com",
        },
        # the fragment is dropped, so the second link to the same page is a repeat
        {
            "url": "https://jtsn.test/groups",
            "text": "Journalist Trauma Support Network",
            "domain": "jtsn.test",
        },
        {
            "url": "https://entertainmentcommunity.test/",
            "text": "Entertainment Community Fund",
            "domain": "entertainmentcommunity.test",
        },
        {
            "url": "https://www.nursesmindsmatter.org.uk/groups/",
            "text": "Nurses’ Minds Matter",
            "domain": "nursesmindsmatter.org.uk",
        },
        {"url": "https://lcl.test/", "text": "Lawyers Concerned for Lawyers", "domain": "lcl.test"},
    ]


def test_outbound_links_skip_furniture_social_and_self():
    found = {link["domain"] for link in outbound_links(page("wordpress", "resources"), RESOURCES)}
    for skipped in (
        "nursegroups.test",  # the page's own site, subdomains included
        "facebook.com",  # share buttons and social links
        "twitter.com",
        "linkedin.com",
        "wordpress.org",  # footer credit
        "nursingboard.test",  # footer link
        "sponsor-hospital.test",  # sidebar widget
    ):
        assert skipped not in found


def test_home_pages_link_nowhere_from_their_content():
    # Their only outside links are social icons in footers.
    assert outbound_links(page("bootstrap", "home"), "https://actorsfund.test/") == []
    assert outbound_links(page("wordpress", "home"), "https://nursegroups.test/") == []
    assert outbound_links(page("jsshell", "home"), "https://jtsn.test/") == []


def test_outbound_links_from_images_and_relative_schemes():
    html = """<main>
      <a href="//peers.example.org/join"><img src="/p.png" alt="Peers Together"></a>
      <a href="https://peers.example.org/join#top" aria-label="Peers again">x</a>
      <a href="ftp://files.example.net/a">files</a>
      <a href="data:text/html,hi">data</a>
      <a href="  https://other.example.net/  ">Other Network</a>
      <a href="https://www.youtube.com/watch?v=1">Video</a>
      <a>no href</a>
    </main>"""
    assert outbound_links(html, "https://nursegroups.test/") == [
        {
            "url": "https://peers.example.org/join",
            "text": "Peers Together",
            "domain": "example.org",
        },
        {"url": "https://other.example.net/", "text": "Other Network", "domain": "example.net"},
    ]


# ---------------------------------------------------------------------------------------------
# candidate_pages
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("style", "name", "url", "expected"),
    [
        (
            "wordpress",
            "home",
            "https://nursegroups.test/",
            [
                "https://nursegroups.test/resources/",
                "https://nursegroups.test/partners/",
                "https://nursegroups.test/links/",
            ],
        ),
        (
            "wordpress",
            "resources",
            RESOURCES,  # never the page itself
            ["https://nursegroups.test/partners/", "https://nursegroups.test/links/"],
        ),
        ("bootstrap", "home", "https://actorsfund.test/", ["https://actorsfund.test/resources"]),
        (
            "tables",
            "home",
            "https://lcl.test/index.html",
            ["https://lcl.test/resources.html", "https://lcl.test/links.html"],
        ),
        ("jsshell", "home", "https://jtsn.test/", []),
    ],
)
def test_candidate_pages(style, name, url, expected):
    assert candidate_pages(page(style, name), url) == expected


def test_candidate_pages_rank_text_over_path_and_stop_at_five():
    html = """<body><main>
      <a href="/about/links-we-love">About us</a>
      <a href="/partners">Who we work with</a>
      <a href="/r1">Resources for nurses</a>
      <a href="/r2">Find support near you</a>
      <a href="/r3">Other organizations</a>
      <a href="/r4">Our partners</a>
      <a href="/r5">Helpful links</a>
      <a href="/r6">Directory of programs</a>
      <a href="https://elsewhere.test/partners">Their partners</a>
      <a href="/files/partners.pdf">Partners (PDF)</a>
      <a href="mailto:partners@nursegroups.test">Email partners</a>
    </main></body>"""
    found = candidate_pages(html, "https://nursegroups.test/")
    assert len(found) == MAX_CANDIDATE_PAGES
    assert found == [f"https://nursegroups.test/r{i}" for i in range(1, 6)]
    assert "https://nursegroups.test/partners" not in found  # path only, ranked below
    assert "https://nursegroups.test/about/links-we-love" not in found  # a path word inside a slug


# ---------------------------------------------------------------------------------------------
# looks_like_peer_support
# ---------------------------------------------------------------------------------------------


def _page_text(style: str, name: str, url: str) -> tuple[str, str]:
    tree = as_tree(page(style, name))
    return extract_identity(tree, url)["title"] or "", " ".join(visible_text(body_of(tree)))


@pytest.mark.parametrize(
    ("style", "name", "url"),
    [
        ("wordpress", "home", "https://nursegroups.test/"),
        ("bootstrap", "home_renamed", "https://entertainmentcommunity.test/"),
        ("tables", "home", "https://lcl.test/"),
    ],
)
def test_peer_support_organisations_look_like_it(style, name, url):
    ok, evidence = looks_like_peer_support(*_page_text(style, name, url))
    assert ok
    assert "peer support" in evidence


@pytest.mark.parametrize(
    ("title", "text", "evidence"),
    [
        (
            "Physician Support Line — Peer Support for Physicians",
            "Call us. Volunteer psychiatrists listen.",
            ["peer support"],
        ),
        (
            "Nurses Together",
            "Join one of our support groups. Peer-to-peer, confidential, free.",
            ["peer-to-peer", "support group"],
        ),
        (
            "Home",
            "Our peer support program pairs you with a peer mentor. Mutual aid, not charity.",
            ["peer support", "mutual aid", "peer mentor"],
        ),
        (
            "Welcome",
            "Peer support is what we do. Peer support is who we are. Peer-led support, always.",
            ["peer support"],
        ),
    ],
)
def test_peer_support_positives(title, text, evidence):
    assert looks_like_peer_support(title, text) == (True, evidence)


@pytest.mark.parametrize(
    ("title", "text"),
    [
        # a single passing mention, however strong
        (
            "Hospital staff face record burnout",
            "Staff may also join a support group, the trust said.",
        ),
        ("Careers at Mercy General", "We offer wellbeing days. Ask HR about peer support."),
        # weak words only, however often
        ("Burnout", "Burnout, burnout, burnout. Wellbeing matters. Call the helpline."),
        # the same strong phrase twice, nothing else
        ("News", "A support group met. Another support group met."),
        ("", ""),
        (None, None),
        ("Parked domain", "This domain is for sale."),
    ],
)
def test_peer_support_negatives(title, text):
    ok, _ = looks_like_peer_support(title, text)
    assert not ok


def test_peer_support_evidence_names_every_phrase_found():
    ok, evidence = looks_like_peer_support(
        "Support groups for journalists",
        "Confidential support, a support network and burnout workshops.",
    )
    assert ok
    assert evidence == ["support group", "support network", "confidential support", "burnout"]


@pytest.mark.parametrize(
    ("types", "reason"),
    [
        (["newsarticle", "og:article"], "a news article"),
        (["webpage", "newsmediaorganization"], "a news publisher's page"),
        (["Hospital"], "a hospital's page"),
        (["ngo", "website", "og:website"], None),
        (["og:article"], None),  # WordPress pages are og:type article too
        ([], None),
    ],
)
def test_not_a_peer_network(types, reason):
    assert not_a_peer_network(types) == reason


def _hosts_for_every_rule() -> list[str]:
    """Hosts that walk every rule of the public list: under it, at it, and around its
    wildcards and exceptions, in Unicode and in punycode."""
    import pkgutil

    import idna
    from tldextract.suffix_list import extract_tlds_from_suffix_list

    text = pkgutil.get_data("tldextract", ".tld_set_snapshot").decode("utf-8")
    public, private = extract_tlds_from_suffix_list(text)
    hosts = []
    for rule in public + private[:500]:
        plain = rule.lstrip("!").replace("*", "wild")
        hosts += [plain, f"site.{plain}", f"www.site.{plain}", f"a.b.c.{plain}"]
        with contextlib.suppress(idna.IDNAError):
            hosts.append("site." + idna.encode(plain, uts46=True).decode())
    return hosts + ["xn--bcher-kva.example", "xn--zz-invalid.com", "a..b.com", "com", "co.uk"]


def test_registered_domain_agrees_with_tldextract_on_every_rule() -> None:
    """monitor.pages.domains walks the suffix list as tldextract's extractor does, without it."""
    import tldextract

    from monitor.pages.domains import _host_domain

    extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    def expected(host: str) -> str:
        return extractor(host).top_domain_under_public_suffix or ".".join(host.split(".")[-2:])

    hosts = _hosts_for_every_rule()
    assert len(hosts) > 30_000
    differing = [(h, _host_domain(h), expected(h)) for h in hosts if _host_domain(h) != expected(h)]
    assert differing == []


def test_planning_a_run_imports_no_tldextract() -> None:
    code = (
        "import sys\n"
        "from monitor.pages.domains import registered_domain\n"
        "assert registered_domain('https://a.b.example.co.uk/') == 'example.co.uk'\n"
        "print('tldextract' in sys.modules)\n"
    )
    assert python_output(code).strip() == "False"

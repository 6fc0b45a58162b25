"""Digest rendering: pure, offline, checked against expected output and hostile input."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from html.parser import HTMLParser

import markdown as markdown_lib
import pytest

from monitor.telling.digest import (
    HEARTBEAT_SUMMARY,
    Digest,
    render_digest,
)
from monitor.telling.sample import sample_digest
from monitor.telling.text import md_escape, safe_href
from storage.records import FINDING_KINDS
from tests.conftest_helpers_notify import (
    HOSTILE_IMG,
    HOSTILE_MD,
    HOSTILE_NAME,
    HOSTILE_ORG_NAMES,
    NOW,
    ORG_NAMES,
    finding,
    hostile_findings,
    opened_findings,
    recovered_findings,
)

SUMMARY = (
    "3 dead links, 1 move, 1 rename, 2 new groups, 1 removed group, "
    "1 new organisation candidate, 1 unverifiable link, 1 revived link, "
    "1 recovered"
)


@pytest.fixture
def digest() -> Digest:
    return render_digest(
        opened_findings(), recovered_findings(), org_names=ORG_NAMES, now=NOW, run_id=42
    )


@pytest.fixture
def hostile() -> Digest:
    return render_digest(hostile_findings(), [], org_names=HOSTILE_ORG_NAMES, now=NOW)


class _Elements(HTMLParser):
    """Collects (tag, attrs) of every element and the text, as a browser's parser would see."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser


# -- summary, counts, grouping ------------------------------------------------------------------


def test_summary_title_and_counts(digest: Digest) -> None:
    assert digest.summary == SUMMARY
    assert digest.title == f"freshness: {SUMMARY}"
    assert digest.counts == {
        "dead_link": 3,
        "moved": 1,
        "rename": 1,
        "new_group": 2,
        "removed_group": 1,
        "new_organisation": 1,
        "unverifiable": 1,
        "revived": 1,
        "recovered": 1,
    }
    assert digest.kinds == frozenset(FINDING_KINDS)
    assert not digest.is_empty()
    for fmt in (digest.text(), digest.markdown(), digest.json()):
        assert SUMMARY in fmt
    assert digest.text().splitlines()[0] == SUMMARY


def test_title_names_only_what_is_there() -> None:
    opened = [f for f in opened_findings() if f.kind in ("dead_link", "rename", "new_group")]
    digest = render_digest(opened, [], org_names=ORG_NAMES, now=NOW)
    assert digest.title == "freshness: 3 dead links, 1 rename, 2 new groups"


def test_grouped_by_organisation_sorted_by_name(digest: Digest) -> None:
    assert [s.org_name for s in digest.sections] == [
        "new-org",  # no name given: shown by its id
        "Nurse Circle UK",
        "Paramedic Peers",
        "Vet Minds",
    ]
    vets = digest.sections[-1]
    # New findings by kind, recoveries last.
    assert [(i.change, i.finding.id) for i in vets.items] == [
        ("new", 13),
        ("new", 17),
        ("new", 18),
        ("new", 21),
        ("recovered", 7),
    ]
    text = digest.text()
    assert text.index("== Nurse Circle UK") < text.index("== Paramedic Peers")
    assert text.index("== Paramedic Peers") < text.index("== Vet Minds")


def test_plain_text_matches_expected_output() -> None:
    opened = [opened_findings()[0]]
    digest = render_digest(opened, recovered_findings(), org_names=ORG_NAMES, now=NOW, run_id=7)
    assert digest.text() == (
        "1 dead link, 1 recovered\n"
        "Run 7 at 2024-05-03 08:00 UTC\n"
        "\n"
        "== Paramedic Peers (paramedic-peers) ==\n"
        "\n"
        "* Dead link: https://paramedic-peers.example.org/\n"
        "  Homepage returns 404\n"
        "  Reason: page not found (http_404)\n"
        "  Failing for 3 days (since 2024-04-30)\n"
        "  Evidence:\n"
        "    - 404 https://paramedic-peers.example.org/\n"
        "  Finding 11: freshness accept 11 | freshness dismiss 11\n"
        "\n"
        "== Vet Minds (vet-minds) ==\n"
        "\n"
        "* Recovered: https://vetminds.example.net/contact\n"
        "  Contact page returned 503\n"
        "  Was: Dead link\n"
        "  Reason: server error (http_5xx)\n"
        "  Was failing for 46 hours, until 2024-05-03\n"
        "  Evidence:\n"
        "    - 200 https://vetminds.example.net/contact\n"
        "  Finding 7\n"
    )


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_every_kind_is_shown_with_what_a_curator_needs(digest: Digest, fmt: str) -> None:
    out = getattr(digest, fmt)()
    for words in (
        "Dead link",
        "Moved",
        "Renamed",
        "New group",
        "Group removed",
        "New organisation candidate",
        "Unverifiable",
        "Listed dead, works again",
        "Recovered",
    ):
        assert words in out, words
    for expected in (
        "https://paramedic-peers.example.org/meetings",  # URL
        "domain parked or for sale",  # reason in plain words
        "failing for 3 days",
        "failing for 10 hours",
        "failing for 36 hours",
        "Nurse Circle UK",  # old name …
        "Nurses Together",  # … and new
        "https://www.nursecircle.example.org/home",  # new URL
        "Night",  # group names
        "Farm vets",
        "Equine vets",
        "Firefighters Talk",
        "https://www.nursecircle.example.org/partners",  # linked from
        "NXDOMAIN",  # evidence
        "This domain may be for sale",
        "freshness accept 11",
        "freshness dismiss 20",
        "75%",
    ):
        assert expected.lower() in out.lower(), expected
    assert "→" in out or "&rarr;" in out
    assert "freshness accept 7" not in out  # a recovery has nothing left to act on


def test_markdown_structure(digest: Digest) -> None:
    md = digest.markdown()
    assert md.startswith(f"**{SUMMARY}**\n")
    assert "### Paramedic Peers \\(paramedic\\-peers\\)" in md or "### Paramedic Peers" in md
    assert "- **Dead link**: <https://paramedic-peers.example.org/>" in md
    assert "`freshness accept 11` · `freshness dismiss 11`" in md
    html = markdown_lib.markdown(md)
    hrefs = {a.get("href") for tag, a in parse_html(html).elements if tag == "a"}
    assert "https://www.nursecircle.example.org/home" in hrefs


def test_html_document(digest: Digest) -> None:
    html = digest.html()
    assert html.startswith("<!DOCTYPE html>")
    parsed = parse_html(html)
    tags = [t for t, _ in parsed.elements]
    assert "script" not in tags
    assert "style" not in tags  # inline CSS only
    csp = [
        a["content"]
        for t, a in parsed.elements
        if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    ]
    assert csp == ["default-src 'none'; style-src 'unsafe-inline'; img-src data:"]
    hrefs = [a["href"] for t, a in parsed.elements if t == "a"]
    assert hrefs and all(h.startswith(("http://", "https://")) for h in hrefs)
    assert "https://paramedic-peers.example.org/groups/night" in hrefs  # group link
    assert f"<title>freshness: {SUMMARY}</title>" in html


def test_json_contract(digest: Digest) -> None:
    data = json.loads(digest.json())
    assert set(data) == {"generated_at", "run_id", "summary", "counts", "organisations"}
    assert data["generated_at"] == "2024-05-03T08:00:00Z"
    assert data["run_id"] == 42
    assert data["summary"] == SUMMARY
    assert data["counts"]["dead_link"] == 3
    assert [o["org"] for o in data["organisations"]] == [
        "new-org",
        "nurse-circle",
        "paramedic-peers",
        "vet-minds",
    ]
    findings = [f for o in data["organisations"] for f in o["findings"]]
    assert len(findings) == 12
    by_id = {f["id"]: f for f in findings}
    assert by_id[7]["change"] == "recovered"
    assert by_id[11]["change"] == "new"
    assert by_id[11]["reason"] == "http_404"
    assert by_id[14]["new_url"] == "https://www.nursecircle.example.org/home"
    original = {f.id: f for f in opened_findings()}[15].to_json()
    assert {k: v for k, v in by_id[15].items() if k != "change"} == original


# -- empty and heartbeat ------------------------------------------------------------------------


def test_nothing_new_is_empty() -> None:
    digest = render_digest([], [], org_names=ORG_NAMES, now=NOW)
    assert digest.is_empty()
    assert digest.sections == ()
    assert digest.counts == {}
    assert json.loads(digest.json())["organisations"] == []


def test_heartbeat_says_no_changes() -> None:
    digest = render_digest([], [], org_names=ORG_NAMES, now=NOW, heartbeat=True)
    assert not digest.is_empty()
    assert digest.summary == HEARTBEAT_SUMMARY == "No changes since the last run"
    assert digest.title == "freshness: no changes"
    for out in (digest.text(), digest.markdown(), digest.html()):
        assert "No changes since the last run" in out


def test_heartbeat_is_only_a_flag_when_there_is_news(digest: Digest) -> None:
    beating = render_digest(opened_findings(), [], org_names=ORG_NAMES, now=NOW, heartbeat=True)
    assert HEARTBEAT_SUMMARY not in beating.text()


# -- routing helpers ----------------------------------------------------------------------------


def test_only_kinds_makes_a_sub_digest(digest: Digest) -> None:
    part = digest.only_kinds({"dead_link", "unverifiable"})
    assert part.counts == {"dead_link": 3, "unverifiable": 1, "recovered": 1}
    assert part.kinds == {"dead_link", "unverifiable"}
    assert part.title == "freshness: 3 dead links, 1 unverifiable link, 1 recovered"
    assert "Farm vets" not in part.text()
    assert [s.org_id for s in part.sections] == ["nurse-circle", "paramedic-peers", "vet-minds"]
    assert digest.only_kinds({"moved"}).counts == {"moved": 1}
    assert digest.only_kinds(set()).is_empty()
    assert part.generated_at == digest.generated_at and part.run_id == digest.run_id


# -- shortening ---------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [40, 120, 300, 600, 1200, 2000, 4000])
def test_shortened_markdown_respects_the_limit(digest: Digest, limit: int) -> None:
    short = digest.shortened_markdown(limit)
    assert len(short) <= limit
    if limit >= 300:
        assert short.startswith(f"**{SUMMARY}**")
        shown = sum(line.startswith("- ") for line in short.splitlines())
        assert 0 < shown <= 12
        if shown < 12:
            assert short.endswith(f"…and {12 - shown} more\n")
        else:
            assert "…and" not in short
    if limit == 300:
        assert "…and" in short
    assert len(digest.shortened_text(limit)) <= limit


def test_shortened_markdown_is_the_whole_digest_when_it_fits(digest: Digest) -> None:
    assert digest.shortened_markdown(100_000) == digest.markdown()


# -- hostile scraped strings --------------------------------------------------------------------


def test_html_escapes_scraped_strings(hostile: Digest) -> None:
    html = hostile.html()
    parsed = parse_html(html)
    tags = [t for t, _ in parsed.elements]
    assert "script" not in tags
    assert "img" not in tags
    assert not any(k.startswith("on") for _, attrs in parsed.elements for k in attrs)
    hrefs = [a["href"] for t, a in parsed.elements if t == "a"]
    assert all(h.startswith(("http://", "https://")) for h in hrefs)
    assert not any("javascript:" in h or "<" in h or '"' in h for h in hrefs)
    assert "http://evil.example/steal" not in hrefs
    text = "".join(parsed.text)
    assert HOSTILE_NAME in text  # shown, as text
    assert HOSTILE_IMG in text
    assert "javascript:document.title='pwned'" in text
    assert "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;" in html


def test_markdown_escapes_scraped_strings(hostile: Digest) -> None:
    md = hostile.markdown()
    assert HOSTILE_MD not in md
    assert "\\[click me\\]\\(http://evil.example/steal\\)" in md
    # Every "<" is escaped, except the autolinks of safe http(s) URLs.
    assert re.findall(r"(?<!\\)<(?!https?://)", md) == []
    assert "<javascript:" not in md
    assert "\\@everyone" in md
    html = markdown_lib.markdown(md)
    parsed = parse_html(html)
    hrefs = [a.get("href") for t, a in parsed.elements if t == "a"]
    assert "http://evil.example/steal" not in hrefs
    assert not any(h and h.startswith("javascript") for h in hrefs)
    assert {t for t, _ in parsed.elements}.isdisjoint({"script", "img"})
    assert "[click me](http://evil.example/steal)" in "".join(parsed.text)


def test_scraped_line_breaks_cannot_forge_lines() -> None:
    forged = finding(
        40,
        "acme",
        "rename",
        "https://acme.example/",
        "Renamed",
        details={"old_name": "Acme", "new_name": "Acme\n* Dead link: https://x\n\u202eevil"},
    )
    digest = render_digest([forged], [], org_names={"acme": "Acme\r\n== Fake =="}, now=NOW)
    lines = digest.text().splitlines()
    assert not any(line.startswith("* Dead link") for line in lines)
    assert not any(line.startswith("== Fake") for line in lines)
    assert "\u202e" not in digest.text()
    md_lines = digest.markdown().splitlines()
    assert not any(line.startswith("* Dead link") for line in md_lines)


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://example.org/a?b=c#d", True),
        ("http://example.org", True),
        ("javascript:alert(1)", False),
        ("JAVASCRIPT:alert(1)", False),
        ("data:text/html,<script>", False),
        ("vbscript:x", False),
        ("//example.org/", False),
        ("https://", False),
        ('https://example.org/"onmouseover="x', False),
        ("https://example.org/\u202egnp.exe", False),
        ("https://exa mple.org/", False),
        (None, False),
    ],
)
def test_safe_href(url: str | None, safe: bool) -> None:
    assert safe_href(url) == (url if safe else None)


def test_md_escape() -> None:
    assert md_escape("[x](http://evil)") == "\\[x\\]\\(http://evil\\)"
    assert md_escape("- not a list") == "\\- not a list"
    assert md_escape("1. not a list") == "1\\. not a list"
    assert md_escape("a\nb") == "a b"


# -- odds and ends ------------------------------------------------------------------------------


def test_failing_since_beats_first_seen_and_naive_times_are_utc() -> None:
    naive_now = NOW.replace(tzinfo=None)
    f = finding(
        50,
        "acme",
        "dead_link",
        "https://acme.example/",
        "404",
        first_seen=naive_now - dt.timedelta(hours=5),
        details={"reason": "http_404", "failing_since": "not a date"},
    )
    text = render_digest([f], [], org_names={}, now=NOW).text()
    assert "Failing for 5 hours" in text
    assert "Reason: page not found (http_404)" in text
    f.details["failing_since"] = "2024-04-01T08:00:00"
    assert "Failing for 32 days" in render_digest([f], [], org_names={}, now=NOW).text()


def test_sample_digest_has_every_kind_and_a_recovery() -> None:
    sample = sample_digest(NOW)
    assert sample.kinds == frozenset(FINDING_KINDS)
    assert sample.counts["recovered"] == 1
    assert all(sample.counts[k] == 1 for k in FINDING_KINDS)
    for out in (sample.text(), sample.markdown(), sample.html()):
        assert "freshness accept 1" in out
    assert len(json.loads(sample.json())["organisations"]) == 3


def test_digest_module_imports_no_scrapy_sqlalchemy_or_apprise() -> None:
    code = (
        "import sys, monitor.telling.digest; "
        "print(sorted(m for m in ('scrapy', 'sqlalchemy', 'apprise') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"

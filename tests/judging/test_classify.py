"""The classifier and page facts, on stored HTML fixtures and hand-built observations.

Each observation is built the way the spider builds it: ``page_facts`` on a stored page, plus
the status, redirect chain, headers and soft-404 probe of the fetch.
"""

from __future__ import annotations

import datetime as dt
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from monitor.judging import classify as classify_module
from monitor.judging.classify import (
    CATEGORIES,
    DEAD_CATEGORIES,
    Outcome,
    classify,
)
from monitor.judging.page_view import text_similarity
from monitor.pages.domains import registered_domain
from monitor.pages.facts import MARKER_NAMES, TEXT_CAP, page_facts
from storage.records import Observation

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "html"
ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
SITE = "https://nursegroups.test"
PROBE_URL = f"{SITE}/zq8x1k3v0r"


def read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def facts_of(name: str) -> dict[str, Any]:
    return page_facts(read(name))


def make_probe(
    page: str | None = None,
    *,
    status: int | None = 404,
    url: str = PROBE_URL,
    final_url: str | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    facts = facts_of(page) if page else {"title": None, "text": ""}
    return {
        "url": url,
        "status": status,
        "final_url": final_url or url,
        "title": facts["title"],
        "text": facts["text"],
        "error": error,
        "redirect_chain": [],
    }


def make_obs(
    page: str | None = None,
    *,
    url: str = f"{SITE}/groups",
    status: int | None = 200,
    final_url: str | None = None,
    hops: tuple[tuple[int, str], ...] = (),
    error: str | None = None,
    error_message: str | None = None,
    headers: dict[str, str] | None = None,
    probe: dict[str, Any] | None = None,
    **facts: Any,
) -> Observation:
    """An observation; ``hops`` are (status, url) for every response before the final one."""
    base: dict[str, Any] = {
        "content_type": "text/html",
        "size": 0,
        "truncated": False,
        "binary": False,
        "encoding": "utf-8",
        "not_modified": False,
        "robots_disallowed": False,
        "title": None,
        "h1": [],
        "text": "",
        "meta_refresh": None,
        "probe": probe,
    }
    if page:
        body = read(page)
        base.update(page_facts(body), size=len(body))
    base.update(facts)
    final = final_url or url
    targets = [u for _, u in hops[1:]] + [final]
    chain = [
        {"url": hop_url, "status": hop_status, "location": target}
        for (hop_status, hop_url), target in zip(hops, targets, strict=False)
    ]
    return Observation(
        org_id="nursegroups",
        url=url,
        fetched_at=NOW,
        status=status,
        final_url=None if error else final,
        redirect_chain=chain,
        error=error,
        error_message=error_message,
        elapsed_ms=120,
        headers=headers if headers is not None else {"content-type": "text/html; charset=utf-8"},
        facts=base,
    )


def evidence_text(outcome: Outcome) -> str:
    return "\n".join(outcome.evidence)


# --------------------------------------------------------------------------- API


def test_categories_and_dead_set():
    assert len(set(CATEGORIES)) == len(CATEGORIES) == 14
    assert frozenset(CATEGORIES) - {"ok", "blocked"} == DEAD_CATEGORIES
    assert isinstance(DEAD_CATEGORIES, frozenset)


@pytest.mark.parametrize("category", CATEGORIES)
def test_outcome_properties(category):
    outcome = Outcome(category, ("why",), 0.5)
    assert outcome.is_ok == (category == "ok")
    assert outcome.is_blocked == (category == "blocked")
    assert outcome.is_dead_class == (category not in ("ok", "blocked"))
    assert sum([outcome.is_ok, outcome.is_blocked, outcome.is_dead_class]) == 1


def test_outcome_is_frozen_and_validated():
    outcome = Outcome("ok", ["a list becomes a tuple"], 7)
    assert outcome.evidence == ("a list becomes a tuple",)
    assert outcome.confidence == 1.0
    assert Outcome("ok", (), -3).confidence == 0.0
    with pytest.raises(AttributeError):
        outcome.category = "parked"  # type: ignore[misc]
    with pytest.raises(ValueError, match="unknown category"):
        Outcome("dead", ())


def test_classify_imports_no_heavy_machinery():
    code = (
        "import sys, monitor.judging.classify, monitor.pages.facts\n"
        "heavy = [m for m in ('scrapy', 'sqlalchemy', 'apprise', 'twisted') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "print('clean')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "clean"


def test_marker_names_used_by_classify_exist_in_pagefacts():
    used = (
        classify_module._PARKING_MARKERS
        | classify_module._MARKETPLACE_MARKERS
        | classify_module._FIREWALL_MARKERS
        | {"cloudflare-challenge", "aws-waf"}
    )
    assert used <= MARKER_NAMES


# --------------------------------------------------------------------------- transport and status

TRANSPORT = [
    pytest.param(
        make_obs(robots_disallowed=True, status=None), "blocked", "robots.txt", id="robots"
    ),
    pytest.param(make_obs(status=304, not_modified=True), "ok", "304", id="not-modified"),
    pytest.param(
        make_obs(status=None, error="dns", error_message="DNS lookup failed: no such host"),
        "dns",
        "DNS lookup failed for nursegroups.test",
        id="dns",
    ),
    pytest.param(
        make_obs(status=None, error="connection", error_message="Connection refused"),
        "connection",
        "Connection refused",
        id="connection",
    ),
    pytest.param(make_obs(status=None, error="timeout"), "timeout", "timed out", id="timeout"),
    pytest.param(
        make_obs(status=None, error="tls", error_message="certificate has expired"),
        "tls",
        "certificate has expired",
        id="tls",
    ),
    pytest.param(make_obs(status=None, error="redirect_loop"), "redirect_loop", "loop", id="loop"),
    pytest.param(
        make_obs(status=None, error="too_many_redirects"),
        "redirect_loop",
        "too many redirects",
        id="too-many-redirects",
    ),
    pytest.param(make_obs(status=None, error="other"), "connection", "other", id="other-error"),
    pytest.param(
        make_obs(status=None, error="cosmic-ray"), "connection", "cosmic-ray", id="unknown-error"
    ),
    pytest.param(make_obs(status=None), "connection", "no response", id="no-status-no-error"),
]


@pytest.mark.parametrize(("obs", "category", "needle"), TRANSPORT)
def test_transport(obs, category, needle):
    outcome = classify(obs)
    assert outcome.category == category
    assert needle in evidence_text(outcome)


def test_robots_wins_over_everything_and_is_never_dead():
    obs = make_obs("parked_sedo.html", robots_disallowed=True, status=404, error="dns")
    outcome = classify(obs)
    assert outcome.category == "blocked"
    assert not outcome.is_dead_class


CF = {"server": "cloudflare", "cf-mitigated": "challenge", "content-type": "text/html"}
STATUS = [
    pytest.param(
        make_obs(status=429, headers={"retry-after": "3600"}),
        "blocked",
        "retry-after: 3600",
        id="429",
    ),
    pytest.param(make_obs(status=401), "blocked", "HTTP 401", id="401"),
    pytest.param(make_obs(status=403), "blocked", "HTTP 403", id="403-plain"),
    pytest.param(
        make_obs("challenge_cloudflare.html", status=403, headers=CF),
        "blocked",
        "cf-mitigated",
        id="403-cloudflare",
    ),
    pytest.param(
        make_obs("challenge_cloudfront_blocked.html", status=403),
        "blocked",
        "CloudFront",
        id="403-aws",
    ),
    pytest.param(
        make_obs("challenge_akamai.html", status=403, headers={"server": "AkamaiGHost"}),
        "blocked",
        "Reference #",
        id="403-akamai",
    ),
    pytest.param(
        make_obs("challenge_cloudflare.html", status=503), "blocked", "Just a moment", id="503-cf"
    ),
    pytest.param(
        make_obs("challenge_ddos_guard.html", status=503),
        "blocked",
        "DDoS-Guard",
        id="503-ddosguard",
    ),
    pytest.param(
        make_obs("challenge_incapsula.html", status=503), "blocked", "Incapsula", id="503-imperva"
    ),
    pytest.param(
        make_obs("challenge_sucuri.html", status=503), "blocked", "Sucuri", id="503-sucuri"
    ),
    pytest.param(
        make_obs("challenge_aws_waf.html", status=503), "blocked", "AWS WAF", id="503-awswaf"
    ),
    pytest.param(make_obs(status=503), "server_error", "HTTP 503", id="503-plain"),
    pytest.param(make_obs(status=500), "server_error", "HTTP 500", id="500"),
    pytest.param(
        make_obs("cloudflare_521.html", status=521, headers={"server": "cloudflare"}),
        "server_error",
        "HTTP 521",
        id="521-origin-down-is-not-a-challenge",
    ),
    pytest.param(make_obs(status=404), "http_404", f"HTTP 404 at {SITE}/groups", id="404"),
    pytest.param(make_obs(status=410), "http_410", "HTTP 410", id="410"),
    pytest.param(make_obs(status=408), "timeout", "HTTP 408", id="408-is-timeout"),
    pytest.param(make_obs(status=400), "http_4xx", "HTTP 400", id="400"),
    pytest.param(make_obs(status=422), "http_4xx", "HTTP 422", id="422"),
    pytest.param(make_obs(status=451), "blocked", "legal", id="451"),
    pytest.param(make_obs(status=999), "blocked", "non-standard", id="999-linkedin"),
    pytest.param(make_obs(status=204), "ok", "HTTP 204", id="204-empty"),
    pytest.param(
        make_obs(status=200, binary=True, content_type="application/pdf"),
        "ok",
        "not HTML",
        id="binary",
    ),
]


@pytest.mark.parametrize(("obs", "category", "needle"), STATUS)
def test_status(obs, category, needle):
    outcome = classify(obs)
    assert outcome.category == category, outcome.evidence
    assert needle.lower() in evidence_text(outcome).lower()


def test_binary_parked_looking_bytes_are_still_ok():
    # A PDF's extracted strings are not a page; the spider marks it binary and we trust that.
    outcome = classify(make_obs(binary=True, text="this domain is for sale", title="for sale"))
    assert outcome.category == "ok"


# --------------------------------------------------------------------------- 200 pages by content

CONTENT = [
    # parked
    ("parked_sedo.html", "parked", "may be for sale"),
    ("parked_bodis.html", "parked", "bodis"),
    ("parked_godaddy_lander.html", "parked", "godaddy-parking"),
    ("parked_godaddy_free.html", "parked", "parked free"),
    ("parked_dan.html", "parked", "is for sale"),
    ("parked_hugedomains.html", "parked", "hugedomains"),
    ("parked_expired.html", "parked", "has expired"),
    ("parked_placeholder_godaddy.html", "parked", "future home of something quite cool"),
    ("parked_account_suspended.html", "parked", "account suspended"),
    ("meta_refresh_afternic.html", "parked", "afternic.com"),
    # bot walls served with 200
    ("challenge_cloudflare.html", "blocked", "Just a moment"),
    ("challenge_cloudflare_attention.html", "blocked", "Attention Required"),
    ("challenge_aws_waf.html", "blocked", "AWS WAF"),
    ("challenge_akamai.html", "blocked", "Reference #"),
    ("challenge_ddos_guard.html", "blocked", "DDoS-Guard"),
    ("challenge_sucuri.html", "blocked", "Sucuri"),
    ("challenge_incapsula.html", "blocked", "Incapsula"),
    # closed
    ("closed_doors.html", "closed", "closed its doors"),
    ("closed_dissolved_banner.html", "closed", "formally dissolved"),
    ("closed_thank_you.html", "closed", "thank you for eleven wonderful years"),
    ("closed_will_cease.html", "closed", "cease operations"),
    ("closed_no_longer_operating.html", "closed", "no longer running"),
    # soft 404 by wording
    ("soft404_wordpress.html", "soft_404", "page not found"),
    ("soft404_spanish.html", "soft_404", "página no encontrada"),
    ("soft404_german.html", "soft_404", "seite nicht gefunden"),
    ("soft404_french.html", "soft_404", "page introuvable"),
    ("soft404_title_404.html", "soft_404", "404"),
    ("soft404_oops.html", "soft_404", "oops"),
    ("soft404_thin_text.html", "soft_404", "could not be found"),
    ("meta_refresh_home.html", "soft_404", "refreshes to https://nursegroups.test/"),
    # alive, including every look-alike we must not flag
    ("healthy_home.html", "ok", "HTTP 200"),
    ("healthy_groups.html", "ok", "HTTP 200"),
    ("healthy_holiday_closure.html", "ok", "HTTP 200"),
    ("healthy_closed_to_new_members.html", "ok", "HTTP 200"),
    ("healthy_article_for_sale.html", "ok", "HTTP 200"),
    ("healthy_history.html", "ok", "HTTP 200"),
    ("healthy_contact_protected.html", "ok", "HTTP 200"),
    ("healthy_station_404.html", "ok", "HTTP 200"),
    ("healthy_new_domain.html", "ok", "HTTP 200"),
    ("catchall_circles.html", "ok", "HTTP 200"),
    ("boilerplate_group.html", "ok", "HTTP 200"),
    ("spa_shell.html", "ok", "HTTP 200"),
]


@pytest.mark.parametrize(("page", "category", "needle"), CONTENT, ids=[c[0] for c in CONTENT])
def test_content_of_200_pages(page, category, needle):
    outcome = classify(make_obs(page))
    assert outcome.category == category, outcome.evidence
    assert needle.lower() in evidence_text(outcome).lower()
    assert 0.0 < outcome.confidence <= 1.0


def test_every_category_is_reachable_from_the_tables():
    reached = {c for _, c, _ in CONTENT} | {p.values[1] for p in TRANSPORT + STATUS}
    assert reached == set(CATEGORIES)


@pytest.mark.parametrize(
    ("page", "status"),
    [("parked_sedo.html", 200), ("parked_dan.html", 203), ("closed_doors.html", 200)],
)
def test_other_2xx_are_judged_by_content(page, status):
    assert classify(make_obs(page, status=status)).is_dead_class


# --------------------------------------------------------------------------- closures and their look-alikes


@pytest.mark.parametrize(
    "sentence",
    [
        "Our office is closed on holidays.",
        "Office closed for the holidays; the helpline stays open.",
        "We are closed on Mondays.",
        "This group is closed to new members.",
        "The Tuesday group has closed to new members.",
        "Registration closed on 1 October.",
        "Registration has closed for this term.",
        "Applications have closed for the spring cohort.",
        "Comments are closed.",
        "This group is closed.",
        "This is a closed meeting for members only.",
        "Our office has closed early today because of snow.",
        "We are closing at 3pm on Christmas Eve.",
        "We have closed until further notice while we move premises.",
        "Our Leeds branch has closed; the Bradford group still meets weekly.",
    ],
)
def test_temporary_or_partial_closures_are_not_closed(sentence):
    text = f"Night Shift Circle {sentence} We meet every Tuesday at 10am online."
    obs = make_obs(title="Night Shift Circle | NurseGroups", h1=["Night Shift Circle"], text=text)
    assert classify(obs).category == "ok"


@pytest.mark.parametrize(
    "sentence",
    [
        "NurseLine has closed its doors.",
        "After nine years, the network ceased operations in March.",
        "The charity was dissolved on 30 June.",
        "The organisation is being wound up.",
        "NurseLine is no longer operating.",
        "NurseLine has permanently closed.",
        "The trustees made the decision to close the charity.",
        "As of today, NurseLine has closed.",
        "We are shutting down at the end of the month.",
    ],
)
def test_closure_announcements(sentence):
    obs = make_obs(title="NurseLine", h1=["A message from the trustees"], text=sentence)
    outcome = classify(obs)
    assert outcome.category == "closed", outcome.evidence
    assert outcome.confidence >= 0.6


# One example per closure pattern, in _CLOSURE's order, and one for "thank you for N years".
CLOSURE_PATTERN_EXAMPLES = [
    "the network closed its doors",
    "the network ceased operations",
    "the charity was dissolved",
    "the charity is being wound up",
    "the network is no longer operating",
    "the network has permanently closed",
    "this group is permanently closed",
    "the helpline closed for good",
    "the service has been shut down",
    "we are shutting down",
    "the group will be closing down",
    "the trustees decided to wind up the charity",
    "the charity no longer exists",
    "we're closing",
]


def test_every_closure_pattern_needs_a_word_checked_before_it():
    """_closed runs the closure patterns only on text holding one of _CLOSURE_WORDS (a cheap
    check first); a pattern that could match without any of them would be skipped wrongly."""
    patterns = classify_module._CLOSURE
    assert len(CLOSURE_PATTERN_EXAMPLES) == len(patterns), "one example per pattern"
    for pattern, example in zip(patterns, CLOSURE_PATTERN_EXAMPLES, strict=True):
        match = pattern.search(example)
        assert match, (pattern.pattern, example)
        assert any(word in match.group(0) for word in classify_module._CLOSURE_WORDS), example
    thanks = classify_module._THANKS_YEARS.search("thank you for eleven wonderful years")
    assert thanks and classify_module._THANKS_YEARS_WORDS in thanks.group(0)


@pytest.mark.parametrize("sentence", CLOSURE_PATTERN_EXAMPLES)
def test_each_closure_pattern_finds_a_closure(sentence):
    obs = make_obs(title="NurseLine", h1=["A message from the trustees"], text=sentence + ".")
    assert classify(obs).category == "closed", classify(obs).evidence


@pytest.mark.parametrize(
    "text",
    [
        "Thank you for 10 years of support! Registration is closed for the anniversary gala.",
        "Thank you for 25 years of service, Jane! Farewell drinks on Friday; Jane says goodbye.",
        "Thank you for three amazing years as chair, Sam. Applications for the role have closed.",
    ],
)
def test_thank_you_for_years_without_a_closure_is_not_closed(text):
    obs = make_obs(title="News | NurseGroups", h1=["News"], text=text)
    assert classify(obs).category == "ok"


def test_closure_in_title_is_more_certain_than_in_text():
    in_title = classify(make_obs(title="NurseLine has closed", text="Thank you all."))
    in_text = classify(make_obs(title="NurseLine", text="NurseLine has closed. Thank you all."))
    assert in_title.category == in_text.category == "closed"
    assert in_title.confidence > in_text.confidence


def test_future_closure_is_less_certain_than_past():
    future = classify(make_obs("closed_will_cease.html"))
    past = classify(make_obs("closed_no_longer_operating.html"))
    assert future.category == past.category == "closed"
    assert future.confidence < past.confidence


def test_closure_deep_in_a_long_page_is_history_not_news():
    # healthy_history.html says "closed its doors" about another helpline, far down the page.
    assert "closed its doors" in facts_of("healthy_history.html")["text"]
    assert classify(make_obs("healthy_history.html")).category == "ok"


# --------------------------------------------------------------------------- parked and look-alikes


@pytest.mark.parametrize(
    ("final_url", "page"),
    [
        ("https://dan.com/buy-domain/nursegroups.org", "parked_dan.html"),
        (
            "https://www.hugedomains.com/domain_profile.cfm?d=nursegroups.com",
            "parked_hugedomains.html",
        ),
        ("https://www.afternic.com/forsale/nursegroups.org", None),
        ("https://sedo.com/search/details/?domain=nursegroups.org", None),
        ("https://www.godaddy.com/domainsearch/find?domainToCheck=nursegroups.org", None),
        ("https://www.undeveloped.com/nursegroups.org", None),
        ("https://www.buydomains.com/lander/nursegroups.org", None),
    ],
)
def test_redirect_to_a_marketplace_is_parked(final_url, page):
    obs = make_obs(
        page,
        url="https://nursegroups.org/",
        hops=((301, "https://nursegroups.org/"),),
        final_url=final_url,
    )
    outcome = classify(obs)
    assert outcome.category == "parked"
    assert outcome.confidence >= 0.95
    assert "domain marketplace" in outcome.evidence[0]
    assert f"301 https://nursegroups.org/ → 200 {final_url}" in evidence_text(outcome)


def test_marketplace_in_the_middle_of_the_chain_is_parked():
    obs = make_obs(
        url="https://nursegroups.org/",
        hops=(
            (302, "https://nursegroups.org/"),
            (302, "https://sedo.com/lander?d=nursegroups.org"),
        ),
        final_url="https://nursegroups.org.landing.test/",
    )
    assert classify(obs).category == "parked"


def test_site_builder_host_is_not_a_marketplace():
    obs = make_obs(
        "healthy_home.html",
        url="https://nursegroups.org/",
        hops=((301, "https://nursegroups.org/"),),
        final_url="https://nursegroups.godaddysites.com/",
    )
    assert classify(obs).category == "ok"


def test_long_article_quoting_parking_phrases_is_not_parked():
    facts = facts_of("healthy_article_for_sale.html")
    assert "this domain is for sale" in facts["text"].lower()
    assert len(facts["text"].split()) > 300
    assert classify(make_obs("healthy_article_for_sale.html")).category == "ok"


@pytest.mark.parametrize(
    "text",
    [
        "Join our group for nurses. Our domain is nursegroups.test.",
        "The domain of nursing practice is wide. Public domain images only.",
        "Our old domain has expired and we did not renew it; we now live at nursegroups.org.",
        "Related links: RCN, NMC, Samaritans.",
    ],
)
def test_thin_page_mentioning_domains_is_not_parked(text):
    assert classify(make_obs(title="NurseGroups", text=text)).category == "ok"


def test_parked_page_served_for_every_path_says_so():
    obs = make_obs("parked_sedo.html", probe=make_probe("parked_sedo.html", status=200))
    outcome = classify(obs)
    assert outcome.category == "parked"
    assert "catch-all" in evidence_text(outcome)
    alone = classify(make_obs("parked_sedo.html"))
    assert outcome.confidence >= alone.confidence


def test_parking_phrase_in_title_of_a_thin_page_is_enough():
    obs = make_obs(title="nursegroups.org is for sale", text="nursegroups.org Contact the owner.")
    assert classify(obs).category == "parked"


# --------------------------------------------------------------------------- soft 404: redirects


@pytest.mark.parametrize(
    ("url", "final_url"),
    [
        (f"{SITE}/groups", f"{SITE}/"),
        ("http://nursegroups.test/groups", "https://www.nursegroups.test/"),
        ("https://groups.nursegroups.org.uk/leeds", "https://nursegroups.org.uk/"),
        (f"{SITE}/?page_id=42", f"{SITE}/"),
        (f"{SITE}/groups/leeds", f"{SITE}/index.php"),
        (f"{SITE}/groups/leeds", f"{SITE}/en/"),
    ],
)
def test_deep_link_redirected_to_the_site_root_is_soft_404(url, final_url):
    obs = make_obs("healthy_home.html", url=url, hops=((301, url),), final_url=final_url)
    outcome = classify(obs)
    assert outcome.category == "soft_404", outcome.evidence
    assert "redirected to the site root" in outcome.evidence[0]
    assert f"301 {url} → 200 {final_url}" in outcome.evidence[1]


@pytest.mark.parametrize(
    ("url", "final_url"),
    [
        ("http://nursegroups.test/", "https://nursegroups.test/"),  # the root itself
        ("https://nursegroups.test/index.html", "https://nursegroups.test/"),
        ("https://nursegroups.test/?utm_source=directory", "https://nursegroups.test/"),
        ("https://nursegroups.test/groups", "https://nursegroups.test/groups/"),  # slash only
        ("https://old-nursegroups.test/groups", "https://nursegroups.org/"),  # moved elsewhere
    ],
)
def test_redirects_that_are_not_soft_404(url, final_url):
    obs = make_obs("healthy_home.html", url=url, hops=((301, url),), final_url=final_url)
    outcome = classify(obs)
    assert outcome.category == "ok", outcome.evidence
    assert any(line.startswith("redirects: 301 ") for line in outcome.evidence)


@pytest.mark.parametrize(
    "final_url",
    [f"{SITE}/404.html", f"{SITE}/page-not-found/", f"{SITE}/Error.aspx?aspxerrorpath=/groups"],
)
def test_deep_link_redirected_to_an_error_page_is_soft_404(final_url):
    obs = make_obs("healthy_home.html", hops=((302, f"{SITE}/groups"),), final_url=final_url)
    outcome = classify(obs)
    assert outcome.category == "soft_404"
    assert "error page" in outcome.evidence[0]


def test_redirect_to_a_login_page_is_blocked_not_dead():
    obs = make_obs(
        "healthy_home.html",
        hops=((302, f"{SITE}/groups"),),
        final_url=f"{SITE}/wp-login.php",
    )
    outcome = classify(obs)
    assert outcome.category == "blocked"
    assert "login" in outcome.evidence[0]


# --------------------------------------------------------------------------- soft 404: the probe


def test_probe_hard_404_proves_the_page_alive():
    obs = make_obs("healthy_groups.html", probe=make_probe("soft404_wordpress.html", status=404))
    outcome = classify(obs)
    assert outcome.category == "ok"
    assert outcome.confidence >= 0.95
    assert f"probe {PROBE_URL} answered 404" in evidence_text(outcome)
    bare = classify(make_obs("healthy_groups.html"))
    assert outcome.confidence > bare.confidence


@pytest.mark.parametrize("status", [400, 403, 410])
def test_any_probe_4xx_supports_alive(status):
    obs = make_obs("healthy_groups.html", probe=make_probe(status=status))
    assert classify(obs).category == "ok"


def test_not_found_wording_wins_over_a_probe_404_but_less_surely():
    with_probe = classify(make_obs("soft404_wordpress.html", probe=make_probe(status=404)))
    without = classify(make_obs("soft404_wordpress.html"))
    assert with_probe.category == without.category == "soft_404"
    assert with_probe.confidence < without.confidence


def test_catch_all_site_serving_its_homepage_for_a_dead_page():
    obs = make_obs(
        "catchall_home.html",
        url=f"{SITE}/old-circles",
        probe=make_probe("catchall_home.html", status=200),
    )
    outcome = classify(obs)
    assert outcome.category == "soft_404"
    assert f"probe {PROBE_URL} answered 200 with 100% the same text" in evidence_text(outcome)
    assert outcome.confidence >= 0.8


def test_catch_all_site_real_page_is_alive():
    obs = make_obs(
        "catchall_circles.html",
        url=f"{SITE}/circles",
        probe=make_probe("catchall_home.html", status=200),
    )
    outcome = classify(obs)
    assert outcome.category == "ok"
    assert "catch-all" in evidence_text(outcome)
    assert "this page has its own text" in evidence_text(outcome)


def test_catch_all_site_root_is_alive():
    obs = make_obs(
        "catchall_home.html",
        url=f"{SITE}/",
        probe=make_probe("catchall_home.html", status=200, url=f"{SITE}/zq8x1k3v0r"),
    )
    outcome = classify(obs)
    assert outcome.category == "ok"
    assert "site root" in evidence_text(outcome)


def test_root_whose_probe_redirects_back_to_it_is_alive():
    probe = make_probe("healthy_home.html", status=200, final_url=f"{SITE}/")
    outcome = classify(make_obs("healthy_home.html", url=f"{SITE}/", probe=probe))
    assert outcome.category == "ok"


def test_probe_redirected_to_the_page_itself_is_alive():
    # The site sends unknown paths under /groups/ to /groups/: the listed page is the target.
    url = f"{SITE}/groups/"
    probe = make_probe("healthy_groups.html", status=200, url=f"{url}zq8x1k3v0r", final_url=url)
    outcome = classify(make_obs("healthy_groups.html", url=url, probe=probe))
    assert outcome.category == "ok"
    assert "redirected to this page itself" in evidence_text(outcome)


def test_page_and_probe_redirected_to_the_same_place_is_soft_404():
    final = f"{SITE}/search?q=groups"
    obs = make_obs(
        "healthy_groups.html",
        hops=((302, f"{SITE}/groups"),),
        final_url=final,
        probe=make_probe("healthy_groups.html", status=200, final_url=final),
    )
    outcome = classify(obs)
    assert outcome.category == "soft_404"
    assert "same URL as the page" in evidence_text(outcome)


def test_boilerplate_heavy_site_real_small_page_is_alive():
    # Same title, a 600-word menu and footer on both; only a sentence or two differs. The
    # probe's body says the page does not exist, this page's body does not.
    page, probe = facts_of("boilerplate_group.html"), facts_of("boilerplate_missing.html")
    assert text_similarity(page["text"], probe["text"]) > 0.9
    obs = make_obs(
        "boilerplate_group.html",
        url=f"{SITE}/regions/west-midlands/control-room",
        probe=make_probe("boilerplate_missing.html", status=200),
    )
    outcome = classify(obs)
    assert outcome.category == "ok"
    assert "the probe says 'page you requested does not exist'" in evidence_text(outcome)


def test_boilerplate_heavy_site_dead_page_is_soft_404():
    obs = make_obs(
        "boilerplate_missing.html",
        url=f"{SITE}/regions/west-midlands/old-group",
        probe=make_probe("boilerplate_missing.html", status=200),
    )
    assert classify(obs).category == "soft_404"


def test_script_rendered_site_cannot_be_judged_by_the_probe():
    obs = make_obs("spa_shell.html", probe=make_probe("spa_shell.html", status=200))
    outcome = classify(obs)
    assert outcome.category == "ok"
    assert outcome.confidence <= 0.5
    assert "near-empty" in evidence_text(outcome)


@pytest.mark.parametrize(
    "probe",
    [
        make_probe(status=None, error="timeout"),
        make_probe(status=500),
        make_probe(status=None),
        None,
    ],
)
def test_unhelpful_probe_changes_nothing(probe):
    assert classify(make_obs("healthy_groups.html", probe=probe)).category == "ok"
    assert classify(make_obs("soft404_wordpress.html", probe=probe)).category == "soft_404"


def test_deep_link_redirected_to_root_is_soft_404_even_when_probe_404s():
    # The site 404s unknown paths but chose to send this one home: the page is gone.
    obs = make_obs(
        "healthy_home.html",
        hops=((301, f"{SITE}/groups"),),
        final_url=f"{SITE}/",
        probe=make_probe(status=404),
    )
    outcome = classify(obs)
    assert outcome.category == "soft_404"
    assert "answered 404" in evidence_text(outcome)


@pytest.mark.parametrize(
    ("title", "h1", "text"),
    [
        ("Leeds group", [], "If your group is not found in the list, contact us. Meets Mondays."),
        ("Oops! We've moved", ["Oops!"], "Our meeting has moved to Thursdays at 7pm."),
        ("Events", ["Upcoming events"], "Nothing found for December. Check back in January."),
    ],
)
def test_not_found_look_alikes_in_short_pages_are_ok(title, h1, text):
    assert classify(make_obs(title=title, h1=h1, text=text)).category == "ok"


def test_probe_title_differing_keeps_similar_pages_apart():
    text = " ".join(f"word{i}" for i in range(400))
    probe = {
        "url": PROBE_URL,
        "status": 200,
        "final_url": PROBE_URL,
        "title": "Search",
        "text": text,
    }
    obs = make_obs(title="Leeds group", text=text + " meets on tuesdays", probe=probe)
    outcome = classify(obs)
    assert outcome.category == "ok"
    assert "a different title ('Search')" in evidence_text(outcome)


# --------------------------------------------------------------------------- confidence and evidence


def test_hard_signals_are_more_certain_than_heuristics():
    hard = [classify(make_obs(status=s)) for s in (404, 410)]
    hard.append(classify(make_obs(status=None, error="dns")))
    soft = classify(make_obs("soft404_wordpress.html"))
    market = classify(
        make_obs(
            url="https://x.test/", hops=((301, "https://x.test/"),), final_url="https://dan.com/x"
        )
    )
    assert all(o.confidence >= 0.9 for o in hard)
    assert soft.confidence <= 0.75
    assert market.confidence >= 0.95


def test_evidence_always_shows_the_redirect_chain():
    hops = ((301, "http://nursegroups.test/groups"), (302, "https://nursegroups.test/groups"))
    for status, page in (
        (200, "healthy_groups.html"),
        (404, None),
        (503, None),
        (200, "parked_sedo.html"),
    ):
        obs = make_obs(
            page,
            url="http://nursegroups.test/groups",
            hops=hops,
            final_url="https://nursegroups.test/groups/",
            status=status,
        )
        chain = (
            "301 http://nursegroups.test/groups → 302 https://nursegroups.test/groups"
            f" → {status} https://nursegroups.test/groups/"
        )
        assert chain in evidence_text(classify(obs))


def test_redirect_loop_evidence_shows_the_chain():
    hops = ((301, f"{SITE}/a"), (301, f"{SITE}/b"))
    outcome = classify(make_obs(status=None, error="redirect_loop", url=f"{SITE}/a", hops=hops))
    assert outcome.category == "redirect_loop"
    assert "301 https://nursegroups.test/a → 301 https://nursegroups.test/b" in evidence_text(
        outcome
    )


def test_evidence_lines_are_short_and_human():
    for page, *_ in CONTENT:
        for line in classify(make_obs(page)).evidence:
            assert line and len(line) < 400
            assert "\n" not in line


# --------------------------------------------------------------------------- robustness

ODD = [
    pytest.param({}, id="empty-facts"),
    pytest.param({"title": None, "h1": None, "text": None}, id="all-none"),
    pytest.param(
        {"title": 42, "h1": "a string, not a list", "text": ["a", "list"]}, id="wrong-types"
    ),
    pytest.param({"h1": [None, 3, "ok"], "text": b"bytes \xff text"}, id="bytes-and-junk"),
    pytest.param({"text": "Page not found " * 400_000}, id="huge-text"),
    pytest.param({"probe": "garbage"}, id="probe-string"),
    pytest.param({"probe": {}}, id="probe-empty"),
    pytest.param({"probe": {"status": "200", "text": None, "final_url": 5}}, id="probe-odd"),
    pytest.param({"probe": {"status": True, "url": None}}, id="probe-bool-status"),
    pytest.param({"markers": "sedoparking"}, id="markers-string"),
    pytest.param({"markers": [None, 1, "bodis"]}, id="markers-junk"),
    pytest.param({"meta_refresh": "http://[::1"}, id="meta-refresh-bad-url"),
    pytest.param(
        {"binary": "yes", "not_modified": "no", "robots_disallowed": 0}, id="truthy-strings"
    ),
    pytest.param({"title": "\x00\x00", "text": "\udcff\udcfe surrogates"}, id="nul-surrogates"),
]


@pytest.mark.parametrize("facts", ODD)
def test_odd_facts_never_raise(facts):
    obs = make_obs(**{k: v for k, v in facts.items()})
    outcome = classify(obs)
    assert outcome.category in CATEGORIES
    assert all(isinstance(line, str) for line in outcome.evidence)


def test_truthy_strings_are_not_flags():
    # Only a real True means binary/not-modified/robots; "yes" must not short-circuit judgement.
    outcome = classify(make_obs("parked_sedo.html", binary="yes", not_modified="yes"))
    assert outcome.category == "parked"


@pytest.mark.parametrize(
    "fields",
    [
        {"url": None, "final_url": None},
        {"status": "200"},
        {"status": True},
        {"status": 200, "final_url": "http://[::1"},
        {"redirect_chain": "junk"},
        {"redirect_chain": [None, 1, {"status": "x", "url": None}]},
        {"headers": None},
        {"headers": {"Retry-After": None, None: "x"}, "status": 429},
        {"facts": None},
        {"facts": "not a dict"},
        {"error": 12},
    ],
)
def test_odd_observation_fields_never_raise(fields):
    obs = make_obs("healthy_groups.html")
    for key, value in fields.items():
        setattr(obs, key, value)
    assert classify(obs).category in CATEGORIES


def test_random_junk_never_raises():
    rng = random.Random(20261123)
    pool: list[Any] = [
        None,
        "",
        "x",
        0,
        -1,
        200,
        404,
        503,
        True,
        3.5,
        [],
        {},
        ["a", None],
        {"status": 200},
        "Page not found",
        "this domain is for sale",
        "has closed its doors",
        "http://a/",
        "/",
        b"\xff",
    ]
    keys = ["title", "h1", "text", "probe", "markers", "meta_refresh", "binary", "not_modified"]
    for _ in range(500):
        facts = {k: rng.choice(pool) for k in rng.sample(keys, rng.randint(0, len(keys)))}
        obs = make_obs(
            url=rng.choice(["https://a.test/", "https://a.test/x", "", "::"]),
            status=rng.choice([None, 200, 301, 404, 429, 503, 999, -5]),
            error=rng.choice([None, None, "dns", "weird"]),
            **facts,
        )
        obs.redirect_chain = rng.choice([[], [{"url": "https://a.test/x", "status": 301}], [None]])
        assert classify(obs).category in CATEGORIES


HOSTILE = [
    "hostile_unclosed.html",
    "hostile_script_title.html",
    "hostile_nul.html",
    "hostile_mixed_encoding.html",
]


@pytest.mark.parametrize("page", HOSTILE)
def test_hostile_fixtures_give_a_safe_verdict(page):
    outcome = classify(make_obs(page, probe=make_probe(page, status=200)))
    assert outcome.category in CATEGORIES
    assert outcome.category not in ("parked", "closed", "blocked")


def test_script_content_in_title_and_body_is_not_judged():
    # The page's scripts and styles say "Page not found", "for sale", "closed its doors".
    facts = facts_of("hostile_script_title.html")
    assert "for sale" not in facts["text"]
    assert "closed its doors" not in facts["text"]
    assert "Page not found" not in facts["text"]
    assert classify(make_obs("hostile_script_title.html")).category == "ok"


def test_megabyte_of_nesting_is_fast_and_safe():
    html = (
        "<html><head><title>Deep</title></head><body><h1>Group</h1>"
        + "<div>" * 100_000
        + "Meets weekly"
        + "</div>" * 100_000
        + "</body></html>"
    )
    assert len(html) > 1_000_000
    start = time.perf_counter()
    facts = page_facts(html)
    assert time.perf_counter() - start < 5
    assert facts["title"] == "Deep"
    assert facts["h1"] == ["Group"]
    assert classify(make_obs(title=facts["title"], h1=facts["h1"], text=facts["text"])).is_ok


@pytest.mark.parametrize(
    "text",
    [
        "a." * 10_000,
        "a-" * 10_000,
        "a-b." * 5_000,
        "reference #" + "a." * 9_000,
        "the domain a." * 1_500,
    ],
    ids=["dots", "dashes", "dotted-dashes", "akamai-ref", "domain-words"],
)
def test_pathological_text_is_classified_quickly(text):
    text = text[:TEXT_CAP]
    probe = {"url": PROBE_URL, "status": 200, "final_url": PROBE_URL, "title": "t", "text": text}
    obs = make_obs(title=text[:500], h1=[text[:300]], text=text, probe=probe)
    start = time.perf_counter()
    assert classify(obs).category in CATEGORIES
    assert time.perf_counter() - start < 1.0


def test_huge_flat_page_is_capped():
    html = "<title>Big</title><body>" + "<p>nurses support each other</p>" * 60_000 + "</body>"
    facts = page_facts(html)
    assert len(facts["text"]) <= TEXT_CAP
    assert facts["text"].startswith("nurses support each other nurses")


# --------------------------------------------------------------------------- text_similarity


@pytest.mark.parametrize(
    ("a", "b", "low", "high"),
    [
        ("", "", 1.0, 1.0),
        ("peer support", "", 0.0, 0.0),
        ("peer support for nurses", "peer support for nurses", 1.0, 1.0),
        ("Peer   SUPPORT, for nurses!", "peer support for nurses", 1.0, 1.0),
        ("peer support for nurses", "walking group for firefighters", 0.0, 0.0),
        ("hello", "hello", 1.0, 1.0),
        ("hello", "goodbye", 0.0, 0.0),
    ],
)
def test_text_similarity_table(a, b, low, high):
    assert low <= text_similarity(a, b) <= high


def test_text_similarity_is_symmetric_and_graded():
    base = " ".join(f"w{i}" for i in range(100))
    changed = base.replace("w50", "x50")
    score = text_similarity(base, changed)
    assert score == text_similarity(changed, base)
    assert 0.9 < score < 1.0


def test_text_similarity_is_cheap_on_capped_texts():
    rng = random.Random(1)
    words = [f"w{rng.randint(0, 5000)}" for _ in range(4000)]
    a = " ".join(words)[:TEXT_CAP]
    b = " ".join(reversed(words))[:TEXT_CAP]
    start = time.perf_counter()
    for _ in range(20):
        text_similarity(a, b)
    assert time.perf_counter() - start < 2.0


def test_text_similarity_odd_inputs():
    assert text_similarity(None, None) == 1.0  # type: ignore[arg-type]
    assert text_similarity("a b c", 5) == 0.0  # type: ignore[arg-type]


# --------------------------------------------------------------------------- registered domains


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("groups.nurses.org.uk", "nurses.org.uk"),
        ("www.nursegroups.org", "nursegroups.org"),
        ("nursegroups.test", "nursegroups.test"),
        ("groups.nursegroups.test", "nursegroups.test"),
        ("127.0.0.1", "127.0.0.1"),
        ("localhost", "localhost"),
        ("", ""),
    ],
)
def test_registered_domain(host, expected):
    assert registered_domain(host) == expected


# --------------------------------------------------------------------------- page_facts


def test_page_facts_basic_shape():
    facts = facts_of("healthy_home.html")
    assert set(facts) == {"title", "h1", "text", "meta_refresh", "markers"}
    assert facts["title"] == "NurseGroups | Peer support for nurses"
    assert facts["h1"] == ["Welcome"]
    assert facts["text"].startswith("NurseGroups Find a group Start a group")
    assert "NGO" not in facts["text"]  # JSON-LD script
    assert "  " not in facts["text"]
    assert facts["meta_refresh"] is None
    assert facts["markers"] == []


def test_page_facts_strips_invisible_content():
    html = """<html><head><title>T</title><style>p{color:red}</style></head><body>
    <script>var hidden = 1;</script><noscript>enable js</noscript><template>tmpl</template>
    <p>Shown<!-- comment --> text</p><svg><title>icon</title><text>svg</text></svg></body></html>"""
    facts = page_facts(html)
    assert facts["title"] == "T"
    assert facts["text"] == "Shown text"


def test_page_facts_h1_list_is_capped_and_collapsed():
    html = "".join(f"<h1>  Heading\n {i} <span>x</span></h1>" for i in range(10))
    facts = page_facts(html)
    assert facts["h1"] == [f"Heading {i} x" for i in range(5)]


def test_page_facts_ignores_svg_title_without_a_page_title():
    facts = page_facts("<body><svg><title>icon</title></svg><h1>Groups</h1></body>")
    assert facts["title"] is None
    assert facts["h1"] == ["Groups"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("0; url=https://example.test/new", "https://example.test/new"),
        (
            '0;URL="https://www.afternic.com/forsale/x.org"',
            "https://www.afternic.com/forsale/x.org",
        ),
        ('5; URL="/"', "/"),
        ("0; URL=/groups/", "/groups/"),
        ("3;url=/home", "/home"),
        ("url=/direct", "/direct"),
        ("30", None),
        ("", None),
    ],
)
def test_page_facts_meta_refresh(content, expected):
    html = (
        f"<html><head><meta http-equiv='Refresh' content='{content}'></head><body>x</body></html>"
    )
    assert page_facts(html)["meta_refresh"] == expected


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ('<script src="https://img.sedoparking.com/js/x.js"></script>', ["sedoparking"]),
        ('<a href="https://dan.com/buy-domain/x.org">buy</a>', ["dan.com"]),
        ('<a href="https://jordan.com/">Jordan</a><a href="https://sudan.com">S</a>', []),
        ("<p>As noted above.Comments are welcome at dan.community.</p>", []),
        ('<a href="//www.above.com/marketplace">x</a>', ["above.com"]),
        ('<script>window.park = "abc";</script>', ["parking-script"]),
        (
            '<script src="https://img1.wsimg.com/parking-lander/main.js"></script>',
            ["godaddy-parking"],
        ),
        ("<script>window._cf_chl_opt={}</script>", ["cloudflare-challenge"]),
        ('<script src="https://x.edge.sdk.awswaf.com/challenge.js"></script>', ["aws-waf"]),
        ('<iframe src="/_Incapsula_Resource?x=1"></iframe>', ["incapsula"]),
        ('<script src="/cdn-cgi/challenge-platform/scripts/jsd/main.js"></script>', []),
        ("<p>nothing to see</p>", []),
    ],
)
def test_page_facts_markers(snippet, expected):
    assert page_facts(f"<html><body>{snippet}</body></html>")["markers"] == expected


def test_page_facts_finds_every_marker_token():
    """Each token, alone in a page, is found: the shared substrings checked first (for
    speed) must not hide any of them."""
    from monitor.pages.facts import _MARKERS

    for name, token, _ in _MARKERS:
        page = f"<html><body><p>see {token.upper()} here</p></body></html>"
        assert page_facts(page)["markers"] == [name], token


@pytest.mark.parametrize(
    "html",
    [
        "",
        None,
        "   ",
        "<!-- only a comment -->",
        "\x00\x00\x00",
        b"",
        b"\xff\xfe",
        "<<<>>>",
        "</p></div></html>",
        '<?xml version="1.0" encoding="utf-8"?><html><title>X</title></html>',
        12345,
    ],
)
def test_page_facts_never_raises(html):
    facts = page_facts(html)
    assert set(facts) == {"title", "h1", "text", "meta_refresh", "markers"}
    assert isinstance(facts["text"], str)
    assert isinstance(facts["h1"], list)


def test_page_facts_xml_declaration_in_str():
    facts = page_facts('<?xml version="1.0" encoding="utf-8"?><html><title>Groups</title></html>')
    assert facts["title"] == "Groups"


def test_page_facts_nul_and_control_bytes():
    facts = facts_of("hostile_nul.html")
    assert facts["title"] == "Police Peer Support"
    assert facts["h1"] == ["Groups"]
    assert facts["text"] == "Groups Meets weekly in Leeds."
    assert "\x00" not in facts["text"]


def test_page_facts_mixed_encodings_keep_both():
    facts = facts_of("hostile_mixed_encoding.html")
    assert facts["title"] == "Café Soignants – Groupes"
    assert facts["h1"] == ["Réunions à Montréal"]
    assert "“smart quotes”" in facts["text"]
    assert "🚒" in facts["text"]


def test_page_facts_utf16_with_bom():
    data = "<html><title>Groupes à Lyon</title><body>Bonjour</body></html>".encode("utf-16")
    facts = page_facts(data)
    assert facts["title"] == "Groupes à Lyon"
    assert facts["text"] == "Bonjour"


def test_page_facts_unclosed_markup():
    facts = facts_of("hostile_unclosed.html")
    # An unclosed <title> swallows the rest of the page (as browsers do); we keep what we can.
    assert facts["title"].startswith("Midwives Together")
    assert isinstance(facts["text"], str)
    recovered = page_facts("<title>Ok</title><h1>Find a <b>group<p>Meets<p>Online<td>Bristol")
    assert recovered["title"] == "Ok"
    assert recovered["h1"][0].startswith("Find a group")
    assert "Bristol" in recovered["text"]


def test_page_facts_is_fast_on_a_megabyte_page():
    html = (FIXTURES / "healthy_groups.html").read_text() * 550
    assert len(html) > 1_000_000
    start = time.perf_counter()
    facts = page_facts(html)
    assert time.perf_counter() - start < 2
    assert facts["title"] == "Find a group | NurseGroups"


@pytest.mark.parametrize(
    "html",
    [
        *(
            pytest.param(path.read_bytes(), id=path.name)
            for path in sorted(FIXTURES.glob("*.htm*"))
        ),
        pytest.param("<div>" * 100_000 + "deep" + "</div>" * 100_000, id="deep-nesting"),
        pytest.param("<p>a\x00b\x1fc</p><title>T\x07</title>", id="controls"),
        pytest.param("\ud800<p>x</p>", id="lone-surrogate"),
        pytest.param("<?xml version='1.0' encoding='latin-1'?><title>T</title>", id="xml-decl"),
        pytest.param("<p>a<!--c-->b</p><svg><title>t</title></svg><title>Real</title>", id="comm"),
        pytest.param("<h1>Peer <script>x</script>support</h1>", id="script-in-h1"),
        pytest.param("", id="empty"),
        pytest.param("<!-- only -->", id="only-comment"),
    ],
)
def test_page_facts_of_an_already_parsed_tree_are_the_same(html):
    """The spider parses a homepage or groups page once (identity.as_tree) and hands the tree
    to page_facts: the facts must be those of parsing the page on its own."""
    from monitor.pages.html import as_tree

    text = html.decode("utf-8", errors="replace") if isinstance(html, bytes) else html
    assert page_facts(text, tree=as_tree(text)) == page_facts(text)

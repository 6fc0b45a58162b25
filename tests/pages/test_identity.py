"""Who a page says it is: identity extraction, name matching and rename detection, offline.

The stored sites under ``fixtures/sites`` are the same kinds of page in four markup styles;
"after" states are derived from them by asserted string replacements (``variant``).
"""

from __future__ import annotations

import doctest
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lxml import etree

import monitor.judging.rename as rename_module
import monitor.pages.group_names as group_names_module
import monitor.pages.groups as groups_module
import monitor.pages.identity as identity_module
import monitor.pages.links as outbound_module
import monitor.pages.names as names_module
import monitor.pages.rename_phrases as rename_phrases_module
from monitor.judging.rename import detect_rename
from monitor.pages.groups import extract_groups
from monitor.pages.html import as_tree, visible_text
from monitor.pages.identity import extract_identity, meta_description, page_types
from monitor.pages.links import candidate_pages, outbound_links
from monitor.pages.names import names_match, title_name

SITES = Path(__file__).resolve().parents[1] / "fixtures" / "sites"

NURSES = "https://nursegroups.test/"
ECF = "https://entertainmentcommunity.test/"
ACTORS = "https://actorsfund.test/"
LCL = "https://lcl.test/"
JTSN = "https://jtsn.test/"


def page(style: str, name: str) -> str:
    """A stored page as text (the tables site is hand-made Latin-1)."""
    return (SITES / style / f"{name}.html").read_bytes().decode("utf-8", errors="replace")


def variant(html: str, *replacements: tuple[str, str]) -> str:
    """``html`` with each (old, new) replaced; fails loudly when a fixture drifts."""
    for old, new in replacements:
        assert old in html, f"fixture no longer contains {old!r}"
        html = html.replace(old, new)
    return html


# ---------------------------------------------------------------------------------------------
# Extraction, one table row per stored page
# ---------------------------------------------------------------------------------------------

IDENTITIES = [
    (
        "wordpress",
        "home",
        NURSES,
        {
            "title": "NurseGroups – Peer support for nurses, by nurses",
            "title_name": "NurseGroups",
            "og_site_name": "NurseGroups",
            "schema_names": ["NurseGroups"],
            "copyright_holder": "NurseGroups",
            "logo_alt": "NurseGroups",
            "former_names": [],
            "new_names": [],
            "merged_into": [],
        },
    ),
    (
        "wordpress",
        "home_renamed",
        NURSES,
        {
            "title_name": "Nurse Peer Network",
            "og_site_name": "Nurse Peer Network",
            "schema_names": ["Nurse Peer Network", "NurseGroups"],
            "schema_alternate_names": ["NurseGroups"],
            "copyright_holder": "Nurse Peer Network",
            "logo_alt": "Nurse Peer Network",
            "former_names": ["NurseGroups"],
            "new_names": ["Nurse Peer Network"],
        },
    ),
    (
        "bootstrap",
        "home",
        ACTORS,
        {
            "title": "The Actors Fund | Home",
            "title_name": "The Actors Fund",
            "og_site_name": "The Actors Fund",
            "schema_names": ["The Actors Fund"],
            "copyright_holder": "The Actors Fund",
            "logo_alt": "The Actors Fund",
            "former_names": [],
        },
    ),
    (
        "bootstrap",
        "home_renamed",
        ECF,
        {
            "title": "Home | Entertainment Community Fund",
            "title_name": "Entertainment Community Fund",
            "og_site_name": "Entertainment Community Fund",
            "schema_names": ["Entertainment Community Fund", "The Actors Fund"],
            "schema_alternate_names": ["The Actors Fund"],
            "copyright_holder": "Entertainment Community Fund",
            "logo_alt": "Entertainment Community Fund",
            "former_names": ["The Actors Fund"],
            "new_names": [],
        },
    ),
    (
        "tables",
        "home",
        LCL,
        {
            "title_name": "Lawyers Concerned for Lawyers",
            "og_site_name": None,
            "schema_names": [],
            "copyright_holder": "Lawyers Concerned for Lawyers, Inc",
            "logo_alt": "LCL",
        },
    ),
    (
        "tables",
        "home_renamed",
        LCL,
        {
            "title_name": "Legal Professionals Wellbeing Network",
            "copyright_holder": "Legal Professionals Wellbeing Network, Inc",
            "logo_alt": "LCL",
        },
    ),
    (
        "jsshell",
        "home",
        JTSN,
        {
            "title": "Loading…",
            "title_name": None,
            "og_site_name": "Journalist Trauma Support Network",
            "schema_names": ["Journalist Trauma Support Network", "JTSN"],
            "schema_alternate_names": ["JTSN"],
            "copyright_holder": None,
            "logo_alt": None,
        },
    ),
    (
        "jsshell",
        "empty_shell",
        JTSN,
        {
            "title": None,
            "title_name": None,
            "og_site_name": None,
            "schema_names": [],
            "copyright_holder": None,
            "logo_alt": None,
            "former_names": [],
        },
    ),
]


@pytest.mark.parametrize(("style", "name", "url", "expected"), IDENTITIES)
def test_identity_of_each_stored_site(style, name, url, expected):
    identity = extract_identity(page(style, name), url)
    assert {key: identity[key] for key in expected} == expected


@pytest.mark.parametrize(("style", "name", "url", "expected"), IDENTITIES)
def test_identity_is_plain_json(style, name, url, expected):
    identity = extract_identity(page(style, name), url)
    assert json.loads(json.dumps(identity)) == identity


def test_identity_from_bytes_tree_and_string_agree():
    html = page("wordpress", "home")
    tree = as_tree(html)
    before = etree.tostring(tree)
    from_string = extract_identity(html, NURSES)
    assert extract_identity(html.encode("utf-8"), NURSES) == from_string
    assert extract_identity(tree, NURSES) == from_string
    assert extract_identity(etree.ElementTree(tree), NURSES) == from_string
    assert etree.tostring(tree) == before, "extractors must not change a shared tree"


def test_one_parse_serves_every_extractor():
    html = page("wordpress", "groups")
    tree = as_tree(html)
    url = NURSES + "groups/"
    assert extract_groups(tree, url) == extract_groups(html, url)
    assert outbound_links(tree, url) == outbound_links(html, url)
    assert candidate_pages(tree, url) == candidate_pages(html, url)
    assert extract_identity(tree, url)["title_name"] == "NurseGroups"


# ---------------------------------------------------------------------------------------------
# The parts: title, JSON-LD, microdata, copyright, logo, rename phrases
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "hints", "expected"),
    [
        ("Home | NurseGroups", [], "NurseGroups"),
        ("NurseGroups – support for nurses", [], "NurseGroups"),
        ("NurseGroups - Peer support for nurses, by nurses", [], "NurseGroups"),
        ("Welcome to NurseGroups", [], "NurseGroups"),
        ("NurseGroups Home", [], "NurseGroups"),
        ("NurseGroups: support for nurses", [], "NurseGroups"),
        ("Support Groups » NurseGroups", [], "NurseGroups"),
        ("About Us · The Actors Fund", [], "The Actors Fund"),
        ("Resources | Entertainment Community Fund", [], "Entertainment Community Fund"),
        # Only hints tell a capitalised tagline from the name.
        ("Peer Support For Nurses | Nurse Wellness", ["Nurse Wellness"], "Nurse Wellness"),
        ("Nurse Wellness | Peer Support For Nurses", ["Nurse Wellness"], "Nurse Wellness"),
        ("Lawyers Concerned for Lawyers", [], "Lawyers Concerned for Lawyers"),
        ("Peer-to-Peer Support Network", [], "Peer-to-Peer Support Network"),
        ("Home", [], None),
        ("Page not found | NurseGroups", [], "NurseGroups"),
        ("Just a moment...", [], None),
        ("", [], None),
        (None, [], None),
    ],
)
def test_title_name_drops_page_names_and_taglines(title, hints, expected):
    assert title_name(title, hints=hints) == expected


def test_title_name_prefers_the_segment_that_matches_the_host():
    title = "Peer Support Line | Doctors Helping Doctors"
    assert title_name(title, host="www.peersupportline.test") == "Peer Support Line"
    assert title_name(title, host="doctorshelpingdoctors.test") == "Doctors Helping Doctors"


def _with_head(head: str, body: str = "") -> str:
    return f"<html><head>{head}</head><body>{body}</body></html>"


def test_json_ld_graph_lists_and_types():
    html = _with_head(
        '<script type="application/ld+json">[{"@type":"WebPage","name":"Groups page"},'
        '{"@context":"https://schema.org","@graph":[{"@type":"https://schema.org/NGO",'
        '"name":["Nurse Peer Network"],"alternateName":["NurseGroups","NPN"]},'
        '{"@type":"Person","name":"Jane Doe"}]}]</script>'
        '<script type="application/ld+json">{"@type":["LocalBusiness","MedicalOrganization"],'
        '"legalName":"Nurse Peer Network, Inc."}</script>'
    )
    identity = extract_identity(html, NURSES)
    assert identity["schema_names"] == [
        "Nurse Peer Network",
        "Nurse Peer Network, Inc.",
        "NurseGroups",
        "NPN",
    ]
    assert identity["schema_alternate_names"] == ["NurseGroups", "NPN"]


@pytest.mark.parametrize(
    "script",
    [
        # trailing commas, as hand-edited themes leave them
        '{"@type": "Organization", "name": "NurseGroups",}',
        # wrapped in an HTML comment and CDATA
        '<!-- //<![CDATA[\n{"@type": "Organization", "name": "NurseGroups"}\n//]]> -->',
        # two objects in one script, garbage after them
        '{"@type": "WebPage", "name": "x"} {"@type": "Organization", "name": "NurseGroups"} }}',
        # a raw newline inside a string
        '{"@type": "Organization", "name": "NurseGroups", "description": "line\none"}',
    ],
)
def test_damaged_json_ld_is_mended(script):
    html = _with_head(f'<script type="application/ld+json">{script}</script>')
    assert extract_identity(html, NURSES)["schema_names"] == ["NurseGroups"]


@pytest.mark.parametrize(
    "script",
    ['{"@type": "Organization", "name": ', "{{{{", "", "null", "[1, 2, 3]", "[" * 50_000],
)
def test_broken_json_ld_is_ignored_and_the_rest_still_read(script):
    html = _with_head(
        f'<script type="application/ld+json">{script}</script>'
        '<meta property="og:site_name" content="NurseGroups">'
    )
    identity = extract_identity(html, NURSES)
    assert identity["schema_names"] == []
    assert identity["og_site_name"] == "NurseGroups"


def test_microdata_organisation_name():
    html = _with_head(
        "",
        '<div itemscope itemtype="https://schema.org/Organization">'
        '<span itemprop="name">Physician Support Line</span>'
        '<div itemprop="address" itemscope itemtype="https://schema.org/PostalAddress">'
        '<span itemprop="name">Head office</span></div>'
        '<meta itemprop="alternateName" content="PSL"></div>'
        '<div itemscope itemtype="https://schema.org/Event"><span itemprop="name">Gala</span></div>',
    )
    identity = extract_identity(html, "https://physiciansupportline.test/")
    assert identity["schema_names"] == ["Physician Support Line", "PSL"]
    assert identity["schema_alternate_names"] == ["PSL"]


@pytest.mark.parametrize(
    ("footer", "expected"),
    [
        (
            "© 2026 Entertainment Community Fund. All rights reserved",
            "Entertainment Community Fund",
        ),
        ("Copyright © 2019-2026 NurseGroups", "NurseGroups"),
        ("Copyright &copy; 2019 – 2026 NurseGroups | Privacy", "NurseGroups"),
        ("(c) Lawyers Concerned for Lawyers", "Lawyers Concerned for Lawyers"),
        ("&copy; NurseGroups 2026", "NurseGroups"),
        ("© 2026 NurseGroups, Inc. Registered charity 1234567.", "NurseGroups, Inc"),
        (
            "© Copyright 2026 St. Luke's Peer Network - Website by Studio X",
            "St. Luke's Peer Network",
        ),
        ("Copyright 2026. All rights reserved.", None),
        ("© 2026", None),
        ("Made with love in Ohio", None),
    ],
)
def test_copyright_holder(footer, expected):
    html = _with_head("", f"<main><p>Hello</p></main><footer><p>{footer}</p></footer>")
    assert extract_identity(html, NURSES)["copyright_holder"] == expected


def test_copyright_line_without_a_footer_element():
    html = _with_head(
        "", "<p>Hi</p><div><small>© 2026 Journalist Trauma Support Network</small></div>"
    )
    assert extract_identity(html, JTSN)["copyright_holder"] == "Journalist Trauma Support Network"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            '<header><a href="/"><img src="/a.png" alt="NurseGroups logo"></a></header>',
            "NurseGroups",
        ),
        (
            '<div><img class="site-logo" src="/a.png" alt="Logo of NurseGroups"></div>',
            "NurseGroups",
        ),
        ('<header><img src="/img/logo.svg" alt="NurseGroups"></header>', "NurseGroups"),
        (
            '<a href="https://nursegroups.test/"><img src="/a.png" alt="NurseGroups"></a>',
            "NurseGroups",
        ),
        (
            '<header><a href="/" aria-label="NurseGroups home"><img src="/logo.svg" alt=""></a></header>',
            "NurseGroups",
        ),
        # a partner's logo in the content, a funder's in the footer: not the site's own
        (
            '<main><p>Partners</p><img class="partner-logo" src="/p.png" alt="Mercy General"></main>',
            None,
        ),
        ('<footer><img src="/funder-logo.png" alt="State Health Fund"></footer>', None),
        ('<header><a href="/"><img src="/logo.png" alt="Logo"></a></header>', None),
        ('<header><a href="/"><img src="/logo.png" alt="Home"></a></header>', None),
    ],
)
def test_logo_alt(body, expected):
    assert extract_identity(_with_head("", body), NURSES)["logo_alt"] == expected


@pytest.mark.parametrize(
    ("text", "former", "new", "merged"),
    [
        ("Entertainment Community Fund (formerly The Actors Fund)", ["The Actors Fund"], [], []),
        ("We were formerly known as the Actors Fund.", ["Actors Fund"], [], []),
        (
            "Previously known as Nurse Buddies, we have run groups since 2009.",
            ["Nurse Buddies"],
            [],
            [],
        ),
        ("NurseGroups, previously NurseBuddies, meets online.", ["NurseBuddies"], [], []),
        (
            "The Actors Fund is now the Entertainment Community Fund.",
            ["The Actors Fund"],
            ["Entertainment Community Fund"],
            [],
        ),
        (
            "In 2022 we changed our name to Entertainment Community Fund.",
            [],
            ["Entertainment Community Fund"],
            [],
        ),
        ("Big news: we are now Nurse Peer Network!", [], ["Nurse Peer Network"], []),
        (
            "JTSN is now part of the Dart Centre for Journalism and Trauma.",
            [],
            [],
            ["Dart Centre for Journalism and Trauma"],
        ),
        (
            "Lawyers Helping Lawyers has merged with Lawyers Concerned for Lawyers.",
            [],
            [],
            ["Lawyers Concerned for Lawyers"],
        ),
        # everyday prose that looks like a rename phrase but names nothing
        ("Registration is now open for the spring groups.", [], [], []),
        ("As previously announced, groups pause in August.", [], [], []),
        ("We are now accepting new members.", [], [], []),
        ("Formerly a nurse herself, Jane leads the Monday group.", [], [], []),
        ("The group is now meeting on Tuesdays.", [], [], []),
    ],
)
def test_rename_phrases(text, former, new, merged):
    identity = extract_identity(_with_head("", f"<main><p>{text}</p></main>"), ECF)
    assert identity["former_names"] == former
    assert identity["new_names"] == new
    assert identity["merged_into"] == merged


def test_rename_phrase_keeps_its_sentence_as_evidence():
    identity = extract_identity(page("bootstrap", "home_renamed"), ECF)
    assert identity["rename_phrases"] == [
        {
            "kind": "formerly",
            "text": "Entertainment Community Fund (formerly The Actors Fund)",
            "old": "The Actors Fund",
            "new": "Entertainment Community Fund",
            "merged_into": None,
            "subject": None,
        }
    ]


@pytest.mark.parametrize(
    ("text", "merged_into", "subject"),
    [
        (
            "Lawyers Helping Lawyers has merged with Lawyers Concerned for Lawyers.",
            "Lawyers Concerned for Lawyers",
            "Lawyers Helping Lawyers",
        ),
        ("We have merged with Nurse Peer Network.", "Nurse Peer Network", None),
        ("Big News: We Have Merged With Nurse Peer Network", "Nurse Peer Network", None),
        (
            "In 2024 NurseGroups merged into Nurse Peer Network.",
            "Nurse Peer Network",
            "NurseGroups",
        ),
        (
            "NurseGroups and Nurse Allies have merged into Nurse Peer Network.",
            "Nurse Peer Network",
            "NurseGroups and Nurse Allies",
        ),
        # a relative clause still names who merged
        (
            "Our friends at City Nurses Union, which has merged with Regional Nurses Alliance, "
            "host the Monday group.",
            "Regional Nurses Alliance",
            "City Nurses Union",
        ),
        ("The group is now part of the Nurse Peer Network.", "Nurse Peer Network", None),
    ],
)
def test_merger_phrase_names_who_merged(text, merged_into, subject):
    identity = extract_identity(_with_head("", f"<main><p>{text}</p></main>"), NURSES)
    [phrase] = identity["rename_phrases"]
    assert (phrase["kind"], phrase["merged_into"], phrase["subject"]) == (
        "merged",
        merged_into,
        subject,
    )
    assert identity["merged_into"] == [merged_into]
    assert identity["former_names"] == identity["new_names"] == []


def test_scripts_and_hidden_text_are_not_page_text():
    html = _with_head(
        "",
        "<p>Visible</p><script>var s = 'formerly The Actors Fund';</script>"
        "<style>p:after{content:'formerly X'}</style><div hidden>formerly Hidden Name</div>"
        "<!-- formerly Comment Name --><p>tail</p>",
    )
    root = as_tree(html)
    assert visible_text(root) == ["Visible", "tail"]
    assert extract_identity(root, ECF)["former_names"] == []


# ---------------------------------------------------------------------------------------------
# names_match
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("NurseGroups", "NurseGroups"),
        ("NurseGroups", "Nurse Groups"),
        ("Nursegroups", "NurseGroups"),
        ("NURSEGROUPS", "nursegroups"),
        ("Home | NurseGroups", "NurseGroups"),
        ("NurseGroups – support for nurses", "NurseGroups"),
        ("Welcome to NurseGroups", "NurseGroups"),
        ("NurseGroups.org", "NurseGroups"),
        ("The Actors Fund", "Actors Fund"),
        ("The Actors' Fund", "The Actors Fund"),
        ("NurseGroups, Inc.", "NurseGroups"),
        ("Lawyers Concerned for Lawyers, Inc", "Lawyers Concerned for Lawyers"),
        ("Physicians Support Network", "Physician Support Network"),
        ("Grief & Loss Network", "Grief and Loss Network"),
        ("ECF", "Entertainment Community Fund"),
        ("E.C.F.", "Entertainment Community Fund"),
        ("JTSN", "Journalist Trauma Support Network"),
        ("LCL", "Lawyers Concerned for Lawyers"),
        ("Entertainment Community Fund (ECF)", "Entertainment Community Fund"),
        ("Actors Fund", "Actors Fund of America"),
    ],
)
def test_names_that_match(a, b):
    assert names_match(a, b)
    assert names_match(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("The Actors Fund", "Entertainment Community Fund"),
        ("NurseGroups", "Nurse Peer Network"),
        ("Nurse Support Network", "Physician Support Network"),
        ("Nurse Groups", "Nurse Guild"),
        ("Lawyers Concerned for Lawyers", "Legal Professionals Wellbeing Network"),
        ("Journalist Trauma Support Network", "Newsroom Resilience Collective"),
        ("NurseGroups Foundation", "NurseGroups Fund"),
        ("JTSN", "Entertainment Community Fund"),
        ("", "NurseGroups"),
        (None, "NurseGroups"),
    ],
)
def test_names_that_differ(a, b):
    assert not names_match(a, b)
    assert not names_match(b, a)


# ---------------------------------------------------------------------------------------------
# Renames: positives (two signals or more), in every style
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("style", "url", "listed", "new_name", "min_signals"),
    [
        ("wordpress", NURSES, "NurseGroups", "Nurse Peer Network", 5),
        ("bootstrap", ECF, "The Actors Fund", "Entertainment Community Fund", 5),
        (
            "tables",
            LCL,
            "Lawyers Concerned for Lawyers",
            "Legal Professionals Wellbeing Network",
            2,
        ),
        ("jsshell", JTSN, "Journalist Trauma Support Network", "Newsroom Resilience Collective", 2),
    ],
)
def test_rename_detected_in_every_style(style, url, listed, new_name, min_signals):
    rename = detect_rename(listed, [], extract_identity(page(style, "home_renamed"), url))
    assert rename is not None
    assert rename.new_name == new_name
    assert rename.old_name == listed
    sources = [line for line in rename.signals if not line.startswith("still showing")]
    assert len(sources) >= min_signals
    assert 0.6 <= rename.confidence <= 1
    assert json.loads(json.dumps(rename.as_dict())) == rename.as_dict()


def test_the_actors_fund_case():
    """The case the brief spells out, built by hand so every signal is deliberate."""
    html = """<html><head><title>Home | Entertainment Community Fund</title>
      <meta property="og:site_name" content="Entertainment Community Fund">
      <script type="application/ld+json">{"@context": "https://schema.org",
        "@type": "Organization", "name": "Entertainment Community Fund",
        "alternateName": "The Actors Fund"}</script></head>
      <body><main><p>We are the Entertainment Community Fund, formerly The Actors Fund.</p></main>
      <footer>© 2026 Entertainment Community Fund</footer></body></html>"""
    identity = extract_identity(html, "https://entertainmentcommunity.org/")
    rename = detect_rename("The Actors Fund", [], identity)
    assert rename is not None
    assert rename.new_name == "Entertainment Community Fund"
    assert rename.old_name == "The Actors Fund"
    signals = "\n".join(rename.signals)
    for evidence in ("page title", "og:site_name", "schema.org names", "copyright", "formerly"):
        assert evidence in signals
    assert rename.confidence == 0.99
    assert detect_rename("Entertainment Community Fund", ["The Actors Fund"], identity) is None


def test_stale_source_is_outvoted_and_reported():
    # The tables site changed its title and copyright; its logo still says "LCL".
    rename = detect_rename(
        "Lawyers Concerned for Lawyers", [], extract_identity(page("tables", "home_renamed"), LCL)
    )
    assert rename is not None
    assert rename.signals[-1] == "still showing the old name: the logo's alt text 'LCL'"


def test_half_renamed_site_is_not_yet_a_rename():
    # Two sources say the new name, two still say the old one: wait for the site to settle.
    html = variant(
        page("wordpress", "home"),
        ("<title>NurseGroups &#8211;", "<title>Nurse Peer Network &#8211;"),
        ('og:site_name" content="NurseGroups"', 'og:site_name" content="Nurse Peer Network"'),
        (
            '"@type":"Organization","@id":"https://nursegroups.test/#organization","name":"NurseGroups"',
            '"@type":"Organization","@id":"https://nursegroups.test/#organization","name":"Nurse Peer Network"',
        ),
    )
    identity = extract_identity(html, NURSES)
    assert identity["copyright_holder"] == identity["logo_alt"] == "NurseGroups"
    # The WebSite node still says NurseGroups: schema.org speaks for both names, 3 against 3.
    assert identity["schema_names"] == ["NurseGroups", "Nurse Peer Network"]
    assert detect_rename("NurseGroups", [], identity) is None
    html = variant(
        html, ('"name":"NurseGroups","description"', '"name":"Nurse Peer Network","description"')
    )
    identity = extract_identity(html, NURSES)
    # title, og and schema (3) against copyright and logo (2): a rename
    assert detect_rename("NurseGroups", [], identity).new_name == "Nurse Peer Network"


# ---------------------------------------------------------------------------------------------
# Renames: negatives, in every style
# ---------------------------------------------------------------------------------------------

NOT_RENAMES = [
    # (id, style, page, url, listed, aliases, replacements)
    ("wp-as-stored", "wordpress", "home", NURSES, "NurseGroups", [], []),
    (
        "wp-title-decoration",
        "wordpress",
        "home",
        NURSES,
        "NurseGroups",
        [],
        [
            (
                "<title>NurseGroups &#8211; Peer support for nurses, by nurses</title>",
                "<title>Home | NurseGroups</title>",
            )
        ],
    ),
    (
        "wp-tagline-change",
        "wordpress",
        "home",
        NURSES,
        "NurseGroups",
        [],
        [
            (
                "Peer support for nurses, by nurses</title>",
                "Nurses helping nurses since 2019</title>",
            ),
            (
                '<p class="site-description">Peer support for nurses, by nurses</p>',
                '<p class="site-description">Nurses helping nurses since 2019</p>',
            ),
        ],
    ),
    (
        "wp-capitalisation",
        "wordpress",
        "home",
        NURSES,
        "NurseGroups",
        [],
        [
            ("<title>NurseGroups", "<title>NURSEGROUPS"),
            ('og:site_name" content="NurseGroups"', 'og:site_name" content="Nursegroups"'),
            ("&copy; 2026 NurseGroups.", "&copy; 2026 Nurse Groups."),
        ],
    ),
    (
        "wp-single-source",
        "wordpress",
        "home",
        NURSES,
        "NurseGroups",
        [],
        [("<title>NurseGroups &#8211;", "<title>Nurse Wellness Hub &#8211;")],
    ),
    (
        "wp-alias-listed",
        "wordpress",
        "home_renamed",
        NURSES,
        "NurseGroups",
        ["Nurse Peer Network"],
        [],
    ),
    ("bs-as-stored", "bootstrap", "home", ACTORS, "The Actors Fund", [], []),
    (
        "bs-title-decoration",
        "bootstrap",
        "home",
        ACTORS,
        "The Actors Fund",
        [],
        [
            (
                "<title>The Actors Fund | Home</title>",
                "<title>Welcome to The Actors Fund – Official Site</title>",
            )
        ],
    ),
    (
        "bs-tagline-change",
        "bootstrap",
        "home_renamed",
        ECF,
        "Entertainment Community Fund",
        [],
        [
            (
                "<title>Home | Entertainment Community Fund</title>",
                "<title>Entertainment Community Fund | Here for everyone in entertainment</title>",
            )
        ],
    ),
    (
        "bs-acronym",
        "bootstrap",
        "home_renamed",
        ECF,
        "Entertainment Community Fund",
        [],
        [
            ("<title>Home | Entertainment Community Fund</title>", "<title>ECF | Home</title>"),
            ('og:site_name" content="Entertainment Community Fund"', 'og:site_name" content="ECF"'),
            ('alt="Entertainment Community Fund"', 'alt="ECF logo"'),
        ],
    ),
    (
        "bs-single-source",
        "bootstrap",
        "home",
        ACTORS,
        "The Actors Fund",
        [],
        [("&copy; 2021 The Actors Fund.", "&copy; 2021 Broadway Cares.")],
    ),
    ("tables-as-stored", "tables", "home", LCL, "Lawyers Concerned for Lawyers", [], []),
    (
        "tables-acronym",
        "tables",
        "home",
        LCL,
        "Lawyers Concerned for Lawyers",
        [],
        [
            ("<TITLE>Lawyers Concerned for Lawyers - ", "<TITLE>LCL - "),
            ("1998-2026 Lawyers Concerned for Lawyers, Inc.", "1998-2026 LCL, Inc."),
        ],
    ),
    (
        "tables-tagline-change",
        "tables",
        "home",
        LCL,
        "Lawyers Concerned for Lawyers",
        [],
        [
            (
                "Confidential help for lawyers, judges and law students</TITLE>",
                "Free and Confidential Peer Support</TITLE>",
            )
        ],
    ),
    (
        "tables-single-source",
        "tables",
        "home",
        LCL,
        "Lawyers Concerned for Lawyers",
        [],
        [("1998-2026 Lawyers Concerned for Lawyers, Inc.", "1998-2026 State Bar Foundation.")],
    ),
    ("js-as-stored", "jsshell", "home", JTSN, "Journalist Trauma Support Network", [], []),
    ("js-listed-by-acronym", "jsshell", "home", JTSN, "JTSN", [], []),
    (
        "js-acronym",
        "jsshell",
        "home",
        JTSN,
        "Journalist Trauma Support Network",
        [],
        [
            (
                'og:site_name" content="Journalist Trauma Support Network"',
                'og:site_name" content="JTSN"',
            ),
            ('"name":"Journalist Trauma Support Network","alternateName":"JTSN"', '"name":"JTSN"'),
        ],
    ),
    (
        "js-single-source",
        "jsshell",
        "home",
        JTSN,
        "Journalist Trauma Support Network",
        [],
        [
            (
                'og:site_name" content="Journalist Trauma Support Network"',
                'og:site_name" content="Newsroom Resilience Collective"',
            )
        ],
    ),
    ("js-empty-shell", "jsshell", "empty_shell", JTSN, "Journalist Trauma Support Network", [], []),
]


@pytest.mark.parametrize(
    ("style", "name", "url", "listed", "aliases", "replacements"),
    [case[1:] for case in NOT_RENAMES],
    ids=[case[0] for case in NOT_RENAMES],
)
def test_not_a_rename(style, name, url, listed, aliases, replacements):
    identity = extract_identity(variant(page(style, name), *replacements), url)
    assert detect_rename(listed, aliases, identity) is None


def test_empty_identity_is_not_a_rename():
    assert detect_rename("NurseGroups", [], {}) is None
    assert detect_rename("NurseGroups", [], extract_identity("", NURSES)) is None
    assert (
        detect_rename("", [], extract_identity(page("wordpress", "home_renamed"), NURSES)) is None
    )


def test_error_and_parking_pages_name_nobody():
    identity = extract_identity(
        "<title>Just a moment...</title><meta property='og:site_name' content='Just a moment...'>"
        "<footer>© 2026 HugeDomains.com</footer>",
        NURSES,
    )
    assert detect_rename("NurseGroups", [], identity) is None


def test_cross_domain_redirect_that_mentions_the_old_name_is_a_signal():
    html = "<title>Nurse Peer Network</title><main><p>Welcome, NurseGroups members!</p></main>"
    identity = extract_identity(html, "https://nursepeernetwork.test/")
    assert detect_rename("NurseGroups", [], identity) is None  # one signal
    with_text = {**identity, "text": "Welcome, NurseGroups members!"}
    rename = detect_rename("NurseGroups", [], with_text, cross_domain_redirect=True)
    assert rename is not None and rename.new_name == "Nurse Peer Network"
    assert any("redirects to another domain" in line for line in rename.signals)
    # A redirect to a page that never mentions the old name proves nothing.
    unrelated = {**identity, "text": "Welcome to our network."}
    assert detect_rename("NurseGroups", [], unrelated, cross_domain_redirect=True) is None


def test_old_host_mentioned_counts_for_a_redirect():
    identity = {"title_name": "Nurse Peer Network", "text": "nursegroups.test now lives here."}
    rename = detect_rename(
        "NurseGroups", [], identity, cross_domain_redirect=True, listed_host="nursegroups.test"
    )
    assert rename is not None and rename.new_name == "Nurse Peer Network"


def test_formerly_phrase_is_a_strong_signal_with_one_name_source():
    html = "<title>Nurse Peer Network</title><p>Nurse Peer Network (formerly NurseGroups)</p>"
    rename = detect_rename("NurseGroups", [], extract_identity(html, NURSES))
    assert rename is not None and rename.new_name == "Nurse Peer Network"
    # A "formerly" naming somebody else is no evidence about us.
    html = "<title>Nurse Peer Network</title><p>Nurse Peer Network (formerly Nurse Buddies)</p>"
    assert detect_rename("NurseGroups", [], extract_identity(html, NURSES)) is None


def _merger_page(title: str, og_site_name: str | None, prose: str, holder: str | None) -> str:
    """A small charity home page: header, one news paragraph, a footer (copyright if any)."""
    og = f'<meta property="og:site_name" content="{og_site_name}">' if og_site_name else ""
    footer = f"© 2026 {holder}. All rights reserved." if holder else "Registered charity."
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
      <title>Home | {title}</title>{og}
      <meta name="viewport" content="width=device-width, initial-scale=1"></head>
      <body><header class="site-header"><nav><a href="/">Home</a> <a href="/groups/">Groups</a>
      <a href="/donate/">Donate</a></nav></header>
      <main><h1>Peer support that lasts</h1><p>{prose}</p>
      <p>Our Monday and Thursday groups carry on as before.</p></main>
      <footer><p>{footer}</p></footer></body></html>"""


LHL = "https://lawyershelpinglawyers.test/"
NEW_LAWYERS = "Lawyers Concerned for Lawyers"


@pytest.mark.parametrize(
    ("title", "og_site_name", "prose", "holder", "quoted", "second_signal"),
    [
        (  # the merger phrase names us; the title, og and footer agree on the new name
            NEW_LAWYERS,
            NEW_LAWYERS,
            f"Lawyers Helping Lawyers has merged with {NEW_LAWYERS}.",
            NEW_LAWYERS,
            f"Lawyers Helping Lawyers has merged with {NEW_LAWYERS}.",
            f"the page title names {NEW_LAWYERS!r}",
        ),
        (  # "we", and only og:site_name has changed: og and the merger against the title
            "Lawyers Helping Lawyers",
            NEW_LAWYERS,
            f"We are proud to say we have merged with {NEW_LAWYERS}.",
            None,
            f"have merged with {NEW_LAWYERS}.",
            f"og:site_name is {NEW_LAWYERS!r}",
        ),
        (  # "is now part of", said with the acronym, and the new name in the title only
            NEW_LAWYERS,
            None,
            f"Since May, LHL is now part of {NEW_LAWYERS}.",
            None,
            f"LHL is now part of {NEW_LAWYERS}.",
            f"the page title names {NEW_LAWYERS!r}",
        ),
    ],
)
def test_merger_phrase_and_a_name_source_are_a_rename(
    title, og_site_name, prose, holder, quoted, second_signal
):
    identity = extract_identity(_merger_page(title, og_site_name, prose, holder), LHL)
    rename = detect_rename("Lawyers Helping Lawyers", [], identity)
    assert rename is not None
    assert rename.new_name == NEW_LAWYERS
    assert rename.old_name == "Lawyers Helping Lawyers"
    assert second_signal in rename.signals
    assert f"merged into {NEW_LAWYERS!r}: the page says {quoted!r}" in rename.signals
    assert json.loads(json.dumps(rename.as_dict())) == rename.as_dict()


def test_merger_phrase_is_the_second_signal():
    # og:site_name alone against the title is one against one; the merger tips it.
    merged = _merger_page(
        "Lawyers Helping Lawyers", NEW_LAWYERS, f"We have merged with {NEW_LAWYERS}.", None
    )
    assert detect_rename("Lawyers Helping Lawyers", [], extract_identity(merged, LHL))
    unmerged = merged.replace(f"We have merged with {NEW_LAWYERS}.", "Welcome, everyone.")
    assert detect_rename("Lawyers Helping Lawyers", [], extract_identity(unmerged, LHL)) is None


def test_merger_phrase_alone_is_not_a_rename():
    # Every name source still says the listed name: the merger is announced, not yet visible.
    html = _merger_page(
        "Lawyers Helping Lawyers",
        "Lawyers Helping Lawyers",
        f"Lawyers Helping Lawyers has merged with {NEW_LAWYERS}.",
        "Lawyers Helping Lawyers",
    )
    identity = extract_identity(html, LHL)
    assert identity["merged_into"] == [NEW_LAWYERS]
    assert detect_rename("Lawyers Helping Lawyers", [], identity) is None
    # Nothing on the page names anybody: the phrase is the only signal.
    shell = _with_head("", f"<div id='app'><p>We have merged with {NEW_LAWYERS}.</p></div>")
    assert detect_rename("Lawyers Helping Lawyers", [], extract_identity(shell, LHL)) is None


def test_merger_into_the_listed_name_is_not_a_rename():
    # On the surviving organisation's own site the merger names the listed organisation.
    html = _merger_page(
        NEW_LAWYERS, NEW_LAWYERS, f"Lawyers Helping Lawyers has merged with {NEW_LAWYERS}.", None
    )
    assert detect_rename(NEW_LAWYERS, [], extract_identity(html, LCL)) is None


def test_news_of_somebody_elses_merger_is_no_evidence():
    # Only the title names Nurse Peer Network, and a news item says another organisation
    # merged with it: one signal about us, not two.
    news = (
        "Congratulations to our friends at Nurse Buddies, which has merged with Nurse Peer Network."
    )
    html = _merger_page("Nurse Peer Network", None, news, None)
    identity = extract_identity(html, NURSES)
    assert identity["merged_into"] == ["Nurse Peer Network"]
    assert identity["rename_phrases"][0]["subject"] == "Nurse Buddies"
    assert detect_rename("NurseGroups", [], identity) is None
    # The same page, but the merger is ours: two signals, a rename.
    ours = html.replace("Congratulations to our friends at Nurse Buddies, which", "NurseGroups")
    rename = detect_rename("NurseGroups", [], extract_identity(ours, NURSES))
    assert rename is not None and rename.new_name == "Nurse Peer Network"


def test_stored_identity_without_rename_phrases_still_counts_a_merger():
    identity = {"title_name": NEW_LAWYERS, "merged_into": [NEW_LAWYERS]}
    rename = detect_rename("Lawyers Helping Lawyers", [], identity)
    assert rename is not None
    assert rename.new_name == NEW_LAWYERS
    assert rename.signals == [
        f"the page title names {NEW_LAWYERS!r}",
        f"merged into {NEW_LAWYERS!r}: the page says 'merged into {NEW_LAWYERS}'",
    ]
    assert detect_rename("Lawyers Helping Lawyers", [], {"merged_into": [NEW_LAWYERS]}) is None


def test_domain_name_as_site_name_is_the_listed_host():
    identity = {"title_name": "nursegroups.test", "og_site_name": "NURSEGROUPS.TEST"}
    assert (
        detect_rename("Nurse Groups Network", [], identity, listed_host="nursegroups.test") is None
    )


def test_stored_identity_without_rename_phrases_still_counts_formerly():
    identity = {
        "title_name": "Entertainment Community Fund",
        "former_names": ["The Actors Fund"],
    }
    rename = detect_rename("The Actors Fund", [], identity)
    assert rename is not None and rename.new_name == "Entertainment Community Fund"


# ---------------------------------------------------------------------------------------------
# Hostile input: every extractor, every kind of damage, never an exception
# ---------------------------------------------------------------------------------------------


def _deep_nesting() -> str:
    return "<html><body>" + "<div>" * 100_000 + "deep" + "</div>" * 100_000 + "</body></html>"


HOSTILE = {
    "empty": "",
    "whitespace": "   \n\t ",
    "empty-bytes": b"",
    "none": None,
    "plain-text": "Just some text, formerly The Actors Fund. © 2026 Nobody",
    "json": '{"name": "NurseGroups", "@type": "Organization"}',
    "binary": bytes(range(256)) * 64,
    "nul-bytes": "<title>Nurse\x00Groups</title><p>a\x00b</p>",
    "lone-surrogate": "<title>Nurse\udcffGroups</title>",
    "xml-declaration": '<?xml version="1.0" encoding="utf-8"?><html><title>NurseGroups</title></html>',
    "latin-1-bytes": "<title>Café Nurses</title><p>Se habla español</p>".encode("latin-1"),
    "utf-16-bytes": "<title>NurseGroups</title>".encode("utf-16"),
    "unclosed": "<html><head><title>NurseGroups<body><ul><li><a href='/a'>Grief Circle<li>Night Shift<div><p>",
    "script-in-title": "<title>NurseGroups<script>alert(1)</script> | Home</title><p>x</p>",
    "broken-json-ld": '<script type="application/ld+json">{"@graph": [{"@type": "Organization", "name": </script>',
    "deep-nesting-1mb": _deep_nesting(),
    "wide": "<ul>" + "<li><a href='/g'>Group</a></li>" * 10_000 + "</ul>",
    "many-tags": "<html>" * 20_000,
    "svg-title": "<svg><title>Icon</title></svg><title>NurseGroups</title>",
    "bad-urls": "<a href='http://[::1'>x</a><a href='https://exa mple.com/'>y</a><img src='x' alt='z'>",
}


def test_us_nonprofit_status_is_not_a_copyright_holder():
    footer = "<footer><p>A 501(c)(3) nonprofit. EIN 13-1635251.</p></footer>"
    assert extract_identity(footer, ECF)["copyright_holder"] is None
    footer = "<footer><p>(c) 2026 Entertainment Community Fund. A 501(c)(3) charity.</p></footer>"
    assert extract_identity(footer, ECF)["copyright_holder"] == "Entertainment Community Fund"


def test_page_types_and_description():
    html = (
        '<meta property="og:type" content="article"><meta name="description" content="News.">'
        '<script type="application/ld+json">{"@graph": [{"@type": "NewsArticle", "publisher":'
        ' {"@type": "NewsMediaOrganization"}}]}</script>'
        '<div itemscope itemtype="https://schema.org/Hospital"></div>'
    )
    assert page_types(html) == ["newsarticle", "newsmediaorganization", "hospital", "og:article"]
    assert meta_description(html) == "News."
    assert meta_description('<meta property="og:description" content="Peers.">') == "Peers."
    assert page_types("<p>nothing</p>") == [] and meta_description("<p>x</p>") is None


@pytest.mark.parametrize("html", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_markup_never_raises(html):
    started = time.perf_counter()
    identity = extract_identity(html, NURSES)
    assert json.loads(json.dumps(identity)) == identity
    assert isinstance(extract_groups(html, NURSES), list)
    assert isinstance(outbound_links(html, NURSES), list)
    assert isinstance(candidate_pages(html, NURSES), list)
    assert detect_rename("NurseGroups", [], identity) is None
    assert time.perf_counter() - started < 20


def test_hostile_titles_are_read_as_text():
    assert extract_identity(HOSTILE["script-in-title"], NURSES)["title_name"] == "NurseGroups"
    assert extract_identity(HOSTILE["nul-bytes"], NURSES)["title"] == "NurseGroups"
    assert extract_identity(HOSTILE["xml-declaration"], NURSES)["title"] == "NurseGroups"
    assert extract_identity(HOSTILE["latin-1-bytes"], NURSES)["title"] == "Café Nurses"
    assert extract_identity(HOSTILE["utf-16-bytes"], NURSES)["title"] == "NurseGroups"
    assert extract_identity(HOSTILE["svg-title"], NURSES)["title"] == "NurseGroups"
    assert extract_identity(HOSTILE["unclosed"], NURSES)["title"].startswith("NurseGroups")


def test_as_tree_always_gives_a_document():
    for html in ("", None, b"", "   "):
        root = as_tree(html)
        assert root.tag == "html" and root.find("body") is not None
    root = as_tree("<p>x</p>")
    assert as_tree(root) is root
    assert as_tree(etree.ElementTree(root)) is root


# ---------------------------------------------------------------------------------------------
# Dependencies point one way
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "module",
    [
        identity_module,
        names_module,
        rename_phrases_module,
        rename_module,
        groups_module,
        group_names_module,
        outbound_module,
    ],
)
def test_docstring_examples_hold(module):
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0


def test_extractors_import_neither_scrapy_sqlalchemy_nor_apprise():
    code = (
        "import sys\n"
        "import monitor.pages.identity, monitor.pages.groups, monitor.pages.links\n"
        "heavy = sorted(m for m in ('scrapy', 'sqlalchemy', 'apprise', 'twisted') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""


@pytest.mark.parametrize(
    "phrase",
    [
        "formerly",
        "previously",
        "originally",
        "is now",
        "now known",
        "renamed",
        "changed our name",
        "changed its name",
        "changed their name",
        "we are now",
        "we’re now",
        "we're now",
        "new name",
        "has become",
        "became",
        "merged",
        "joined forces",
        "part of",
    ],
)
def test_the_page_prefilter_never_hides_a_rename_hint(phrase: str) -> None:
    # Every alternative of the case-blind hint, in any case, holds one of the plain words
    # the whole-page prefilter looks for, so no rename line is skipped.
    from monitor.pages.rename_phrases import _PHRASE_HINT, _PHRASE_WORDS

    for text in (phrase, phrase.upper(), phrase.title()):
        assert _PHRASE_HINT.search(f"Peer Circle ({text} Nurse Line)")
        assert any(words in text.lower() for words in _PHRASE_WORDS), text

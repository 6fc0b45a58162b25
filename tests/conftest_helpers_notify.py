"""Realistic and hostile findings for the digest and notification tests (plain factories)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from storage.records import Finding

NOW = dt.datetime(2024, 5, 3, 8, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)

ORG_NAMES = {
    "paramedic-peers": "Paramedic Peers",
    "nurse-circle": "Nurse Circle UK",
    "vet-minds": "Vet Minds",
}

HOSTILE_NAME = "<script>document.title='pwned'</script>"
HOSTILE_IMG = "<img src=x onerror=\"document.title='pwned'\">"
HOSTILE_MD = "[click me](http://evil.example/steal)"
HOSTILE_URL = "javascript:document.title='pwned'"


def finding(id_: int, org: str, kind: str, url: str | None, summary: str, **kw: Any) -> Finding:
    kw.setdefault("first_seen", NOW - 3 * DAY)
    kw.setdefault("last_seen", NOW)
    return Finding(id=id_, org_id=org, kind=kind, url=url, summary=summary, **kw)


def opened_findings() -> list[Finding]:
    """Three dead links, one move, one rename, two new groups, one of every other kind."""
    return [
        finding(
            11,
            "paramedic-peers",
            "dead_link",
            "https://paramedic-peers.example.org/",
            "Homepage returns 404",
            details={"reason": "http_404", "failing_since": "2024-04-30T08:00:00Z"},
            evidence=["404 https://paramedic-peers.example.org/"],
        ),
        finding(
            12,
            "paramedic-peers",
            "dead_link",
            "https://paramedic-peers.example.org/meetings",
            "Meetings page is a parked domain",
            details={"reason": "parked"},
            evidence=[
                "301 https://paramedic-peers.example.org/meetings → 200 https://sedo.example/park",
                'Matched "This domain may be for sale"',
            ],
        ),
        finding(
            13,
            "vet-minds",
            "dead_link",
            "http://vetminds.example.net/",
            "Domain no longer resolves",
            first_seen=NOW - 10 * dt.timedelta(hours=1),
            details={"reason": "dns"},
            evidence=["DNS lookup failed: NXDOMAIN"],
        ),
        finding(
            14,
            "nurse-circle",
            "moved",
            "http://nursecircle.example.org/",
            "Homepage moved permanently",
            details={
                "old_url": "http://nursecircle.example.org/",
                "new_url": "https://www.nursecircle.example.org/home",
            },
            evidence=[
                "301 http://nursecircle.example.org/ → 200 https://www.nursecircle.example.org/home"
            ],
        ),
        finding(
            15,
            "nurse-circle",
            "rename",
            "https://www.nursecircle.example.org/home",
            "Site now calls itself Nurses Together",
            confidence=0.75,
            details={"old_name": "Nurse Circle UK", "new_name": "Nurses Together"},
            evidence=["og:site_name = Nurses Together"],
        ),
        finding(
            16,
            "paramedic-peers",
            "new_group",
            "https://paramedic-peers.example.org/groups",
            "A group appeared on the groups page",
            details={
                "group": "Night-shift crews",
                "group_url": "https://paramedic-peers.example.org/groups/night",
            },
        ),
        finding(
            17,
            "vet-minds",
            "new_group",
            "https://vetminds.example.net/groups",
            "A group appeared on the groups page",
            details={"group": "Farm vets"},
        ),
        finding(
            18,
            "vet-minds",
            "removed_group",
            "https://vetminds.example.net/groups",
            "A group is no longer listed",
            details={"group": "Equine vets"},
        ),
        finding(
            19,
            "new-org",  # not in ORG_NAMES: shown by its id
            "new_organisation",
            "https://firefighters-talk.example.com/",
            "Linked from two listed organisations",
            confidence=0.6,
            details={
                "name": "Firefighters Talk",
                "linked_from": [
                    "https://paramedic-peers.example.org/links",
                    "https://www.nursecircle.example.org/partners",
                ],
            },
        ),
        finding(
            20,
            "nurse-circle",
            "unverifiable",
            "https://www.nursecircle.example.org/contact",
            "The site blocks automated checks",
            details={"reason": "blocked", "failing_since": "2024-05-01T20:00:00+00:00"},
            evidence=["403 https://www.nursecircle.example.org/contact (challenge page)"],
        ),
        finding(
            21,
            "vet-minds",
            "revived",
            "https://vetminds.example.net/meetings",
            "Listed dead in the directory since 2024-03-01, but it works again",
            details={"role": "link", "dead_since": "2024-03-01"},
            evidence=["200 https://vetminds.example.net/meetings"],
        ),
    ]


def recovered_findings() -> list[Finding]:
    return [
        finding(
            7,
            "vet-minds",
            "dead_link",
            "https://vetminds.example.net/contact",
            "Contact page returned 503",
            status="resolved",
            first_seen=NOW - 2 * DAY,
            resolved_at=NOW - dt.timedelta(hours=2),
            details={"reason": "http_5xx"},
            evidence=["200 https://vetminds.example.net/contact"],
        )
    ]


def hostile_findings() -> list[Finding]:
    """Findings whose scraped strings try to inject script, markup and links."""
    return [
        finding(
            31,
            "evil",
            "rename",
            "https://evil.example/",
            f"Site now calls itself {HOSTILE_NAME}",
            details={"old_name": HOSTILE_MD, "new_name": HOSTILE_NAME},
            evidence=[HOSTILE_IMG, "@everyone " + HOSTILE_MD],
        ),
        finding(
            32,
            "evil",
            "new_group",
            HOSTILE_URL,
            "A group appeared",
            details={"group": HOSTILE_IMG, "group_url": HOSTILE_URL},
        ),
        finding(
            33,
            "evil",
            "moved",
            "https://evil.example/old",
            "Moved",
            details={
                "old_url": "https://evil.example/old",
                "new_url": 'https://evil.example/"><script>alert(1)</script>',
            },
        ),
    ]


HOSTILE_ORG_NAMES = {"evil": HOSTILE_MD + " " + HOSTILE_NAME}

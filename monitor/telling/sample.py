"""A made-up digest for ``freshness notify --test``: one finding of each kind and a recovery.

Only example organisations on example domains, so trying a notification target
shows every part of a digest without sending anything real.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from monitor.telling.digest import Digest, _iso, render_digest
from storage.records import Finding


def sample_digest(now: dt.datetime) -> Digest:
    """A digest with one finding of each kind and one recovery, for trying out a target."""
    day = dt.timedelta(days=1)
    hour = dt.timedelta(hours=1)

    def finding(id_: int, org: str, kind: str, url: str | None, summary: str, **kw: Any) -> Finding:
        return Finding(
            id=id_,
            org_id=org,
            kind=kind,
            url=url,
            summary=summary,
            first_seen=kw.pop("first_seen", now - 3 * day),
            last_seen=now,
            **kw,
        )

    opened = [
        finding(
            1,
            "example-peer-line",
            "dead_link",
            "https://peer-line.example.org/",
            "Homepage returns 404",
            details={"reason": "http_404", "failing_since": _iso(now - 4 * day)},
            evidence=["404 https://peer-line.example.org/"],
        ),
        finding(
            2,
            "example-nurses",
            "moved",
            "http://nurses.example.net/",
            "Homepage moved to a new address",
            details={
                "old_url": "http://nurses.example.net/",
                "new_url": "https://nurses-support.example.org/",
            },
            evidence=["301 http://nurses.example.net/ → 200 https://nurses-support.example.org/"],
        ),
        finding(
            3,
            "example-nurses",
            "rename",
            "https://nurses-support.example.org/",
            "Site now calls itself Nurses Together",
            confidence=0.8,
            details={"old_name": "Nurses Peer Network", "new_name": "Nurses Together"},
            evidence=["<title>Nurses Together – peer support</title>"],
        ),
        finding(
            4,
            "example-peer-line",
            "new_group",
            "https://peer-line.example.org/groups",
            "New group listed",
            details={
                "group": "Night-shift paramedics",
                "group_url": "https://peer-line.example.org/groups/night",
            },
            evidence=["Listed on https://peer-line.example.org/groups"],
        ),
        finding(
            5,
            "example-peer-line",
            "removed_group",
            "https://peer-line.example.org/groups",
            "Group no longer listed",
            details={"group": "Dispatchers' circle"},
            evidence=["Missing from https://peer-line.example.org/groups for 3 checks"],
        ),
        finding(
            6,
            "example-vets",
            "new_organisation",
            "https://vets-mind.example.com/",
            "Linked from two listed organisations",
            confidence=0.6,
            details={
                "name": "Vets Mind",
                "linked_from": [
                    "https://peer-line.example.org/partners",
                    "https://nurses-support.example.org/links",
                ],
            },
            evidence=['Link text "Vets Mind – peer support for vets"'],
        ),
        finding(
            7,
            "example-vets",
            "unverifiable",
            "https://vets.example.com/",
            "Site blocks automated checks",
            details={"reason": "blocked", "failing_since": _iso(now - 30 * hour)},
            evidence=["403 https://vets.example.com/ (challenge page)"],
        ),
        finding(
            9,
            "example-peer-line",
            "revived",
            "https://peer-line.example.org/meetings",
            "Marked dead in the directory since 2026-10-02, but it works again",
            details={"role": "link", "dead_since": "2026-10-02"},
            evidence=["200 https://peer-line.example.org/meetings"],
        ),
    ]
    recovered = [
        finding(
            8,
            "example-vets",
            "dead_link",
            "https://vets.example.com/contact",
            "Contact page returns 503",
            first_seen=now - 2 * day,
            status="resolved",
            resolved_at=now - hour,
            details={"reason": "http_5xx"},
            evidence=["200 https://vets.example.com/contact"],
        )
    ]
    names = {
        "example-peer-line": "Example Peer Line",
        "example-nurses": "Example Nurses Network",
        "example-vets": "Example Vets Support",
    }
    return render_digest(opened, recovered, org_names=names, now=now, run_id=0)

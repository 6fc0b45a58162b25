"""Which URLs a run fetches: the listed URLs of the due organisations, and any canaries.

Kept free of Scrapy so a coordinating process (multi-process or distributed) stays small.
"""

from __future__ import annotations

from typing import Any

from monitor.policy import Policy, clock_from_settings, parse_timestamp
from storage.db import Store


def open_store(settings: Any) -> Store:
    return Store(settings.get("FRESHNESS_DB") or "sqlite:///freshness.db")


def load_due_targets(settings: Any) -> list[dict[str, Any]]:
    """The listed URLs of every active organisation that is due (or of ``FRESHNESS_ORGS``)."""
    from monitor.schedule import is_due

    now = clock_from_settings(settings)
    policy = Policy.from_settings(settings)
    chosen = set(settings.getlist("FRESHNESS_ORGS")) if hasattr(settings, "getlist") else set()
    store = open_store(settings)
    try:
        with store.transaction() as repo:
            orgs = repo.organisations()
            if chosen:
                due = [o for o in orgs if o.id in chosen]
            else:
                due = [o for o in orgs if is_due(o, now=now, default=policy.default_check_every)]
            states = repo.link_states([o.id for o in due])
            selectors = {o.id: o.entry.group_selector for o in due}
            discover = {
                o.id
                for o in due
                if o.discovered_at is None or now - o.discovered_at >= policy.discovery_every
            }
    finally:
        store.close()
    canaries = [
        {"org_id": None, "link_id": None, "role": "canary", "url": url}
        for url in policy.canary_urls
    ]
    return canaries + [
        {
            "org_id": s.org_id,
            "link_id": s.id,
            "role": s.role,
            "url": s.url,
            "etag": s.etag,
            "last_modified": s.last_modified,
            "group_selector": selectors.get(s.org_id) if s.role == "groups" else None,
            "probe_cache": _fresh_probe(s.probe, now, policy),
            "discover": s.role == "homepage" and s.org_id in discover,
        }
        for s in states
    ]


def listed_domains(settings: Any) -> list[str]:
    """The registered domain of every URL the directory lists, inactive entries included.

    Discovery skips links to these sites: they are checked as listed URLs already, and a site
    the directory lists can never be a *new* organisation (``monitor.judge`` drops it anyway).
    """
    from monitor.outbound import registered_domain

    store = open_store(settings)
    try:
        with store.transaction() as repo:
            orgs = repo.organisations(include_inactive=True)
    finally:
        store.close()
    domains = {registered_domain(url) for org in orgs for _, url in org.entry.listed_links()}
    return sorted(d for d in domains if d)


def _fresh_probe(probe: dict[str, Any] | None, now: Any, policy: Policy) -> dict[str, Any] | None:
    """A cached hard-404 probe still young enough to stand in for a new one."""
    if not probe or not probe.get("at"):
        return None
    try:
        at = parse_timestamp(probe["at"])
    except ValueError:
        return None
    return probe if now - at < policy.probe_ttl else None

"""When is an organisation due? Pure, with the clock passed in."""

from __future__ import annotations

import datetime as dt
import hashlib

from monitor.judging.intervals import parse_interval
from storage.records import Organisation

# An organisation may be visited up to this share of its interval early. The share is fixed per
# organisation (a hash of its id), so a directory imported in one go drifts apart over a few
# cycles instead of hitting every site in the same hour forever.
SPREAD = 0.1


def interval_for(org: Organisation, default: dt.timedelta) -> dt.timedelta:
    return parse_interval(org.entry.check_every) if org.entry.check_every else default


def is_due(org: Organisation, *, now: dt.datetime, default: dt.timedelta) -> bool:
    if org.last_checked_at is None:
        return True
    interval = interval_for(org, default)
    digest = hashlib.sha256(org.id.encode()).digest()
    early = interval * (SPREAD * digest[0] / 255)
    return now >= org.last_checked_at + interval - early

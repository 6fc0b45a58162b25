"""``freshness demo``: every finding kind in under a minute, with no network and no set-up.

It starts the simulated web (``monitor.simweb``) on loopback, loads a small demo directory
into a fresh SQLite store, runs a "before" pass and an "after" pass with the real
``freshness run`` command (each in its own process: Twisted's reactor runs once per process),
and prints the digest of everything found. Thresholds are lowered so one bad pass is enough;
in real use a link is dead only after three failures over 48 hours.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import yaml

from monitor.simweb import SimWeb, load_scenarios
from monitor.simweb.scenario import PAGES_DIR

DEMO_SCENARIOS = Path(__file__).parent / "demo" / "demo.yaml"
START = dt.datetime(2026, 1, 5, 3, 0, tzinfo=dt.UTC)
DEMO_SETTINGS = {
    "FRESHNESS_DEAD_AFTER_FAILURES": "1",  # the real default is 3 ...
    "FRESHNESS_DEAD_AFTER_HOURS": "0",  # ... over at least 48 hours
    "FRESHNESS_UNVERIFIABLE_AFTER_BLOCKED": "2",
    "FRESHNESS_UNVERIFIABLE_AFTER_HOURS": "0",
    "FRESHNESS_HOSTS_ONLY": "True",  # nothing may leave this machine
    "DOWNLOAD_TIMEOUT": "5",
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_START_DELAY": "0",
    "FRESHNESS_CANARY_URLS": "",
}


def demo_directory(web: SimWeb) -> dict:
    return {
        "organisations": [
            {
                "id": "westside-nurses",
                "name": "Westside Nurses Network",
                "url": web.url("demo-nurses.test", "/"),
                "profession": "Nursing",
                "groups_url": web.url("demo-nurses.test", "/groups"),
                "groups": [
                    "Night Shift Nurses Circle",
                    "New Graduate Nurses Peer Group",
                    "Grief and Loss Support for Healthcare Workers",
                    "Nurses in Recovery",
                    "Travel Nurses Meetup",  # not on the page: a removed group
                ],
            },
            {
                "id": "paramedic-peers",
                "name": "Paramedic Peers",
                "url": web.url("demo-paramedics.test", "/"),
                "profession": "First responders",
            },
            {
                "id": "actors-fund",
                "name": "The Actors Fund",
                "url": web.url("demo-actorsfund.test", "/"),
                "profession": "Performing arts",
            },
            {
                "id": "counsel-circle",
                "name": "Counsel Circle",
                "url": web.url("demo-counsel.test", "/"),
                "profession": "Law",
            },
            {
                "id": "jtsn",
                "name": "Journalist Trauma Support Network",
                "url": web.url("demo-journalists.test", "/"),
                "profession": "Journalism",
            },
            {
                "id": "lawyers-depression-project",
                "name": "Lawyers Depression Project",
                "url": web.url("demo-healthy.test", "/"),
                "profession": "Law",
            },
        ]
    }


def run_demo(workdir: Path, *, say: Callable[[str], None], digest_format: str = "text") -> str:
    """Run the demo in ``workdir``; returns the digest it printed."""
    workdir.mkdir(parents=True, exist_ok=True)
    db = f"sqlite:///{workdir / 'demo.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRESHNESS_")}
    for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        env.pop(proxy, None)  # the simulated web is reached directly, never through a proxy

    def freshness(*args: str, now: dt.datetime | None = None) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "monitor.app.cli", "--db", db, *args],
            cwd=workdir,
            env={**env, "FRESHNESS_NOW": now.isoformat()} if now else env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"`freshness {args[0]}` failed in the demo: "
                f"{(result.stderr or result.stdout).strip().splitlines()[-1:]}"
            )
        return result

    with SimWeb(load_scenarios(DEMO_SCENARIOS), pages_dir=PAGES_DIR) as web:
        directory = workdir / "directory.yaml"
        directory.write_text(yaml.safe_dump(demo_directory(web), sort_keys=False))
        say(f"The simulated web is up on 127.0.0.1:{web.port}; the demo store is {db}.")
        say(freshness("import", str(directory)).stdout.strip())
        for day, state in enumerate(("before", "after")):
            web.set_state(state)
            now = START + dt.timedelta(days=day)
            settings = {
                **DEMO_SETTINGS,
                "FRESHNESS_NOW": now.isoformat(),
                "FRESHNESS_HOSTS": ",".join(f"{h}={ip}" for h, ip in web.hosts().items()),
            }
            args = [arg for k, v in settings.items() for arg in ("-s", f"{k}={v}")]
            say(f"\n== The {state!r} pass ({now:%Y-%m-%d}) ==")
            say(freshness("run", *args).stdout.rstrip())
        since = (START - dt.timedelta(minutes=1)).isoformat()
        digest = freshness("digest", "--since", since, "--format", digest_format, now=now).stdout
    say("\n== The digest a curator would receive ==\n")
    say(digest)
    return digest

"""Helpers for end-to-end crawls: a directory over the simulated web, and the real CLI."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml

from monitor.simweb import SimWeb

T0 = dt.datetime(2026, 11, 1, 3, 0, tzinfo=dt.UTC)


def directory_yaml(web: SimWeb, orgs: Iterable[tuple[str, str, str | None]]) -> str:
    """(id, host, groups path or None) → a directory file pointing at the simulated web."""
    entries = []
    for org_id, host, groups_path in orgs:
        entry: dict[str, Any] = {
            "id": org_id,
            "name": org_id.replace("-", " ").title(),
            "url": web.url(host, "/"),
        }
        if groups_path:
            entry["groups_url"] = web.url(host, groups_path)
        entries.append(entry)
    return yaml.safe_dump({"organisations": entries}, sort_keys=False)


class Monitor:
    """Drive the real `freshness` command against a simulated web, with the clock injected."""

    def __init__(
        self,
        web: SimWeb,
        freshness: Callable[..., subprocess.CompletedProcess[str]],
        tmp_path: Path,
        db_url: str | None = None,
    ) -> None:
        self.web = web
        self.freshness = freshness
        self.db = db_url or f"sqlite:///{tmp_path / 'freshness.db'}"
        self.tmp_path = tmp_path
        self.offline = False

    def settings(self, now: dt.datetime, extra: dict[str, str] | None = None) -> list[str]:
        hosts = "" if self.offline else ",".join(f"{h}={ip}" for h, ip in self.web.hosts().items())
        values = {
            "FRESHNESS_HOSTS": hosts,
            "FRESHNESS_HOSTS_ONLY": "True",
            "FRESHNESS_NOW": now.isoformat(),
            "DOWNLOAD_TIMEOUT": "4",  # slow.test answers after 2 s
            "RETRY_TIMES": "1",
            "DOWNLOAD_DELAY": "0",
            "AUTOTHROTTLE_START_DELAY": "0",
            "FRESHNESS_OUTAGE_MIN_HOSTS": "5",
            **(extra or {}),
        }
        return [arg for name, value in values.items() for arg in ("-s", f"{name}={value}")]

    def load(self, orgs: Iterable[tuple[str, str, str | None]]) -> None:
        self.load_yaml(directory_yaml(self.web, orgs))

    def load_yaml(self, text: str) -> None:
        """Import a directory file written out in full (for fields `load` does not write)."""
        path = self.tmp_path / "directory.yaml"
        path.write_text(text)
        self.freshness("--db", self.db, "import", str(path), check=True)

    def run(
        self, now: dt.datetime, *args: str, extra: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return self.freshness(
            "--db", self.db, "run", *args, *self.settings(now, extra), check=True, timeout=180
        )

    def check(self, target: str, now: dt.datetime) -> list[dict[str, Any]]:
        result = self.freshness(
            "--db", self.db, "check", target, "--format", "json", *self.settings(now), check=True
        )
        return json.loads(result.stdout)

    def findings(self, *, everything: bool = False) -> list[dict[str, Any]]:
        args = ["--db", self.db, "findings", "--format", "json"] + (["--all"] if everything else [])
        return json.loads(self.freshness(*args, check=True).stdout)

    def runs(self) -> list[dict[str, Any]]:
        from storage.db import Store

        store = Store(self.db)
        try:
            with store.transaction() as repo:
                return [{"id": r.id, "status": r.status, **r.summary} for r in repo.runs()]
        finally:
            store.close()

"""A py-spy profile of one more first pass, and where its samples go (``--profile``)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.contenders import T0, clean_env, freshness_command


def profile_pass(rundir: Path, db: Path, n: int) -> dict[str, Any]:
    """One more first pass, on a fresh import, under py-spy (not timed with the others)."""
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if py_spy is None:
        return {"skipped": "py-spy is not installed (pip install py-spy)"}
    raw = rundir / f"profile-{n}.txt"
    cmd = [
        py_spy,
        "record",
        "--format",
        "raw",
        "--rate",
        "100",
        "--subprocesses",
        "--output",
        str(raw),
        "--",
        *freshness_command(),
        "--db",
        f"sqlite:///{db}",
        "run",
        "-s",
        f"FRESHNESS_NOW={T0.isoformat()}",
    ]
    result = subprocess.run(cmd, cwd=rundir, env=clean_env(), capture_output=True, text=True)
    if result.returncode != 0 or not raw.exists():
        return {"error": (result.stderr or result.stdout)[-2000:]}
    summary = summarise_profile(raw.read_text().splitlines())
    summary["raw"] = str(raw)  # collapsed stacks, megabytes: left in the work directory
    return summary


# Where a sample's time goes, by the first matching frame from the innermost outwards.
PROFILE_BUCKETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "HTML parsing and extraction (lxml, monitor/pages/)",
        (
            "monitor/pages/",
            "lxml/",
            "tldextract/",
        ),
    ),
    (
        "classification and judgement (monitor/judging/, runs/lifecycle, telling/)",
        (
            "monitor/judging/",
            "monitor/runs/lifecycle.py",
            "monitor/app/service.py",
            "monitor/telling/",
            "rapidfuzz/",
        ),
    ),
    ("storage (SQLAlchemy, sqlite3, storage/)", ("sqlalchemy/", "storage/", "sqlite3/")),
    ("Scrapy and Twisted (engine, downloader, HTTP)", ("scrapy/", "twisted/", "asyncio/")),
    ("startup and imports", ("<frozen importlib", "importlib/")),
)


def summarise_profile(lines: list[str]) -> dict[str, Any]:
    """Self and inclusive sample shares from py-spy's collapsed stacks."""
    total = 0
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    buckets: dict[str, int] = {}
    idle = 0
    for line in lines:
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        leaf = frames[-1]
        own[leaf] = own.get(leaf, 0) + count
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + count
        if any(f.startswith(("select ", "poll ", "epoll", "_run_once")) for f in frames[-2:]) or (
            "selectors.py" in leaf or "epollreactor" in leaf
        ):
            idle += count
        bucket = "other"
        for frame in reversed(frames):
            found = next(
                (name for name, keys in PROFILE_BUCKETS if any(k in frame for k in keys)), None
            )
            if found:
                bucket = found
                break
        buckets[bucket] = buckets.get(bucket, 0) + count

    def top(table: dict[str, int], k: int) -> list[dict[str, Any]]:
        ranked = sorted(table.items(), key=lambda item: -item[1])[:k]
        return [{"frame": f, "share": round(c / total, 4)} for f, c in ranked]

    return {
        "samples": total,
        "idle_share": round(idle / total, 4) if total else None,
        "buckets": {k: round(v / total, 4) for k, v in sorted(buckets.items(), key=lambda i: -i[1])}
        if total
        else {},
        "top_self": top(own, 25) if total else [],
        "top_inclusive": top(inclusive, 40) if total else [],
    }

"""The contenders, as the benchmark runs them: freshness, the bare Scrapy spider, LinkChecker.

freshness runs from a snapshot of its committed code (``snapshot_source``), in an
environment cleaned of FRESHNESS_ settings and proxies; each pass, crawl and check is measured
with ``bench.procs.measure`` and gets the requests nginx logged for it.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench import web
from bench.procs import measure, tail

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
LINKCHECKER_VENV = BENCH / ".venv-linkchecker"
T0 = dt.datetime(2026, 11, 1, 3, 0, tzinfo=dt.UTC)


# ------------------------------------------------------------------------------ the snapshot

SOURCE: dict[str, Any] = {"path": None}  # the snapshot of freshness that is measured


def snapshot_source(workdir: Path) -> dict[str, Any]:
    """Copy freshness as committed (HEAD) to ``workdir/src``, and run that, not the working tree.

    Others may edit the package while a benchmark runs for an hour; every contender must run
    the same code, and the results must say which.
    """

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()

    packages = ("monitor", "spiders", "storage")
    try:
        commit = git("rev-parse", "HEAD")
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "path": None, "note": "not a git checkout: the working tree ran"}
    dest = workdir / "src"
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", commit, *packages], cwd=ROOT, capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    dirty = git("status", "--porcelain", "--", *packages).splitlines()
    return {
        "commit": commit,
        "subject": git("log", "-1", "--format=%s", commit),
        "path": str(dest),
        "uncommitted_changes_not_measured": dirty,
    }


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without FRESHNESS_ settings or proxies, plus ``extra``; the measured
    snapshot of freshness comes first on the path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRESHNESS_")}
    paths = [p for p in (SOURCE.get("path"), str(ROOT)) if p]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", "NO_PROXY"):
        env.pop(name, None)
    env.update(extra)
    return env


def freshness_command() -> list[str]:
    exe = shutil.which("freshness", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "monitor.app.cli"]


def freshness_defaults() -> dict[str, Any]:
    import spiders.settings as s

    names = (
        "CONCURRENT_REQUESTS",
        "CONCURRENT_REQUESTS_PER_DOMAIN",
        "DOWNLOAD_DELAY",
        "AUTOTHROTTLE_ENABLED",
        "AUTOTHROTTLE_START_DELAY",
        "AUTOTHROTTLE_TARGET_CONCURRENCY",
        "ROBOTSTXT_OBEY",
        "RETRY_TIMES",
        "DOWNLOAD_TIMEOUT",
        "FRESHNESS_SOFT404_PROBE",
        "FRESHNESS_DISCOVERY",
        "FRESHNESS_DISCOVERY_PAGES",
        "FRESHNESS_DISCOVERY_SITES",
        "FRESHNESS_BATCH_SIZE",
        "FRESHNESS_PROCESSES",
        "FRESHNESS_PROCESSES_MIN_ORGS",
    )
    return {name: getattr(s, name, None) for name in names}


# --------------------------------------------------------------------------------- freshness


def import_directory(built: web.BuiltWeb, rundir: Path, db: Path, timeout: float) -> dict[str, Any]:
    """``freshness import`` of the web's directory into a new store ``db``, measured."""
    imported = measure(
        [
            *freshness_command(),
            "--db",
            f"sqlite:///{db}",
            "import",
            str(built.prefix / "directory.yaml"),
        ],
        cwd=rundir,
        env=clean_env(),
        stdout_path=rundir / "import.txt",
        timeout=timeout,
    )
    if imported["exit_code"] != 0:
        raise RuntimeError(f"freshness import failed:\n{tail(imported['stderr'])}")
    return imported


def store_bytes(db: Path) -> int:
    return sum(
        p.stat().st_size
        for p in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm"))
        if p.exists()
    )


def store_census(db: Path) -> dict[str, Any]:
    """What the passes recorded: observations per run and category, findings per kind."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            runs = {}
            for run_id, status in conn.execute("SELECT id, status FROM runs ORDER BY id"):
                categories = dict(
                    conn.execute(
                        "SELECT coalesce(category, 'none'), count(*) FROM observations "
                        "WHERE run_id = ? GROUP BY 1 ORDER BY 1",
                        (run_id,),
                    ).fetchall()
                )
                runs[str(run_id)] = {
                    "status": status,
                    "observations": sum(categories.values()),
                    "categories": categories,
                }
            findings = dict(
                conn.execute("SELECT kind, count(*) FROM findings GROUP BY 1 ORDER BY 1")
            )
        return {"runs": runs, "findings": findings}
    except sqlite3.Error as exc:
        return {"error": str(exc)}


def freshness_pass(
    rundir: Path,
    db: Path,
    now: dt.datetime,
    nginx: web.Nginx,
    timeout: float,
    label: str,
    overrides: tuple[str, ...] = (),
) -> dict[str, Any]:
    cmd = [
        *freshness_command(),
        "--db",
        f"sqlite:///{db}",
        "run",
        "-s",
        f"FRESHNESS_NOW={now.isoformat()}",
    ]
    for override in overrides:
        cmd += ["-s", override]
    before = nginx.log_position()
    cpu_before = nginx.cpu_seconds()
    figures = measure(
        cmd, cwd=rundir, env=clean_env(), stdout_path=rundir / f"{label}.txt", timeout=timeout
    )
    figures["server"] = nginx.traffic(before)
    figures["server_cpu_s"] = round(nginx.cpu_seconds() - cpu_before, 2)
    figures["store_bytes"] = store_bytes(db)
    figures["command"] = shlex.join(cmd)
    if figures["exit_code"] != 0:
        figures["error"] = tail(figures["stderr"])
    return figures


def write_freshness_config(rundir: Path, hosts: dict[str, str]) -> Path:
    """freshness.toml in the run's directory: the host map is too long for ``-s``."""
    lines = ["[settings]", "FRESHNESS_HOSTS_ONLY = true", "", "[settings.FRESHNESS_HOSTS]"]
    lines += [f'"{host}" = "{ip}"' for host, ip in sorted(hosts.items())]
    path = rundir / "freshness.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def fresh_first_pass(
    base: Path,
    built: web.BuiltWeb,
    rundir: Path,
    nginx: web.Nginx,
    timeout: float,
    name: str,
    overrides: tuple[str, ...] = (),
) -> dict[str, Any]:
    """One more first pass, on a fresh store in ``base/name``, with ``rundir``'s config."""
    workdir, db = fresh_store(base, built, rundir, name)
    return freshness_pass(workdir, db, T0, nginx, timeout, "first", overrides)


def fresh_store(base: Path, built: web.BuiltWeb, rundir: Path, name: str) -> tuple[Path, Path]:
    """``base/name`` with ``rundir``'s config and a new store holding the web's directory."""
    workdir = base / name
    workdir.mkdir(exist_ok=True)
    shutil.copy(rundir / "freshness.toml", workdir / "freshness.toml")
    db = workdir / "freshness.db"
    subprocess.run(
        [*freshness_command(), "--db", f"sqlite:///{db}", "import"]
        + [str(built.prefix / "directory.yaml")],
        cwd=workdir,
        env=clean_env(),
        check=True,
        capture_output=True,
    )
    return workdir, db


# --------------------------------------------------------------------------------- bare Scrapy


def run_bare(
    base: Path, nginx: web.Nginx, timeout: float, *, polite: bool, label: str | None = None
) -> dict[str, Any]:
    label = label or ("bare-polite" if polite else "bare")
    workdir = base / label
    workdir.mkdir(exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "bench.bare_spider",
        "--urls",
        str(base / "urls.txt"),
        "--hosts",
        str(base / "hosts.json"),
        "--stats",
        str(workdir / "stats.json"),
    ] + (["--polite"] if polite else [])
    before = nginx.log_position()
    cpu_before = nginx.cpu_seconds()
    env = clean_env()
    figures = measure(cmd, cwd=workdir, env=env, stdout_path=workdir / "out.txt", timeout=timeout)
    figures["server"] = nginx.traffic(before)
    figures["server_cpu_s"] = round(nginx.cpu_seconds() - cpu_before, 2)
    figures["command"] = shlex.join(cmd)
    try:
        figures["spider"] = json.loads((workdir / "stats.json").read_text())
    except (OSError, ValueError):
        figures["spider"] = None
        figures["error"] = tail(figures["stderr"])
    return figures


# --------------------------------------------------------------------------------- LinkChecker


def linkchecker_exe() -> Path:
    return LINKCHECKER_VENV / "bin" / "linkchecker"


def linkchecker_version() -> str | None:
    python = LINKCHECKER_VENV / "bin" / "python"
    if not python.exists():
        return None
    result = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('linkchecker'))"],
        capture_output=True,
        text=True,
    )
    return result.stdout.strip() or None


def ensure_linkchecker(*, install: bool) -> Path | None:
    """LinkChecker in its own virtualenv (never in the project's); None if unavailable."""
    if linkchecker_exe().exists():
        return linkchecker_exe()
    if not install:
        return None
    subprocess.run([sys.executable, "-m", "venv", str(LINKCHECKER_VENV)], check=True)
    subprocess.run(
        [str(LINKCHECKER_VENV / "bin" / "pip"), "install", "-q", "linkchecker"], check=True
    )
    return linkchecker_exe()


LINKCHECKER_RC = """[checking]
threads={threads}
recursionlevel=0
timeout=30
[output]
status=0
"""


def run_linkchecker(
    exe: Path, urls: list[str], workdir: Path, nginx: web.Nginx, timeout: float
) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    workdir.chmod(0o755)  # LinkChecker drops root privileges to nobody
    # Comparable concurrency: as many threads as the measured freshness's CONCURRENT_REQUESTS.
    threads = int(freshness_defaults()["CONCURRENT_REQUESTS"])
    rc = workdir / "linkcheckerrc"
    rc.write_text(LINKCHECKER_RC.format(threads=threads))
    rc.chmod(0o644)
    proxy = f"http://{web.PROXY_ADDRESS}:{web.PROXY_PORT}"
    cmd = [
        str(exe),
        "-f",
        str(rc),
        "-t",
        str(threads),
        "-r",
        "0",
        "--no-status",
        "-v",
        "-o",
        "csv",
        "--stdin",
    ]
    env = clean_env(http_proxy=proxy, HTTP_PROXY=proxy, XDG_CONFIG_HOME=str(workdir))
    before = nginx.log_position()
    cpu_before = nginx.cpu_seconds()
    figures = measure(
        cmd,
        cwd=workdir,
        env=env,
        stdin_text="\n".join(urls) + "\n",
        stdout_path=workdir / "linkchecker.csv",
        timeout=timeout,
    )
    figures["server"] = nginx.traffic(before)
    figures["server_cpu_s"] = round(nginx.cpu_seconds() - cpu_before, 2)
    text = Path(figures["stdout"]).read_text(errors="replace")
    rows = list(
        csv.DictReader((ln for ln in text.splitlines() if not ln.startswith("#")), delimiter=";")
    )
    figures["urls_checked"] = len(rows)
    figures["urls_valid"] = sum(1 for row in rows if row.get("valid") == "True")
    figures["command"] = shlex.join(cmd) + " < urls.txt"
    figures["threads"] = threads
    figures["via_proxy"] = proxy
    return figures

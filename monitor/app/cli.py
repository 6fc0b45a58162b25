"""The ``freshness`` command line. Thin: each command parses options, calls one function in
``monitor.app.service`` (or ``monitor.crawl.process``), and prints.

Errors a user can fix are one line on stderr and a non-zero exit; ``-v`` shows the traceback.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import functools
import json
import os
import sys
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from storage.records import FINDING_KINDS

CONFIG_NAME = "freshness.toml"
EXIT_USAGE = 2
EXIT_FAILURE = 1


class Context:
    """What every command shares: the config file, the database URL and verbosity."""

    def __init__(self, db: str | None, config: Path | None, verbose: bool) -> None:
        self._store: Any = None
        self.verbose = verbose
        self.config_path = config
        self.config = _read_config(config)
        self.db_url = (
            db
            or os.environ.get("FRESHNESS_DB")
            or self.config.get("db")
            or self.config.get("settings", {}).get("FRESHNESS_DB")
            or "sqlite:///freshness.db"
        )

    def store(self) -> Any:
        """The store, opened (and migrated) once per command."""
        from storage.db import Store

        if self._store is None:
            self._store = Store(self.db_url)
        return self._store

    def now(self) -> dt.datetime:
        from monitor.judging.policy import clock_from_settings

        return clock_from_settings({"FRESHNESS_NOW": os.environ.get("FRESHNESS_NOW", "")})

    def settings(self, overrides: tuple[str, ...] = (), extra: dict[str, Any] | None = None) -> Any:
        # Scrapy is imported only by the process that crawls (monitor.crawl.layers says why).
        from monitor.crawl.layers import LayeredSettings

        cmdline = dict(_parse_overrides(overrides))
        project = dict(self.config.get("settings", {}))
        project["FRESHNESS_DB"] = self.db_url
        if os.environ.get("FRESHNESS_NOW") and "FRESHNESS_NOW" not in cmdline:
            project["FRESHNESS_NOW"] = os.environ["FRESHNESS_NOW"]
        if not self.verbose and "LOG_LEVEL" not in cmdline:
            project.setdefault("LOG_LEVEL", "WARNING")
        cmdline.update(extra or {})
        return LayeredSettings(project, cmdline)


def _read_config(path: Path | None) -> dict[str, Any]:
    if path is None:
        default = Path(CONFIG_NAME)
        if not default.exists():
            return {}
        path = default
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise click.UsageError(f"config file {path} does not exist") from None
    except OSError as exc:  # a folder, or not readable
        raise click.UsageError(f"config file: {describe_os_error(exc)}") from None
    except tomllib.TOMLDecodeError as exc:
        raise click.UsageError(f"config file {path} is not valid TOML: {exc}") from None
    unknown = set(data) - {"db", "notify", "settings", "routes"}
    if unknown:
        raise click.UsageError(
            f"config file {path}: unknown top-level key(s) {', '.join(sorted(unknown))}; "
            "expected db, notify, routes and [settings]"
        )
    return data


def _parse_overrides(values: tuple[str, ...]) -> list[tuple[str, str]]:
    out = []
    for value in values:
        name, sep, setting = value.partition("=")
        if not sep or not name.strip():
            raise click.UsageError(f"-s takes NAME=VALUE, got {value!r}")
        out.append((name.strip(), setting))
    return out


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the errors a user can fix into one clear line and a non-zero exit."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        verbose = bool(ctx.obj and ctx.obj.verbose)
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            if not verbose or isinstance(exc, BrokenPipeError):
                _exit_for(exc)  # exits when a user can fix it
            raise

    return wrapper


def _exit_for(exc: Exception) -> None:
    """One clear line and a non-zero exit for the errors a user can fix; None for the rest.

    The error classes are imported only once something failed: importing SQLAlchemy and the
    store before every command would hold up ``freshness run`` starting its crawlers.
    """
    from sqlalchemy.exc import OperationalError

    from monitor.directory.format import DirectoryError
    from monitor.errors import FreshnessError
    from monitor.judging.policy import PolicyError
    from storage.db import StoreError
    from storage.repository import NotFound

    if isinstance(exc, DirectoryError):
        # Several lines on purpose: every problem in the file, each with its line number.
        message = str(exc)
    elif isinstance(exc, OperationalError):
        # psycopg's connection errors run to several lines (a hint per address tried);
        # the first says what failed and where, which is what fits on one line.
        message = f"database error: {first_line(str(exc.orig))}"
    elif isinstance(exc, StoreError):
        message = first_line(str(exc))
    elif isinstance(exc, NotFound):
        message = str(exc.args[0] if exc.args else exc)
    elif isinstance(exc, FreshnessError | PolicyError | ValueError):
        message = str(exc)
    elif isinstance(exc, BrokenPipeError):
        # `freshness findings --format json | head`: the reader has all it wanted. Quiet,
        # as for any Unix filter, and stdout pointed away so exiting does not complain too.
        with contextlib.suppress(OSError, ValueError):  # stdout may not be a real file
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(EXIT_FAILURE)
    elif isinstance(exc, OSError):
        # A file we were told to read or write (export, digest -o, apply, import...):
        # name the path and what to do, not the errno and a traceback.
        message = describe_os_error(exc)
    else:
        return
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_FAILURE)


def first_line(message: str) -> str:
    """The first non-blank line of a message; the whole of it when it has only one."""
    for line in message.splitlines():
        if line.strip():
            return line.strip()
    return message.strip()


def describe_os_error(exc: OSError) -> str:
    """One line for a failed file operation: the path, what is wrong, and what to do."""
    if exc.filename is None:  # not about a file (a socket, say): its own words will do
        return first_line(exc.strerror or str(exc))
    path = Path(os.fsdecode(exc.filename))
    folder = path.parent
    if isinstance(exc, FileNotFoundError):
        if not folder.is_dir():
            return (
                f"cannot use {path}: the folder {folder} does not exist; "
                "check the path or create the folder"
            )
        return f"{path} does not exist; check the path"
    if isinstance(exc, PermissionError):
        return f"cannot use {path}: permission denied; check its permissions or pick another path"
    if isinstance(exc, IsADirectoryError):
        return f"{path} is a folder; give a file name"
    if isinstance(exc, NotADirectoryError):
        return f"cannot use {path}: part of that path is a file, not a folder"
    return f"cannot use {path}: {(exc.strerror or str(exc)).lower()}"


def require_file(path: str | Path) -> None:
    """Fail in one line when an input file is missing, before the store is even opened."""
    if not Path(path).exists():
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))
    if Path(path).is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))


settings_option = click.option(
    "-s",
    "--set",
    "overrides",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a Scrapy or FRESHNESS_ setting (repeatable), e.g. -s DOWNLOAD_TIMEOUT=10.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", metavar="URL", help="Database URL or SQLite path [env FRESHNESS_DB].")
@click.option(
    "--config",
    type=click.Path(path_type=Path),
    help=f"TOML config file (default: ./{CONFIG_NAME} if present).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log more, and show tracebacks on errors.")
@click.version_option("0.1.0", prog_name="freshness")
@click.pass_context
def cli(ctx: click.Context, db: str | None, config: Path | None, verbose: bool) -> None:
    """Keep a curated directory of organisations true.

    \b
    Example:
      freshness import directory.yaml && freshness run && freshness findings
    """
    ctx.obj = Context(db, config, verbose)


@cli.command("import")
@click.argument("source")
@click.pass_obj
@handle_errors
def import_cmd(obj: Context, source: str) -> None:
    """Load a directory from a YAML, CSV or HTML file, or an HTML page's URL.

    Everything is validated first: one bad entry and nothing is imported. Re-importing
    updates organisations by id; ones no longer listed are marked inactive, history kept.

    \b
    Example:
      freshness import directory.yaml
      freshness import https://example.org/peer-support-directory.html
    """
    from monitor.app.service import import_directory

    fetch = _fetch_page if source.startswith(("http://", "https://")) else None
    if fetch is None:
        require_file(source)
    diff = import_directory(obj.store(), source, now=obj.now(), fetch=fetch)
    for label, ids in (("added", diff.added), ("changed", diff.changed), ("removed", diff.removed)):
        for org_id in ids:
            click.echo(f"{label:8} {org_id}")
    click.echo(
        f"{len(diff.added)} added, {len(diff.changed)} changed, {len(diff.removed)} removed "
        f"(marked inactive), {len(diff.unchanged)} unchanged"
    )


def _fetch_page(url: str) -> tuple[str, str]:
    """Fetch one directory page for `freshness import URL`, honouring the proxy variables."""
    import urllib.error
    import urllib.request

    from spiders.middlewares import VERSION

    request = urllib.request.Request(url, headers={"User-Agent": f"freshness/{VERSION}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (http(s) only)
            raw = response.read(5 * 1024 * 1024)
            charset = response.headers.get_content_charset() or "utf-8"
            return response.geturl(), raw.decode(charset, errors="replace")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise click.ClickException(f"cannot fetch {url}: {exc}") from exc


@cli.command("export")
@click.argument("output", required=False, type=click.Path(path_type=Path))
@click.pass_obj
@handle_errors
def export_cmd(obj: Context, output: Path | None) -> None:
    """Write the directory as YAML, to OUTPUT or standard output.

    Accepted findings are applied (see `freshness accept`), and each change is listed on
    standard error. Export then import is lossless for every field.

    \b
    Example:
      freshness export directory.yaml
    """
    from monitor.app.service import export_with_decisions

    text, plan = export_with_decisions(obj.store(), now=obj.now())
    if output is not None:
        # Written before the changes are listed, so a path that fails leaves one line.
        output.write_text(text, encoding="utf-8")
    for change in plan.changes:
        click.echo(f"applied: {change}", err=True)
    for skipped in plan.skipped:
        click.echo(str(skipped), err=True)
    if output is None:
        click.echo(text, nl=False)
    else:
        click.echo(f"wrote {output}", err=True)


@cli.command("orgs")
@click.pass_obj
@handle_errors
def orgs_cmd(obj: Context) -> None:
    """List organisations with their last check and state.

    \b
    Example:
      freshness orgs
    """
    from monitor.app.service import list_organisations

    table = Table("id", "name", "url", "last checked", "state", "open findings")
    for org in list_organisations(obj.store()):
        checked = org.last_checked_at.strftime("%Y-%m-%d %H:%M") if org.last_checked_at else "never"
        table.add_row(
            org.id, org.entry.name, org.entry.url, checked, org.state, str(org.open_findings)
        )
    Console(width=160).print(table)


KINDS = FINDING_KINDS


@cli.command("findings")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.option("--kind", type=click.Choice(KINDS), help="Only this kind.")
@click.option("--org", "org_id", metavar="ID", help="Only this organisation.")
@click.option("--all", "everything", is_flag=True, help="Include resolved and decided findings.")
@click.pass_obj
@handle_errors
def findings_cmd(
    obj: Context, fmt: str, kind: str | None, org_id: str | None, everything: bool
) -> None:
    """List open findings, newest first (the JSON form is a stable contract).

    \b
    Example:
      freshness findings --format json --kind dead_link
    """
    from monitor.app.service import list_findings

    findings = list_findings(obj.store(), kind=kind, org_id=org_id, everything=everything)
    if fmt == "json":
        click.echo(json.dumps([f.to_json() for f in findings], indent=2, ensure_ascii=False))
        return
    table = Table("id", "org", "kind", "status", "confidence", "last seen", "summary")
    for f in findings:
        table.add_row(
            str(f.id),
            f.org_id,
            f.kind,
            f.status,
            f"{f.confidence:.2f}",
            f.last_seen.strftime("%Y-%m-%d %H:%M"),
            f.summary,
        )
    Console(width=200).print(table)


@cli.group("db")
def db_group() -> None:
    """Database maintenance.

    \b
    Example:
      freshness db upgrade
    """


@db_group.command("upgrade")
@click.pass_obj
@handle_errors
def db_upgrade_cmd(obj: Context) -> None:
    """Apply every pending migration (also done automatically on first use).

    \b
    Example:
      freshness --db postgresql://freshness@localhost/freshness db upgrade
    """
    from storage.db import Store

    store = Store(obj.db_url, upgrade=False)
    store.upgrade()
    click.echo(f"{store.masked_url} is at revision {store.current_revision()}")


EXIT_FAIL_ON = 3  # --fail-on matched: the pass completed and found what was asked about
EXIT_LOCKED = 75  # EX_TEMPFAIL: another run holds the lock; cron may simply try again later


@cli.command("run")
@click.option("--org", "orgs", multiple=True, metavar="ID", help="Only these organisations.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
@click.option("--wait", is_flag=True, help="If another run holds the lock, wait for it.")
@click.option("--notify", multiple=True, metavar="URL", help="Send the digest here (repeatable).")
@click.option(
    "--redis",
    "redis_url",
    metavar="URL",
    help="Queue the due organisations in Redis for `freshness worker`s, wait, then judge.",
)
@click.option(
    "--fail-on",
    "fail_on",
    metavar="KINDS",
    help="Exit 3 when findings of these kinds are open after the run (comma-separated; "
    "'inconclusive' fails an inconclusive run), e.g. --fail-on dead_link,moved.",
)
@settings_option
@click.pass_obj
@handle_errors
def run_cmd(
    obj: Context,
    orgs: tuple[str, ...],
    quiet: bool,
    wait: bool,
    fail_on: str | None,
    notify: tuple[str, ...],
    redis_url: str | None,
    overrides: tuple[str, ...],
) -> None:
    """Check every active organisation that is due: crawl, record, judge.

    Exits 0 when the pass completed, whatever it found; 1 on an operational failure (one
    line says why); 3 when --fail-on matched; 75 when another run holds the lock.

    \b
    Example:
      freshness run
      freshness run --org nursegroups -s DOWNLOAD_TIMEOUT=10
      freshness run --quiet --fail-on dead_link   # from cron or CI
      freshness --db postgresql://monitor@db/freshness run --redis redis://queue:6379/0
    """
    from monitor.runs.shards import WarmCrawlers

    fail_kinds = _parse_fail_on(fail_on)
    extra = {"FRESHNESS_ORGS": list(orgs)} if orgs else {}
    settings = obj.settings(overrides, extra)
    # First of all, before this process imports SQLAlchemy and plans the run (see shards).
    warm = WarmCrawlers.for_run(settings) if not redis_url else WarmCrawlers(0)

    from monitor.app.service import list_findings
    from monitor.errors import RunLocked
    from monitor.runs.distributed import run_distributed
    from monitor.runs.local import run_pass

    show_progress = not quiet and sys.stderr.isatty()
    try:
        with warm, _progress(show_progress) as progress:
            if redis_url:
                summary = run_distributed(
                    obj.store(), settings, redis_url, wait=wait, progress=progress
                )
            else:
                summary = run_pass(obj.store(), settings, wait=wait, progress=progress, warm=warm)
    except RunLocked as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_LOCKED)
    _notify_after_run(obj, notify, overrides, quiet)
    if summary is None:
        if not quiet:
            click.echo("nothing is due; no organisation was checked")
        return
    if summary["status"] == "inconclusive":
        click.echo(f"run {summary['run_id']} inconclusive: {summary['outage']}", err=True)
    if not quiet:
        _print_summary(summary)
    if summary["status"] == "interrupted":
        click.echo(
            f"error: run {summary['run_id']} was interrupted ({summary.get('finish_reason')}); "
            f"{summary['observations']} URLs were recorded, the rest stay due",
            err=True,
        )
        sys.exit(EXIT_FAILURE)
    if fail_kinds:
        matched = sorted(
            {f.kind for f in list_findings(obj.store()) if f.kind in fail_kinds}
            | ({"inconclusive"} if summary["status"] == "inconclusive" else set()) & fail_kinds
        )
        if matched:
            if not quiet:
                click.echo(f"--fail-on: open {', '.join(matched)}", err=True)
            sys.exit(EXIT_FAIL_ON)


def _parse_fail_on(value: str | None) -> set[str]:
    if not value:
        return set()
    kinds = {k.strip() for k in value.split(",") if k.strip()}
    unknown = kinds - set(KINDS) - {"inconclusive"}
    if unknown:
        raise click.UsageError(
            f"--fail-on: unknown kind(s) {', '.join(sorted(unknown))}; "
            f"choose from {', '.join(KINDS)}, inconclusive"
        )
    return kinds


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[int, int, str], None] | None]:
    """A Rich progress bar on an interactive terminal; nothing under cron."""
    if not enabled:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        TextColumn("[bold]checking"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("organisations"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[host]}"),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task("run", total=None, host="")

        def update(done: int, total: int, host: str) -> None:
            bar.update(task, completed=done, total=total or None, host=host)

        yield update


def _print_summary(summary: dict[str, Any]) -> None:
    table = Table(
        "run",
        "status",
        "organisations",
        "URLs",
        "findings opened",
        "resolved",
        "unverifiable",
        "took",
    )
    table.add_row(
        str(summary["run_id"]),
        summary["status"],
        str(summary["organisations"]),
        str(summary["observations"]),
        str(len(summary["opened"])),
        str(len(summary["resolved"])),
        str(summary["unverifiable"]),
        f"{summary.get('duration_s', 0):.1f} s",
    )
    Console(width=120).print(table)


@cli.command("demo")
@click.option(
    "--workdir",
    type=click.Path(path_type=Path),
    help="Keep the demo's store and directory here (default: a temporary folder).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "markdown", "html", "json"]), default="text"
)
@handle_errors
def demo_cmd(workdir: Path | None, fmt: str) -> None:
    """See every kind of finding in under a minute: no network, nothing to configure.

    Starts a simulated web on loopback, loads a demo directory, runs a "before" and an
    "after" pass, and prints the digest a curator would receive.

    \b
    Example:
      freshness demo
    """
    import tempfile

    from monitor.simweb.demo import run_demo

    if workdir is not None:
        run_demo(workdir, say=click.echo, digest_format=fmt)
        store = f"sqlite:///{workdir / 'demo.db'}"
        click.echo(f"Next: `freshness --db {store} review`, then accept or dismiss by id.")
        return
    with tempfile.TemporaryDirectory(prefix="freshness-demo-") as tmp:
        run_demo(Path(tmp), say=click.echo, digest_format=fmt)


@cli.command("worker")
@click.option("--redis", "redis_url", required=True, metavar="URL", help="The queue's Redis.")
@click.option(
    "--idle",
    type=int,
    default=None,
    help="Exit after the queue has been empty this many seconds, once no other worker's "
    "organisation could still come back to it [FRESHNESS_WORKER_IDLE, 30].",
)
@settings_option
@click.pass_obj
@handle_errors
def worker_cmd(obj: Context, redis_url: str, idle: int | None, overrides: tuple[str, ...]) -> None:
    """Crawl organisations queued by `freshness run --redis`; exit when the queue is idle.

    Run as many as you like, on many machines, all with the same --db (PostgreSQL) and
    --redis. A worker killed mid-crawl loses nothing: its organisations are queued again
    once their lease (FRESHNESS_REDIS_LEASE) runs out, and an idle worker waits for them.

    \b
    Example:
      freshness --db postgresql://monitor@db/freshness worker --redis redis://queue:6379/0
    """
    from monitor.crawl.process import run_worker

    settings = obj.settings(overrides)
    wait = idle if idle is not None else settings.getint("FRESHNESS_WORKER_IDLE")
    stats = run_worker(settings, redis_url, idle=wait)
    click.echo(
        f"worker done: {stats.get('item_scraped_count', 0)} items, "
        f"{stats.get('downloader/request_count', 0)} requests",
        err=True,
    )


@cli.command("check")
@click.argument("target")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@settings_option
@click.pass_obj
@handle_errors
def check_cmd(obj: Context, target: str, fmt: str, overrides: tuple[str, ...]) -> None:
    """Crawl one organisation (by id) or one ad-hoc URL now, and show what was seen.

    An organisation's check is recorded like a run; an ad-hoc URL leaves no trace.

    \b
    Example:
      freshness check nursegroups
      freshness check https://example.org/ --format json
    """
    from monitor.app.service import check

    rows = check(obj.store, target, obj.settings(overrides))
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False, default=str))
        return
    table = Table("url", "redirect chain", "category", "evidence")
    for row in rows:
        table.add_row(row["url"], row["chain"], row["category"], "\n".join(row["evidence"]))
    Console(width=200).print(table)


# -- digests, notifications and the review loop -------------------------------------------------

NOTIFY_HELP = (
    "Send digests here (repeatable): an Apprise URL, TAG=URL or an Apprise config file; "
    "replaces FRESHNESS_NOTIFY and notify = [...] in the config file."
)


def _notify_config(
    obj: Context, cli_values: tuple[str, ...], overrides: tuple[str, ...] = ()
) -> Any:
    """Targets, routes and heartbeat, from the command line, environment and config file.

    Priorities as for settings: --notify, then -s NAME=VALUE, then the environment, then
    [settings] in the config file; targets last of all from ``notify = [...]`` there.
    """
    from monitor.errors import FreshnessError
    from monitor.telling.notify import NotifyError
    from monitor.telling.outbox import NotifyConfig

    cmdline = dict(_parse_overrides(overrides))
    project = obj.config.get("settings", {})

    def setting(name: str) -> Any:
        for value in (cmdline.get(name), os.environ.get(name), project.get(name)):
            if value not in (None, ""):
                return value
        return None

    try:
        return NotifyConfig.resolve(
            cli=cli_values,
            setting=setting("FRESHNESS_NOTIFY"),
            config=obj.config.get("notify"),
            routes=obj.config.get("routes"),
            heartbeat=setting("FRESHNESS_HEARTBEAT"),
        )
    except NotifyError as exc:
        raise FreshnessError(str(exc)) from exc


def _clock(obj: Context, overrides: tuple[str, ...] = ()) -> dt.datetime:
    from monitor.judging.policy import clock_from_settings

    given = dict(_parse_overrides(overrides)).get("FRESHNESS_NOW")
    return clock_from_settings({"FRESHNESS_NOW": given}) if given else obj.now()


def _notify_after_run(
    obj: Context, notify: tuple[str, ...], overrides: tuple[str, ...], quiet: bool
) -> None:
    """Queue this run's digest and deliver the outbox; failures are warnings, kept for later."""
    from monitor.app.service import notify_after_run

    config = _notify_config(obj, notify, overrides)
    for delivery in notify_after_run(obj.store(), config, now=_clock(obj, overrides)):
        if delivery.status == "sent":
            if not quiet:
                click.echo(f"notified: {delivery}")
        elif delivery.status in ("failed", "held"):
            click.echo(f"warning: {delivery}; kept in the outbox", err=True)


def _safe(value: Any) -> Any:
    """Scraped text for a Rich table: one line, no control characters, never markup."""
    from rich.text import Text

    from monitor.telling.digest import clean

    return Text(clean(value))


@cli.command("digest")
@click.option("--run", "run_id", type=int, metavar="ID", help="This run (default: the latest).")
@click.option("--since", metavar="DATE", help="Everything opened or resolved since DATE.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "markdown", "html", "json"]), default="text"
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write to FILE instead of standard output.",
)
@click.pass_obj
@handle_errors
def digest_cmd(
    obj: Context, run_id: int | None, since: str | None, fmt: str, output: Path | None
) -> None:
    """Render the digest of what changed, without sending it.

    By default the digest of the latest completed run; --run ID for another run, or --since
    DATE (2026-11-20, or an ISO time) for everything opened or resolved since then.

    \b
    Example:
      freshness digest --format html --output digest.html
      freshness digest --since 2026-11-01 --format markdown
    """
    from monitor.app.service import render_run_digest
    from monitor.judging.policy import parse_timestamp

    if run_id is not None and since:
        raise click.UsageError("give --run or --since, not both")
    since_at = parse_timestamp(since) if since else None
    digest = render_run_digest(obj.store(), now=obj.now(), run_id=run_id, since=since_at)
    render = {"text": digest.text, "markdown": digest.markdown, "html": digest.html}
    text = digest.json() if fmt == "json" else render[fmt]()
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)


@cli.command("notify")
@click.option("--notify", "targets", multiple=True, metavar="URL", help=NOTIFY_HELP)
@click.option("--test", "test", is_flag=True, help="Send a sample digest to every target now.")
@click.option("--retry", is_flag=True, help="Deliver the digests the outbox still holds.")
@click.pass_obj
@handle_errors
def notify_cmd(obj: Context, targets: tuple[str, ...], test: bool, retry: bool) -> None:
    """Try the notification targets out, deliver what is waiting, or show both.

    Targets are Apprise URLs (mailtos://, slack://, matrix://, discord://, ntfy://, json://…)
    from --notify, FRESHNESS_NOTIFY or notify = [...] in freshness.toml; TAG=URL sends a
    target only some finding kinds. --test sends a sample digest with one finding of each
    kind straight to every target (exit 1 if one fails). --retry delivers the outbox: digests
    that failed before are sent now, exactly once. With neither, lists the targets and the
    digests waiting. URLs are always shown masked.

    \b
    Example:
      freshness notify --test --notify 'mailtos://me:app-password@example.org'
      freshness notify --retry
    """
    from monitor.app.service import outbox_entries, retry_notifications, try_targets
    from monitor.telling.notify import kinds_for, mask

    if test and retry:
        raise click.UsageError("give --test or --retry, not both")
    config = _notify_config(obj, targets)
    if test:
        results = try_targets(config, now=obj.now())
        for target, ok in results.items():
            click.echo(f"{'sent  ' if ok else 'FAILED'} {target}")
        if not all(results.values()):
            sys.exit(EXIT_FAILURE)
        return
    if retry:
        deliveries = retry_notifications(obj.store(), config, now=obj.now())
        for delivery in deliveries:
            click.echo(str(delivery))
        if not deliveries:
            click.echo("nothing waits in the outbox")
        if any(d.status in ("failed", "held") for d in deliveries):
            sys.exit(EXIT_FAILURE)
        return
    if config.targets:
        table = Table("target", "receives")
        for target in config.targets:
            kinds = kinds_for(target, config.routes)
            shown = "everything" if not target.tags else ", ".join(sorted(kinds))
            table.add_row(_safe(mask(target.url)), shown)
        Console(width=160).print(table)
    else:
        click.echo("no notification targets are configured")
    waiting = outbox_entries(obj.store())
    if not waiting:
        click.echo("the outbox is empty")
        return
    table = Table("entry", "run", "target", "status", "attempts", "last error")
    for entry in waiting:
        table.add_row(
            str(entry.id),
            str(entry.run_id),
            _safe(entry.target),
            entry.status,
            str(entry.attempts),
            _safe(entry.last_error or ""),
        )
    Console(width=160).print(table)


@cli.command("review")
@click.option("--kind", type=click.Choice(KINDS), help="Only this kind.")
@click.option("--org", "org_id", metavar="ID", help="Only this organisation.")
@click.pass_obj
@handle_errors
def review_cmd(obj: Context, kind: str | None, org_id: str | None) -> None:
    """Show the open findings to decide on, newest first, and what accepting each changes.

    Then accept, dismiss or snooze them by id; `freshness export` or `freshness apply` writes
    accepted changes into the directory.

    \b
    Example:
      freshness review --kind dead_link
      freshness accept 12 15 && freshness export directory.yaml
    """
    from monitor.app.service import review_findings
    from monitor.directory.review import describe

    findings = review_findings(obj.store(), now=obj.now(), kind=kind, org_id=org_id)
    if not findings:
        click.echo("nothing to review: no open findings")
        return
    table = Table("id", "org", "kind", "last seen", "confidence", "summary", "accepting will")
    for f in findings:
        table.add_row(
            str(f.id),
            _safe(f.org_id),
            f.kind,
            f.last_seen.strftime("%Y-%m-%d %H:%M"),
            f"{f.confidence:.2f}",
            _safe(f.summary),
            _safe(describe(f)),
        )
    Console(width=200).print(table)


def _login() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError, ImportError):
        return "unknown"


by_option = click.option(
    "--by", metavar="NAME", help="Who decides, for the decision log (default: your login name)."
)
reason_option = click.option("--reason", metavar="TEXT", help="Why, for the decision log.")


def _decide(
    obj: Context, ids: tuple[int, ...], status: str, by: str | None, reason: str | None, **kw: Any
) -> None:
    from monitor.app.service import decide_findings

    who = by or _login()
    for f in decide_findings(obj.store(), ids, status, by=who, now=obj.now(), reason=reason, **kw):
        until = f" until {f.snoozed_until:%Y-%m-%d %H:%M}" if f.snoozed_until else ""
        click.echo(f"{status} {f.id}{until}: {f.org_id} {f.kind}: {_safe(f.summary).plain}")


@cli.command("accept")
@click.argument("ids", nargs=-1, required=True, type=int)
@by_option
@reason_option
@click.pass_obj
@handle_errors
def accept_cmd(obj: Context, ids: tuple[int, ...], by: str | None, reason: str | None) -> None:
    """Accept findings: the next `freshness export` or `freshness apply` writes them in.

    A rename sets the name (the old one goes to aliases), a move sets the URL, groups are
    added or dropped, a new organisation is appended, a dead homepage marks the entry
    `status: dead`, and another dead link is marked in `dead_links` (never deleted). An
    accepted finding does not come back unless its evidence changes.

    \b
    Example:
      freshness accept 12 15 --by alice
    """
    _decide(obj, ids, "accepted", by, reason)


@cli.command("dismiss")
@click.argument("ids", nargs=-1, required=True, type=int)
@by_option
@reason_option
@click.pass_obj
@handle_errors
def dismiss_cmd(obj: Context, ids: tuple[int, ...], by: str | None, reason: str | None) -> None:
    """Dismiss findings: they do not come back unless the evidence changes materially
    (a different new name, a different final URL, another failure reason).

    \b
    Example:
      freshness dismiss 14 --reason "the redirect is a campaign page"
    """
    _decide(obj, ids, "dismissed", by, reason)


@cli.command("snooze")
@click.argument("ids", nargs=-1, required=True, type=int)
@click.option("--days", type=click.IntRange(1, 3650), required=True, help="Reopen after N days.")
@by_option
@reason_option
@click.pass_obj
@handle_errors
def snooze_cmd(
    obj: Context, ids: tuple[int, ...], days: int, by: str | None, reason: str | None
) -> None:
    """Snooze findings: hidden from review until N days from now, then open again.

    \b
    Example:
      freshness snooze 16 --days 14 --reason "site relaunch announced"
    """
    _decide(obj, ids, "snoozed", by, reason, days=days)


@cli.command("apply")
@click.argument("file", type=click.Path(path_type=Path))
@click.pass_obj
@handle_errors
def apply_cmd(obj: Context, file: Path) -> None:
    """Write the accepted findings into your own directory YAML file, in place.

    Order, comments and quoting are kept; a backup FILE.<time>.bak is written first. Import
    the file afterwards, so the accepted findings are settled in the store too.

    \b
    Example:
      freshness apply directory.yaml && freshness import directory.yaml
    """
    from monitor.app.service import apply_decisions

    require_file(file)
    report = apply_decisions(obj.store(), file, now=obj.now())
    for change in report.plan.changes:
        click.echo(f"changed: {change}")
    for skipped in report.plan.skipped:
        click.echo(str(skipped), err=True)
    if report.backup is None:
        click.echo(f"nothing to change: {file} already says what the accepted findings say")
    else:
        click.echo(f"updated {file}; the previous version is in {report.backup}")


def main() -> None:
    cli(prog_name="freshness")


if __name__ == "__main__":
    main()

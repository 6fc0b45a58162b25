"""Commands that crawl: run (one monitoring pass), worker, check, and the offline demo."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from monitor.app.commands_notify import send_run_digest
from monitor.app.context import (
    EXIT_FAILURE,
    KINDS,
    Context,
    handle_errors,
    settings_option,
)

EXIT_FAIL_ON = 3  # --fail-on matched: the pass completed and found what was asked about
EXIT_LOCKED = 75  # EX_TEMPFAIL: another run holds the lock; cron may simply try again later


@click.command("run")
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

    summary = _crawl(obj, settings, redis_url, wait=wait, quiet=quiet, warm=warm)
    send_run_digest(obj, notify, overrides, quiet)
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
    _exit_if_failing(obj, summary, fail_kinds, quiet)


def _crawl(
    obj: Context, settings: Any, redis_url: str | None, *, wait: bool, quiet: bool, warm: Any
) -> dict[str, Any] | None:
    """The pass, here or over Redis workers; exit 75 when another run holds the lock."""
    # Imported once the warm crawlers are started (see run_cmd).
    from monitor.errors import RunLocked
    from monitor.runs.distributed import run_distributed
    from monitor.runs.local import run_pass

    show_progress = not quiet and sys.stderr.isatty()
    try:
        with warm, _progress(show_progress) as progress:
            if redis_url:
                return run_distributed(
                    obj.store(), settings, redis_url, wait=wait, progress=progress
                )
            return run_pass(obj.store(), settings, wait=wait, progress=progress, warm=warm)
    except RunLocked as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_LOCKED)


def _exit_if_failing(
    obj: Context, summary: dict[str, Any], fail_kinds: set[str], quiet: bool
) -> None:
    """Exit 3 when findings of the --fail-on kinds are open (or the run was inconclusive)."""
    from monitor.app.service import list_findings

    if not fail_kinds:
        return
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


@click.command("demo")
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


@click.command("worker")
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


@click.command("check")
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

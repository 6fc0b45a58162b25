"""Digests and notifications: digest, notify, and the notification after a run."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from monitor.app.context import (
    EXIT_FAILURE,
    Context,
    handle_errors,
    safe,
)

NOTIFY_HELP = (
    "Send digests here (repeatable): an Apprise URL, TAG=URL or an Apprise config file; "
    "replaces FRESHNESS_NOTIFY and notify = [...] in the config file."
)


def _notify_config(
    obj: Context, cli_values: tuple[str, ...], overrides: tuple[str, ...] = ()
) -> Any:
    """Targets, routes and heartbeat: --notify, else FRESHNESS_NOTIFY from the settings'
    layers (-s, the environment, [settings] in the config file), else ``notify = [...]``
    in the config file; FRESHNESS_HEARTBEAT from the same layers."""
    from monitor.errors import FreshnessError
    from monitor.telling.notify import NotifyError
    from monitor.telling.outbox import NotifyConfig

    settings = obj.settings(overrides)
    try:
        return NotifyConfig.resolve(
            cli=cli_values,
            setting=settings.get("FRESHNESS_NOTIFY"),
            config=obj.config.get("notify"),
            routes=obj.config.get("routes"),
            heartbeat=settings.get("FRESHNESS_HEARTBEAT"),
        )
    except NotifyError as exc:
        raise FreshnessError(str(exc)) from exc


def send_run_digest(
    obj: Context, notify: tuple[str, ...], overrides: tuple[str, ...], quiet: bool
) -> None:
    """Queue this run's digest and deliver the outbox; failures are warnings, kept for later."""
    from monitor.app.service import notify_after_run

    config = _notify_config(obj, notify, overrides)
    for delivery in notify_after_run(obj.store(), config, now=obj.now(overrides)):
        if delivery.status == "sent":
            if not quiet:
                click.echo(f"notified: {delivery}")
        elif delivery.status in ("failed", "held"):
            click.echo(f"warning: {delivery}; kept in the outbox", err=True)


@click.command("digest")
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


@click.command("notify")
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
    if test and retry:
        raise click.UsageError("give --test or --retry, not both")
    config = _notify_config(obj, targets)
    if test:
        _send_samples(obj, config)
    elif retry:
        _retry_outbox(obj, config)
    else:
        _show_targets(config)
        _show_outbox(obj)


def _send_samples(obj: Context, config: Any) -> None:
    """--test: a sample digest to every target; exit 1 if one fails."""
    from monitor.app.service import try_targets

    results = try_targets(config, now=obj.now())
    for target, ok in results.items():
        click.echo(f"{'sent  ' if ok else 'FAILED'} {target}")
    if not all(results.values()):
        sys.exit(EXIT_FAILURE)


def _retry_outbox(obj: Context, config: Any) -> None:
    """--retry: deliver what the outbox holds; exit 1 if a delivery still fails."""
    from monitor.app.service import retry_notifications

    deliveries = retry_notifications(obj.store(), config, now=obj.now())
    for delivery in deliveries:
        click.echo(str(delivery))
    if not deliveries:
        click.echo("nothing waits in the outbox")
    if any(d.status in ("failed", "held") for d in deliveries):
        sys.exit(EXIT_FAILURE)


def _show_targets(config: Any) -> None:
    from monitor.telling.notify import kinds_for, mask

    if not config.targets:
        click.echo("no notification targets are configured")
        return
    table = Table("target", "receives")
    for target in config.targets:
        kinds = kinds_for(target, config.routes)
        shown = "everything" if not target.tags else ", ".join(sorted(kinds))
        table.add_row(safe(mask(target.url)), shown)
    Console(width=160).print(table)


def _show_outbox(obj: Context) -> None:
    from monitor.app.service import outbox_entries

    waiting = outbox_entries(obj.store())
    if not waiting:
        click.echo("the outbox is empty")
        return
    table = Table("entry", "run", "target", "status", "attempts", "last error")
    for entry in waiting:
        table.add_row(
            str(entry.id),
            str(entry.run_id),
            safe(entry.target),
            entry.status,
            str(entry.attempts),
            safe(entry.last_error or ""),
        )
    Console(width=160).print(table)

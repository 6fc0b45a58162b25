"""The review loop: review, accept, dismiss, snooze, and apply into a directory file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from monitor.app.context import (
    KINDS,
    Context,
    handle_errors,
    require_file,
    safe,
)


@click.command("review")
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
            safe(f.org_id),
            f.kind,
            f.last_seen.strftime("%Y-%m-%d %H:%M"),
            f"{f.confidence:.2f}",
            safe(f.summary),
            safe(describe(f)),
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
        click.echo(f"{status} {f.id}{until}: {f.org_id} {f.kind}: {safe(f.summary).plain}")


@click.command("accept")
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


@click.command("dismiss")
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


@click.command("snooze")
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


@click.command("apply")
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

"""Commands on the directory and the store: import, export, orgs, findings, db upgrade."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from monitor.app.context import (
    KINDS,
    Context,
    handle_errors,
    require_file,
)


@click.command("import")
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


@click.command("export")
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


@click.command("orgs")
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


@click.command("findings")
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


@click.group("db")
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

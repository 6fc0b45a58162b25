"""The ``freshness`` command line. Thin: each command parses options, calls one function in
``monitor.service`` (or ``monitor.crawl``), and prints.

Errors a user can fix are one line on stderr and a non-zero exit; ``-v`` shows the traceback.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

CONFIG_NAME = "freshness.toml"
EXIT_USAGE = 2
EXIT_FAILURE = 1


class Context:
    """What every command shares: the config file, the database URL and verbosity."""

    def __init__(self, db: str | None, config: Path | None, verbose: bool) -> None:
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
        from storage.db import Store

        return Store(self.db_url)

    def now(self) -> dt.datetime:
        from monitor.policy import clock_from_settings

        return clock_from_settings({"FRESHNESS_NOW": os.environ.get("FRESHNESS_NOW", "")})

    def settings(self, overrides: tuple[str, ...] = (), extra: dict[str, Any] | None = None) -> Any:
        from monitor.crawl import build_settings

        cmdline = dict(_parse_overrides(overrides))
        project = dict(self.config.get("settings", {}))
        project["FRESHNESS_DB"] = self.db_url
        if os.environ.get("FRESHNESS_NOW") and "FRESHNESS_NOW" not in cmdline:
            project["FRESHNESS_NOW"] = os.environ["FRESHNESS_NOW"]
        if not self.verbose and "LOG_LEVEL" not in cmdline:
            project.setdefault("LOG_LEVEL", "WARNING")
        cmdline.update(extra or {})
        return build_settings(project, cmdline)


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
        from monitor.directory import DirectoryError
        from monitor.policy import PolicyError
        from monitor.service import FreshnessError
        from storage.db import StoreError
        from storage.repository import NotFound

        ctx = click.get_current_context()
        verbose = bool(ctx.obj and ctx.obj.verbose)
        try:
            return func(*args, **kwargs)
        except DirectoryError as exc:
            if verbose:
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_FAILURE)
        except (FreshnessError, StoreError, NotFound, PolicyError, ValueError) as exc:
            if verbose:
                raise
            message = exc.args[0] if isinstance(exc, NotFound) and exc.args else exc
            click.echo(f"error: {message}", err=True)
            sys.exit(EXIT_FAILURE)

    return wrapper


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
    from monitor.service import import_directory

    fetch = _fetch_page if source.startswith(("http://", "https://")) else None
    if fetch is None and not Path(source).exists():
        raise click.UsageError(f"{source} does not exist")
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

    Export then import is lossless for every field.

    \b
    Example:
      freshness export directory.yaml
    """
    from monitor.service import export_directory

    text = export_directory(obj.store())
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
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
    from monitor.service import list_organisations

    table = Table("id", "name", "url", "last checked", "state", "open findings")
    for org in list_organisations(obj.store()):
        checked = org.last_checked_at.strftime("%Y-%m-%d %H:%M") if org.last_checked_at else "never"
        table.add_row(
            org.id, org.entry.name, org.entry.url, checked, org.state, str(org.open_findings)
        )
    Console(width=160).print(table)


KINDS = (
    "dead_link",
    "moved",
    "rename",
    "new_group",
    "removed_group",
    "new_organisation",
    "unverifiable",
)


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
    from monitor.service import list_findings

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


@cli.command("run")
@click.option("--org", "orgs", multiple=True, metavar="ID", help="Only these organisations.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
@settings_option
@click.pass_obj
@handle_errors
def run_cmd(obj: Context, orgs: tuple[str, ...], quiet: bool, overrides: tuple[str, ...]) -> None:
    """Check every active organisation that is due: crawl, record, judge.

    Exits 0 when the pass completed, whatever it found.

    \b
    Example:
      freshness run
      freshness run --org nursegroups -s DOWNLOAD_TIMEOUT=10
    """
    from monitor.service import run_pass

    extra = {"FRESHNESS_ORGS": list(orgs)} if orgs else {}
    summary = run_pass(obj.store(), obj.settings(overrides, extra))
    if summary is None:
        if not quiet:
            click.echo("nothing is due; no organisation was checked")
        return
    if summary["status"] == "inconclusive":
        click.echo(f"run {summary['run_id']} inconclusive: {summary['outage']}", err=True)
    if not quiet:
        _print_summary(summary)


def _print_summary(summary: dict[str, Any]) -> None:
    table = Table("run", "status", "organisations", "URLs", "opened", "resolved", "unverifiable")
    table.add_row(
        str(summary["run_id"]),
        summary["status"],
        str(summary["organisations"]),
        str(summary["observations"]),
        str(len(summary["opened"])),
        str(len(summary["resolved"])),
        str(summary["unverifiable"]),
    )
    Console(width=120).print(table)


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
    from monitor.service import check

    rows = check(obj.store, target, obj.settings(overrides))
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False, default=str))
        return
    table = Table("url", "redirect chain", "category", "evidence")
    for row in rows:
        table.add_row(row["url"], row["chain"], row["category"], "\n".join(row["evidence"]))
    Console(width=200).print(table)


def main() -> None:
    cli(prog_name="freshness")


if __name__ == "__main__":
    main()

"""The ``freshness`` command line. Thin: each command parses options, calls one function in
``monitor.app.service`` (or ``monitor.crawl.process``), and prints.

The group and its global options are here; the commands live by theme in
``monitor.app.commands_*``, and what they share (the settings' layers, error handling, options)
in ``monitor.app.context``. Errors a user can fix are one line on stderr and a non-zero exit;
``-v`` shows the traceback.
"""

from __future__ import annotations

from pathlib import Path

import click

from monitor.app import commands_directory, commands_notify, commands_review, commands_run
from monitor.app.context import CONFIG_NAME, Context

__all__ = ["Context", "cli", "main"]


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


# Every command, registered on the group (`freshness --help` lists them by name).
for command in (
    commands_directory.import_cmd,
    commands_directory.export_cmd,
    commands_directory.orgs_cmd,
    commands_directory.findings_cmd,
    commands_directory.db_group,
    commands_run.run_cmd,
    commands_run.demo_cmd,
    commands_run.worker_cmd,
    commands_run.check_cmd,
    commands_notify.digest_cmd,
    commands_notify.notify_cmd,
    commands_review.review_cmd,
    commands_review.accept_cmd,
    commands_review.dismiss_cmd,
    commands_review.snooze_cmd,
    commands_review.apply_cmd,
):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="freshness")


if __name__ == "__main__":
    main()

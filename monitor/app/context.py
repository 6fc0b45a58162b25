"""What every command shares: the settings' layers, the store, error handling and options.

Errors a user can fix are one line on stderr and a non-zero exit; ``-v`` shows the traceback.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import functools
import os
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from storage.records import FINDING_KINDS

CONFIG_NAME = "freshness.toml"
EXIT_USAGE = 2
EXIT_FAILURE = 1


class Context:
    """What every command shares: the config file, the settings' layers and verbosity.

    Settings come in layers, lowest first: the table (``spiders.settings``) < the config
    file (``[settings]``, and ``db``) < the ``FRESHNESS_*`` environment variables < ``-s`` and
    the command's options (``--db``). A ``FRESHNESS_`` name the table does not have is a usage
    error in every layer.
    """

    def __init__(self, db: str | None, config: Path | None, verbose: bool) -> None:
        from monitor.crawl.layers import database_url, environment_layer

        self._store: Any = None
        self.verbose = verbose
        self.config_path = config
        self.config = _read_config(config)
        self._db = db
        self.environment = environment_layer()
        _known(self.config.get("settings", {}), "in the config file's [settings]")
        _known(self.environment, "in the environment")
        self._base = self.settings()  # the settings without -s, read by every command
        self.db_url: str = database_url(self._base)

    def store(self) -> Any:
        """The store, opened (and migrated) once per command."""
        from storage.db import Store

        if self._store is None:
            self._store = Store(self.db_url)
        return self._store

    def now(self, overrides: tuple[str, ...] = ()) -> dt.datetime:
        """``FRESHNESS_NOW`` from the settings' layers (``-s`` among them), else the clock."""
        from monitor.judging.policy import clock_from_settings

        return clock_from_settings(self.settings(overrides) if overrides else self._base)

    def settings(self, overrides: tuple[str, ...] = (), extra: dict[str, Any] | None = None) -> Any:
        """The layered settings of a command given ``-s`` ``overrides`` and options' ``extra``."""
        # Scrapy is imported only by the process that crawls (monitor.crawl.layers says why).
        from monitor.crawl.layers import LayeredSettings

        cmdline = dict(_parse_overrides(overrides))
        _known(cmdline, "given with -s")
        project = dict(self.config.get("settings", {}))
        if self.config.get("db"):  # the config file's db outranks its [settings] FRESHNESS_DB
            project["FRESHNESS_DB"] = self.config["db"]
        if not self.verbose and "LOG_LEVEL" not in cmdline:
            project.setdefault("LOG_LEVEL", "WARNING")
        if self._db and "FRESHNESS_DB" not in cmdline:
            cmdline["FRESHNESS_DB"] = self._db
        cmdline.update(extra or {})
        return LayeredSettings(project, cmdline, self.environment)


def _known(layer: dict[str, Any], where: str) -> None:
    """A usage error (exit 2) for a FRESHNESS_ name the table does not have."""
    from monitor.crawl.layers import UnknownSetting, check_known

    try:
        check_known(layer, where)
    except UnknownSetting as exc:
        raise click.UsageError(str(exc)) from None


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

    from monitor.directory.problems import DirectoryError
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


KINDS = FINDING_KINDS


def safe(value: Any) -> Any:
    """Scraped text for a Rich table: one line, no control characters, never markup."""
    from rich.text import Text

    from monitor.telling.text import clean

    return Text(clean(value))

"""Opening a store: engine, Alembic migrations on first use, and transactions."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from storage.repository import Repository

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic (and Mako under it) is imported only to migrate: about 10 MB that a process opening
# a store already at head (every crawler, nearly every command) does not need.

MIGRATIONS = Path(__file__).with_name("migrations")
# Migrations are a single line, each file named after its revision ("0005_dead_links.py"):
# the newest name is the head. tests/storage/test_storage.py checks this against Alembic's own head.
HEAD_REVISION = max(p.name.split("_", 1)[0] for p in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))


class StoreError(Exception):
    """The store cannot be opened or used; the message says what to fix."""


def normalise_url(url: str) -> str:
    """Accept a bare path as a SQLite file, and the short postgresql:// scheme as psycopg 3."""
    if "://" not in url:
        return f"sqlite:///{url}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    # WAL lets a reader (a curator running `freshness findings`) work during a run, and
    # busy_timeout makes a second writer wait instead of failing at once.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Store:
    """A database with the schema at head. ``with store.transaction() as repo`` to use it."""

    def __init__(self, url: str, *, upgrade: bool = True) -> None:
        self.url = normalise_url(url)
        try:
            self.engine = create_engine(self.url)
        except (ArgumentError, ModuleNotFoundError) as exc:
            raise StoreError(f"cannot use database URL {self.masked_url}: {exc}") from exc
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        if upgrade:
            self.upgrade()

    @property
    def masked_url(self) -> str:
        try:
            return self.engine.url.render_as_string(hide_password=True)
        except AttributeError:
            return self.url.split("@")[-1]

    def upgrade(self) -> None:
        """Apply every pending Alembic migration."""
        if self._at_head():
            return  # nothing to apply: every command opens a store, so skip loading Alembic
        from alembic import command

        try:
            command.upgrade(alembic_config(self.engine), "head")
        except OperationalError as exc:
            raise StoreError(f"cannot open database {self.masked_url}: {exc.orig}") from exc

    def _at_head(self) -> bool:
        """Whether the schema is already at the newest migration, asked without Alembic."""
        try:
            with self.engine.connect() as conn:
                found = conn.execute(text("SELECT version_num FROM alembic_version")).all()
        except DBAPIError:
            return False  # no schema yet, or no database: Alembic says which
        return [row[0] for row in found] == [HEAD_REVISION]

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def head_revision(self) -> str | None:
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(alembic_config(self.engine)).get_current_head()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Repository]:
        """One unit of work: committed when the block ends, rolled back if it raises."""
        session: Session = self._sessions()
        try:
            yield Repository(session)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def close(self) -> None:
        self.engine.dispose()

"""Shared fixtures: real databases (SQLite files, a PostgreSQL server the tests start), the
simulated web, and running the real ``freshness`` command."""

from __future__ import annotations

import contextlib
import functools
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import traceback
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.receivers import Receiver, http_receiver

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """A throwaway PostgreSQL cluster on loopback, owned by this test session."""

    def __init__(self, base: Path) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not bins:
            raise RuntimeError(
                "PostgreSQL is not installed; run `bash scripts/install-test-servers` (or make test)"
            )
        self.bin = Path(bins[-1]).parent
        self.dir = base / "pgdata"
        self.port = _free_port()
        self.user = None
        if os.geteuid() == 0:  # initdb refuses to run as root; run it as the postgres user
            self.user = "postgres"
            entry = pwd.getpwnam(self.user)
            os.chown(base, entry.pw_uid, entry.pw_gid)

    def _run(self, *args: str) -> None:
        cmd = [str(a) for a in args]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self._run(
            self.bin / "initdb", "-D", self.dir, "-A", "trust", "-U", "freshness", "--no-sync"
        )
        opts = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off"
        self._run(
            self.bin / "pg_ctl", "-D", self.dir, "-o", opts, "-w", "-l", self.dir / "log", "start"
        )

    def stop(self) -> None:
        self._run(self.bin / "pg_ctl", "-D", self.dir, "-m", "immediate", "-w", "stop")

    def create_database(self) -> str:
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        dsn = f"host=127.0.0.1 port={self.port} user=freshness dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')  # name is ours, not user input
        return f"postgresql+psycopg://freshness@127.0.0.1:{self.port}/{name}"


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    # Not under pytest's tmp_path: that is private to root, and the server runs as postgres.
    base = Path(tempfile.mkdtemp(prefix="freshness-pg-"))
    server = PostgresServer(base)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database URL: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'freshness.db'}"
    return request.getfixturevalue("postgres").create_database()


@pytest.fixture
def store_factory(db_url: str) -> Iterator[Callable[[], object]]:
    from storage.db import Store

    opened = []

    def make() -> Store:
        store = Store(db_url)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


def freshness_executable() -> list[str]:
    exe = shutil.which("freshness", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "monitor.app.cli"]


def python_output(code: str, *, cwd: Path | None = None) -> str:
    """Run ``code`` in a fresh interpreter (what a new process imports and keeps), and
    return what it printed; a failure fails the test with its stderr."""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


_PROXIES = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy")


def run_freshness(
    cwd: Path,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    check: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run the real `freshness` command in a subprocess, as a user would."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("FRESHNESS_")}
    for proxy in _PROXIES:
        full_env.pop(proxy, None)
    full_env.update(env or {})
    result = subprocess.run(
        [*freshness_executable(), *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return _checked(result, check)


def _checked(
    result: subprocess.CompletedProcess[str], check: bool
) -> subprocess.CompletedProcess[str]:
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(result.args)} exited {result.returncode}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
    return result


def run_freshness_here(
    cwd: Path,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    check: bool = False,
) -> subprocess.CompletedProcess[str]:
    """The same `freshness` command in this process, through click's test runner: the CLI's
    own code from parsing to exit code, in ``cwd`` and with the same environment as
    ``run_freshness``, without a Python start-up per call (0.4 s). Crawls keep the subprocess.
    """
    from click.testing import CliRunner

    from monitor.app.cli import cli

    unset: dict[str, str | None] = {
        k: None for k in os.environ if k.startswith("FRESHNESS_") or k in _PROXIES
    }
    with contextlib.chdir(cwd):
        result = CliRunner().invoke(
            cli, list(args), env={**unset, **(env or {})}, prog_name="freshness"
        )
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        # What Python prints for an exception nobody caught, as the subprocess would.
        stderr += "".join(traceback.format_exception(result.exception))
    done = subprocess.CompletedProcess(
        ["freshness", *args], result.exit_code, result.stdout, stderr
    )
    return _checked(done, check)


@pytest.fixture
def freshness(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the real `freshness` command in tmp_path."""
    return functools.partial(run_freshness, tmp_path)


class RedisServer:
    """A throwaway redis-server on loopback, without persistence."""

    def __init__(self) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            raise RuntimeError(
                "redis-server is not installed; run `bash scripts/install-test-servers`"
            )
        self.port = _free_port()
        self.process = subprocess.Popen(
            [
                exe,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"redis://127.0.0.1:{self.port}/0"
        import redis

        client = redis.Redis.from_url(self.url)
        try:
            for _ in range(100):  # redis-server needs a moment to listen
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    self.process.wait(timeout=0.05) if self.process.poll() is not None else None
                    import time

                    time.sleep(0.05)
            else:
                raise RuntimeError("redis-server did not start")
        finally:
            client.close()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real HTTP server on loopback that records what Apprise's webhooks post to it."""
    with http_receiver() as receiver:
        yield receiver

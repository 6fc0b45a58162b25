"""Errors a user can fix, through the real CLI: one line on stderr, a non-zero exit, and the
traceback only with -v."""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
from pathlib import Path

import pytest

from storage.db import Store
from storage.records import DirectoryEntry

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a failed command; fails the test if there is more."""
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A store with one organisation and one completed run, so export and digest have work."""
    url = f"sqlite:///{tmp_path / 'f.db'}"
    store = Store(url)
    with store.transaction() as repo:
        repo.sync_directory([DirectoryEntry(id="a", name="A", url="http://a.test/")], NOW)
        run_id = repo.start_run(NOW)
        repo.finish_run(run_id, NOW, "completed", {"opened": [], "resolved": []})
    store.close()
    return url


def test_export_into_a_missing_folder_is_one_line(freshness, db, tmp_path) -> None:
    target = tmp_path / "no" / "such" / "dir" / "x.yaml"
    line = one_line_error(freshness("--db", db, "export", str(target)))
    assert str(target) in line and "does not exist" in line
    assert not target.parent.exists()  # nothing was created on the way
    # The same command to a folder that exists works, so the failure was the path alone.
    good = tmp_path / "x.yaml"
    freshness("--db", db, "export", str(good), check=True)
    assert "id: a" in good.read_text()


def test_export_onto_a_folder_is_one_line(freshness, db, tmp_path) -> None:
    line = one_line_error(freshness("--db", db, "export", str(tmp_path)))
    assert line == f"error: {tmp_path} is a folder; give a file name"


def test_digest_output_into_a_missing_folder_is_one_line(freshness, db, tmp_path) -> None:
    target = tmp_path / "missing" / "digest.html"
    line = one_line_error(freshness("--db", db, "digest", "--format", "html", "-o", str(target)))
    assert str(target) in line and f"the folder {target.parent} does not exist" in line
    written = tmp_path / "digest.html"
    freshness("--db", db, "digest", "--format", "html", "-o", str(written), check=True)
    assert written.read_text().lstrip().lower().startswith("<!doctype html")


def test_import_of_a_missing_file_is_one_line(freshness, tmp_path) -> None:
    missing = tmp_path / "directory.yaml"
    line = one_line_error(freshness("import", str(missing)))
    assert line == f"error: {missing} does not exist; check the path"
    assert not (tmp_path / "freshness.db").exists()  # failed before opening the store


def test_apply_of_a_missing_file_is_one_line(freshness, db, tmp_path) -> None:
    missing = tmp_path / "nowhere" / "directory.yaml"
    line = one_line_error(freshness("--db", db, "apply", str(missing)))
    assert str(missing) in line and "does not exist" in line


def test_verbose_shows_the_traceback(freshness, db, tmp_path) -> None:
    result = freshness("-v", "--db", db, "export", str(tmp_path / "no" / "x.yaml"))
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "FileNotFoundError" in result.stderr


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


def test_a_refused_database_connection_is_one_line(freshness) -> None:
    # psycopg says this in two lines ("connection failed: ..." and "Is the server running").
    url = f"postgresql://freshness:s3cret@127.0.0.1:{_closed_port()}/freshness"
    line = one_line_error(freshness("--db", url, "orgs"))
    assert line.startswith("error: cannot open database postgresql+psycopg://freshness:***@")
    assert "Connection refused" in line
    assert "s3cret" not in line


def test_a_config_path_that_is_a_folder_is_a_usage_error(freshness, tmp_path) -> None:
    result = freshness("--config", str(tmp_path), "orgs")
    assert result.returncode == 2
    assert f"config file: {tmp_path} is a folder; give a file name" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_reader_that_stops_early_gets_no_error_message(db, tmp_path) -> None:
    from tests.conftest import freshness_executable

    proc = subprocess.Popen(
        [*freshness_executable(), "--db", db, "findings", "--format", "json"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    proc.stdout.close()  # like `| head`: gone before freshness writes a byte
    with proc.stderr:
        stderr = proc.stderr.read()
    assert proc.wait(timeout=60) == 1
    assert stderr == ""

"""What a fresh clone shows: the package metadata setuptools reads, and what `make run` leaves
behind being ignored by git."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_license_is_an_spdx_expression() -> None:
    """A TOML table (``{ text = "MIT" }``) is deprecated by setuptools, which warns on every
    build; PEP 639 names the license by its SPDX identifier."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["license"] == "MIT"


def test_what_make_run_leaves_is_ignored() -> None:
    """`make run` leaves the store and its lock file in the project folder."""
    names = ["freshness.db", "freshness.db.lock", "freshness.db-journal"]
    result = subprocess.run(
        ["git", "check-ignore", *names], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.stdout.split() == names

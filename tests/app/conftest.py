"""The commands' tests run the CLI in this process (``run_freshness_here``): the same code from
parsing to exit code, without a Python start-up per call. The crawls in ``tests/e2e`` run it
as a user would, in a subprocess."""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import run_freshness_here


@pytest.fixture
def freshness(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the `freshness` command in tmp_path, in this process."""
    return functools.partial(run_freshness_here, tmp_path)

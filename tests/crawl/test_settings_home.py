"""One home per setting: ``spiders/settings.py`` is the table of defaults, every layer above it
(config file < environment < ``-s``) reads the same names, an unknown ``FRESHNESS_`` name is a
usage error naming the closest one, and the README's table is the one rendered from it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import spiders.settings as table
from monitor.app.cli import Context, cli
from monitor.crawl import settings_doc
from monitor.crawl.layers import (
    LayeredSettings,
    UnknownSetting,
    build_settings,
    check_known,
    environment_layer,
    scrapy_settings,
)
from monitor.judging.policy import DEFAULTS, Policy
from tests.conftest import run_freshness

ROOT = Path(__file__).resolve().parents[2]
NAME = re.compile(r"\bFRESHNESS_[A-Z0-9_]*[A-Z0-9]\b")
# Names this file makes up on purpose, to see them refused.
MADE_UP = {"FRESHNESS_BOGUS", "FRESHNESS_DEAD_AFTER_FAILURE", "FRESHNESS_NOWW", "FRESHNESS_NOTIFI"}


@pytest.fixture(autouse=True)
def no_freshness_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The caller's FRESHNESS_* variables, and a freshness.toml where the tests run, are not
    the test's."""
    import os

    for name in [n for n in os.environ if n.startswith("FRESHNESS_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_every_freshness_name_in_the_code_is_in_the_table() -> None:
    known = settings_doc.TABLE.read_text()
    used: dict[str, str] = {}
    for folder in ("monitor", "spiders", "bench", "tests"):
        for path in (ROOT / folder).rglob("*.py"):
            for name in NAME.findall(path.read_text(encoding="utf-8")):
                used.setdefault(name, str(path.relative_to(ROOT)))
    missing = {
        name: where
        for name, where in used.items()
        if name not in MADE_UP and not re.search(rf"^{name}\b", known, re.MULTILINE)
    }
    assert missing == {}


def test_every_setting_has_a_comment_and_a_default() -> None:
    rows = settings_doc.rows()
    assert {row.name for row in rows} == {n for n in dir(table) if n.isupper()}
    assert [row.name for row in rows if not row.comment] == []
    assert next(r for r in rows if r.name == "FRESHNESS_MAX_BYTES").default == "2 * 1024 * 1024"
    assert "real clock" in next(r for r in rows if r.name == "FRESHNESS_NOW").comment


def test_the_readme_table_is_the_generated_one() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert settings_doc.readme_table(readme) == settings_doc.markdown(), (
        "regenerate it: python -m monitor.crawl.settings_doc --update README.md"
    )
    assert settings_doc.updated(readme) == readme
    assert '| `FRESHNESS_NOW` | `""` |' in readme


def test_the_generator_prints_and_updates(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    settings_doc.main(["--markdown"])
    assert capsys.readouterr().out == settings_doc.markdown()
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{settings_doc.BEGIN}\n| stale |\n{settings_doc.END}\n\nafter\n")
    settings_doc.main(["--update", str(readme)])
    text = readme.read_text()
    assert "| stale |" not in text and text.endswith(f"{settings_doc.END}\n\nafter\n")
    assert settings_doc.readme_table(text) == settings_doc.markdown()


def test_the_policy_defaults_are_the_tables() -> None:
    assert {name: getattr(table, name) for name in DEFAULTS} == DEFAULTS
    assert Policy() == Policy.from_settings({}) == Policy.from_settings(None)
    assert Policy().dead_after_failures == table.FRESHNESS_DEAD_AFTER_FAILURES


def test_the_default_database_url_has_one_home() -> None:
    written = [
        str(path.relative_to(ROOT))
        for folder in ("monitor", "spiders")
        for path in (ROOT / folder).rglob("*.py")
        if "sqlite:///freshness.db" in path.read_text(encoding="utf-8")
    ]
    assert written == ["spiders/settings.py"]
    assert Context(None, None, False).db_url == table.FRESHNESS_DB


def test_the_policy_is_parsed_once_per_settings_object() -> None:
    settings = LayeredSettings({"FRESHNESS_DEAD_AFTER_FAILURES": "4"})
    first = Policy.from_settings(settings)
    assert Policy.from_settings(settings) is first and first.dead_after_failures == 4
    assert Policy.from_settings(settings.copy()) == first
    settings.set("FRESHNESS_DEAD_AFTER_FAILURES", "5", priority="cmdline")  # forgets it
    assert Policy.from_settings(settings).dead_after_failures == 5


def test_the_environment_is_a_layer_between_the_config_file_and_the_command_line() -> None:
    project = {"FRESHNESS_NOW": "2026-01-01", "FRESHNESS_WORKER_IDLE": "1"}
    environment = environment_layer(
        {"FRESHNESS_NOW": "2026-02-02", "FRESHNESS_DB": "", "HOME": "/root", "LOG_LEVEL": "X"}
    )
    assert environment == {"FRESHNESS_NOW": "2026-02-02"}  # empty is unset; others not ours
    layered = LayeredSettings(project, {}, environment)
    assert layered.get("FRESHNESS_NOW") == "2026-02-02"
    assert layered.getint("FRESHNESS_WORKER_IDLE") == 1
    layered.set("FRESHNESS_NOW", "2026-03-03", priority="project")  # below the environment
    assert layered.get("FRESHNESS_NOW") == "2026-02-02"
    over = LayeredSettings(project, {"FRESHNESS_NOW": "2026-04-04"}, environment)
    assert over.get("FRESHNESS_NOW") == "2026-04-04"
    real = build_settings(project, {}, environment)
    for name in ("FRESHNESS_NOW", "FRESHNESS_WORKER_IDLE", "FRESHNESS_DB"):
        assert real.get(name) == layered.get(name)
        assert real.getpriority(name) == LayeredSettings(project, {}, environment).getpriority(name)
    assert scrapy_settings(LayeredSettings(project, {}, environment)).get("FRESHNESS_NOW") == (
        "2026-02-02"
    )


def test_every_command_reads_the_same_layers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "freshness.toml"
    config.write_text(
        '[settings]\nFRESHNESS_NOW = "2026-01-01T00:00:00Z"\nFRESHNESS_HEARTBEAT = true\n'
        'FRESHNESS_DB = "sqlite:///from-settings.db"\n'
    )
    ctx = Context(None, None, False)
    assert ctx.now().year == 2026 and ctx.now().month == 1
    assert ctx.db_url == "sqlite:///from-settings.db"
    monkeypatch.setenv("FRESHNESS_NOW", "2026-02-02T00:00:00Z")
    monkeypatch.setenv("FRESHNESS_DB", "sqlite:///from-env.db")
    ctx = Context(None, None, False)
    assert ctx.now().month == 2 and ctx.db_url == "sqlite:///from-env.db"
    assert ctx.now(("FRESHNESS_NOW=2026-03-03T00:00:00Z",)).month == 3
    assert ctx.settings().getbool("FRESHNESS_HEARTBEAT") is True
    assert Context("sqlite:///from-flag.db", None, False).db_url == "sqlite:///from-flag.db"
    # Scrapy's own names are Scrapy's business.
    assert ctx.settings(("LOG_LEVEL=DEBUG", "DOWNLOAD_TIMEOUT=5")).get("LOG_LEVEL") == "DEBUG"


def test_an_unknown_name_names_the_closest_known_one() -> None:
    with pytest.raises(UnknownSetting) as raised:
        check_known({"FRESHNESS_DEAD_AFTER_FAILURE": "3"}, "given with -s")
    assert str(raised.value) == (
        "unknown setting FRESHNESS_DEAD_AFTER_FAILURE given with -s; "
        "did you mean FRESHNESS_DEAD_AFTER_FAILURES?"
    )
    check_known({"LOG_LEVEL": "INFO", "FRESHNESS_RUN_ID": 1}, "anywhere")  # both fine


def _usage_error(output: str, exit_code: int) -> str:
    assert exit_code == 2, output
    errors = [line for line in output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, output
    assert "Traceback" not in output
    return errors[0]


def test_an_unknown_name_given_with_s_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["run", "-s", "FRESHNESS_DEAD_AFTER_FAILURE=2"])
    line = _usage_error(result.output, result.exit_code)
    assert line == (
        "Error: unknown setting FRESHNESS_DEAD_AFTER_FAILURE given with -s; "
        "did you mean FRESHNESS_DEAD_AFTER_FAILURES?"
    )


def test_an_unknown_name_in_the_config_file_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "freshness.toml").write_text('[settings]\nFRESHNESS_NOTIFI = "json://x"\n')
    result = CliRunner().invoke(cli, ["orgs"])
    line = _usage_error(result.output, result.exit_code)
    assert "unknown setting FRESHNESS_NOTIFI in the config file's [settings]" in line
    assert line.endswith("did you mean FRESHNESS_NOTIFY?")


def test_an_unknown_name_in_the_environment_is_a_usage_error(tmp_path: Path) -> None:
    result = run_freshness(tmp_path, "orgs", env={"FRESHNESS_NOWW": "2026-01-01"})
    line = _usage_error(result.stderr, result.returncode)
    assert line == (
        "Error: unknown setting FRESHNESS_NOWW in the environment; did you mean FRESHNESS_NOW?"
    )
    assert not (tmp_path / "freshness.db").exists()  # refused before anything was opened

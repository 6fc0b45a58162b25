"""The directory file: loading YAML, CSV and HTML pages, validation, hostile input, writing back."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from monitor.directory.csv_format import dump_csv
from monitor.directory.html_import import propose_from_html
from monitor.directory.keys import KEYS, slugify
from monitor.directory.load import load_directory
from monitor.directory.problems import DirectoryError, DirectoryProblem
from monitor.directory.yaml_format import dump_directory
from monitor.judging.intervals import parse_interval
from storage.db import Store
from storage.records import DirectoryEntry, ImportDiff, Observation

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "directory"
REPO = Path(__file__).resolve().parents[2]

ECF = DirectoryEntry(
    id="ecf",
    name="Entertainment Community Fund",
    aliases=("The Actors Fund",),
    url="https://entertainmentcommunity.org/",
    profession="Performing arts and entertainment",
    groups_url="https://entertainmentcommunity.org/services-and-programs/support-groups",
    group_selector="ul.groups > li",
    groups=(
        "Finding Hope in Uncertain Times",
        "Support for Parents in the Industry",
        "The Anxiety Toolbox",
    ),
    links=("https://entertainmentcommunity.org/contact",),
    check_every="12h",
    dead_links=("https://entertainmentcommunity.org/contact since 2026-11-20",),
)
EXPECTED_VALID = [
    ECF,
    DirectoryEntry(
        id="journalist-trauma-support-network",
        name="Journalist Trauma Support Network",
        url="https://jtsn.org/",
        profession="Journalism",
    ),
    DirectoryEntry(
        id="medecins-soutien-entre-pairs",
        name="Médecins: Soutien Entre Pairs",
        url="https://soutien.example.fr/",
        profession="Médecine",
        check_every="2w",
    ),
    DirectoryEntry(
        id="old-lab-network",
        name="Old Lab Network",
        url="https://old-lab.example.org/",
        status="dead",
        dead_since=dt.date(2026, 11, 23),
    ),
]


def yaml_doc(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


@pytest.fixture(params=["libyaml", "pure-python"])
def yaml_parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with libyaml's event parser and again with PyYAML's own, for hosts without C."""
    if request.param == "pure-python":
        monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    elif not hasattr(yaml, "CSafeLoader"):
        pytest.skip("PyYAML was built without libyaml")
    return str(request.param)


def problems_of(source: str, text: str) -> list[DirectoryProblem]:
    with pytest.raises(DirectoryError) as caught:
        load_directory(source, text=text)
    return caught.value.problems


# -- valid input ------------------------------------------------------------------------------


def test_valid_yaml_fixture_loads_every_field(yaml_parser: str) -> None:
    assert load_directory(FIXTURES / "valid.yaml") == EXPECTED_VALID


def test_valid_csv_fixture_matches_the_yaml_one() -> None:
    assert load_directory(FIXTURES / "valid.csv") == EXPECTED_VALID


def test_bare_top_level_list_is_accepted() -> None:
    text = yaml_doc(
        """
        - name: Physicians Anonymous
          url: https://physiciansanonymous.org/
        """
    )
    assert load_directory("d.yaml", text=text) == [
        DirectoryEntry(
            id="physicians-anonymous",
            name="Physicians Anonymous",
            url="https://physiciansanonymous.org/",
        )
    ]


def test_yaml_merge_keys_fill_in_shared_values() -> None:
    text = yaml_doc(
        """
        organisations:
          - &lab
            name: Lab One
            url: https://lab-one.example.org/
            profession: Clinical laboratory science
            check_every: 1w
          - <<: *lab
            name: Lab Two
            url: https://lab-two.example.org/
        """
    )
    first, second = load_directory("d.yaml", text=text)
    assert second.name == "Lab Two"
    assert second.url == "https://lab-two.example.org/"
    assert (second.profession, second.check_every) == ("Clinical laboratory science", "1w")
    assert first.url == "https://lab-one.example.org/"


def test_plain_scalars_keep_the_text_as_written() -> None:
    # YAML 1.1 would read these as a number, a boolean and a date; they are names here.
    text = yaml_doc(
        """
        organisations:
          - name: 1800
            url: https://a.example.org/
            aliases: [yes, 2026-01-01, 0x1F]
        """
    )
    (entry,) = load_directory("d.yaml", text=text)
    assert entry.name == "1800"
    assert entry.id == "1800"
    assert entry.aliases == ("yes", "2026-01-01", "0x1F")


def test_dead_links_are_written_back_one_way() -> None:
    text = yaml_doc(
        """
        organisations:
          - name: A
            url: https://a.example.org/
            groups_url: https://a.example.org/groups
            links: [https://a.example.org/x]
            dead_links: ["https://a.example.org/x   since  2026-1-5", https://a.example.org/groups]
        """
    )
    [entry] = load_directory("x.yaml", text=text)
    # Spacing and the date are tidied; a mark without a date is kept without one.
    assert entry.dead_links == (
        "https://a.example.org/x since 2026-01-05",
        "https://a.example.org/groups",
    )
    assert entry.dead_link_urls() == {"https://a.example.org/x", "https://a.example.org/groups"}
    assert load_directory("x.yaml", text=dump_directory([entry])) == [entry]
    assert load_directory("x.csv", text=dump_csv([entry])) == [entry]


def test_empty_organisations_list_loads_as_empty() -> None:
    assert load_directory("d.yaml", text="organisations: []\n") == []


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("directory.txt", "organisations:\n  - name: A\n    url: https://a.example.org/\n"),
        ("export", "name,url\nA,https://a.example.org/\n"),
    ],
)
def test_format_is_sniffed_from_content_without_a_known_extension(name: str, text: str) -> None:
    (entry,) = load_directory(name, text=text)
    assert (entry.id, entry.url) == ("a", "https://a.example.org/")


def test_utf16_spreadsheet_export_is_read(tmp_path: Path) -> None:
    path = tmp_path / "directory.csv"
    path.write_bytes("name,url\nZoë Nurses,https://zoe.example.org/\n".encode("utf-16"))
    (entry,) = load_directory(path)
    assert (entry.id, entry.name) == ("zoe-nurses", "Zoë Nurses")


def test_bundled_directory_loads_without_problems() -> None:
    entries = load_directory(REPO / "directory.yaml")
    by_id = {entry.id: entry for entry in entries}
    ecf = by_id["entertainment-community-fund"]
    assert ecf.aliases == ("The Actors Fund",)
    assert ecf.url == "https://entertainmentcommunity.org/"
    assert ecf.groups == (
        "Finding Hope in Uncertain Times",
        "Support for Parents in the Industry",
        "The Anxiety Toolbox",
    )
    for wanted in (
        "first-responders-foundation",
        "nursegroups",
        "physicians-anonymous",
        "journalist-trauma-support-network",
        "lawyers-depression-project",
        "dental-council",
    ):
        assert wanted in by_id
    assert all(entry.profession for entry in entries)
    lab = [e for e in entries if "laborator" in (e.profession or "").lower()]
    assert 2 <= len(lab) <= 4
    header = (REPO / "directory.yaml").read_text(encoding="utf-8").split("organisations:")[0]
    assert "best known public" in header
    assert "freshness" in header


# -- invalid input: every problem located by file, line and field -----------------------------

INVALID_YAML = [
    (
        "unknown key with a suggestion",
        """
        organisations:
          - name: A
            url: https://a.example.org/
            group_url: https://a.example.org/groups
        """,
        4,
        "group_url",
        "unknown key; did you mean 'groups_url'?",
    ),
    (
        "missing name",
        """
        organisations:
          - url: https://a.example.org/
        """,
        2,
        "name",
        "missing",
    ),
    (
        "missing url",
        """
        organisations:
          - name: A
          - name: B
            profession: Law
        """,
        3,
        "url",
        "missing",
    ),
    (
        "url that is not http(s)",
        """
        organisations:
          - name: A
            url: ftp://x
        """,
        3,
        "url",
        "must be an http(s) URL, got 'ftp://x'",
    ),
    (
        "url without a host",
        """
        organisations:
          - name: A
            url: https:///groups
        """,
        3,
        "url",
        "with a host",
    ),
    (
        "relative groups_url",
        """
        organisations:
          - name: A
            url: https://a.example.org/
            groups_url: /groups
        """,
        4,
        "groups_url",
        "must be an http(s) URL",
    ),
    (
        "bad link in a block list",
        """
        organisations:
          - name: A
            url: https://a.example.org/
            links:
              - https://a.example.org/contact
              - www.a.example.org/forum
        """,
        6,
        "links",
        "must be an http(s) URL, got 'www.a.example.org/forum'",
    ),
    (
        "duplicate explicit ids",
        """
        organisations:
          - id: nurses
            name: Nurses One
            url: https://one.example.org/
          - id: nurses
            name: Nurses Two
            url: https://two.example.org/
        """,
        5,
        "id",
        "duplicate id 'nurses': line 2 has the same id",
    ),
    (
        "duplicate ids made from names",
        """
        organisations:
          - name: Nurse Groups
            url: https://one.example.org/
          - name: Nurse-Groups
            url: https://two.example.org/
        """,
        4,
        "id",
        "duplicate id 'nurse-groups': line 2 has the same id (made from the name",
    ),
    (
        "duplicate homepage, differing only in case and trailing slash",
        """
        organisations:
          - name: A
            url: https://Nurses.Example.org/
          - name: B
            url: HTTPS://nurses.example.org
        """,
        5,
        "url",
        "duplicate url: line 3 lists the same homepage",
    ),
    (
        "interval without a unit",
        """
        organisations:
          - name: A
            url: https://a.example.org/
            check_every: 3600
        """,
        4,
        "check_every",
        "a whole number and a unit",
    ),
    (
        "zero interval",
        """
        organisations:
          - name: A
            url: https://a.example.org/
            check_every: 0d
        """,
        4,
        "check_every",
        "longer than zero",
    ),
    (
        "groups given as one string",
        """
        organisations:
          - name: A
            url: https://a.example.org/
            groups: "a string"
        """,
        4,
        "groups",
        "must be a list of text, like [a string]",
    ),
    (
        "alias that is a mapping",
        """
        organisations:
          - name: A
            url: https://a.example.org/
            aliases:
              - Old Name
              - {name: Older Name}
        """,
        6,
        "aliases",
        "item 2 must be text, found a mapping",
    ),
    (
        "name that is a list",
        """
        organisations:
          - name: [A, B]
            url: https://a.example.org/
        """,
        2,
        "name",
        "must be text, found a list",
    ),
    (
        "status other than dead",
        """
        organisations:
          - name: A
            url: https://a.example.org/
            status: paused
        """,
        4,
        "status",
        "must be 'dead' or left out",
    ),
    (
        "impossible date",
        """
        organisations:
          - name: A
            url: https://a.example.org/
            status: dead
            dead_since: 2026-02-30
        """,
        5,
        "dead_since",
        "must be a date like 2026-11-23, got '2026-02-30'",
    ),
    (
        "dead_since without status",
        """
        organisations:
          - name: A
            url: https://a.example.org/
            dead_since: 2026-11-23
        """,
        4,
        "dead_since",
        "only allowed together with 'status: dead'",
    ),
    (
        "dead link in another shape",
        """
        organisations:
          - name: A
            url: https://a.example.org/
            links: [https://a.example.org/x]
            dead_links: ["https://a.example.org/x (dead since 2026-11-20)"]
        """,
        5,
        "dead_links",
        "write it as 'URL since 2026-11-20' or just the URL",
    ),
    (
        "dead link with an impossible date",
        """
        organisations:
          - name: A
            url: https://a.example.org/
            links: [https://a.example.org/x]
            dead_links: [https://a.example.org/x since 2026-13-01]
        """,
        5,
        "dead_links",
        "must end with a date like 2026-11-23, got '2026-13-01'",
    ),
    (
        "dead link that the entry does not list",
        """
        organisations:
          - name: A
            url: https://a.example.org/
            groups_url: https://a.example.org/groups
            dead_links:
              - https://a.example.org/gone since 2026-11-20
        """,
        6,
        "dead_links",
        "'https://a.example.org/gone' is not this entry's groups_url or one of its links",
    ),
    (
        "dead homepage in dead_links",
        """
        organisations:
          - name: A
            url: https://a.example.org/
            dead_links: [https://a.example.org/]
        """,
        4,
        "dead_links",
        "the homepage is marked with 'status: dead', not in dead_links",
    ),
    (
        "dead link marked twice",
        """
        organisations:
          - name: A
            url: https://a.example.org/
            groups_url: https://a.example.org/groups
            dead_links:
              - https://a.example.org/groups since 2026-11-20
              - https://a.example.org/groups
        """,
        7,
        "dead_links",
        "'https://a.example.org/groups' is listed twice",
    ),
    (
        "key given twice in one entry",
        """
        organisations:
          - name: A
            url: https://a.example.org/
            url: https://b.example.org/
        """,
        4,
        "url",
        "given twice in one entry (first on line 3)",
    ),
    (
        "invalid CSS selector",
        """
        organisations:
          - name: A
            url: https://a.example.org/
            group_selector: "ul > li["
        """,
        4,
        "group_selector",
        "is not a valid CSS selector",
    ),
    (
        "explicit id that is not a slug",
        """
        organisations:
          - id: Nurse Groups
            name: Nurse Groups
            url: https://a.example.org/
        """,
        2,
        "id",
        "(like 'nurse-groups')",
    ),
    (
        "name in a script slugify cannot spell",
        """
        organisations:
          - name: 医師の会
            url: https://a.example.jp/
        """,
        2,
        "id",
        "add an explicit id",
    ),
    (
        "multi-line name",
        """
        organisations:
          - name: |
              Two
              Lines
            url: https://a.example.org/
        """,
        2,
        "name",
        "single line",
    ),
    (
        "unknown top-level key",
        """
        organizations:
          - name: A
            url: https://a.example.org/
        """,
        1,
        "organizations",
        "did you mean 'organisations'?",
    ),
    (
        "entry that is not a mapping",
        """
        organisations:
          - name: A
            url: https://a.example.org/
          - just a name
        """,
        4,
        None,
        "each entry must be a mapping",
    ),
    (
        "organisations that is not a list",
        """
        organisations:
          name: A
          url: https://a.example.org/
        """,
        2,
        "organisations",
        "must be a list of entries",
    ),
    (
        "malformed YAML: unquoted colon",
        """
        organisations:
          - name: A
            url: https://a.example.org/
            profession: Law: criminal
        """,
        4,
        None,
        "is not valid YAML",
    ),
    (
        "malformed YAML: unclosed flow list",
        """
        organisations:
          - name: A
            url: https://a.example.org/
            groups: [one, two
          - name: B
        """,
        5,
        None,
        "is not valid YAML",
    ),
    (
        "a second document",
        """
        organisations: []
        ---
        organisations: []
        """,
        2,
        None,
        "second YAML document",
    ),
    (
        "undefined alias",
        """
        organisations:
          - name: A
            url: https://a.example.org/
            groups: *shared
        """,
        4,
        None,
        "alias",
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "field", "fragment"),
    [case[1:] for case in INVALID_YAML],
    ids=[case[0] for case in INVALID_YAML],
)
def test_invalid_yaml_is_reported_at_its_line(
    text: str, line: int, field: str | None, fragment: str, yaml_parser: str
) -> None:
    problems = problems_of("bad.yaml", yaml_doc(text))
    matching = [p for p in problems if p.line == line and p.field == field]
    assert matching, f"no problem at line {line} field {field!r}: {problems}"
    assert any(fragment in p.message for p in matching), matching
    prefix = f"bad.yaml:{line}: " + (f"field '{field}': " if field else "")
    assert any(str(p).startswith(prefix) for p in matching)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "is empty"),
        ("# only a comment\n", "is empty"),
        ("just some words\n", "expected 'organisations:' and a list of entries"),
        ("42\n", "expected 'organisations:'"),
        ("nothing: here\n", "has no 'organisations:' key"),
    ],
)
def test_file_that_is_not_a_directory(text: str, fragment: str) -> None:
    problems = problems_of("bad.yaml", text)
    assert any(fragment in p.message for p in problems), problems


def test_problem_str_format() -> None:
    problem = DirectoryProblem("directory.yaml", 12, "url", "must be an http(s) URL, got 'ftp://x'")
    assert str(problem) == "directory.yaml:12: field 'url': must be an http(s) URL, got 'ftp://x'"
    assert str(DirectoryProblem("d.csv", None, None, "is empty")) == "d.csv: is empty"


def test_every_problem_is_reported_at_once_and_nothing_is_returned() -> None:
    text = yaml_doc(
        """
        organisations:
          - name: Good One
            url: https://good-one.example.org/
          - name: Bad
            url: ftp://bad.example.org/
            check_every: soon
            stauts: dead
          - name: Good Two
            url: https://good-two.example.org/
        """
    )
    with pytest.raises(DirectoryError) as caught:
        load_directory("mixed.yaml", text=text)
    error = caught.value
    assert [(p.line, p.field) for p in error.problems] == [
        (5, "url"),
        (6, "check_every"),
        (7, "stauts"),
    ]
    lines = str(error).splitlines()
    assert lines[0] == "3 problems in mixed.yaml; nothing was imported:"
    assert lines[1:] == [f"  {p}" for p in error.problems]
    assert "did you mean 'status'?" in lines[3]


def test_one_bad_entry_among_good_ones_rejects_the_file() -> None:
    good = "\n".join(f"  - name: Org {n}\n    url: https://org{n}.example.org/" for n in range(20))
    text = f"organisations:\n{good}\n  - name: Broken\n    url: not a url\n"
    problems = problems_of("d.yaml", text)
    assert [(p.line, p.field) for p in problems] == [(43, "url")]


# -- CSV ----------------------------------------------------------------------------------------

INVALID_CSV = [
    (
        "unknown column",
        "nmae,url\nA,https://a.example.org/\n",
        1,
        "nmae",
        "unknown column; did you mean 'name'?",
    ),
    (
        "bad url on the third data row",
        "name,url\nA,https://a.example.org/\nB,https://b.example.org/\nC,mailto:c@example.org\n",
        4,
        "url",
        "must be an http(s) URL",
    ),
    (
        "duplicate ids",
        "id,name,url\nx,A,https://a.example.org/\nx,B,https://b.example.org/\n",
        3,
        "id",
        "duplicate id 'x': line 2 has the same id",
    ),
    (
        "missing url column",
        "name,homepage\nA,https://a.example.org/\n",
        1,
        "url",
        "no such column",
    ),
    (
        "bad interval",
        "name,url,check_every\nA,https://a.example.org/,daily\n",
        2,
        "check_every",
        "a whole number and a unit",
    ),
    (
        "row starting after a multi-line cell",
        'name,url,profession\nA,https://a.example.org/,"Law\nand order"\nB,ftp://b\n',
        4,
        "url",
        "must be an http(s) URL",
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "field", "fragment"),
    [case[1:] for case in INVALID_CSV],
    ids=[case[0] for case in INVALID_CSV],
)
def test_invalid_csv_is_reported_at_its_row(
    text: str, line: int, field: str, fragment: str
) -> None:
    problems = problems_of("bad.csv", text)
    matching = [p for p in problems if p.line == line and p.field == field]
    assert matching, problems
    assert any(fragment in p.message for p in matching), matching
    assert any(str(p).startswith(f"bad.csv:{line}: field '{field}': ") for p in matching)


def test_unknown_csv_column_suggests_the_key_even_from_a_synonym() -> None:
    problems = problems_of("bad.csv", "name,url,Group URL\nA,https://a.example.org/,x\n")
    assert problems[0].message == "unknown column; did you mean 'groups_url'?"


def test_csv_lists_split_on_semicolons_and_empty_cells_are_absent() -> None:
    text = "name,url,groups,aliases,profession\nA,https://a.example.org/, one ;two;; ,,\n"
    (entry,) = load_directory("d.csv", text=text)
    assert entry.groups == ("one", "two")
    assert entry.aliases == ()
    assert entry.profession is None


# -- hostile input ------------------------------------------------------------------------------


def test_binary_file_is_a_directory_error(tmp_path: Path) -> None:
    path = tmp_path / "directory.yaml"
    path.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(DirectoryError) as caught:
        load_directory(path)
    assert "binary" in str(caught.value)


def test_undecodable_bytes_name_their_line(tmp_path: Path) -> None:
    path = tmp_path / "directory.yaml"
    path.write_bytes(b"organisations:\n  - name: Caf\xe9 Workers\n    url: https://a.example/\n")
    with pytest.raises(DirectoryError) as caught:
        load_directory(path)
    (problem,) = caught.value.problems
    assert problem.line == 2
    assert "not UTF-8" in problem.message


def test_control_characters_in_text_are_reported() -> None:
    problems = problems_of(
        "d.yaml", "organisations:\n  - name: A\x07\n    url: https://a.example/\n"
    )
    assert [(p.line, "U+0007" in p.message) for p in problems] == [(2, True)]


def test_missing_file_is_a_directory_error(tmp_path: Path) -> None:
    with pytest.raises(DirectoryError) as caught:
        load_directory(tmp_path / "nope.yaml")
    assert "cannot be read" in str(caught.value)


def test_deeply_nested_five_megabyte_document_is_refused(yaml_parser: str) -> None:
    depth = 2_500_000
    text = "organisations: " + "[" * depth + "]" * depth + "\n"
    assert len(text) > 5_000_000
    problems = problems_of("deep.yaml", text)
    # Our own depth check, or (libyaml in PyYAML 6.0.4+) the parser's own nesting limit.
    assert any(
        "nested more than" in p.message or "maximum nesting depth" in p.message for p in problems
    ), [p.message for p in problems]


def test_alias_bomb_is_reported_not_expanded(yaml_parser: str) -> None:
    # Nine levels of nine-fold aliases: 387 million strings if anything expanded it.
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, 9):
        lines.append(f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]")
    text = "\n".join(
        [
            "bombs:",
            *("  " + line for line in lines),
            "organisations:",
            "  - name: A",
            "    url: https://a.example.org/",
            "    groups: *a8",
        ]
    )
    problems = problems_of("bomb.yaml", text + "\n")
    assert any(p.field == "bombs" for p in problems)
    group_problems = [p for p in problems if p.field == "groups"]
    assert len(group_problems) == 9  # one per item of the top list, nothing deeper
    assert all("must be text, found a list" in p.message for p in group_problems)


def test_merge_key_bomb_merges_each_mapping_once(yaml_parser: str) -> None:
    lines = ["base: &m0 {name: A, url: 'https://a.example.org/'}"]
    for n in range(1, 12):
        lines.append(f"m{n}: &m{n} {{<<: [" + ", ".join([f"*m{n - 1}"] * 9) + "]}")
    text = "\n".join(["anchors:", *("  " + line for line in lines)])
    text += "\norganisations:\n  - <<: *m11\n"
    problems = problems_of("bomb.yaml", text)
    assert [p.field for p in problems] == ["anchors"]  # the entry itself is fine


def test_huge_scalar_is_refused_without_echoing_it() -> None:
    text = "organisations:\n  - name: " + "x" * 5_000_000 + "\n    url: https://a.example.org/\n"
    error_text = ""
    with pytest.raises(DirectoryError) as caught:
        load_directory("big.yaml", text=text)
    error_text = str(caught.value)
    assert "too long" in error_text
    assert len(error_text) < 1000


def test_huge_csv_cell_is_a_directory_error() -> None:
    text = "name,url\n" + '"' + "x" * 5_000_000 + '",https://a.example.org/\n'
    with pytest.raises(DirectoryError) as caught:
        load_directory("big.csv", text=text)
    assert caught.value.problems[0].line == 2


@pytest.mark.parametrize(
    "template",
    [
        "organisations:\n  - name: !!python/object/apply:os.system [{cmd}]\n"
        "    url: https://a.example.org/\n",
        "organisations:\n  - !!python/object/apply:os.system\n    args: [{cmd}]\n",
        "!!python/object/apply:os.system [{cmd}]\n",
        "organisations:\n  - name: A\n    url: https://a.example.org/\n"
        "    groups: [!!python/name:os.system , !!python/object/new:os.system [{cmd}]]\n",
    ],
)
def test_python_tags_are_reported_never_executed(
    template: str, tmp_path: Path, yaml_parser: str
) -> None:
    marker = tmp_path / "pwned"
    text = template.format(cmd=f"'touch {marker}'")
    problems = problems_of("evil.yaml", text)
    assert any("is not allowed" in p.message and "python" in p.message for p in problems)
    assert not marker.exists()


# -- HTML page import ---------------------------------------------------------------------------


def test_html_page_fixture_proposes_outbound_organisations() -> None:
    entries = load_directory(FIXTURES / "page.html")
    assert [(e.id, e.name, e.url, e.profession) for e in entries] == [
        (
            "physicians-anonymous",
            "Physicians Anonymous",
            "https://physiciansanonymous.org/",
            "Healthcare",
        ),
        ("nursegroups", "NurseGroups", "https://www.nursegroups.example/groups", "Healthcare"),
        (
            "journalist-trauma-support-network",
            "Journalist Trauma Support Network",
            "https://jtsn.org/",
            "Media and arts",
        ),
        (
            "entertainment-community-fund",
            "Entertainment Community Fund",
            "https://entertainmentcommunity.org/",
            "Media and arts",
        ),
        # Generic link text ("website") and an image without alt fall back to the host.
        (
            "lawyersdepressionproject-org",
            "lawyersdepressionproject.org",
            "https://www.lawyersdepressionproject.org/",
            "Law",
        ),
        ("lab-example-net", "lab.example.net", "https://lab.example.net/", "Law"),
    ]


def test_html_import_skips_chrome_social_and_internal_links() -> None:
    html = (FIXTURES / "page.html").read_text()
    urls = " ".join(e.url for e in propose_from_html(html, "", "page.html"))
    for skipped in (
        "sponsor-in-header",  # page header
        "nav-link",  # <nav>
        "crumb",  # breadcrumbs
        "aside.example",  # <aside>
        "footer.example",  # page footer
        "sharer.example",  # share buttons
        "facebook",
        "twitter",
        "blog.directory.example.org",  # same registered domain as the page
        "mailto:",
        "tel:",
        "javascript:",
    ):
        assert skipped not in urls


def test_html_import_from_url_uses_the_injected_fetch_and_final_url() -> None:
    html = """
        <html><body>
          <h2>Law</h2>
          <a href="/members">Members</a>
          <a href="https://moved.example.org/about">Our own page, on the new host</a>
          <a href="https://lawyers.example.net/">Lawyers Helping Lawyers</a>
        </body></html>
    """
    calls: list[str] = []

    def fake_fetch(url: str) -> tuple[str, str]:
        calls.append(url)
        return "https://moved.example.org/directory", html  # the page redirected

    entries = load_directory("https://old.example.org/directory", fetch=fake_fetch)
    assert calls == ["https://old.example.org/directory"]
    assert entries == [
        DirectoryEntry(
            id="lawyers-helping-lawyers",
            name="Lawyers Helping Lawyers",
            url="https://lawyers.example.net/",
            profession="Law",
        )
    ]


def test_html_import_honours_base_href_and_dedupes_ids() -> None:
    html = """
        <html><head><base href="https://directory.example.org/list/"></head><body>
          <a href="https://support-one.org/">Support</a>
          <a href="https://support-two.org/">Support</a>
          <a href="https://www.support-one.org/other">Support again</a>
          <a href="../about">About us</a>
        </body></html>
    """
    entries = propose_from_html(html, "", "list.html")
    assert [(e.id, e.url) for e in entries] == [
        ("support", "https://support-one.org/"),
        ("support-2", "https://support-two.org/"),
    ]


@pytest.mark.parametrize(
    "wrapper",
    [
        '<div class="mainNav">{link}</div>',
        '<div role="navigation">{link}</div>',
        '<ul class="footer-links">{link}</ul>',
        '<div id="social-icons">{link}</div>',
        '<div class="sharing">{link}</div>',
        '<div class="megamenu">{link}</div>',
        "<body><header>{link}</header></body>",
    ],
)
def test_links_in_page_chrome_are_skipped(wrapper: str) -> None:
    link = '<a href="https://chrome.example/">Chrome</a>'
    content = '<p><a href="https://content.example/">Content Org</a></p>'
    html = f"<html><body>{wrapper.format(link=link)}{content}</body></html>"
    entries = propose_from_html(html, "https://directory.example.org/", "page.html")
    assert [e.url for e in entries] == ["https://content.example/"]


def test_long_link_text_and_headings_are_shortened() -> None:
    words = " ".join(["word"] * 100)
    html = f"<h2>{words}</h2><a href='https://long.example/'>{words}</a>"
    (entry,) = propose_from_html(html, "https://directory.example.org/", "page.html")
    assert len(entry.name) <= 123 and entry.name.endswith("...")
    assert entry.profession is not None and len(entry.profession) <= 123
    assert load_directory("x.yaml", text=dump_directory([entry])) == [entry]


def test_url_of_a_yaml_file_is_read_as_yaml() -> None:
    text = (FIXTURES / "valid.yaml").read_text(encoding="utf-8")
    url = "https://forge.example.org/raw/main/directory.yaml"
    assert load_directory(url, fetch=lambda u: (u, text)) == EXPECTED_VALID


def test_url_without_fetch_is_a_clear_error() -> None:
    with pytest.raises(DirectoryError) as caught:
        load_directory("https://directory.example.org/")
    assert "no fetch function" in str(caught.value)


def test_fetch_failure_is_a_directory_error() -> None:
    def failing_fetch(url: str) -> tuple[str, str]:
        raise ConnectionRefusedError(111, "Connection refused")

    with pytest.raises(DirectoryError) as caught:
        load_directory("https://directory.example.org/", fetch=failing_fetch)
    assert "could not fetch the page" in str(caught.value)


def test_page_without_outbound_links_is_an_error() -> None:
    html = "<html><body><nav><a href='https://x.example.com/'>X</a></nav><a href='/a'>A</a></body></html>"
    with pytest.raises(DirectoryError) as caught:
        load_directory("https://directory.example.org/", fetch=lambda url: (url, html))
    assert "no organisations found" in str(caught.value)


def test_proposed_entries_survive_dump_and_load() -> None:
    entries = load_directory(FIXTURES / "page.html")
    assert load_directory("proposed.yaml", text=dump_directory(entries)) == entries


# -- writing ------------------------------------------------------------------------------------

TRICKY = [
    DirectoryEntry(
        id="zoe",
        name='Zoë\'s Nurses: "Night Shift" #1',
        aliases=("yes", "null", "2026-01-01", "a, b", "[x]", "{y}", "- dash", "? q", "@at"),
        url="https://zoë.example.org/path?q=1#frag",
        profession="Nursing & midwifery",
        groups_url="https://zoë.example.org/groups",
        group_selector='div#groups > ul li:not(.past) a[href*="join"]',
        groups=tuple(f"Group number {n}: night shift #{n}" for n in range(8)),
        links=("https://zoë.example.org/a", "https://other.example.net/b"),
        check_every="36h",
    ),
    DirectoryEntry(
        id="dead-one",
        name="*star &amp !bang %pct |pipe >gt `tick",
        url="http://dead.example.org",
        status="dead",
        dead_since=dt.date(2026, 11, 23),
    ),
    DirectoryEntry(
        id="rtl",
        name="شبكة دعم الأطباء \u00a0 😀 日本語",
        aliases=("Ancien nom : l'ancien",),
        url="https://rtl.example.org/",
    ),
]


def test_dump_load_round_trip_is_lossless(yaml_parser: str) -> None:
    text = dump_directory(TRICKY)
    assert load_directory("x.yaml", text=text) == TRICKY


def test_bundled_directory_round_trips() -> None:
    entries = load_directory(REPO / "directory.yaml")
    assert load_directory("x.yaml", text=dump_directory(entries)) == entries


def test_dump_writes_keys_in_order_and_omits_empty_fields() -> None:
    text = dump_directory(TRICKY)
    assert text.startswith("# ")
    entries = text[text.index("organisations:") :].split("\n\n")
    key_line = re.compile(r"(?:  - |    )([a-z_]+):")
    keys = [m.group(1) for line in entries[0].splitlines() if (m := key_line.match(line))]
    assert keys == [k for k in KEYS if k not in ("status", "dead_since", "dead_links")]
    assert "      - Group number 0: night shift #0" not in entries[0]  # quoted: it has ': '
    assert "      - 'Group number 0: night shift #0'" in entries[0]  # long list: block style
    assert "dead_since: 2026-11-23" in entries[1]
    assert "aliases" not in entries[1] and "groups" not in entries[1]
    assert "None" not in text


def test_dump_of_nothing_loads_as_nothing() -> None:
    assert load_directory("x.yaml", text=dump_directory([])) == []


def test_csv_round_trip_is_lossless() -> None:
    assert load_directory("x.csv", text=dump_csv(TRICKY)) == TRICKY


def test_dump_csv_refuses_items_it_could_not_give_back() -> None:
    entry = DirectoryEntry(id="a", name="A", url="https://a.example.org/", groups=("one; two",))
    with pytest.raises(ValueError, match="';'"):
        dump_csv([entry])


# -- helpers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("45s", dt.timedelta(seconds=45)),
        ("30m", dt.timedelta(minutes=30)),
        ("12h", dt.timedelta(hours=12)),
        ("1d", dt.timedelta(days=1)),
        ("2w", dt.timedelta(weeks=2)),
        (" 3 d ", dt.timedelta(days=3)),
    ],
)
def test_parse_interval(text: str, expected: dt.timedelta) -> None:
    assert parse_interval(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "a whole number and a unit"),
        ("1", "a whole number and a unit"),
        ("d", "a whole number and a unit"),
        ("1.5h", "a whole number and a unit"),
        ("1 day", "a whole number and a unit"),
        ("1d12h", "a whole number and a unit"),
        ("1M", "a whole number and a unit"),
        ("0h", "longer than zero"),
        ("-1d", "longer than zero"),
        ("99999999999999w", "at most 10 years"),
        ("9" * 5000 + "d", "a whole number and a unit"),
    ],
)
def test_parse_interval_rejects(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_interval(text)


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Entertainment Community Fund", "entertainment-community-fund"),
        ("NurseGroups", "nursegroups"),
        ("  Médecins  Sans—Frontières ", "medecins-sans-frontieres"),
        ("Women's Network", "womens-network"),
        ("Straße & Søn", "strasse-and-son"),
        ("ﬁrst Responders™", "first-responderstm"),
        ("A:B/C", "a-b-c"),
        ("医師の会", ""),
    ],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_slugify_keeps_long_names_to_a_word_boundary() -> None:
    slug = slugify("Association " * 20)
    assert len(slug) <= 80
    assert slug.endswith("association")


def test_directory_module_imports_no_scrapy_sqlalchemy_or_apprise() -> None:
    code = (
        "import sys\n"
        "from monitor.directory.load import load_directory\n"
        f"load_directory({str(FIXTURES / 'page.html')!r})\n"
        f"load_directory({str(FIXTURES / 'valid.yaml')!r})\n"
        "print(sorted(m for m in ('scrapy', 'sqlalchemy', 'apprise') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert result.stdout.strip() == "[]"


# -- ids kept across renames, against a real store ----------------------------------------------

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
T1 = T0 + dt.timedelta(days=1)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(f"sqlite:///{tmp_path / 'store.db'}")
    yield opened
    opened.close()


def import_text(store: Store, tmp_path: Path, text: str, name: str = "d.yaml") -> ImportDiff:
    from monitor.app.service import import_directory

    path = tmp_path / name
    path.write_text(yaml_doc(text) if name.endswith(".yaml") else text)
    return import_directory(store, path, now=T1)


def seed(store: Store, *entries: tuple[str, str, str]) -> None:
    """Stored organisations as (id, name, url), as if imported from a file with explicit ids."""
    with store.transaction() as repo:
        repo.sync_directory([DirectoryEntry(id=i, name=n, url=u) for i, n, u in entries], T0)


def observe(store: Store, org_id: str) -> None:
    with store.transaction() as repo:
        link = repo.link_states([org_id])[0]
        repo.record_observations(
            [Observation(org_id=org_id, url=link.url, fetched_at=T0, link_id=link.id, status=200)]
        )


def stored_ids(store: Store) -> dict[str, tuple[str, bool]]:
    with store.transaction() as repo:
        return {o.id: (o.entry.name, o.active) for o in repo.organisations(include_inactive=True)}


def import_problems(store: Store, tmp_path: Path, text: str) -> list[str]:
    before = stored_ids(store)
    with pytest.raises(DirectoryError) as caught:
        import_text(store, tmp_path, text)
    assert stored_ids(store) == before  # all or nothing
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize(
    ("name", "before", "after"),
    [
        (
            "d.yaml",
            """
            organisations:
              - name: Old Nurses Network
                url: https://nurses.example.org/
              - name: Lawyers Circle
                url: https://lawyers.example.org/
            """,
            # Renamed, and the homepage written differently but the same (case, slash).
            """
            organisations:
              - name: Nurse Peer Network
                url: https://Nurses.Example.org
              - name: Lawyers Circle
                url: https://lawyers.example.org/
            """,
        ),
        (
            "d.csv",
            "name,url\nOld Nurses Network,https://nurses.example.org/\n"
            "Lawyers Circle,https://lawyers.example.org/\n",
            "name,url\nNurse Peer Network,https://nurses.example.org/\n"
            "Lawyers Circle,https://lawyers.example.org/\n",
        ),
    ],
    ids=["yaml", "csv"],
)
def test_rename_in_a_file_without_ids_keeps_the_id_and_its_history(
    store: Store, tmp_path: Path, name: str, before: str, after: str
) -> None:
    first = import_text(store, tmp_path, before, name)
    assert first.added == ("old-nurses-network", "lawyers-circle")
    observe(store, "old-nurses-network")

    diff = import_text(store, tmp_path, after, name)

    assert (diff.added, diff.changed, diff.removed) == ((), ("old-nurses-network",), ())
    assert stored_ids(store)["old-nurses-network"] == ("Nurse Peer Network", True)
    assert "nurse-peer-network" not in stored_ids(store)
    with store.transaction() as repo:
        assert len(repo.observations(org_id="old-nurses-network")) == 1
    # Export writes the kept id out, so the file no longer depends on the match.
    from monitor.app.service import export_directory

    exported = yaml.safe_load(export_directory(store))["organisations"]
    assert exported[0]["id"] == "old-nurses-network"
    assert exported[0]["name"] == "Nurse Peer Network"
    assert import_text(store, tmp_path, after, name).unchanged == (
        "old-nurses-network",
        "lawyers-circle",
    )


def test_two_renamed_entries_each_keep_their_own_stored_id(store: Store, tmp_path: Path) -> None:
    seed(
        store,
        ("alpha", "Alpha", "https://a.example.org/"),
        ("beta", "Beta", "https://b.example.org/"),
    )
    # The names swapped: each made id is the other's, and each homepage decides.
    diff = import_text(
        store,
        tmp_path,
        """
        organisations:
          - name: Beta
            url: https://a.example.org/
          - name: Alpha
            url: https://b.example.org/
        """,
    )
    assert (diff.added, sorted(diff.changed), diff.removed) == ((), ["alpha", "beta"], ())
    assert stored_ids(store) == {"alpha": ("Beta", True), "beta": ("Alpha", True)}


def test_homepage_match_wins_over_a_made_id_that_is_another_stored_org(
    store: Store, tmp_path: Path
) -> None:
    seed(
        store,
        ("alpha", "Alpha", "https://a.example.org/"),
        ("beta", "Beta", "https://b.example.org/"),
    )
    observe(store, "beta")
    # Beta renamed itself Alpha; the old Alpha is gone from the file.
    diff = import_text(
        store,
        tmp_path,
        """
        organisations:
          - name: Alpha
            url: https://b.example.org/
        """,
    )
    assert (diff.added, diff.changed, diff.removed) == ((), ("beta",), ("alpha",))
    assert stored_ids(store) == {"alpha": ("Alpha", False), "beta": ("Alpha", True)}
    with store.transaction() as repo:
        assert len(repo.observations(org_id="beta")) == 1


def test_made_id_that_a_homepage_match_keeps_is_a_located_error(
    store: Store, tmp_path: Path
) -> None:
    seed(store, ("alpha", "Alpha", "https://a.example.org/"))
    problems = import_problems(
        store,
        tmp_path,
        """
        organisations:
          - name: Alpha Renamed
            url: https://a.example.org/
          - name: Alpha
            url: https://new-alpha.example.org/
        """,
    )
    assert problems == [
        f"{tmp_path / 'd.yaml'}:4: field 'id': duplicate id 'alpha' (made from the name): "
        "line 2 keeps it, as its url is the homepage stored under that id; "
        "give this entry an explicit id"
    ]


def test_explicit_id_wins_over_a_homepage_match(store: Store, tmp_path: Path) -> None:
    seed(store, ("alpha", "Alpha", "https://a.example.org/"))
    observe(store, "alpha")
    # Alpha moved; a new organisation took its old homepage and is listed without an id.
    diff = import_text(
        store,
        tmp_path,
        """
        organisations:
          - id: alpha
            name: Alpha
            url: https://alpha-moved.example.org/
          - name: Newcomer
            url: https://a.example.org/
        """,
    )
    assert (diff.added, diff.changed, diff.removed) == (("newcomer",), ("alpha",), ())
    with store.transaction() as repo:
        assert len(repo.observations(org_id="alpha")) == 1
        assert repo.observations(org_id="newcomer") == []


def test_explicit_id_on_the_matching_entry_itself_wins(store: Store, tmp_path: Path) -> None:
    seed(store, ("alpha", "Alpha", "https://a.example.org/"))
    diff = import_text(
        store,
        tmp_path,
        """
        organisations:
          - id: gamma
            name: Gamma
            url: https://a.example.org/
        """,
    )
    assert (diff.added, diff.changed, diff.removed) == (("gamma",), (), ("alpha",))


def test_explicit_claim_leaves_the_id_less_entry_a_made_id_and_a_collision_is_located(
    store: Store, tmp_path: Path
) -> None:
    seed(store, ("alpha", "Alpha", "https://a.example.org/"))
    problems = import_problems(
        store,
        tmp_path,
        """
        organisations:
          - id: alpha
            name: Alpha Moved
            url: https://alpha-moved.example.org/
          - name: Alpha
            url: https://a.example.org/
        """,
    )
    assert problems == [
        f"{tmp_path / 'd.yaml'}:5: field 'id': duplicate id 'alpha' (made from the name): "
        "line 2 claims it explicitly, though this entry's url is the homepage stored under it; "
        "give this entry an explicit id"
    ]


def test_explicit_claim_of_another_stored_org_is_named_in_the_collision(
    store: Store, tmp_path: Path
) -> None:
    seed(
        store,
        ("alpha", "Alpha", "https://a.example.org/"),
        ("beta", "Beta", "https://b.example.org/"),
    )
    problems = import_problems(
        store,
        tmp_path,
        """
        organisations:
          - id: alpha
            name: Alpha
            url: https://a2.example.org/
          - id: beta
            name: Beta
            url: https://b2.example.org/
          - name: Alpha
            url: https://b.example.org/
        """,
    )
    assert problems == [
        f"{tmp_path / 'd.yaml'}:8: field 'id': duplicate id 'alpha' (made from the name): "
        "line 2 gives it explicitly (this entry's url is the homepage of stored 'beta', "
        "which line 5 claims explicitly); give this entry an explicit id"
    ]


def test_duplicate_homepages_are_still_an_error_with_a_stored_match(
    store: Store, tmp_path: Path
) -> None:
    seed(store, ("alpha", "Alpha", "https://a.example.org/"))
    problems = import_problems(
        store,
        tmp_path,
        """
        organisations:
          - name: Alpha One
            url: https://a.example.org/
          - name: Alpha Two
            url: https://A.example.org
        """,
    )
    # Only the second entry is reported, and only for its url: it keeps no stored id.
    assert problems == [
        f"{tmp_path / 'd.yaml'}:5: field 'url': duplicate url: line 3 lists the same homepage"
    ]


def test_inactive_org_with_the_homepage_comes_back_under_its_id(
    store: Store, tmp_path: Path
) -> None:
    seed(store, ("alpha", "Alpha", "https://a.example.org/"))
    with store.transaction() as repo:
        repo.sync_directory([], T0)  # delisted
    diff = import_text(
        store,
        tmp_path,
        """
        organisations:
          - name: Alpha Reborn
            url: https://a.example.org/
        """,
    )
    assert (diff.added, diff.changed, diff.removed) == ((), ("alpha",), ())
    assert stored_ids(store) == {"alpha": ("Alpha Reborn", True)}


def test_of_two_stored_orgs_with_one_homepage_the_active_one_keeps_it(
    store: Store, tmp_path: Path
) -> None:
    # What the old behaviour left behind: the pre-rename id inactive, the new one active.
    seed(store, ("old-name", "Old Name", "https://a.example.org/"))
    seed(store, ("new-name", "New Name", "https://a.example.org/"))
    assert stored_ids(store) == {"old-name": ("Old Name", False), "new-name": ("New Name", True)}
    diff = import_text(
        store,
        tmp_path,
        """
        organisations:
          - name: Newer Name
            url: https://a.example.org/
        """,
    )
    assert (diff.added, diff.changed, diff.removed) == ((), ("new-name",), ())


def test_name_that_makes_no_id_keeps_the_stored_one(store: Store, tmp_path: Path) -> None:
    seed(store, ("kyiv-peers", "Kyiv Peers", "https://kyiv.example.org/"))
    text = """
        organisations:
          - name: Київ
            url: https://kyiv.example.org/
        """
    assert import_text(store, tmp_path, text).changed == ("kyiv-peers",)
    # Without a stored homepage to match, such a name still needs an explicit id.
    problems = import_problems(
        store,
        tmp_path,
        """
        organisations:
          - name: Київ
            url: https://kyiv.example.org/
          - name: Львів
            url: https://lviv.example.org/
        """,
    )
    assert problems == [
        f"{tmp_path / 'd.yaml'}:4: field 'id': cannot make an id from the name 'Львів'; "
        "add an explicit id"
    ]

"""The README's settings table, rendered from the one table of defaults, ``spiders/settings.py``.

Each setting's row is its name, its default as written there, and its comment: the comment lines
right above the assignment and the comment at the end of its first line. The README holds the
rendered table between two markers, and ``tests/crawl/test_settings_home.py`` checks that it is what
this module renders, so the two cannot drift apart.

    python -m monitor.crawl.settings_doc --markdown          # print the table
    python -m monitor.crawl.settings_doc --update README.md  # rewrite it in place
"""

from __future__ import annotations

import argparse
import ast
import io
import tokenize
from dataclasses import dataclass
from pathlib import Path

TABLE = Path(__file__).resolve().parents[2] / "spiders" / "settings.py"
BEGIN = "<!-- settings table: generated from spiders/settings.py by "
BEGIN += "`python -m monitor.crawl.settings_doc --update README.md`; do not edit by hand -->"
END = "<!-- end of the generated settings table -->"
# A default longer than this is not written out in the table (a list of middlewares, say).
LONGEST_DEFAULT = 60


@dataclass(frozen=True)
class Row:
    name: str
    default: str  # as written in spiders/settings.py
    comment: str  # empty when the setting has none (a test refuses that)


def rows(path: Path = TABLE) -> list[Row]:
    """Every setting of the table, in its order, with its default and comment."""
    source = path.read_text(encoding="utf-8")
    comments = _comments(source)
    lines = source.splitlines()
    found = []
    for node in ast.parse(source).body:
        target = _target(node)
        if target is None or not target.isupper():
            continue
        value = node.value  # type: ignore[union-attr]
        above = []
        line = node.lineno - 1  # 1-based: the line above the assignment
        while line >= 1 and lines[line - 1].lstrip().startswith("#"):
            text = comments.get(line, "")
            if text.startswith("--"):  # a section's heading, not this setting's comment
                break
            above.insert(0, text)
            line -= 1
        inline = comments.get(node.lineno, "") if lines[node.lineno - 1].split("#")[0] else ""
        comment = " ".join(part for part in (*above, inline) if part)
        found.append(Row(target, ast.get_source_segment(source, value) or "", comment))
    return found


def _target(node: ast.stmt) -> str | None:
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        target = node.target
    else:
        return None
    return target.id if isinstance(target, ast.Name) else None


def _comments(source: str) -> dict[int, str]:
    """Each line's comment text, without the ``#``."""
    out = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            out[token.start[0]] = token.string.lstrip("#").strip()
    return out


def _default(text: str) -> str:
    if "\n" in text or len(text) > LONGEST_DEFAULT:
        return "see `spiders/settings.py`"
    return f"`{text}`"


def markdown(path: Path = TABLE) -> str:
    """The settings table in Markdown, one row per setting."""
    out = ["| setting | default | what it does, and why |", "| --- | --- | --- |"]
    for row in rows(path):
        comment = row.comment.replace("|", "\\|")
        out.append(f"| `{row.name}` | {_default(row.default)} | {comment} |")
    return "\n".join(out) + "\n"


def readme_table(readme: str) -> str:
    """The table between the markers of ``readme``'s text (ValueError without them)."""
    start = readme.index(BEGIN) + len(BEGIN)
    return readme[start : readme.index(END, start)].strip("\n") + "\n"


def updated(readme: str, path: Path = TABLE) -> str:
    """``readme``'s text with the table between its markers rendered afresh."""
    start = readme.index(BEGIN) + len(BEGIN)
    end = readme.index(END, start)
    return f"{readme[:start]}\n{markdown(path)}{readme[end:]}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--markdown", action="store_true", help="print the table")
    group.add_argument("--update", metavar="README", type=Path, help="rewrite its table")
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown(), end="")
        return
    args.update.write_text(updated(args.update.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    main()

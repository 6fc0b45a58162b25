"""What is wrong with a directory file: problems located by file, line and field.

Readers collect every problem in ``Problems`` and keep going, so that one ``DirectoryError``
reports them all at once; ``suggest`` names the closest known key (a value in a message is
rendered by ``monitor.judging.intervals.show``, which the interval parser shares).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Enough to fix a file in one pass without flooding a terminal.
MAX_SHOWN_PROBLEMS = 200

# Words curators reach for that difflib would not match to our key.
_SYNONYMS = {
    "website": "url",
    "homepage": "url",
    "home": "url",
    "link": "links",
    "alias": "aliases",
    "former_names": "aliases",
    "group": "groups",
    "title": "name",
    "interval": "check_every",
    "selector": "group_selector",
}


@dataclass(frozen=True)
class DirectoryProblem:
    """One thing wrong with a directory file, located well enough to fix it."""

    source: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        if self.field is None:
            return f"{where}: {self.message}"
        return f"{where}: field '{self.field}': {self.message}"


class DirectoryError(Exception):
    """A directory could not be read; ``problems`` lists everything found, in file order."""

    def __init__(self, problems: Sequence[DirectoryProblem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.line is not None, p.line or 0))
        super().__init__(self._render())

    def _render(self) -> str:
        count = len(self.problems)
        source = self.problems[0].source if self.problems else "directory"
        noun = "problem" if count == 1 else "problems"
        lines = [f"{count} {noun} in {source}; nothing was imported:"]
        lines += [f"  {problem}" for problem in self.problems[:MAX_SHOWN_PROBLEMS]]
        if count > MAX_SHOWN_PROBLEMS:
            lines.append(f"  ... and {count - MAX_SHOWN_PROBLEMS} more")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self._render()


class Problems:
    """Collects problems for one source, so that every check can keep going after a failure."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[DirectoryProblem] = []

    def add(self, line: int | None, key: str | None, message: str) -> None:
        self.items.append(DirectoryProblem(self.source, line, key, message))

    def fail(self, line: int | None, key: str | None, message: str) -> DirectoryError:
        self.add(line, key, message)
        return DirectoryError(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise DirectoryError(self.items)


def suggest(key: str, known: Iterable[str], *, list_known: bool = True) -> str:
    known = list(known)
    lowered = key.strip().lower().replace("-", "_").replace(" ", "_")
    if lowered in known:
        return f"; did you mean {lowered!r}?"
    if lowered in _SYNONYMS and _SYNONYMS[lowered] in known:
        return f"; did you mean {_SYNONYMS[lowered]!r}?"
    close = difflib.get_close_matches(lowered, known, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f" (known keys: {', '.join(known)})" if list_known else ""

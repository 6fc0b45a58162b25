"""What every part of the repository shares: the session, ``NotFound``, and reading ids in
chunks. Keeps no table of its own."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy.orm import Session


class NotFound(LookupError):
    """A caller named something the store does not hold."""


class SessionBound:
    """One part of the repository, on the session of the caller's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session


CHUNK = 500  # rows or ids per query: bounded memory, and within SQLite's parameter limit


def chunks(ids: Iterable[Any]) -> Iterator[list[Any]]:
    batch = list(ids)
    for start in range(0, len(batch), CHUNK):
        yield batch[start : start + CHUNK]

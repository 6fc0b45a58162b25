"""The directory as a spreadsheet (CSV): one column per key, list items joined with ``;``."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from monitor.directory.keys import KEYS, LIST_KEYS, entry_fields
from monitor.directory.problems import Problems, suggest
from monitor.directory.raw import RawEntry, Value
from storage.records import DirectoryEntry


def read_csv(text: str, problems: Problems) -> list[RawEntry]:
    reader = csv.reader(io.StringIO(text, newline=""))
    raws: list[RawEntry] = []
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            problems.add(1, None, "is empty; the first row must name the columns (name, url, ...)")
            return []
        columns = _csv_columns(header, problems)
        if columns is None:
            return []
        while True:
            line = reader.line_num + 1
            row = next(reader, None)
            if row is None:
                break
            if not any(cell.strip() for cell in row):
                continue
            raws.append(_csv_entry(row, line, columns, problems))
    except csv.Error as exc:
        problems.add(reader.line_num or 1, None, f"is not valid CSV: {exc}")
        return []
    return raws


def _csv_columns(header: list[str], problems: Problems) -> list[str | None] | None:
    """The key each column holds: "" for an unnamed column, None for one already reported.

    Returns None when the rows cannot be read at all (no name or url column).
    """
    columns: list[str | None] = []
    for cell in header:
        name = cell.strip().lower()
        if not name:
            columns.append("")
        elif name in KEYS and name not in columns:
            columns.append(name)
        elif name in KEYS:
            problems.add(1, name, "column given twice")
            columns.append(None)
        else:
            hint = " (separate columns with commas)" if ";" in name else ""
            problems.add(1, cell.strip(), "unknown column" + suggest(name, KEYS) + hint)
            columns.append(None)
    absent = [key for key in ("name", "url") if key not in columns]
    for key in absent:
        problems.add(1, key, "no such column; every organisation needs one")
    return None if absent else columns


def _csv_entry(
    row: list[str], line: int, columns: list[str | None], problems: Problems
) -> RawEntry:
    raw = RawEntry(line=line)
    if len(row) > len(columns) and any(cell.strip() for cell in row[len(columns) :]):
        problems.add(line, None, f"has {len(row)} cells but the header names {len(columns)}")
    for index, key in enumerate(columns):
        cell = row[index].strip() if index < len(row) else ""
        if not cell or key is None:
            continue
        if key == "":
            problems.add(line, None, f"cell {index + 1} has a value but its column has no name")
        elif key in LIST_KEYS:
            parts = [part.strip() for part in cell.split(";")]
            raw.values[key] = Value(line, items=[(part, line) for part in parts if part])
        else:
            raw.values[key] = Value(line, text=cell)
    return raw


def dump_csv(entries: Sequence[DirectoryEntry]) -> str:
    """The entries as CSV with one column per key; list items are joined with ``;``.

    Raises ValueError when a list item itself contains ``;``, which CSV could not give back.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(KEYS)
    for entry in entries:
        row = dict.fromkeys(KEYS, "")
        for key, value in entry_fields(entry):
            if isinstance(value, tuple):
                if any(";" in item for item in value):
                    raise ValueError(
                        f"{entry.id}: an item of {key!r} contains ';', which CSV uses between items"
                    )
                row[key] = "; ".join(value)
            else:
                row[key] = value
        writer.writerow([row[key] for key in KEYS])
    return out.getvalue()

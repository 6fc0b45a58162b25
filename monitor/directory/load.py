"""The directory file: the curated list of organisations that freshness keeps true.

Curators write it by hand as YAML, keep it as a spreadsheet (CSV), or have it only as a web page
(HTML import proposes one organisation per outbound link). ``load_directory`` reads any of the
three and checks everything before it returns: every problem is reported with file, line and
field, all at once, and nothing is returned unless the whole file is good.
``monitor.directory.yaml_format.dump_directory`` writes YAML back in the same format, losslessly.

This module chooses the parser and turns bytes into text; the readers live in ``yaml_format``,
``csv_format`` and ``html_import``, the checks in ``validate``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urlsplit

from monitor.directory.checks import is_web_url
from monitor.directory.csv_format import read_csv
from monitor.directory.html_import import propose_from_html
from monitor.directory.keys import KEYS, MAX_BYTES
from monitor.directory.problems import Problems
from monitor.directory.validate import build_all
from monitor.directory.yaml_format import read_yaml
from storage.records import DirectoryEntry, Organisation


def load_directory(
    source: str | Path,
    *,
    text: str | None = None,
    fetch: Callable[[str], tuple[str, str]] | None = None,
    stored: Iterable[Organisation] = (),
) -> list[DirectoryEntry]:
    """Read a directory from a YAML, CSV or HTML file, or from a web page's URL.

    The parser is chosen by extension (``.yaml``/``.yml``, ``.csv``, ``.html``/``.htm``; any
    other http(s) ``source`` is an HTML page), else by content. ``text`` supplies the content
    directly (``source`` then only names it in messages). A URL is read with ``fetch(url) ->
    (final_url, html)``, which the caller provides; it should raise OSError when it cannot.

    ``stored`` are the organisations already in the store, active or not. A YAML or CSV entry
    without an id takes the id of the stored one with the same homepage, unless another entry
    claims that id explicitly; otherwise its id is made from its name. So renaming an
    organisation in a file without ids keeps its history.

    Raises DirectoryError listing every problem found; returns nothing unless all is well.
    """
    name = str(source)
    problems = Problems(name)
    page_url = ""
    if isinstance(source, str) and is_web_url(source):
        # A page to import, unless the URL names a directory file (say, a raw file on a forge).
        suffix = Path(urlsplit(source).path).suffix.lower()
        kind = "csv" if suffix == ".csv" else "yaml" if suffix in (".yaml", ".yml") else "html"
        page_url = source
        if text is None:
            if fetch is None:
                raise problems.fail(
                    None, None, "is a web address, and no fetch function was given to read it"
                )
            try:
                page_url, text = fetch(source)
            except OSError as exc:
                raise problems.fail(None, None, f"could not fetch the page: {exc}") from exc
    else:
        if text is None:
            text = _read_file(Path(source), problems)
        kind = _guess_kind(name, text)
    text = _as_text(text, problems)
    if kind == "html":
        return propose_from_html(text, page_url, name)
    raws = read_csv(text, problems) if kind == "csv" else read_yaml(text, problems)
    entries = build_all(raws, problems, list(stored))
    problems.raise_if_any()
    return entries


def _read_file(path: Path, problems: Problems) -> bytes:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise problems.fail(None, None, f"is larger than {MAX_BYTES // 2**20} MB")
        return path.read_bytes()
    except OSError as exc:
        raise problems.fail(None, None, f"cannot be read: {exc.strerror or exc}") from exc


def _guess_kind(name: str, text: str | bytes) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in (".yaml", ".yml"):
        return "yaml"
    if suffix == ".csv":
        return "csv"
    if suffix in (".html", ".htm"):
        return "html"
    head = text[:4096].decode("utf-8", "replace") if isinstance(text, bytes) else text[:4096]
    head = head.lstrip("\ufeff \t\r\n")
    if head.startswith("<"):
        return "html"
    first_cell = head.split("\n", 1)[0].split(",", 1)
    if len(first_cell) == 2 and first_cell[0].strip().strip('"').lower() in KEYS:
        return "csv"
    return "yaml"


def _as_text(data: str | bytes, problems: Problems) -> str:
    """Decoded, BOM-free text, or a DirectoryError saying why the bytes are not a directory."""
    if isinstance(data, bytes):
        if len(data) > MAX_BYTES:
            raise problems.fail(None, None, f"is larger than {MAX_BYTES // 2**20} MB")
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            # Spreadsheets save "Unicode text" as UTF-16; it is still a readable directory.
            try:
                data = data.decode("utf-16").encode("utf-8")
            except UnicodeDecodeError as exc:
                raise problems.fail(None, None, "is not valid UTF-16 text") from exc
        if b"\x00" in data:
            line = data.count(b"\n", 0, data.index(b"\x00")) + 1
            raise problems.fail(line, None, "looks like a binary file (NUL byte), not a directory")
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            byte = data[exc.start]
            raise problems.fail(
                line, None, f"is not UTF-8 text (byte 0x{byte:02x}); save the file as UTF-8"
            ) from exc
    elif not isinstance(data, str):
        raise problems.fail(None, None, f"expected text, got {type(data).__name__}")
    text = data.removeprefix("\ufeff")
    if len(text) > MAX_BYTES:
        raise problems.fail(None, None, f"is larger than {MAX_BYTES // 2**20} MB")
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise problems.fail(line, None, "looks like a binary file (NUL byte), not a directory")
    return text

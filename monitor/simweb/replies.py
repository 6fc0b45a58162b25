"""What a response is before it is sent, and the generated bodies (huge pages, binary blobs).

Pure: no sockets, no locks. The handler in ``connections.py`` fills a ``Reply`` from a
response spec and sends it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

CHUNK = 64 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NO_BODY_STATUSES = frozenset({204, 304})


@dataclass
class Reply:
    """A response to send: a whole ``body``, or a ``stream`` of chunks."""

    status: int
    headers: dict[str, str]
    body: bytes = b""
    stream: Iterator[bytes] | None = None
    length: int | None = None  # None with a stream: no Content-Length, close the connection


def huge_chunks(size: int) -> Iterator[bytes]:
    head = b'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Meeting archive</title></head><body>\n'
    tail = b"\n</body></html>\n"
    if size < len(head) + len(tail):
        yield (head + tail)[:size]
        return
    line = (
        b"<p>Archived meeting notes: peer support, shift work, and looking after each other.</p>\n"
    )
    block = line * (CHUNK // len(line))
    remaining = size - len(head) - len(tail)
    yield head
    while remaining > 0:
        piece = block[:remaining]
        remaining -= len(piece)
        yield piece
    yield tail


def binary_chunks(size: int, png: bool) -> Iterator[bytes]:
    rng = random.Random(size)  # deterministic: same size, same bytes, same ETag
    first = True
    remaining = size
    while remaining > 0:
        piece = rng.randbytes(min(CHUNK, remaining))
        if first and png:
            piece = (PNG_SIGNATURE + piece)[: len(piece)]
        first = False
        remaining -= len(piece)
        yield piece


def etag_matches(header: str, etag: str) -> bool:
    def opaque(tag: str) -> str:
        tag = tag.strip()
        return tag[2:] if tag.startswith("W/") else tag

    candidates = [opaque(t) for t in header.split(",")]
    return "*" in candidates or opaque(etag) in candidates

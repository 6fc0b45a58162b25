"""The repository: the only place that builds queries.

Methods are named for what callers want and speak in the plain records of ``storage.records``.
The caller owns the transaction (see ``Store.transaction``).

``Repository`` is one facade over a part per area of the store, all on the same session:

- ``directory``: organisations, the listed links an import adds or removes, the import diff;
- ``links``: each listed link's failure state, validators and probe;
- ``runs``: runs and their observations, and which runs have had their digest queued;
- ``findings``: findings and the curators' decisions on them;
- ``outbox``: digests per notification target.
"""

from __future__ import annotations

from storage.repository.base import NotFound
from storage.repository.directory import DirectoryRepository
from storage.repository.findings import APPLIED_KEY, FindingRepository
from storage.repository.links import LinkRepository, LinkToCrawl
from storage.repository.outbox import OutboxEntry, OutboxRepository
from storage.repository.runs import DIGEST_KEY, RunRepository

__all__ = [
    "APPLIED_KEY",
    "DIGEST_KEY",
    "LinkToCrawl",
    "NotFound",
    "OutboxEntry",
    "Repository",
]


class Repository(
    DirectoryRepository, LinkRepository, RunRepository, FindingRepository, OutboxRepository
):
    """Every query of the store, on the session of one transaction (``Store.transaction``)."""

"""The single-process recorder: named by the default settings, so every crawler process imports
it, and it must not bring SQLAlchemy into processes that never open the store."""

from __future__ import annotations

from spiders import settings as table
from tests.conftest import python_output


def test_the_default_pipeline_is_the_recorder() -> None:
    assert table.ITEM_PIPELINES == {"monitor.runs.recording.RecordObservationsPipeline": 300}


def test_a_crawler_process_that_imports_its_components_loads_no_sqlalchemy() -> None:
    """``monitor.runs.shards`` warms a crawler by importing what its crawl will need, the
    pipelines the settings name included (it once loaded SQLAlchemy: 18 MB a crawler)."""
    code = (
        "import sys\n"
        "from monitor.runs.shards import _import_crawl_components\n"
        "_import_crawl_components()\n"
        "import monitor.runs.recording\n"
        "print(sorted(m for m in ('sqlalchemy', 'alembic') if m in sys.modules))\n"
    )
    assert python_output(code).strip() == "[]"

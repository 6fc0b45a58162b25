"""What a crawl asks again within a run: not names that do not resolve, nor refused ports."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from tests.conftest import python_output


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again on leaving: connecting is refused


def test_unresolvable_names_and_refused_ports_are_tried_once_per_run(tmp_path: Path) -> None:
    port = _closed_port()
    targets = [
        {"org_id": "gone", "role": "homepage", "url": "http://gone.test/"},
        {"org_id": "refusing", "role": "homepage", "url": f"http://refusing.test:{port}/"},
    ]
    settings = {
        "FRESHNESS_DB": f"sqlite:///{tmp_path}/f.db",
        "FRESHNESS_HOSTS_ONLY": True,
        "FRESHNESS_HOSTS": {"refusing.test": "127.0.0.1"},  # gone.test resolves to nothing
        "FRESHNESS_SOFT404_PROBE": False,
        "FRESHNESS_DISCOVERY": False,
    }
    printed = python_output(
        "import json\n"
        "from monitor.crawl.layers import build_settings\n"
        "from monitor.crawl.process import run_crawl\n"
        f"settings = build_settings({settings!r})\n"
        f"items, stats = run_crawl(settings, targets={targets!r}, record=False, collect=True)\n"
        "print(json.dumps({'errors': sorted(i.get('error') or '' for i in items),"
        " 'requests': stats.get('downloader/request_count'),"
        " 'retries': stats.get('retry/count', 0)}))\n",
        cwd=tmp_path,
    )
    seen = json.loads(printed.strip().splitlines()[-1])
    # each host's robots.txt and its page, once each: Scrapy's list would make that 3 of each
    assert seen == {"errors": ["connection", "dns"], "requests": 4, "retries": 0}

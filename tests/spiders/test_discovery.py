"""The spider's discovery bookkeeping, offline: responses are built, nothing is fetched.

A linked site is fetched once per organisation and run, and every page that links to it is
reported, whether it links before or after the site's page has arrived.
"""

from __future__ import annotations

from scrapy import Request
from scrapy.http import HtmlResponse

from spiders.sites import DirectorySpider
from tests.conftest import python_output

PEER = (
    b"<html><head><title>Loading</title>"
    b'<meta name="description" content="Confidential peer support groups for vets.">'
    b'<meta property="og:site_name" content="Veterinary Peer Support">'
    b'<script type="application/ld+json">{"@type": "NGO", "name": "Veterinary Peer Support"}'
    b"</script></head><body><div id=root></div></body></html>"
)
LINK = [{"url": "http://vetpeers.test/", "text": "Vets", "domain": "vetpeers.test"}]


def spider() -> DirectorySpider:
    made = DirectorySpider(targets=[])
    made.fixed_now = "2026-11-01T03:00:00+00:00"
    return made


def test_a_site_linked_from_several_pages_is_fetched_once_and_names_them_all() -> None:
    s = spider()
    budget = {"sites": 10}
    (request,) = s._candidate_requests("org", LINK, "http://org.test/", budget)
    assert isinstance(request, Request) and budget == {"sites": 9}
    # Another page links to it before its page arrives: noted, nothing more fetched.
    assert list(s._candidate_requests("org", LINK, "http://org.test/partners", budget)) == []
    (item,) = s.parse_candidate(HtmlResponse(request.url, body=PEER, request=request))
    facts = item["facts"]
    assert facts["linked_from"] == ["http://org.test/", "http://org.test/partners"]
    assert facts["site_name"] == "Veterinary Peer Support"
    assert facts["description"] == "Confidential peer support groups for vets."
    assert facts["page_types"] == ["ngo"]
    assert item["role"] == "candidate" and "text" in facts
    # A page that links to it after its page arrived: a copy naming that page, no text.
    (copy,) = s._candidate_requests("org", LINK, "http://org.test/links", budget)
    assert copy["facts"]["linked_from"] == ["http://org.test/links"]
    assert "text" not in copy["facts"] and copy["url"] == item["url"]
    # The same page again, or the budget: nothing.
    assert list(s._candidate_requests("org", LINK, "http://org.test/links", budget)) == []
    assert budget == {"sites": 9}


def test_another_organisation_fetches_the_site_for_itself() -> None:
    s = spider()
    assert len(list(s._candidate_requests("a", LINK, "http://a.test/", {"sites": 1}))) == 1
    assert len(list(s._candidate_requests("b", LINK, "http://b.test/", {"sites": 1}))) == 1
    assert list(s._candidate_requests("c", LINK, "http://c.test/", {"sites": 0})) == []


def test_robots_txt_is_read_for_our_product_token() -> None:
    from monitor.crawl.layers import build_settings

    settings = build_settings()
    DirectorySpider.update_settings(settings)
    assert settings.get("ROBOTSTXT_USER_AGENT") == "freshness"
    chosen = build_settings({"ROBOTSTXT_USER_AGENT": "mybot"}, {})
    chosen_cmdline = build_settings({}, {"ROBOTSTXT_USER_AGENT": "otherbot"})
    for given, expected in ((chosen, "mybot"), (chosen_cmdline, "otherbot")):
        DirectorySpider.update_settings(given)
        assert given.get("ROBOTSTXT_USER_AGENT") == expected


def test_sites_the_directory_lists_are_not_fetched_as_candidates() -> None:
    """They are checked as listed URLs already and can never be new organisations."""
    s = DirectorySpider(targets=[], listed_domains=["vetpeers.test"])
    assert list(s._candidate_requests("org", LINK, "http://org.test/", {"sites": 10})) == []
    other = [{"url": "http://lawpeers.test/", "text": "Law", "domain": "lawpeers.test"}]
    (request,) = s._candidate_requests("org", other, "http://org.test/", {"sites": 10})
    assert request.url == "http://lawpeers.test/"


def test_a_spider_knows_the_domains_of_its_own_targets_as_listed() -> None:
    from scrapy.utils.test import get_crawler

    targets = [
        {"org_id": "vets", "link_id": 1, "role": "homepage", "url": "https://www.vetpeers.test/"},
        {"org_id": None, "link_id": None, "role": "canary", "url": "http://canary.test/"},
    ]
    crawler = get_crawler(DirectorySpider)
    made = DirectorySpider.from_crawler(crawler, targets=targets, listed_domains=["a.test"])
    assert made.listed_domains == {"a.test", "vetpeers.test"}


def test_start_requests_wait_while_the_scheduler_holds_a_full_backlog() -> None:
    """Scrapy's downloader-aware queue looks at every waiting host on each pop; the spider
    keeps at most FRESHNESS_START_BACKLOG requests waiting, so that stays cheap."""
    import asyncio
    from types import SimpleNamespace

    from scrapy.utils.test import get_crawler

    targets = [
        {"org_id": f"o{i}", "link_id": i, "role": "link", "url": f"http://o{i}.test/"}
        for i in range(5)
    ]
    crawler = get_crawler(DirectorySpider, {"FRESHNESS_START_BACKLOG": 2})
    made = DirectorySpider.from_crawler(crawler, targets=targets)

    class Scheduler:
        def __init__(self) -> None:
            self.waiting: list[str] = []

        def __len__(self) -> int:
            return len(self.waiting)

    scheduler = Scheduler()
    crawler.engine = SimpleNamespace(scheduler=scheduler)

    async def crawl() -> list[int]:
        seen = []
        starts = made.start()
        for _ in range(5):
            request = await asyncio.wait_for(anext(starts), 1)
            scheduler.waiting.append(request.url)
            seen.append(len(scheduler))
            if len(scheduler) == 2:
                # Full: the next start request must wait until one is sent.
                pending = asyncio.ensure_future(anext(starts))
                await asyncio.sleep(0.2)
                assert not pending.done()
                scheduler.waiting.pop(0)
                request = await asyncio.wait_for(pending, 1)
                scheduler.waiting.append(request.url)
                seen.append(len(scheduler))
                scheduler.waiting.clear()
                break
        return seen

    assert asyncio.run(crawl()) == [1, 2, 2]


def test_the_spider_takes_its_targets_one_at_a_time_in_order() -> None:
    """A target lives only as long as its requests: the list handed over is emptied as the
    start requests go out, so a large shard's targets are not all held to the end."""
    import asyncio

    from scrapy.utils.test import get_crawler

    targets = [
        {"org_id": f"o{i}", "link_id": i, "role": "link", "url": f"http://o{i}.test/"}
        for i in range(4)
    ]
    from types import SimpleNamespace

    crawler = get_crawler(DirectorySpider)
    spider = DirectorySpider.from_crawler(crawler, targets=targets)
    crawler.engine = SimpleNamespace(scheduler=[])  # an empty scheduler: no waiting

    async def take(n: int) -> list[str]:
        starts = spider.start()
        return [(await anext(starts)).url for _ in range(n)]

    assert asyncio.run(take(4)) == [f"http://o{i}.test/" for i in range(4)]
    assert targets == [] and spider.targets is None


def test_the_spider_reads_an_iterator_of_targets_as_it_schedules_them() -> None:
    """A crawler process reads its shard's targets from a file one at a time
    (monitor.runs.plan.iter_targets): the spider must not read ahead of its start requests."""
    import asyncio
    from types import SimpleNamespace

    from scrapy.utils.test import get_crawler

    read: list[int] = []

    def targets():
        for i in range(4):
            read.append(i)
            yield {"org_id": f"o{i}", "link_id": i, "role": "link", "url": f"http://o{i}.test/"}

    crawler = get_crawler(DirectorySpider)
    spider = DirectorySpider.from_crawler(
        crawler, targets=targets(), listed_domains=["o0.test", "o1.test", "o2.test", "o3.test"]
    )
    crawler.engine = SimpleNamespace(scheduler=[])

    async def take(n: int) -> list[tuple[str, int]]:
        starts = spider.start()
        return [((await anext(starts)).url, len(read)) for _ in range(n)]

    assert asyncio.run(take(2)) == [("http://o0.test/", 1), ("http://o1.test/", 2)]
    assert spider.listed_domains == {"o0.test", "o1.test", "o2.test", "o3.test"}


def test_the_spider_plans_a_run_once_for_its_targets_and_listed_domains(
    tmp_path, monkeypatch
) -> None:
    """``scrapy crawl directory`` loads its own targets: one plan gives them and the listed
    domains, instead of reading the organisations and listed URLs twice."""
    from pathlib import Path

    from scrapy.utils.test import get_crawler

    import monitor.runs.plan as targets_module
    from monitor.pages.domains import registered_domain
    from tests.conftest import run_freshness

    db = f"sqlite:///{tmp_path / 'f.db'}"
    directory = Path(__file__).resolve().parents[2] / "directory.yaml"
    run_freshness(tmp_path, "--db", db, "import", str(directory), check=True)
    plans: list[object] = []
    plan_run = targets_module.plan_run

    def counted_plan_run(settings):  # the real planner, counted
        plans.append(settings)
        return plan_run(settings)

    monkeypatch.setattr(targets_module, "plan_run", counted_plan_run)
    crawler = get_crawler(DirectorySpider, {"FRESHNESS_DB": db, "TWISTED_REACTOR": None})
    made = DirectorySpider.from_crawler(crawler)
    assert len(plans) == 1
    homepages = {t["url"] for t in made.targets if t["role"] == "homepage"}
    assert homepages
    assert {registered_domain(url) for url in homepages} <= made.listed_domains


def test_idle_connections_are_dropped_after_the_configured_seconds() -> None:
    """Twisted keeps an idle (or server-closed) connection 240 s; a crawl of thousands of
    hosts then holds thousands of dead connections (spiders/handlers.py). In a subprocess:
    building the handler installs a reactor."""
    code = (
        "from scrapy.utils.reactor import install_reactor\n"
        "install_reactor('twisted.internet.asyncioreactor.AsyncioSelectorReactor')\n"
        "from scrapy.utils.misc import build_from_crawler, load_object\n"
        "from scrapy.utils.test import get_crawler\n"
        "from monitor.crawl.layers import build_settings\n"
        "from spiders.sites import DirectorySpider\n"
        "for cmdline in ({}, {'FRESHNESS_IDLE_CONNECTION_SECONDS': '0.5'}):\n"
        "    settings = build_settings({}, cmdline)\n"
        "    crawler = get_crawler(DirectorySpider, settings.copy_to_dict())\n"
        "    for scheme in ('http', 'https'):\n"
        "        handler_class = load_object(settings.getdict('DOWNLOAD_HANDLERS')[scheme])\n"
        "        handler = build_from_crawler(handler_class, crawler)\n"
        "        print(scheme, handler._pool.cachedConnectionTimeout)\n"
    )
    by_default, configured = ["http", "15.0", "https", "15.0"], ["http", "0.5", "https", "0.5"]
    assert python_output(code).split() == by_default + configured

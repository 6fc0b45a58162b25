"""Benchmarks of freshness against a bare Scrapy crawl and LinkChecker (issue 7).

``python -m bench.run --orgs 1000 10000`` builds a simulated web of N organisations, serves it
with nginx on loopback addresses, runs every contender over the same listed URLs, writes the
figures to ``bench/results/`` and renders ``docs/benchmarks.md``. See that page for the design.
"""

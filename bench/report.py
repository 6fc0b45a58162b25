"""Render ``docs/benchmarks.md`` and its plot from a results file of ``bench/run.py``.

Every figure on the page comes from the results file; nothing is typed in by hand.

    .venv/bin/python -m bench.report bench/results/2026-11-23-orgs-1000-10000.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# Issue 7's targets.
SPEED_RATIO = 1.5  # full pass / bare Scrapy GET crawl
# Rounds whose bare crawls differ more than this in CPU time, for the same requests, did not
# measure the same baseline: their median is not judged.
BARE_REPEATS_WITHIN = 1.5
SCALE_N = 10000
SCALE_SECONDS = 240.0
LINKCHECKER_RATIO = 20.0  # LinkChecker wall / freshness wall, same URLs
MEMORY_MB = 300.0  # at 10,000 organisations, summed over processes
REVISIT_BYTES = 0.15  # second pass bytes / first pass bytes
LINEAR_SLACK = 1.2  # "linear": 10x the organisations within 1.2 x 10x the time

CONTENDERS = (
    ("freshness_first", "freshness run, first pass"),
    ("freshness_second", "freshness run, second pass (a day later, web unchanged)"),
    ("bare_scrapy", "bare Scrapy spider, GET only"),
    ("bare_scrapy_polite", "bare Scrapy spider with freshness's politeness settings"),
    ("linkchecker", "LinkChecker"),
)


_PAGE_NAMES = {"index.html": "homepage", "404.html": "not-found page"}


def contender(run: dict[str, Any], key: str) -> dict[str, Any] | None:
    if key == "freshness_first":
        return run["freshness"]["first"]
    if key == "freshness_second":
        return run["freshness"]["second"]
    return run.get(key)


def _n(value: float | int | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def _mb(value: int | None) -> str:
    return "—" if value is None else f"{value / 2**20:,.1f}"


def _met(ok: bool | str | None) -> str:
    """A verdict; a string is shown as it is (a verdict the figures do not allow)."""
    if isinstance(ok, str):
        return ok
    return {True: "**met**", False: "**not met**", None: "not measured"}[ok]


def _by_orgs(doc: dict[str, Any], n: int) -> dict[str, Any] | None:
    return next((r for r in doc["runs"] if r["orgs"] == n), None)


def _pss_note(figures: dict[str, Any]) -> str:
    """The summed PSS beside the summed RSS, in results files that have it."""
    pss = figures.get("peak_pss_mb")
    if not pss:
        return ""
    return f"; summed PSS (shared pages counted once) {_n(pss)} MB, not the target's measure"


# A target's row: (target, wanted, measured, met).
Row = tuple[str, str, str, bool | str | None]


def targets(doc: dict[str, Any]) -> list[Row]:
    """(target, wanted, measured, met) for each of issue 7's targets."""
    rows: list[Row] = [_speed_row(run) for run in doc["runs"]]
    big = _by_orgs(doc, SCALE_N)
    rows += _scaling_rows(doc, big)
    for run in doc["runs"]:
        row = _linkchecker_row(run)
        if row is not None:
            rows.append(row)
    rows.append(_memory_row(doc, big))
    rows += [_revisit_row(run) for run in doc["runs"]]
    return rows


def _speed_row(run: dict[str, Any]) -> Row:
    ratio = run["ratios"]["freshness_over_bare_wall"]
    measured = (
        f"{_n(ratio, 2)}× ({_n(run['freshness']['first']['wall_s'])} s against "
        f"{_n(run['bare_scrapy']['wall_s'])} s)"
    )
    median = run["ratios"].get("freshness_over_bare_wall_median")
    if median is not None:  # --rounds: the median decides, each round is shown
        pairs = ", ".join(
            f"{_n(r['freshness_over_bare_wall'], 2)}× ({_n(r['freshness_first_wall_s'])} / "
            f"{_n(r['bare_wall_s'])} s)"
            for r in run["rounds"]
        )
        measured = f"median {_n(median, 2)}× over {len(run['rounds'])} rounds: {pairs}"
        ratio = median
    verdict: bool | str | None = None if ratio is None else ratio <= SPEED_RATIO
    bare_cpu = [r.get("bare_cpu_s") for r in run.get("rounds") or []]
    if median is not None and all(bare_cpu) and max(bare_cpu) > BARE_REPEATS_WITHIN * min(bare_cpu):
        measured += (
            f"; the bare crawls took {_n(min(bare_cpu))} to {_n(max(bare_cpu))} CPU-seconds "
            "for the same requests, so the rounds did not measure one baseline"
        )
        verdict = "not judged"
    return (
        f"Speed at {run['orgs']:,} organisations",
        f"full pass ≤ {SPEED_RATIO}× bare Scrapy GET crawl",
        measured,
        verdict,
    )


def _scaling_rows(doc: dict[str, Any], big: dict[str, Any] | None) -> list[Row]:
    rows: list[Row] = []
    if big:
        wall = big["freshness"]["first"]["wall_s"]
        ok = wall <= SCALE_SECONDS and big["freshness"]["first"]["exit_code"] == 0
        rows.append(
            (
                f"Scaling: {SCALE_N:,} organisations",
                f"≤ {SCALE_SECONDS:.0f} s",
                f"{_n(wall)} s",
                ok,
            )
        )
    small = _by_orgs(doc, 1000)
    if big and small:
        growth = big["freshness"]["first"]["wall_s"] / small["freshness"]["first"]["wall_s"]
        rows.append(
            (
                "Scaling: linear from 1,000",
                f"time × 10 for 10× the organisations (≤ {10 * LINEAR_SLACK:.0f}×)",
                f"× {growth:.1f}",
                growth <= 10 * LINEAR_SLACK,
            )
        )
    return rows


def _linkchecker_row(run: dict[str, Any]) -> Row | None:
    ratio = run["ratios"]["linkchecker_over_freshness_wall"]
    if ratio is None and not run.get("linkchecker_skipped"):
        return None
    measured = (
        f"{_n(ratio, 2)}×"
        if ratio is not None
        else f"LinkChecker not run: {run.get('linkchecker_skipped')}"
    )
    median = run["ratios"].get("linkchecker_over_freshness_wall_median")
    if ratio is not None and median is not None:  # --rounds: the median first pass decides
        walls = ", ".join(f"{_n(r['freshness_first_wall_s'])}" for r in run["rounds"])
        measured = (
            f"{_n(median, 2)}× against the median of {len(run['rounds'])} first passes "
            f"({walls} s); {_n(ratio, 2)}× against the first"
        )
        ratio = median
    return (
        f"Against LinkChecker at {run['orgs']:,}",
        f"≥ {LINKCHECKER_RATIO:.0f}× its throughput",
        measured,
        None if ratio is None else ratio >= LINKCHECKER_RATIO,
    )


def _memory_row(doc: dict[str, Any], big: dict[str, Any] | None) -> Row:
    memory_run = big or max(doc["runs"], key=lambda r: r["orgs"])
    # Met only if every pass stays under it: the second pass's peak can be the higher one.
    worst = max(
        memory_run["freshness"][name]["peak_rss_mb"]
        for name in ("first", "second")
        if (memory_run["freshness"].get(name) or {}).get("peak_rss_mb") is not None
    )
    return (
        f"Memory at {memory_run['orgs']:,}",
        f"peak RSS ≤ {MEMORY_MB:.0f} MB, summed over processes",
        f"{_n(memory_run['freshness']['first']['peak_rss_mb'])} MB (first pass), "
        f"{_n(memory_run['freshness']['second']['peak_rss_mb'])} MB (second)"
        + _pss_note(memory_run["freshness"]["first"]),
        (worst <= MEMORY_MB) if big else None,
    )


def _revisit_row(run: dict[str, Any]) -> Row:
    ratio = run["ratios"]["second_over_first_bytes"]
    return (
        f"Revisits at {run['orgs']:,}",
        f"second pass ≤ {REVISIT_BYTES:.0%} of the first pass's bytes",
        f"{_n(100 * ratio if ratio is not None else None)}%",
        None if ratio is None else ratio <= REVISIT_BYTES,
    )


def plot(doc: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 6.2), dpi=120)
    styles = {
        "freshness_first": ("tab:blue", "o", "-"),
        "freshness_second": ("tab:cyan", "o", "--"),
        "bare_scrapy": ("tab:green", "s", "-"),
        "bare_scrapy_polite": ("tab:olive", "s", "--"),
        "linkchecker": ("tab:red", "^", "-"),
    }
    for key, label in CONTENDERS:
        points = [
            (run["orgs"], figures["wall_s"])
            for run in doc["runs"]
            if (figures := contender(run, key))
            # LinkChecker exits 1 when it finds broken links, as it should here.
            and figures.get("exit_code") in ((0, 1) if key == "linkchecker" else (0,))
        ]
        if not points:
            continue
        color, marker, line = styles[key]
        xs, ys = zip(*points, strict=True)
        ax.plot(xs, ys, marker=marker, linestyle=line, color=color, label=label)
        nudge = {"freshness_second": 4, "bare_scrapy_polite": -10}.get(key, -4)
        for x, y in points:
            ax.annotate(f"{y:.0f} s", (x, y), textcoords="offset points", xytext=(6, nudge), size=8)
    orgs = [run["orgs"] for run in doc["runs"]]
    if SCALE_N in orgs or max(orgs) >= SCALE_N:
        ax.scatter(
            [SCALE_N], [SCALE_SECONDS], marker="*", s=160, color="black", zorder=5,
            label=f"target: {SCALE_N:,} organisations in {SCALE_SECONDS:.0f} s",
        )  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    from matplotlib.ticker import FuncFormatter

    plain = FuncFormatter(lambda value, _: f"{value:,.0f}")
    ax.xaxis.set_major_formatter(plain)
    ax.yaxis.set_major_formatter(plain)
    ax.set_xlabel("organisations (2 listed URLs each)")
    ax.set_ylabel("wall time, seconds")
    ax.set_title(f"Time against N on {doc['machine']['cores']} cores ({doc['date'][:10]})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _contender_table(run: dict[str, Any]) -> list[str]:
    lines = [
        "| contender | wall s | listed URLs/s | pages/s | requests | MB sent | CPU s (share of one core) | peak RSS MB (processes) | nginx CPU s | other CPU s on the machine | exit |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]  # fmt: skip
    rows = [(label, contender(run, key)) for key, label in CONTENDERS]
    rows += [
        (f"*what if* `{w['settings']}`: freshness first pass, not the defaults", w["first"])
        for w in run.get("what_if", [])
    ]
    for label, figures in rows:
        if not figures:
            continue
        cpu = (figures.get("cpu_user_s") or 0) + (figures.get("cpu_sys_s") or 0)
        lines.append(
            f"| {label} | {_n(figures['wall_s'])} | {_n(figures.get('listed_urls_per_s'))} | "
            f"{_n(figures.get('pages_per_s'))} | {_n(figures['server']['requests'])} | "
            f"{_mb(figures['server']['bytes_sent'])} | {cpu:,.1f} ({_n(figures['cpu_share'], 2)}) | "
            f"{_n(figures['peak_rss_mb'])} ({figures['processes_at_peak']}) | "
            f"{_n(figures.get('server_cpu_s'))} | {_n(figures.get('other_cpu_s'))} | "
            f"{figures['exit_code']} |"
        )
    return lines


def _path_table(run: dict[str, Any]) -> list[str]:
    first = run["freshness"]["first"]["server"]["by_path"]
    second = run["freshness"]["second"]["server"]["by_path"]
    kinds = sorted(set(first) | set(second))
    total1 = run["freshness"]["first"]["server"]["bytes_sent"] or 1
    lines = [
        "| requested | first pass: requests | KB | second pass: requests | KB | second pass KB as % of all first-pass bytes |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]  # fmt: skip
    for kind in kinds:
        a = first.get(kind, {"requests": 0, "bytes_sent": 0})
        b = second.get(kind, {"requests": 0, "bytes_sent": 0})
        lines.append(
            f"| {kind} | {a['requests']:,} | {a['bytes_sent'] / 1024:,.0f} | {b['requests']:,} | "
            f"{b['bytes_sent'] / 1024:,.0f} | {100 * b['bytes_sent'] / total1:.1f}% |"
        )
    return lines


def _profile_section(doc: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for run in doc["runs"]:
        prof = run.get("profile")
        if not prof or not prof.get("samples"):
            continue
        out += [
            f"### Profile of a first pass at {run['orgs']:,} organisations",
            "",
            f"py-spy, {prof['samples']:,} samples at 100 Hz of one more first pass on a fresh "
            f"store (not one of the timed passes). Raw stacks: `{prof.get('raw')}`. A sample is "
            "filed under the innermost frame that belongs to one of these groups:",
            "",
            "| where | share of samples |",
            "| --- | ---: |",
        ]
        out += [f"| {name} | {100 * share:.1f}% |" for name, share in prof["buckets"].items()]
        out += [
            "",
            "Functions with the most samples of their own:",
            "",
            "| frame | share |",
            "| --- | ---: |",
        ]
        out += [
            f"| `{row['frame'][:110]}` | {100 * row['share']:.1f}% |"
            for row in prof["top_self"][:15]
        ]
        out.append("")
    return out


def _compare_section(docs_: list[tuple[dict[str, Any], Path]]) -> list[str]:
    """The same N measured at several commits, and passes with one setting changed."""
    out = [
        "## Before and after, and what one setting changes",
        "",
        "Each row is a measured first or second pass of `freshness run`; the what-if rows "
        "change one setting from freshness's defaults on a fresh store, against the same web "
        "in the same run as the default pass above them. Rows from different results files "
        "ran at different times: compare them with the other load on the machine in mind. "
        "`bench/results/` keeps only the latest results file; every earlier one named here is "
        "in git's history, at the commit that added it (`git log --all -- bench/results/FILE` "
        "finds it).",
        "",
        "| results file | commit | N | pass | settings | wall s | CPU s | peak RSS MB | requests | MB sent | second/first bytes | other CPU s |",
        "| --- | --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]  # fmt: skip
    for doc, path in docs_:
        commit = ((doc.get("freshness_source") or {}).get("commit") or "?")[:7]
        for run in doc["runs"]:
            rows = [
                ("first", "defaults", run["freshness"]["first"], None),
                (
                    "second",
                    "defaults",
                    run["freshness"]["second"],
                    run["ratios"]["second_over_first_bytes"],
                ),
            ] + [("first", f"`{w['settings']}`", w["first"], None) for w in run.get("what_if", [])]
            for label, settings, f, ratio in rows:
                cpu = (f.get("cpu_user_s") or 0) + (f.get("cpu_sys_s") or 0)
                out.append(
                    f"| `{path.name}` | `{commit}` | {run['orgs']:,} | {label} | {settings} | "
                    f"{_n(f['wall_s'])} | {cpu:,.1f} | {_n(f['peak_rss_mb'])} | "
                    f"{f['server']['requests']:,} | {_mb(f['server']['bytes_sent'])} | "
                    f"{_n(ratio, 3)} | {_n(f.get('other_cpu_s'))} |"
                )
    return [*out, ""]


def render(
    doc: dict[str, Any],
    results_path: Path,
    docs: Path,
    also: list[tuple[dict[str, Any], Path]] | None = None,
) -> Path:
    docs.mkdir(parents=True, exist_ok=True)
    png = docs / "benchmarks.png"
    plot(doc, png)
    rel = results_path.relative_to(ROOT) if results_path.is_relative_to(ROOT) else results_path
    lines = [*_intro(doc, rel), *_reproduce(doc), *_the_web(doc), *_the_contenders(doc)]
    for run in doc["runs"]:
        lines += _run_section(run)
    lines += [
        "## Issue 7's targets",
        "",
        "Measured on this machine, reported and not asserted in timed tests.",
        "",
        "| target | wanted | measured | |",
        "| --- | --- | --- | --- |",
    ]
    lines += [f"| {t} | {w} | {v} | {_met(ok)} |" for t, w, v, ok in targets(doc)]
    lines += ["", *_profile_section(doc)]
    if also:
        lines += _compare_section([(doc, results_path), *also])
    notes = ROOT / "bench" / "NOTES.md"
    if notes.exists():
        lines += [notes.read_text().rstrip(), ""]
    page = docs / "benchmarks.md"
    page.write_text("\n".join(lines))
    return page


def _intro(doc: dict[str, Any], rel: Path) -> list[str]:
    """The title, where the figures come from, and the machine they were measured on."""
    m = doc["machine"]
    return [
        "# Benchmarks",
        "",
        "<!-- Generated by `python -m bench.report` from the results file named below; "
        "edit bench/report.py, not this page. -->",
        "",
        "Throughput, memory and revisit cost of `freshness run` against a bare Scrapy crawl "
        "and LinkChecker over the same listed URLs of a simulated web, measured side by side "
        "in one run (issue 7). Every figure below was measured in that run and comes from "
        f"[`{rel}`](../{rel}).",
        "",
        "## Machine and date",
        "",
        "| | |",
        "| --- | --- |",
        f"| date | {doc['date']} (finished {doc.get('finished') or 'not yet: partial results'}) |",
        f"| freshness measured | commit `{(doc.get('freshness_source') or {}).get('commit')}` "
        f"({(doc.get('freshness_source') or {}).get('subject', '')}) |",
        f"| CPU | {m['cpu']}, {m['cores']} cores |",
        f"| memory | {m['ram_gib']} GiB |",
        f"| OS | {m['os']}, kernel {m['kernel']} |",
        f"| Python | {m['python']} |",
        f"| Scrapy / Twisted / lxml / SQLAlchemy | {m['scrapy']} / {m['twisted']} / {m['lxml']} / {m['sqlalchemy']} |",
        f"| nginx | {m['nginx']} (Debian) |",
        f"| LinkChecker | {m['linkchecker'] or 'not installed'} (PyPI, in `bench/.venv-linkchecker`) |",
        "",
    ]


def _reproduce(doc: dict[str, Any]) -> list[str]:
    """The command that made the results, and what running it does."""
    return [
        "## Reproduce",
        "",
        "```sh",
        doc["command"],
        "```",
        "",
        "It installs nginx with `apt-get install -y nginx` if missing and LinkChecker into "
        "`bench/.venv-linkchecker` (never into the project's virtualenv), builds the webs under "
        "`/tmp/freshness-bench`, and writes `bench/results/DATE-orgs-….json`, this page and "
        "`docs/benchmarks.png`. `--profile` adds a py-spy profile of one more first pass at the "
        "smallest N (`pip install py-spy`). `--rounds K` times freshness's first pass and the "
        "bare crawl K times at each N, one pair after the other on fresh stores, and judges the "
        "speed target on the median of the K ratios, and the LinkChecker target on the median "
        "first pass (LinkChecker runs once): this machine's speed drifts within "
        "minutes. `--quick` is the small version the test suite runs "
        "(about 50 organisations, no LinkChecker, no page, sites on port 18080 so it can run "
        "beside a full benchmark on 8080). "
        "`python -m bench.report RESULTS.json` renders this page again from a results file.",
        "",
    ]


def _the_web(doc: dict[str, Any]) -> list[str]:
    """What is measured: the simulated web, its broken share, and the listed URLs."""
    lines = [
        "## What is measured",
        "",
        "The script builds a web of N organisations. Each has a homepage, a groups page and "
        "three more pages (about, contact, resources), WordPress-like HTML served gzip-compressed "
        "(`gzip_static`) with ETag and Last-Modified; each site has its own loopback address "
        "127.x.y.z and nginx (one worker, `keepalive_timeout 15s`) answers there whatever the "
        "Host header says. A homepage links to one partner organisation of the web; the "
        "resources page to two more and to one site outside it (which does not resolve). A "
        "share of the organisations is broken:",
        "",
        "| scenario | share | what happens |",
        "| --- | ---: | --- |",
    ]
    lines += [f"| `{s['name']}` | {s['share']:.0%} | {s['what']} |" for s in doc["scenarios"]]
    first_web = doc["runs"][0]["web"]
    lines += [
        "",
        f"Besides, {first_web['with_robots_txt']:,} of {first_web['organisations']:,} sites "
        "serve a robots.txt (the others answer 404), and "
        f"{first_web['catch_all_200']:,} healthy sites answer 200 for any unknown path. Mean "
        "page sizes (HTML / gzip bytes): "
        + ", ".join(
            f"{_PAGE_NAMES.get(page, page.replace('/index.html', ''))} "
            f"{first_web['mean_html_bytes'][page]:,}"
            f" / {first_web['mean_gzip_bytes'][page]:,}"
            for page in first_web["mean_html_bytes"]
        )
        + ".",
        "",
        "The directory lists each organisation's homepage and groups page: 2N listed URLs. "
        "The contenders run one after the other against the same nginx:",
        "",
    ]
    return lines


def _the_contenders(doc: dict[str, Any]) -> list[str]:
    """How each contender runs, and what the figures mean; the plot."""
    m = doc["machine"]
    # The bare spider and LinkChecker run at the measured freshness's concurrency.
    concurrency = doc["defaults"].get("CONCURRENT_REQUESTS", 64)
    per_host = doc["defaults"].get("CONCURRENT_REQUESTS_PER_DOMAIN", 2)
    return [
        "- **freshness**: `freshness import` of the directory into a fresh SQLite store, then "
        "`freshness run` with its default settings (`spiders/settings.py`); the only settings "
        "given are the host map (`FRESHNESS_HOSTS`, `FRESHNESS_HOSTS_ONLY`, in a "
        "`freshness.toml` beside the store) and the clock (`-s FRESHNESS_NOW`). The second "
        "pass moves the clock a day on, so every organisation is due again, over the unchanged "
        "web. The defaults in force: "
        + ", ".join(f"`{k}={v}`" for k, v in doc["defaults"].items())
        + ".",
        "- **bare Scrapy** (`bench/bare_spider.py`): GETs the listed URLs and drops the "
        f"responses, with the same resolver override and concurrency ({concurrency}, "
        f"{per_host} per host), Scrapy's "
        "defaults otherwise (no robots.txt, no delay, redirects followed). The *polite* "
        "variant adds freshness's robots.txt, download delay and AutoThrottle settings, to "
        "tell the cost of politeness from the cost of freshness's own work.",
        f"- **LinkChecker**: `linkchecker -t {concurrency} -r 0 --stdin` ({concurrency} "
        "threads, as freshness's "
        "`CONCURRENT_REQUESTS`, recursion off: only the listed URLs), through a forward proxy "
        "in the same nginx that maps the simulated host names to their addresses, because "
        "LinkChecker cannot be given a resolver; unknown names answer 502 there. Its default "
        "per-host rate limit (10 requests/s) and robots.txt handling are kept.",
        "",
        "*Wall time* is the whole command, start-up included. *Pages* are all HTTP requests "
        "nginx logged for the contender (robots.txt, probes, redirects and discovery "
        "included); *MB sent* is nginx's `$bytes_sent` (headers and compressed bodies). "
        "*Peak RSS* is the largest sum of RSS over the command's process tree, sampled from "
        "/proc every 50 ms. *CPU share* is user+system CPU time over wall time (1.0 = one core "
        "busy all the time; the machine has "
        f"{m['cores']}). *Other CPU* is what the rest of the machine used meanwhile (all "
        "busy CPU time from /proc/stat, less the contender and nginx): other work on the "
        "machine, such as another session's tests, shows there.",
        "",
        "## Results",
        "",
        "![wall time against N](benchmarks.png)",
        "",
    ]


def _run_section(run: dict[str, Any]) -> list[str]:
    """One N: the contenders' table, the store, what was recorded, the ratios."""
    fr = run["freshness"]
    lines = [
        f"### {run['orgs']:,} organisations, {run['listed_urls']:,} listed URLs",
        "",
        *_contender_table(run),
        "",
        f"Store: {_mb(fr['first']['store_bytes'])} MB after the first pass, "
        f"{_mb(fr['second']['store_bytes'])} MB after the second. "
        f"`freshness import` took {_n(run['freshness_import']['wall_s'])} s (not counted "
        f"in the pass). Building the web took {_n(run['web']['build_s'])} s.",
        "",
    ]
    if run.get("linkchecker_skipped"):
        lines += [f"LinkChecker was not run here: {run['linkchecker_skipped']}.", ""]
    elif run.get("linkchecker"):
        lc = run["linkchecker"]
        lines += [
            f"LinkChecker reported {lc['urls_checked']:,} URLs checked, "
            f"{lc['urls_valid']:,} valid; its exit code {lc['exit_code']} means it found "
            "broken links.",
            "",
        ]
    census = fr.get("census", {})
    if census.get("runs"):
        cats = census["runs"].get("1", {}).get("categories", {})
        lines += [
            "What the first pass recorded, by category: "
            + ", ".join(
                f"{'discovery candidates (not classified)' if k == 'none' else k} {v:,}"
                for k, v in cats.items()
            )
            + ". Findings open after both passes: "
            + (", ".join(f"{k} {v:,}" for k, v in census.get("findings", {}).items()) or "none")
            + " (a dead link needs 3 failures over 48 hours, so none is declared yet).",
            "",
        ]
    return lines + _ratios(run)


def _ratios(run: dict[str, Any]) -> list[str]:
    """One N's ratios, and the requests freshness made by kind of path."""
    r = run["ratios"]
    return [
        "Ratios: freshness / bare Scrapy wall time "
        f"**{_n(r['freshness_over_bare_wall'], 2)}**"
        + (
            f" (median over {len(run['rounds'])} rounds, one pair after the other: "
            f"**{_n(r['freshness_over_bare_wall_median'], 2)}**)"
            if r.get("freshness_over_bare_wall_median") is not None
            else ""
        )
        + "; freshness / polite bare Scrapy "
        f"{_n(r['freshness_over_bare_polite_wall'], 2)}; LinkChecker / freshness "
        f"**{_n(r['linkchecker_over_freshness_wall'], 2)}**"
        + (
            f" (against the median first pass: **{_n(r['linkchecker_over_freshness_wall_median'], 2)}**)"
            if r.get("linkchecker_over_freshness_wall_median") is not None
            else ""
        )
        + "; second / first pass: wall "
        f"{_n(r['second_over_first_wall'], 2)}, requests "
        f"{_n(r['second_over_first_requests'], 2)}, bytes "
        f"**{_n(r['second_over_first_bytes'], 3)}**.",
        "",
        "Requests nginx saw for freshness, by what was requested:",
        "",
        *_path_table(run),
        "",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--docs", type=Path, default=ROOT / "docs")
    parser.add_argument(
        "--also", type=Path, action="append", default=[], help="more results to compare"
    )
    args = parser.parse_args(argv)
    doc = json.loads(args.results.read_text())
    also = [(json.loads(p.read_text()), p.resolve()) for p in args.also]
    print(render(doc, args.results.resolve(), args.docs, also))


if __name__ == "__main__":
    main()

"""What the simulated web's sites serve, and ``build``, which writes it all to disk.

Each site's pages (WordPress-like HTML, a shared theme, text drawn from a seeded generator)
and robots.txt, nginx.conf with one server per site address, and the directory file. The
organisations and their addresses come from ``bench/web.py``; the ports are read from it at
call time, as ``web.use_ports`` may change them.
"""

from __future__ import annotations

import gzip
import os
import random
import shutil
import time
from collections import Counter
from pathlib import Path

from bench import web
from bench.web import BuiltWeb, Org, directory_yaml, plan

_DAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")
_SENTENCES = (
    "We are a peer support network run by {p}, for {p}.",
    "Our confidential support groups meet online and in person every week.",
    "Every facilitator is a working professional who has been there.",
    "Burnout, moral injury and long shifts are easier to carry when you talk to someone who "
    "understands.",
    "Groups are free, confidential and open to anyone working in the field.",
    "You do not need a referral: come along, listen, and speak when you are ready.",
    "We were founded by a handful of {p} who wanted a safe space to talk after difficult days.",
    "Our volunteers complete forty hours of peer listening training every year.",
    "Family members are welcome at our monthly open evenings.",
    "We partner with occupational health services but we are independent of any employer.",
    "Nothing you say in a group is reported to your employer or your regulator.",
    "If you are in crisis, call or text 988 at any time, day or night.",
    "Our newsletter brings news of groups, training and events once a month.",
    "We rely on donations from members and small grants from local foundations.",
    "Peer support does not replace therapy, but it can be the first step towards it.",
    "Members tell us that hearing from colleagues made the difference in their first year.",
    "We run special sessions after major incidents in the region.",
    "Sessions last ninety minutes and begin with a short check-in round.",
)


# --------------------------------------------------------------------------------- pages


def _theme_css() -> str:
    """A WordPress-like inline stylesheet, the same on every site (a shared theme)."""
    rng = random.Random("css")
    blocks = []
    for k in range(120):
        name = rng.choice(("wp-block", "site", "entry", "widget", "menu", "has", "is-style"))
        blocks.append(
            f".{name}-{rng.choice(('group', 'button', 'cover', 'columns', 'list', 'title'))}-{k}"
            f"{{margin:0 0 {rng.randint(0, 3)}.{rng.randint(0, 9)}em;"
            f"padding:{rng.randint(0, 24)}px {rng.randint(0, 24)}px;"
            f"color:#{rng.randrange(0x1000000):06x};font-size:{rng.randint(12, 28)}px}}"
        )
    return "\n".join(blocks)


def _theme_js() -> str:
    rng = random.Random("js")
    entries = ",".join(f'"k{k}":"{rng.randrange(1 << 40):x}"' for k in range(80))
    return f"var theme_settings = {{{entries}}};"


_CSS = _theme_css()
_JS = _theme_js()


def _paragraphs(rng: random.Random, profession: str, count: int) -> str:
    out = []
    for _ in range(count):
        sentences = rng.sample(_SENTENCES, rng.randint(3, 6))
        text = " ".join(s.format(p=profession.lower()) for s in sentences)
        out.append(f"<p>{text}</p>")
    return "\n    ".join(out)


def _page(org: Org, host: str, title: str, body: str, *, description: str = "") -> str:
    base = f"http://{host}:{web.PORT}"
    schema = (
        '{"@context":"https://schema.org","@graph":[{"@type":"Organization",'
        f'"name":"{org.name}","url":"{base}/","sameAs":["https://www.facebook.com/{org.id}"]}}]}}'
    )
    return f"""<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<meta name="description" content="{description or org.name}" />
<meta property="og:type" content="website" />
<meta property="og:title" content="{title}" />
<meta property="og:url" content="{base}/" />
<meta property="og:site_name" content="{org.name}" />
<meta name="generator" content="WordPress 6.6.2" />
<script type="application/ld+json">{schema}</script>
<style id="theme-inline-css">
{_CSS}
</style>
<script>{_JS}</script>
</head>
<body class="page wp-custom-logo">
<div id="page" class="site">
<header id="masthead" class="site-header">
  <div class="site-branding"><a href="{base}/" rel="home"><img src="{base}/logo.png" alt="{org.name}"></a>
    <p class="site-title">{org.name}</p></div>
  <nav id="site-navigation" class="main-navigation" aria-label="Primary"><ul id="primary-menu">
    <li><a href="{base}/">Home</a></li>
    <li><a href="{base}/about/">About Us</a></li>
    <li><a href="{base}/groups/">Support Groups</a></li>
    <li><a href="{base}/resources/">Resources</a></li>
    <li><a href="{base}/contact/">Contact</a></li>
  </ul></nav>
</header>
<div id="content" class="site-content">
<main id="primary" class="site-main">
<article class="page type-page status-publish hentry">
{body}
</article>
</main>
</div>
<footer id="colophon" class="site-footer">
  <ul class="social-links">
    <li><a href="https://www.facebook.com/{org.id}">Facebook</a></li>
    <li><a href="https://www.instagram.com/{org.id}">Instagram</a></li>
  </ul>
  <p><a href="{base}/privacy-policy/">Privacy Policy</a></p>
  <div class="site-info">&copy; 2026 {org.name}. A registered charity.</div>
</footer>
</div>
</body>
</html>
"""


def _link(orgs: list[Org], index: int) -> str:
    partner = orgs[index]
    return f'<a href="{partner.url}">{partner.name}</a>'


def site_pages(org: Org, orgs: list[Org]) -> dict[str, str]:
    """Path -> HTML for the site that serves ``org``."""
    host = org.site_host or org.host
    rng = random.Random(f"pages-{org.id}")
    p = org.profession
    # In this order: the pages draw their text from ``rng`` one after the other.
    home = _home_page(org, orgs, host, rng)
    groups = _groups_page(org, host, rng)
    resources = _resources_page(org, orgs, host, rng)
    about = _page(
        org,
        host,
        f"About Us &#8211; {org.name}",
        f"""<h1 class="entry-title">About us</h1>
  <div class="entry-content">{_paragraphs(rng, p, 6)}</div>""",
    )
    contact = _page(
        org,
        host,
        f"Contact &#8211; {org.name}",
        f"""<h1 class="entry-title">Contact</h1>
  <div class="entry-content">{_paragraphs(rng, p, 3)}
    <p>Write to us at <a href="mailto:hello@{host}">hello@{host}</a>.</p></div>""",
    )
    not_found = _page(
        org,
        host,
        f"Page not found &#8211; {org.name}",
        """<h1 class="page-title">Oops! That page can&rsquo;t be found.</h1>
  <div class="page-content"><p>It looks like nothing was found at this location.
    Maybe try one of the links above or a search?</p>
    <form role="search" method="get" action="/"><input type="search" name="s"></form></div>""",
    )
    pages = {
        "index.html": home,
        "groups/index.html": groups,
        "about/index.html": about,
        "contact/index.html": contact,
        "resources/index.html": resources,
        "404.html": not_found,
    }
    if org.scenario in ("groups_404", "soft404_200", "soft404_root"):
        del pages["groups/index.html"]
    return pages


def _home_page(org: Org, orgs: list[Org], host: str, rng: random.Random) -> str:
    """The homepage: who they are, a partner, a link to the groups."""
    p = org.profession
    partners = org.partners
    home_partner = (
        f"<p>We work alongside {_link(orgs, partners[0])} and other networks.</p>"
        if partners
        else ""
    )
    return _page(
        org,
        host,
        f"{org.name} &#8211; Peer support for {p.lower()}",
        f"""<header class="entry-header"><h1 class="entry-title">Welcome to {org.name}</h1></header>
  <div class="entry-content">
    {_paragraphs(rng, p, 12)}
    <h2>Why peer support?</h2>
    {_paragraphs(rng, p, 8)}
    {home_partner}
    <p><a class="wp-block-button__link" href="/groups/">Find a group</a></p>
  </div>""",
        description=f"Confidential peer support groups for {p.lower()}.",
    )


def _groups_page(org: Org, host: str, rng: random.Random) -> str:
    """The groups page: the organisation's groups, each with its day and time."""
    p = org.profession
    items = "\n".join(
        f'      <li><a href="/groups/{k}/">{g}</a> &#8211; {rng.choice(_DAYS)}, '
        f"{rng.randint(5, 9)} pm</li>"
        for k, g in enumerate(org.groups)
    )
    return _page(
        org,
        host,
        f"Support Groups &#8211; {org.name}",
        f"""<header class="entry-header"><h1 class="entry-title">Support Groups</h1></header>
  <div class="entry-content">
    {_paragraphs(rng, p, 4)}
    <h2>Our groups</h2>
    <ul class="wp-block-list" id="our-groups">
{items}
    </ul>
    {_paragraphs(rng, p, 4)}
  </div>""",
    )


def _resources_page(org: Org, orgs: list[Org], host: str, rng: random.Random) -> str:
    """The resources page: the other partners and a crisis line outside the web."""
    p = org.profession
    partners = org.partners
    resource_links = (
        "\n".join(f"      <li>{_link(orgs, k)}</li>" for k in partners[1:])
        + '\n      <li><a href="https://www.crisis-line.example/">National Crisis Line</a></li>'
    )
    return _page(
        org,
        host,
        f"Resources &#8211; {org.name}",
        f"""<header class="entry-header"><h1 class="entry-title">Resources</h1></header>
  <div class="entry-content">
    {_paragraphs(rng, p, 3)}
    <h2>Partner organisations</h2>
    <ul>
{resource_links}
    </ul>
  </div>""",
    )


def robots_txt(host: str) -> str:
    return (
        "User-agent: *\nDisallow: /wp-admin/\nAllow: /wp-admin/admin-ajax.php\n\n"
        f"Sitemap: http://{host}:{web.PORT}/sitemap.xml\n"
    )


# --------------------------------------------------------------------------------- nginx

_SNIPPETS = {
    "static": "error_page 404 /404.html;\n",
    "catch_all": "error_page 404 =200 /404.html;\n",
    "root_redirect": "error_page 404 = @home;\nlocation @home { return 302 /; }\n",
    "gone": "location / { return 404; }\n",
    "home_410": "error_page 404 /404.html;\nlocation = / { return 410; }\n",
    "groups_410": "error_page 404 /404.html;\nlocation ^~ /groups/ { return 410; }\n",
}


def _snippet_for(org: Org) -> str:
    if org.scenario == "site_404":
        return "gone"
    if org.scenario in ("home_410", "groups_410"):
        return org.scenario
    if org.scenario == "soft404_root":
        return "root_redirect"
    if org.scenario == "soft404_200" or org.catch_all:
        return "catch_all"
    return "static"


def nginx_conf(prefix: Path, orgs: list[Org]) -> str:
    servers, proxy_map = _servers(prefix, orgs)
    listeners = len(servers) + 1
    connections = listeners + 4096
    return f"""# Generated by bench/sites.py: {len(orgs)} organisations, {len(servers)} sites.
worker_processes 1;
worker_rlimit_nofile {connections + 1024};
pid {prefix / "nginx.pid"};
error_log {prefix / "logs" / "error.log"} warn;
events {{ worker_connections {connections}; }}
http {{
    types {{ text/html html; text/plain txt; image/png png; }}
    default_type application/octet-stream;
    log_format bench '{web.LOG_FORMAT}';
    access_log {prefix / "logs" / "access.log"} bench;
    log_not_found off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 15s;
    gzip_static on;
    index index.html;
    client_body_temp_path {prefix / "tmp" / "body"};
    proxy_temp_path {prefix / "tmp" / "proxy"};
    fastcgi_temp_path {prefix / "tmp" / "fastcgi"};
    uwsgi_temp_path {prefix / "tmp" / "uwsgi"};
    scgi_temp_path {prefix / "tmp" / "scgi"};
    map_hash_max_size {max(2048, 4 * len(proxy_map))};
    map_hash_bucket_size 128;
    map $host $bench_upstream {{
        default "";
{chr(10).join(proxy_map)}
    }}
    # A forward proxy for clients that cannot be given our host names (LinkChecker).
    server {{
        listen {web.PROXY_ADDRESS}:{web.PROXY_PORT};
        access_log {prefix / "logs" / "proxy.log"} bench;
        location / {{
            if ($bench_upstream = "") {{ return 502; }}
            proxy_pass http://$bench_upstream:{web.PORT};
            proxy_set_header Host $http_host;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_connect_timeout 5s;
        }}
    }}
{chr(10).join("    " + s for s in servers)}
}}
"""


def _servers(prefix: Path, orgs: list[Org]) -> tuple[list[str], list[str]]:
    """One nginx server per site address, and the proxy's host name -> address map."""
    servers: list[str] = []
    proxy_map: list[str] = []
    sites = prefix / "sites"
    snippets = prefix / "snippets"
    for org in orgs:
        if org.ip is None or org.scenario == "refused":
            if org.ip:
                proxy_map.append(f"    {org.host} {org.ip};")
            continue
        proxy_map.append(f"    {org.host} {org.ip};")
        if org.scenario == "moved":
            assert org.new_host and org.new_ip
            proxy_map.append(f"    {org.new_host} {org.new_ip};")
            servers.append(
                f"server {{ listen {org.ip}:{web.PORT}; "
                f"location / {{ return 301 http://{org.new_host}:{web.PORT}$request_uri; }} }}"
            )
            servers.append(
                f"server {{ listen {org.new_ip}:{web.PORT}; root {sites / org.new_host}; "
                f"include {snippets / 'static.conf'}; }}"
            )
            continue
        snippet = _snippet_for(org)
        root = f"root {sites / org.host}; " if snippet != "gone" else ""
        servers.append(
            f"server {{ listen {org.ip}:{web.PORT}; {root}include {snippets / (snippet + '.conf')}; }}"
        )
    return servers, proxy_map


# --------------------------------------------------------------------------------- build


def _write(path: Path, text: str, *, compress: bool) -> tuple[int, int]:
    data = text.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    zipped = 0
    if compress:
        packed = gzip.compress(data, compresslevel=6, mtime=0)
        (path.parent / (path.name + ".gz")).write_bytes(packed)
        zipped = len(packed)
    return len(data), zipped


def build(prefix: Path, n: int) -> BuiltWeb:
    """Write the sites, the directory file and nginx.conf of a web of ``n`` under ``prefix``."""
    started = time.monotonic()
    if prefix.exists():
        shutil.rmtree(prefix)
    for sub in ("sites", "snippets", "logs", "tmp"):
        (prefix / sub).mkdir(parents=True)
    prefix.chmod(0o755)  # nginx workers may run as another user
    orgs = plan(n)
    token = os.urandom(8).hex()
    for name, text in _SNIPPETS.items():
        marker = f'location = /__bench__ {{ return 200 "{token}"; }}\n'
        (prefix / "snippets" / f"{name}.conf").write_text(text + marker)
    sizes: dict[str, list[int]] = {}
    zipped: dict[str, list[int]] = {}
    pages = 0
    for org in orgs:
        host = org.site_host
        if host is None:
            continue
        root = prefix / "sites" / host
        for path, html in site_pages(org, orgs).items():
            raw, packed = _write(root / path, html, compress=True)
            sizes.setdefault(path, []).append(raw)
            zipped.setdefault(path, []).append(packed)
            pages += 1
        if org.robots:
            _write(root / "robots.txt", robots_txt(host), compress=False)
    (prefix / "nginx.conf").write_text(nginx_conf(prefix, orgs))
    (prefix / "directory.yaml").write_text(directory_yaml(orgs))
    stats = {
        "organisations": n,
        "listed_urls": 2 * n,
        "hosts_served": sum(1 for o in orgs if o.ip and o.scenario != "refused")
        + sum(1 for o in orgs if o.new_host),
        "html_files": pages,
        "scenarios": dict(sorted(Counter(o.scenario for o in orgs).items())),
        "with_robots_txt": sum(1 for o in orgs if o.robots and o.site_host),
        "catch_all_200": sum(1 for o in orgs if o.catch_all),
        "mean_html_bytes": {k: round(sum(v) / len(v)) for k, v in sorted(sizes.items())},
        "mean_gzip_bytes": {k: round(sum(v) / len(v)) for k, v in sorted(zipped.items())},
        "build_s": round(time.monotonic() - started, 2),
    }
    return BuiltWeb(prefix, orgs, stats, token)

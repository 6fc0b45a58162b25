"""The simulated web: N organisations as static files, served by nginx on loopback addresses.

Every site has its own address 127.x.y.z and answers there whatever the Host header says, so
per-host politeness applies as on the real web, and a client can reach a site by its address
alone. A site has a homepage, a groups page and three more pages (about, contact, resources);
a share of them is dead, moved or answers soft 404s (``SCENARIOS``). The plan is a pure
function of N: the same N gives the same web, byte for byte.
"""

from __future__ import annotations

import dataclasses
import gzip
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

PORT = 8080
PROXY_ADDRESS = "127.254.254.254"  # LinkChecker's way in: a forward proxy mapping names to IPs
PROXY_PORT = 3128
SEED = 7


def use_ports(port: int) -> None:
    """Serve the sites on ``port`` and the proxy on ``port + 1`` (so two webs can coexist)."""
    global PORT, PROXY_PORT
    PORT, PROXY_PORT = port, port + 1


# (name, share of organisations, what happens). Every other organisation is healthy.
SCENARIOS: tuple[tuple[str, float, str], ...] = (
    ("site_404", 0.02, "the whole site answers 404 (hosting gone, server still up)"),
    ("home_410", 0.01, "the homepage answers 410 Gone"),
    ("groups_404", 0.03, "the groups page was deleted: 404"),
    ("groups_410", 0.01, "the groups page answers 410 Gone"),
    ("dns_gone", 0.02, "the host name no longer resolves"),
    ("refused", 0.01, "the name resolves but nothing listens: connection refused"),
    ("moved", 0.05, "every path answers 301 to the same path on a new domain"),
    ("soft404_200", 0.03, "groups page gone; unknown paths answer 200 with a not-found page"),
    ("soft404_root", 0.02, "groups page gone; unknown paths answer 302 to the homepage"),
)
ROBOTS_SHARE = 0.75  # sites with a robots.txt; the others answer 404 for it
CATCH_ALL_SHARE = 0.05  # healthy sites that answer 200 for any unknown path

_PROFESSIONS = (
    "Nurses",
    "Firefighters",
    "Paramedics",
    "Teachers",
    "Physicians",
    "Pharmacists",
    "Social Workers",
    "Police Officers",
    "Veterinarians",
    "Lawyers",
    "Air Traffic Controllers",
    "Musicians",
    "Actors",
    "Farmers",
    "Journalists",
    "Midwives",
    "Dentists",
    "Pilots",
    "Chefs",
    "Dispatchers",
)
_REGIONS = (
    "Northfield",
    "Riverside",
    "Lakeshore",
    "Highland",
    "Coastal",
    "Valley",
    "Metro",
    "Prairie",
    "Harbour",
    "Summit",
    "Eastgate",
    "Westbrook",
    "Southern",
    "Capital",
    "Pinewood",
    "Redcliff",
    "Greenway",
    "Stonebridge",
    "Maplewood",
    "Bayview",
    "Ironbridge",
    "Silverlake",
    "Oakridge",
    "Fairhaven",
    "Kingsport",
)
_FORMS = (
    "Peer Support",
    "Peer Network",
    "Support Circle",
    "Wellbeing Network",
    "Peer Line",
    "Peer Alliance",
    "Support Collective",
    "Mutual Aid Society",
    "Peer Connect",
    "Care Network",
    "Peer Partners",
    "Resilience Network",
    "Listening Circle",
    "Peer Project",
    "Support Trust",
    "Peer Fellowship",
    "Wellness Circle",
    "Peer Forum",
    "Support Hub",
    "Peer Community",
)
_GROUPS = (
    "Night Shift Check-in",
    "New Graduates Circle",
    "Grief and Loss",
    "Moral Injury Group",
    "Parents in the Profession",
    "Burnout Recovery",
    "Women in the Field",
    "LGBTQ+ Peer Group",
    "Veterans Circle",
    "Thursday Evening Drop-in",
    "Retirement Transition",
    "Students Peer Group",
    "Finding Hope in Uncertain Times",
    "The Anxiety Toolbox",
    "Sober Colleagues",
    "After a Critical Incident",
    "Rural Practitioners",
    "Returning to Work",
    "Caring for Ageing Parents",
    "Sleep and Shift Work",
)
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


@dataclasses.dataclass
class Org:
    index: int
    id: str
    name: str
    profession: str
    host: str
    scenario: str
    robots: bool
    catch_all: bool
    groups: list[str]
    partners: list[int]
    ip: str | None = None  # None: the name does not resolve
    new_host: str | None = None  # moved: where to
    new_ip: str | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{PORT}/"

    @property
    def groups_url(self) -> str:
        return f"http://{self.host}:{PORT}/groups/"

    @property
    def site_host(self) -> str | None:
        """The host that serves the organisation's pages, if any."""
        if self.scenario in ("dns_gone", "refused", "site_404"):
            return None
        return self.new_host or self.host


def address(k: int, second_base: int = 1) -> str:
    """The k-th loopback address: 127.1.0.1, 127.1.0.2, ... (last octet 1 to 250)."""
    per_second = 250 * 256
    second = second_base + k // per_second
    if second > 253:
        raise ValueError("too many hosts for 127.1.0.0-127.253.255.255")
    return f"127.{second}.{(k // 250) % 256}.{k % 250 + 1}"


def refused_address(k: int) -> str:
    """An address in 127.254.0.0/16 where nothing listens (the proxy lives at .254.254)."""
    return f"127.254.{(k // 250) % 250}.{k % 250 + 1}"


def plan(n: int, seed: int = SEED) -> list[Org]:
    """The organisations of a web of ``n``: names, hosts, addresses and scenarios."""
    rng = random.Random(f"{seed}-{n}")
    indices = list(range(n))
    rng.shuffle(indices)
    scenario_of = ["healthy"] * n
    position = 0
    for name, share, _ in SCENARIOS:
        count = round(share * n)
        if n >= 20:
            count = max(1, count)
        for i in indices[position : position + count]:
            scenario_of[i] = name
        position += count
    orgs: list[Org] = []
    next_address = 0
    for i in range(n):
        org_rng = random.Random(f"{seed}-{n}-{i}")
        profession = _PROFESSIONS[i % len(_PROFESSIONS)]
        region = _REGIONS[(i // len(_PROFESSIONS)) % len(_REGIONS)]
        form = _FORMS[(i // (len(_PROFESSIONS) * len(_REGIONS))) % len(_FORMS)]
        name = f"{region} {profession} {form}"
        if i >= len(_PROFESSIONS) * len(_REGIONS) * len(_FORMS):
            name += f" {i}"
        scenario = scenario_of[i]
        org = Org(
            index=i,
            id=f"org{i:05d}",
            name=name,
            profession=profession,
            host=f"org{i:05d}.test",
            scenario=scenario,
            robots=org_rng.random() < ROBOTS_SHARE,
            catch_all=scenario == "healthy" and org_rng.random() < CATCH_ALL_SHARE,
            groups=org_rng.sample(_GROUPS, org_rng.randint(5, 10)),
            partners=[(i + step) % n for step in (1, 7, 13)] if n > 13 else [],
        )
        if scenario == "refused":
            org.ip = refused_address(i)
        elif scenario != "dns_gone":
            org.ip = address(next_address)
            next_address += 1
        if scenario == "moved":
            org.new_host = f"org{i:05d}-new.test"
            org.new_ip = address(next_address)
            next_address += 1
        orgs.append(org)
    return orgs


def hosts_map(orgs: Iterable[Org]) -> dict[str, str]:
    """Host name -> address, as ``FRESHNESS_HOSTS`` takes it (vanished names left out)."""
    out: dict[str, str] = {}
    for org in orgs:
        if org.ip:
            out[org.host] = org.ip
        if org.new_host and org.new_ip:
            out[org.new_host] = org.new_ip
    return out


def listed_urls(orgs: Iterable[Org]) -> list[str]:
    return [url for org in orgs for url in (org.url, org.groups_url)]


def directory_yaml(orgs: Iterable[Org]) -> str:
    entries = [
        {
            "id": org.id,
            "name": org.name,
            "url": org.url,
            "profession": org.profession,
            "groups_url": org.groups_url,
            "groups": list(org.groups),
        }
        for org in orgs
    ]
    return yaml.safe_dump({"organisations": entries}, sort_keys=False, allow_unicode=True)


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
    base = f"http://{host}:{PORT}"
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
    partners = org.partners
    home_partner = (
        f"<p>We work alongside {_link(orgs, partners[0])} and other networks.</p>"
        if partners
        else ""
    )
    home = _page(
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
    items = "\n".join(
        f'      <li><a href="/groups/{k}/">{g}</a> &#8211; {rng.choice(_DAYS)}, '
        f"{rng.randint(5, 9)} pm</li>"
        for k, g in enumerate(org.groups)
    )
    groups = _page(
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
    resource_links = (
        "\n".join(f"      <li>{_link(orgs, k)}</li>" for k in partners[1:])
        + '\n      <li><a href="https://www.crisis-line.example/">National Crisis Line</a></li>'
    )
    resources = _page(
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


def robots_txt(host: str) -> str:
    return (
        "User-agent: *\nDisallow: /wp-admin/\nAllow: /wp-admin/admin-ajax.php\n\n"
        f"Sitemap: http://{host}:{PORT}/sitemap.xml\n"
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
LOG_FORMAT = '$msec $server_addr:$server_port $status $bytes_sent "$request" "$http_user_agent"'


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
                f"server {{ listen {org.ip}:{PORT}; "
                f"location / {{ return 301 http://{org.new_host}:{PORT}$request_uri; }} }}"
            )
            servers.append(
                f"server {{ listen {org.new_ip}:{PORT}; root {sites / org.new_host}; "
                f"include {snippets / 'static.conf'}; }}"
            )
            continue
        snippet = _snippet_for(org)
        root = f"root {sites / org.host}; " if snippet != "gone" else ""
        servers.append(
            f"server {{ listen {org.ip}:{PORT}; {root}include {snippets / (snippet + '.conf')}; }}"
        )
    listeners = len(servers) + 1
    connections = listeners + 4096
    return f"""# Generated by bench/web.py: {len(orgs)} organisations, {len(servers)} sites.
worker_processes 1;
worker_rlimit_nofile {connections + 1024};
pid {prefix / "nginx.pid"};
error_log {prefix / "logs" / "error.log"} warn;
events {{ worker_connections {connections}; }}
http {{
    types {{ text/html html; text/plain txt; image/png png; }}
    default_type application/octet-stream;
    log_format bench '{LOG_FORMAT}';
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
        listen {PROXY_ADDRESS}:{PROXY_PORT};
        access_log {prefix / "logs" / "proxy.log"} bench;
        location / {{
            if ($bench_upstream = "") {{ return 502; }}
            proxy_pass http://$bench_upstream:{PORT};
            proxy_set_header Host $http_host;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_connect_timeout 5s;
        }}
    }}
{chr(10).join("    " + s for s in servers)}
}}
"""


# --------------------------------------------------------------------------------- build


@dataclasses.dataclass
class BuiltWeb:
    prefix: Path
    orgs: list[Org]
    stats: dict[str, Any]
    token: str = ""  # answered at /__bench__, so a client knows it reached this web's nginx

    def hosts(self) -> dict[str, str]:
        return hosts_map(self.orgs)

    def listed_urls(self) -> list[str]:
        return listed_urls(self.orgs)


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


# --------------------------------------------------------------------------------- serving


def find_nginx() -> str | None:
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None


def ensure_nginx(*, install: bool) -> str:
    """The nginx binary; installed from Debian's packages with apt-get when missing."""
    exe = find_nginx()
    if exe:
        return exe
    if not install:
        raise RuntimeError(
            "nginx is not installed: `apt-get install -y nginx` (Debian), "
            "or run bench/run.py without --no-install"
        )
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install_cmd = [*sudo, "apt-get", "install", "-y", "-q", "nginx"]
    if subprocess.run(install_cmd, env=env).returncode != 0:
        subprocess.run([*sudo, "apt-get", "update", "-q"], env=env, check=True)
        subprocess.run(install_cmd, env=env, check=True)
    exe = find_nginx()
    if not exe:
        raise RuntimeError("apt-get install nginx did not provide an nginx binary")
    return exe


class Nginx:
    """nginx as a child process with its own prefix; stopped by ``stop`` (or ``with``)."""

    def __init__(self, exe: str, web: BuiltWeb) -> None:
        self.exe = exe
        self.web = web
        self.prefix = web.prefix
        self.process: subprocess.Popen[bytes] | None = None
        self.access_log = self.prefix / "logs" / "access.log"

    def __enter__(self) -> Nginx:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 60) -> None:
        prefix = str(self.prefix)
        error_log = str(self.prefix / "logs" / "error.log")
        check = subprocess.run(
            [self.exe, "-t", "-q", "-p", prefix, "-e", error_log, "-c", f"{prefix}/nginx.conf"],
            capture_output=True,
            text=True,
        )
        if check.returncode != 0:
            raise RuntimeError(f"nginx rejected its configuration:\n{check.stderr[-3000:]}")
        self.process = subprocess.Popen(
            [self.exe, "-p", prefix, "-e", error_log, "-c", f"{prefix}/nginx.conf"]
            + ["-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        probes = [o for o in self.web.orgs if o.site_host and o.scenario != "moved"]
        targets = [(probes[0].ip, PORT), (probes[-1].ip, PORT), (PROXY_ADDRESS, PROXY_PORT)]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"nginx exited at start ({self.process.returncode}): {err}")
            if all(_listening(ip, port) for ip, port in targets if ip):
                time.sleep(0.3)  # an nginx that failed to bind exits at once
                if self.process.poll() is not None:
                    continue  # reported at the top of the loop
                for ip, port in targets[:2]:
                    if ip and _token(ip, port) != self.web.token:
                        self.stop()
                        raise RuntimeError(
                            f"{ip}:{port} is answered by another server (another benchmark "
                            "running?); use --port to pick another port"
                        )
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"nginx did not listen within {timeout} s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGQUIT)  # graceful: finish requests, then exit
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def pids(self) -> list[int]:
        if self.process is None:
            return []
        return [self.process.pid, *_children(self.process.pid)]

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the master and its workers so far."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / tick
        return total

    def serious_errors(self) -> list[str]:
        """Lines of nginx's error log at crit level or worse (out of files, sockets...)."""
        path = self.prefix / "logs" / "error.log"
        if not path.exists():
            return []
        levels = ("[crit]", "[alert]", "[emerg]")
        return [
            ln
            for ln in path.read_text(errors="replace").splitlines()
            if any(x in ln for x in levels)
        ]

    def log_position(self) -> int:
        return self.access_log.stat().st_size if self.access_log.exists() else 0

    def traffic(self, start: int, end: int | None = None) -> dict[str, Any]:
        """Requests, bytes sent and statuses logged between two positions of the access log."""
        with open(self.access_log, "rb") as fh:
            fh.seek(start)
            data = fh.read() if end is None else fh.read(end - start)
        return summarise_log(data.decode("utf-8", "replace").splitlines())


_PROBE_PATH = re.compile(r"/fr[0-9a-f]{12}$")
PATH_KINDS = {
    "/": "homepage",
    "/groups/": "groups page",
    "/robots.txt": "robots.txt",
    "/resources/": "resources page",
}


def path_kind(path: str) -> str:
    """What a request was for, by its path: a listed page, robots.txt, a soft-404 probe..."""
    if _PROBE_PATH.search(path):
        return "soft-404 probe"
    return PATH_KINDS.get(path, "other")


def summarise_log(lines: Iterable[str]) -> dict[str, Any]:
    """Requests, bytes sent and statuses, in all and by kind of path (``path_kind``)."""
    statuses: Counter[str] = Counter()
    kinds: dict[str, dict[str, int]] = {}
    requests = 0
    sent = 0
    for line in lines:
        parts = line.split(" ", 5)
        if len(parts) < 6:
            continue
        size = int(parts[3])
        requests += 1
        statuses[parts[2]] += 1
        sent += size
        kind = kinds.setdefault(
            path_kind(parts[5].split(" ", 1)[0]), {"requests": 0, "bytes_sent": 0}
        )
        kind["requests"] += 1
        kind["bytes_sent"] += size
    return {
        "requests": requests,
        "bytes_sent": sent,
        "robots_txt_requests": kinds.get("robots.txt", {}).get("requests", 0),
        "statuses": dict(sorted(statuses.items())),
        "by_path": dict(sorted(kinds.items())),
    }


def _listening(ip: str, port: int) -> bool:
    try:
        with socket.create_connection((ip, port), timeout=0.5):
            return True
    except OSError:
        return False


def _token(ip: str, port: int) -> str | None:
    import http.client

    connection = http.client.HTTPConnection(ip, port, timeout=5)
    try:
        connection.request("GET", "/__bench__")
        response = connection.getresponse()
        return response.read().decode() if response.status == 200 else None
    except OSError:
        return None
    finally:
        connection.close()


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out.append(int(entry.name))
    return out

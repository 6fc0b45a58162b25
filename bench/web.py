"""The simulated web: N organisations as static files, served by nginx on loopback addresses.

Every site has its own address 127.x.y.z and answers there whatever the Host header says, so
per-host politeness applies as on the real web, and a client can reach a site by its address
alone. A site has a homepage, a groups page and three more pages (about, contact, resources);
a share of them is dead, moved or answers soft 404s (``SCENARIOS``). The plan is a pure
function of N: the same N gives the same web, byte for byte.

Here: the plan (the organisations, their hosts and addresses) and nginx serving a built web.
What the sites serve, nginx.conf and ``build`` are in ``bench/sites.py``.
"""

from __future__ import annotations

import dataclasses
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


# nginx's access log, one request a line: what ``summarise_log`` reads.
LOG_FORMAT = '$msec $server_addr:$server_port $status $bytes_sent "$request" "$http_user_agent"'


@dataclasses.dataclass
class BuiltWeb:
    """A web written under ``prefix`` by ``sites.build``: its plan and what was written."""

    prefix: Path
    orgs: list[Org]
    stats: dict[str, Any]
    token: str = ""  # answered at /__bench__, so a client knows it reached this web's nginx

    def hosts(self) -> dict[str, str]:
        return hosts_map(self.orgs)

    def listed_urls(self) -> list[str]:
        return listed_urls(self.orgs)


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

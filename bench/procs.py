"""Run a command and measure it: wall time, CPU time, and peak RSS summed over its process tree.

RSS is read from ``/proc`` every ``interval`` seconds for the child and all its descendants,
and the largest sum seen is the peak. A sum of RSS counts every shared page (libpython, lxml,
OpenSSL) once per process; PSS (``/proc/PID/smaps_rollup``) divides each shared page among
the processes that map it, so its sum is what the tree really holds. PSS is costlier to read,
so it is sampled every ``PSS_EVERY``-th time. CPU time comes from ``wait4`` (the child and the
descendants it waited for). Linux only, no third-party dependency.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _process_table() -> dict[int, int]:
    """pid -> parent pid of every process."""
    table: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        table[int(entry.name)] = int(stat.rsplit(b")", 1)[1].split()[1])
    return table


def tree(root: int) -> list[int]:
    """``root`` and all its descendants."""
    table = _process_table()
    children: dict[int, list[int]] = {}
    for pid, ppid in table.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def machine_busy_seconds() -> float:
    """CPU time all cores of the machine have spent busy since boot (from /proc/stat)."""
    with open("/proc/stat") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


PSS_EVERY = 5


def pss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return 0


def rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


class _Sampler(threading.Thread):
    def __init__(self, pid: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak_sum = 0
        self.peak_single = 0
        self.peak_processes = 0
        self.peak_pss = 0
        self.stop = threading.Event()

    def run(self) -> None:
        samples = 0
        while not self.stop.is_set():
            pids = tree(self.pid)
            if samples % PSS_EVERY == 0:
                self.peak_pss = max(self.peak_pss, sum(pss_bytes(p) for p in pids))
            samples += 1
            sizes = [rss_bytes(p) for p in pids]
            total = sum(sizes)
            if total > self.peak_sum:
                self.peak_sum = total
                self.peak_processes = sum(1 for s in sizes if s)
            self.peak_single = max(self.peak_single, max(sizes, default=0))
            self.stop.wait(self.interval)


def measure(
    cmd: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    stdout_path: Path | None = None,
    stdin_text: str | None = None,
    timeout: float = 3600,
    interval: float = 0.05,
) -> dict[str, Any]:
    """Run ``cmd`` to its end and return its figures (stdout and stderr go to files)."""
    out_path = stdout_path or cwd / "stdout.txt"
    err_path = out_path.with_suffix(".stderr.txt")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        busy_before = machine_busy_seconds()
        started = time.monotonic()
        process = subprocess.Popen(
            list(cmd),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
        sampler = _Sampler(process.pid, interval)
        sampler.start()
        if stdin_text is not None and process.stdin is not None:
            process.stdin.write(stdin_text.encode())
            process.stdin.close()
        deadline = started + timeout
        status, usage = 0, None
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.01)
        wall = time.monotonic() - started
        busy = machine_busy_seconds() - busy_before
        process.returncode = os.waitstatus_to_exitcode(status)
        sampler.stop.set()
        sampler.join()
    return {
        "wall_s": round(wall, 3),
        "cpu_user_s": round(usage.ru_utime, 2) if usage else None,
        "cpu_sys_s": round(usage.ru_stime, 2) if usage else None,
        "cpu_share": round((usage.ru_utime + usage.ru_stime) / wall, 3) if usage else None,
        "machine_cpu_s": round(busy, 2),
        "peak_rss_mb": round(sampler.peak_sum / 2**20, 1),
        "peak_rss_largest_process_mb": round(sampler.peak_single / 2**20, 1),
        "peak_pss_mb": round(sampler.peak_pss / 2**20, 1),
        "processes_at_peak": sampler.peak_processes,
        "exit_code": process.returncode,
        "timed_out": time.monotonic() > deadline,
        "stdout": str(out_path),
        "stderr": str(err_path),
    }


def tail(path: str | Path, chars: int = 2000) -> str:
    try:
        return Path(path).read_text(errors="replace")[-chars:]
    except OSError:
        return ""

"""What a command costs: wall and CPU seconds, peak memory of its whole process tree, bytes it left on disk.

Memory is sampled from ``/proc`` every ``interval`` seconds over the command and all its descendants (papermill
kernels, process pools, DataLoader workers), three ways: **RSS** (resident pages, summed over processes: counts
pages that forked workers share once per process, and memory-mapped cache pages, which the kernel can drop),
**PSS** (each shared page divided among its sharers: the tree's real footprint) and **anonymous PSS** (PSS
without file-backed pages: the memory that cannot be given back while the command runs, what RAM must hold).
A peak shorter than the interval can be missed; CPU seconds come from the kernel's accounting of the reaped
tree (``RUSAGE_CHILDREN``), so they do not depend on sampling, nor on how busy the machine is.
"""

from __future__ import annotations

import os
import resource
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

_FIELDS = {"Rss:": "rss", "Pss:": "pss", "Pss_Anon:": "anon"}


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (read from ``/proc/<pid>/task/*/children``)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as f:
                    todo.extend(int(child) for child in f.read().split())
        except OSError:  # exited meanwhile
            continue
    return found


def memory_kib(pid: int) -> dict[str, int]:
    """``{"rss", "pss", "anon"}`` in KiB of one process (``/proc/<pid>/smaps_rollup``); zeros if it has exited."""
    out = dict.fromkeys(_FIELDS.values(), 0)
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                key, _, rest = line.partition(" ")
                if key in _FIELDS:
                    out[_FIELDS[key]] = int(rest.split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return out


class TreeSampler(threading.Thread):
    """Samples the memory of the process tree under ``pid`` until :meth:`stop`; peaks in MiB."""

    def __init__(self, pid: int, interval: float = 0.25):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak = dict.fromkeys(_FIELDS.values(), 0.0)
        self.samples = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            totals = dict.fromkeys(_FIELDS.values(), 0)
            for pid in descendants(self.pid):
                for key, kib in memory_kib(pid).items():
                    totals[key] += kib
            for key, kib in totals.items():
                self.peak[key] = max(self.peak[key], kib / 1024)
            self.samples += 1
            self._halt.wait(self.interval)

    def stop(self) -> dict[str, float]:
        self._halt.set()
        self.join()
        return {f"peak_{key}_mib": round(value, 1) for key, value in self.peak.items()}


def disk_bytes(paths: Sequence[Path]) -> int:
    """Bytes allocated on disk by the files under ``paths`` (those that exist)."""
    total = 0
    for root in map(Path, paths):
        files = [root] if root.is_file() else (root.rglob("*") if root.is_dir() else [])
        total += sum(p.stat().st_blocks * 512 for p in files if p.is_file() and not p.is_symlink())
    return total


@dataclass
class Cost:
    """One command's cost; ``returncode`` non-zero means it failed (its output tail is in ``log_tail``)."""

    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    peak_pss_mib: float
    peak_anon_mib: float
    disk_written_mib: float
    returncode: int
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    log_tail: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def measure(command: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None,
            disk: Sequence[Path] = (), log: Path | None = None, interval: float = 0.25) -> Cost:
    """Run ``command`` to completion and return its :class:`Cost`; its output goes to ``log`` (appended).

    ``disk``: folders whose growth counts as the bytes the command wrote (caches, run folders, results).
    """
    before_disk = disk_bytes(disk)
    before_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_before = os.getloadavg()
    log_file = open(log, "a") if log else subprocess.DEVNULL
    started = time.perf_counter()
    try:
        proc = subprocess.Popen(list(command), env=env, cwd=cwd, stdout=log_file, stderr=subprocess.STDOUT)
        sampler = TreeSampler(proc.pid, interval)
        sampler.start()
        returncode = proc.wait()
        peaks = sampler.stop()
    finally:
        if log:
            log_file.close()
    wall = time.perf_counter() - started
    after_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after_cpu.ru_utime - before_cpu.ru_utime) + (after_cpu.ru_stime - before_cpu.ru_stime)
    tail = ""
    if returncode and log:
        tail = log.read_text(errors="replace")[-3000:]
    return Cost(wall_s=round(wall, 2), cpu_s=round(cpu, 2), **peaks,
                disk_written_mib=round((disk_bytes(disk) - before_disk) / 2**20, 1), returncode=returncode,
                load_before=tuple(round(x, 2) for x in load_before), load_after=tuple(round(x, 2) for x in os.getloadavg()),
                log_tail=tail)

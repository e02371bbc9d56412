"""Runs one benchmark step as a child process and measures it: wall time, CPU time, peak memory of its process tree.

CPU time is the child's and all its reaped descendants' user + system time (getrusage of
children), so a pool of workers counts in full. Peak memory is sampled: every 0.1 s the resident
set sizes (VmRSS) of the child and all its descendants are summed, and the largest sum is kept
(an upper bound: pages shared between processes count once per process). The machine's load
average is recorded too, because other work on a shared 2-core machine stretches wall time.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
SAMPLE_SECONDS = 0.1


@dataclass
class Measurement:
    label: str
    wall_s: float
    cpu_s: float  # user + system, the child and its descendants
    peak_rss_mb: float  # largest sampled sum over the process tree
    peak_rss_by_process_mb: (
        dict  # largest sampled single process of each kind (dbt, pool worker, ...)
    )
    load_before: float  # 1-minute load average when the step started
    returncode: int
    output: str  # the child's stdout (steps print one JSON line)
    errors: str  # the child's stderr

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("output")
        data.pop("errors")
        return data


def _children_of() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _kind(pid: int) -> str:
    """A short name for what a process runs: `dbt`, `jeugdhulp`, `pool worker`, `benchmarks.steps`, ..."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            args = [a.decode(errors="replace") for a in cmdline.read().split(b"\0") if a]
    except OSError:
        return "?"
    if any("spawn_main" in a or "resource_tracker" in a for a in args):
        return "pool worker"
    for arg in args[:3]:
        name = os.path.basename(arg)
        if name in ("dbt", "jeugdhulp"):
            return name
    if "-m" in args:
        return args[args.index("-m") + 1]
    return os.path.basename(args[0]) if args else "?"


def tree_rss_mb(pid: int) -> tuple[float, dict[str, float]]:
    """(sum, largest per kind of process) resident set size in MB over a process and its descendants."""
    children = _children_of()
    total, by_kind, todo = 0, {}, [pid]
    while todo:
        current = todo.pop()
        rss = _rss_kb(current)
        total += rss
        kind = _kind(current)
        by_kind[kind] = max(by_kind.get(kind, 0), rss)
        todo.extend(children.get(current, ()))
    return total / 1024, {kind: rss / 1024 for kind, rss in by_kind.items()}


class _Sampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0.0
        self.by_kind: dict[str, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            total, by_kind = tree_rss_mb(self.pid)
            self.peak = max(self.peak, total)
            for kind, rss in by_kind.items():
                self.by_kind[kind] = max(self.by_kind.get(kind, 0.0), rss)
            self.stop.wait(SAMPLE_SECONDS)


def run(
    label: str,
    command: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    check: bool = True,
) -> Measurement:
    """Run `command` to completion and measure it; raise (with its output) if it fails and `check`."""
    environment = {**os.environ, **(env or {})}
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        env=environment,
        cwd=cwd or ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    sampler = _Sampler(process.pid)
    sampler.start()
    stdout, stderr = process.communicate()
    wall = time.perf_counter() - started
    sampler.stop.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    measurement = Measurement(
        label,
        round(wall, 3),
        round(cpu, 3),
        round(sampler.peak, 1),
        {k: round(v, 1) for k, v in sorted(sampler.by_kind.items())},
        round(load, 2),
        process.returncode,
        stdout,
        stderr,
    )
    if check and process.returncode != 0:
        raise RuntimeError(
            f"{label} failed ({process.returncode}): {' '.join(command)}\n"
            f"{stdout[-3000:]}\n{stderr[-3000:]}"
        )
    return measurement


def python_step(label: str, *args: str, **kwargs) -> Measurement:
    """A step of benchmarks/steps.py in a fresh interpreter."""
    return run(label, [PYTHON, "-m", "benchmarks.steps", *args], **kwargs)

"""Where ingestion's time goes: CPU per file of each part of the worker, and a cProfile of the main process.

`python -m benchmarks.profile_ingest [--scale S] [--files N]` on the cached national year
(run `make bench` or `python -m benchmarks.run_all --only ingestion` first to generate it).
CPU time (not wall time) per file, best of three, so a busy machine blurs it less.

It also checks the reader's fast path on those files: how many it vouches for, and that its rows
equal those of `read_messages` (it stops with an error if one differs).
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import os
import pstats
import resource
import shutil
import subprocess
import tempfile
import time
from datetime import date
from pathlib import Path

from benchmarks.national_data import OUT, dataset_dir
from benchmarks.run_all import DEFAULT_AS_OF, DEFAULT_SCALE


def cpu_per_file(label: str, work, count: int) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    per_file = best * 1000 / count
    print(f"  {label:58s} {per_file:7.3f} ms/file")
    return per_file


def worker_parts(landing: Path, limit: int) -> None:
    """The worker's steps one by one, in this process, against the bare parse."""
    from benchmarks.bare_parse import parse_file
    from jeugdhulp.ijw.reader import read_flat, read_messages
    from jeugdhulp.ingest.ijw_rows import _row, parse_ijw
    from jeugdhulp.ingest.landing import iter_landed_files, move_file
    from jeugdhulp.ingest.parsed import ClientKeys
    from jeugdhulp.ingest.worker import parse_chunk

    files = [f for _, f in zip(range(limit), iter_landed_files(landing, "ijw"))]
    data = [f.path.read_bytes() for f in files]
    keys = ClientKeys("profile-key")
    tasks = [(f.location, f.relative, f.landed_path) for f in files]
    n = len(files)
    flat = [read_flat(d) for d in data]
    for d, message in zip(data, flat):
        if message is not None:  # parse_ijw took the fast path: compare with the typed records
            [fast] = parse_ijw(d, keys).tables.values()
            if fast.rows != [_row(item, keys) for item in read_messages(io.BytesIO(d))]:
                raise SystemExit("read_flat and read_messages disagree on a file")
    print(
        f"reader fast path: {sum(m is not None for m in flat)} of {n} files, rows equal to read_messages"
    )

    def read_all() -> None:
        for f in files:
            with open(f.location, "rb") as stream:
                stream.read()

    print(f"worker, CPU per file over {n} files:")
    cpu_per_file("read the bytes (open, read)", read_all, n)
    cpu_per_file("SHA-256", lambda: [hashlib.sha256(d).hexdigest() for d in data], n)
    cpu_per_file("bare parse (benchmarks/bare_parse.py)", lambda: [parse_file(d) for d in data], n)
    cpu_per_file(
        "ijw.reader.read_messages (typed records)",
        lambda: [list(read_messages(io.BytesIO(d))) for d in data],
        n,
    )
    cpu_per_file(
        "ijw.reader.read_flat (fast path, tuples)", lambda: [read_flat(d) for d in data], n
    )
    cpu_per_file(
        "ingest.ijw_rows.parse_ijw (+ rows, pseudonyms)",
        lambda: [parse_ijw(d, keys) for d in data],
        n,
    )
    cpu_per_file(
        "ingest.worker.parse_chunk (+ read, hash, Arrow)",
        lambda: parse_chunk("ijw", tasks, "profile-key"),
        n,
    )
    with tempfile.TemporaryDirectory(dir=OUT) as scratch:
        archive, quarantine = os.path.join(scratch, "archive"), os.path.join(scratch, "quarantine")
        roots = (archive, quarantine)
        cpu_per_file(
            "  the same, proposing archive names",
            lambda: parse_chunk("ijw", tasks, "profile-key", roots),
            n,
        )
        moved = []
        for turn in range(3):  # hard links of the landed files, moved as ingestion moves them
            here = os.path.join(scratch, f"moved{turn}")
            for i, f in enumerate(files):
                os.makedirs(os.path.join(here, "from"), exist_ok=True)
                os.link(f.location, os.path.join(here, "from", str(i)))
            started = time.process_time()
            for i in range(n):
                move_file(os.path.join(here, "from", str(i)), os.path.join(here, "to", str(i)))
            moved.append(time.process_time() - started)
        print(
            f"  {'landing.move_file (after the commit, in a worker)':58s} {min(moved) * 1000 / n:7.3f} ms/file"
        )
    profile = cProfile.Profile()
    profile.enable()
    parse_chunk("ijw", tasks, "profile-key")
    profile.disable()
    print("\nworker parse_chunk, cProfile by own time:")
    pstats.Stats(profile).sort_stats("tottime").print_stats(18)


def main_process(dataset: Path, as_of: date) -> None:
    """cProfile of ingestion's main process during a real parallel run (workers are not profiled)."""
    from jeugdhulp.ingest import ingest_source
    from jeugdhulp.settings import Settings

    work = OUT / "profile-work"
    shutil.rmtree(work, ignore_errors=True)
    subprocess.run(["cp", "-al", str(dataset), str(work)], check=True)
    settings = Settings(work, as_of, "profile-key", None)
    profile = cProfile.Profile()
    started_cpu, started = time.process_time(), time.perf_counter()
    profile.enable()
    report = ingest_source(settings, "ijw")
    profile.disable()
    cpu, wall = time.process_time() - started_cpu, time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\nmain process: {report.files_ingested} files, wall {wall:.1f} s, main-process CPU {cpu:.1f} s "
        f"({cpu * 1000 / max(1, report.files_ingested):.3f} ms/file, under cProfile), peak RSS {peak:.0f} MB"
    )
    stats = pstats.Stats(profile)
    stats.sort_stats("cumulative").print_stats(r"ingest|duckdb|posix|registry", 25)
    stats.sort_stats("tottime").print_stats(15)
    shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.profile_ingest", description=__doc__
    )
    parser.add_argument("--scale", type=float, default=DEFAULT_SCALE)
    parser.add_argument("--as-of", type=date.fromisoformat, default=DEFAULT_AS_OF)
    parser.add_argument("--files", type=int, default=10_000, help="files for the per-part figures")
    args = parser.parse_args()
    dataset = dataset_dir(args.scale, 1, args.as_of)
    if not dataset.exists():
        raise SystemExit(
            f"{dataset} is missing: run `python -m benchmarks.run_all --scale {args.scale} "
            "--only ingestion` first"
        )
    worker_parts(dataset / "landing", args.files)
    main_process(dataset, args.as_of)


if __name__ == "__main__":
    main()

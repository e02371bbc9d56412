"""Instructions executed per ingested iJw file, counted by valgrind: a measure a busy machine does not blur.

`python -m benchmarks.instructions [--small 200] [--large 3000] [--workers 1]` ingests the first
`small` and then the first `large` files of the cached national year (`make bench` or
`python -m benchmarks.run_all --only ingestion` generates it) under
`valgrind --tool=cachegrind --cache-sim=no` (children traced: the worker pool counts too) and
prints instructions per file, (large − small) / (large − small files), and the fixed part (the
small run). Wall-clock ratios on a shared 2-core machine vary by more than a 5 % change in the
code's work; instruction counts repeat to 0.2 %. They leave out the kernel (system calls) and
memory stalls: compare those with `strace -c` and CPU time.

To compare two versions of the code, give `--code` a `git worktree` of the other version (its
`jeugdhulp` is measured on the same files; `--dataset` names a generated data dir, so that two
versions of the generator do not give two datasets). Needs `valgrind` (Debian package); slow:
about a minute per thousand files.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

_KEY = "benchmark-key-synthetic-data-only"
_HERE = Path(__file__).resolve().parent.parent  # this checkout


def ingest_first(landing: str, count: int, workers: int) -> None:
    """In a child under valgrind: ingest the first `count` files of `landing` (hard links)."""
    from datetime import date

    import duckdb  # noqa: F401  (imported before the work either way)

    from jeugdhulp.ingest import ingest_source
    from jeugdhulp.settings import Settings

    source = Path(landing)
    work = Path(tempfile.mkdtemp(prefix="instructions-"))
    try:
        for path in sorted(source.rglob("*.xml"))[:count]:
            target = work / "landing" / "ijw" / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, target)
        settings = Settings(work, date(2025, 12, 17), _KEY, None)
        report = ingest_source(settings, "ijw", workers=workers)
        print(f"ingested {report.files_ingested} files", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def count(landing: Path, files: int, workers: int, code: Path) -> int:
    """Instructions of every process of one ingestion of `files` files by the code in `code`."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    with tempfile.TemporaryDirectory(prefix="cachegrind-") as out:
        subprocess.run(
            [
                "valgrind",
                "--tool=cachegrind",
                "--cache-sim=no",
                "--trace-children=yes",
                f"--cachegrind-out-file={out}/cg.%p",
                sys.executable,
                __file__,  # as a script: the child imports only `jeugdhulp`, from `code`
                "--child",
                str(landing),
                str(files),
                str(workers),
            ],
            check=True,
            capture_output=True,
            env=env,
        )
        total = 0
        for path in Path(out).iterdir():
            for line in path.read_text().splitlines():
                if line.startswith("summary:"):
                    total += int(line.split()[1])
        return total


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        ingest_first(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(prog="python -m benchmarks.instructions", description=__doc__)
    parser.add_argument("--small", type=int, default=200)
    parser.add_argument("--large", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=1, help="1: parse in the main process")
    parser.add_argument("--dataset", type=Path, help="a generated data dir (default: the cached)")
    parser.add_argument("--code", type=Path, default=_HERE, help="a checkout whose code to count")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    dataset = args.dataset
    if dataset is None:
        from benchmarks.national_data import dataset_dir
        from benchmarks.run_all import DEFAULT_AS_OF, DEFAULT_SCALE

        dataset = dataset_dir(DEFAULT_SCALE, 1, DEFAULT_AS_OF)
    landing = dataset / "landing" / "ijw"
    if not landing.exists():
        raise SystemExit(
            f"{landing} is missing: run `python -m benchmarks.run_all --only ingestion`"
        )
    small = count(landing, args.small, args.workers, args.code.resolve())
    large = count(landing, args.large, args.workers, args.code.resolve())
    per_file = (large - small) / (args.large - args.small)
    print(f"{per_file / 1000:,.1f} k instructions per file; fixed {small / 1e9:.2f} G")


if __name__ == "__main__":
    main()

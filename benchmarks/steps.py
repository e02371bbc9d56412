"""The measured steps, each run in a fresh interpreter by run_all: `python -m benchmarks.steps <step> ...`.

Every step prints one JSON line with what it did, so run_all can check that the two sides of a
comparison handled the same files and rows.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date
from pathlib import Path

BENCH_KEY = "benchmark-key-synthetic-data-only"
FLOOR_SQL = Path(__file__).resolve().parent / "marts_floor.sql"


def ingest(data_dir: str, as_of: str, source: str | None) -> dict:
    from jeugdhulp.ingest import ingest_all, ingest_source
    from jeugdhulp.settings import Settings

    settings = Settings(Path(data_dir).resolve(), date.fromisoformat(as_of), BENCH_KEY, None)
    started = time.perf_counter()
    reports = {source: ingest_source(settings, source)} if source else ingest_all(settings)
    return {
        "seconds": round(time.perf_counter() - started, 3),
        "files": sum(r.files_ingested for r in reports.values()),
        "quarantined": sum(len(r.files_quarantined) for r in reports.values()),
        "duplicates": sum(r.files_skipped_duplicate for r in reports.values()),
        "rows": sum(r.rows_total for r in reports.values()),
        "per_source_seconds": {name: round(r.seconds, 3) for name, r in reports.items()},
    }


def bare(root: str) -> dict:
    from benchmarks.bare_parse import bare_parse

    return bare_parse(root)


def floor(warehouse: str, as_of: str) -> dict:
    import duckdb

    started = time.perf_counter()
    con = duckdb.connect(warehouse)
    try:
        con.execute(f"SET VARIABLE as_of = DATE '{date.fromisoformat(as_of).isoformat()}'")
        con.execute(FLOOR_SQL.read_text())
    finally:
        con.close()
    return {"seconds": round(time.perf_counter() - started, 3)}


def gx(warehouse: str, suite: str) -> dict:
    """One Great Expectations suite as the quality check runs it (read the table, validate)."""
    from jeugdhulp.quality.validation import validate_table

    started = time.perf_counter()
    result = validate_table(Path(warehouse), suite)
    return {
        "seconds": round(time.perf_counter() - started, 3),
        "rows": result.row_count,
        "success": result.success,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.steps")
    steps = parser.add_subparsers(dest="step", required=True)
    p = steps.add_parser("ingest")
    p.add_argument("data_dir")
    p.add_argument("as_of")
    p.add_argument("--source")
    p = steps.add_parser("bare")
    p.add_argument("root")
    p = steps.add_parser("floor")
    p.add_argument("warehouse")
    p.add_argument("as_of")
    p = steps.add_parser("gx")
    p.add_argument("warehouse")
    p.add_argument("suite")
    args = parser.parse_args()
    if args.step == "ingest":
        result = ingest(args.data_dir, args.as_of, args.source)
    elif args.step == "bare":
        result = bare(args.root)
    elif args.step == "gx":
        result = gx(args.warehouse, args.suite)
    else:
        result = floor(args.warehouse, args.as_of)
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""`make bench`: measures ingestion, marts, the daily increment and the national run, each as a ratio against its limit.

Every comparison runs both sides in the same invocation, interleaved, `--repeat` times, and
reports medians; each side runs in a fresh interpreter (benchmarks/measure.py). Generated data is
cached in benchmarks/out/ (git-ignored); work copies are hard links, so ingestion (which moves
files) never disturbs the cache. Results: benchmarks/out/results-<time>.json and a Markdown
summary on stdout and in benchmarks/out/latest.md.

  ingestion   our ingestion of landing/ijw/ (national profile, one year) vs benchmarks/bare_parse.py
  national    the whole job (`jeugdhulp run`) on the national year: wall time and peak memory
  marts       dbt (the marts the floor computes, with their upstream; no tests) vs marts_floor.sql
  replicated  the raw layer copied to national size: marts again, the job's dbt build and the
              largest GX suite (time and peak memory)
  daily       one day's files on top of 1 year vs 3 years of history (the whole job)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, datetime
from importlib import metadata
from pathlib import Path

from benchmarks import measure
from benchmarks.national_data import OUT, describe, national_landing
from benchmarks.steps import BENCH_KEY

TARGETS = {"ingestion": 1.5, "marts": 2.0, "daily": 1.3, "memory_mb": 4096}  # the issue's limits
DEFAULT_SCALE = 0.02
DEFAULT_AS_OF = date(2025, 12, 17)
# the contract marts benchmarks/marts_floor.sql computes; dbt builds these and their upstream
FLOOR_MARTS = (
    "fct_invoice_lines",
    "mart_costs_monthly",
    "mart_kpi_annual",
    "mart_invoice_timeliness",
    "mart_invoicing_completeness",
)
DBT = str(Path(sys.executable).parent / "dbt")
DBT_DIR = measure.ROOT / "dbt_project"
WORK = OUT / "work"  # one fixed path, so dbt's partial parse stays warm between runs
_DAY = re.compile(rb"<ijw:Dagtekening>([0-9-]{10})<")


def say(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# --- work directories -----------------------------------------------------------------------------


def fresh_work(source: Path | None = None) -> Path:
    """An empty work dir, or a hard-linked copy of `source` (a generated data dir)."""
    if WORK.exists():
        shutil.rmtree(WORK)
    if source is None:
        WORK.mkdir(parents=True)
    else:
        subprocess.run(["cp", "-al", str(source), str(WORK)], check=True)
    return WORK


def warehouse(data_dir: Path) -> Path:
    return data_dir / "warehouse" / "warehouse.duckdb"


def dbt_env(data_dir: Path, as_of: date) -> dict[str, str]:
    return {
        "JEUGDHULP_WAREHOUSE_PATH": str(warehouse(data_dir)),
        "JEUGDHULP_AS_OF": as_of.isoformat(),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DO_NOT_TRACK": "1",
    }


def dbt(label: str, data_dir: Path, as_of: date, *args: str) -> measure.Measurement:
    command = [
        DBT,
        "--no-use-colors",
        *args[:1],
        "--project-dir",
        str(DBT_DIR),
        "--profiles-dir",
        str(DBT_DIR),
        "--target-path",
        str(OUT / "dbt_target"),
        "--log-path",
        str(OUT / "dbt_logs"),
        *args[1:],
    ]
    return measure.run(label, command, env=dbt_env(data_dir, as_of), cwd=DBT_DIR)


def step_json(m: measure.Measurement) -> dict:
    lines = [line for line in m.output.splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else {}


def median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def summarise(runs: list[measure.Measurement]) -> dict:
    return {
        "wall_s": median([r.wall_s for r in runs]),
        "cpu_s": median([r.cpu_s for r in runs]),
        "peak_rss_mb": max(r.peak_rss_mb for r in runs),
        "runs": [r.as_dict() for r in runs],
    }


def ratio(numerator: dict, denominator: dict, key: str = "wall_s") -> float:
    return round(numerator[key] / denominator[key], 2) if denominator[key] else float("inf")


# --- ingestion --------------------------------------------------------------------------------------


def bench_ingestion(dataset: Path, as_of: date, repeat: int) -> dict:
    ours, floor = [], []
    for turn in range(repeat):
        order = ("floor", "ours") if turn % 2 == 0 else ("ours", "floor")
        for side in order:
            if side == "floor":
                floor.append(
                    measure.python_step("bare parse", "bare", str(dataset / "landing" / "ijw"))
                )
            else:
                work = fresh_work(dataset)
                ours.append(
                    measure.python_step(
                        "ingest ijw", "ingest", str(work), as_of.isoformat(), "--source", "ijw"
                    )
                )
        say(
            f"ingestion {turn + 1}/{repeat}: ours {ours[-1].wall_s:.1f} s, bare parse {floor[-1].wall_s:.1f} s"
        )
    ours_done, floor_done = step_json(ours[-1]), step_json(floor[-1])
    if ours_done["files"] + ours_done["quarantined"] != floor_done["files"]:
        raise RuntimeError(
            f"ingestion and bare parse saw different files: {ours_done} vs {floor_done}"
        )
    result = {
        "ours": summarise(ours),
        "bare_parse": summarise(floor),
        "files": floor_done["files"],
        "rows_bare": floor_done["rows"],
        "rows_ingested": ours_done["rows"],
        "quarantined": ours_done["quarantined"],
        "bare_parse_failed": floor_done["failed"],
    }
    result["ratio_wall"] = ratio(result["ours"], result["bare_parse"])
    result["ratio_cpu"] = ratio(result["ours"], result["bare_parse"], "cpu_s")
    return result


# --- the national run (also leaves the warehouse the marts benchmark uses) -------------------------


def bench_national(dataset: Path, as_of: date) -> tuple[dict, Path]:
    """The whole job on the national year, from an empty warehouse; leaves the data dir behind."""
    work = fresh_work(dataset)
    run, steps = job("jeugdhulp run", work, as_of)
    say(f"national run: {run.wall_s:.1f} s, peak {run.peak_rss_mb:.0f} MB (exit {run.returncode})")
    return {
        "job": run.as_dict(),
        "steps_s": steps,
        "summary": run.output.strip()[-1500:],
        "dbt_nodes": dbt_node_times(work / "dbt_target"),
    }, work


def _step_seconds(output: str) -> dict[str, float]:
    """Per-step seconds from the progress lines `✓ <step> (<s> s)` the CLI prints."""
    return {m[1]: float(m[2]) for m in re.finditer(r"✓ (\S+) \(([0-9.]+) s\)", output)}


# --- marts --------------------------------------------------------------------------------------------


def bench_marts(built: Path, as_of: date, repeat: int, *, extras: bool = True) -> dict:
    """dbt vs the floor script on a copy of the national warehouse `built` (raw tables loaded)."""
    work = fresh_work()
    (work / "warehouse").mkdir()
    shutil.copy2(built, warehouse(work))
    select = ["--select", *[f"+{name}" for name in FLOOR_MARTS]]
    no_tests = ["--exclude-resource-type", "test", "unit_test"]
    ours, floor, nodes = [], [], []
    for turn in range(repeat):
        order = ("floor", "ours") if turn % 2 == 0 else ("ours", "floor")
        for side in order:
            if side == "floor":
                floor.append(
                    measure.python_step(
                        "marts floor", "floor", str(warehouse(work)), as_of.isoformat()
                    )
                )
            else:
                ours.append(
                    dbt(
                        "dbt build (floor's marts, no tests)",
                        work,
                        as_of,
                        "build",
                        "--full-refresh",
                        *select,
                        *no_tests,
                    )
                )
                nodes.append(dbt_node_times())
        say(
            f"marts {turn + 1}/{repeat}: dbt {ours[-1].wall_s:.1f} s, floor {floor[-1].wall_s:.1f} s"
        )
    result = {
        "dbt": summarise(ours),
        "floor": summarise(floor),
        "marts": list(FLOOR_MARTS),
        "dbt_sql_s": median([n["sql_s"] for n in nodes]),
        "dbt_nodes": nodes[-1],
        "same_rows": compare_floor(warehouse(work)),
    }
    result["ratio_wall"] = ratio(result["dbt"], result["floor"])
    result["ratio_cpu"] = ratio(result["dbt"], result["floor"], "cpu_s")
    if not extras:
        return result
    # for reference, once: the same selection with its tests, and everything the job builds
    result["dbt_with_tests"] = dbt(
        "dbt build (floor's marts, with tests)", work, as_of, "build", "--full-refresh", *select
    ).as_dict()
    result["dbt_build_all"] = dbt(
        "dbt build (all)", work, as_of, "build", "--full-refresh"
    ).as_dict()
    result["dbt_noop_parse"] = dbt(
        "dbt ls (start-up and parse only)", work, as_of, "ls", "--resource-type", "model", "--quiet"
    ).as_dict()
    say(
        f"marts: dbt with tests {result['dbt_with_tests']['wall_s']:.1f} s, all {result['dbt_build_all']['wall_s']:.1f} s"
    )
    return result


def compare_floor(path: Path) -> dict[str, str]:
    """Per mart: 'identical', or how the floor's rows differ from dbt's (EXCEPT ALL both ways)."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    verdicts = {}
    try:
        for name in FLOOR_MARTS:
            columns = [
                c
                for (c,) in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = 'marts' "
                    "AND table_name = ? ORDER BY ordinal_position",
                    [name],
                ).fetchall()
            ]
            listed = ", ".join(columns)
            only_dbt = con.execute(
                f"SELECT count(*) FROM (SELECT {listed} FROM marts.{name} EXCEPT ALL "
                f"SELECT {listed} FROM floor.{name})"
            ).fetchone()[0]
            only_floor = con.execute(
                f"SELECT count(*) FROM (SELECT {listed} FROM floor.{name} EXCEPT ALL "
                f"SELECT {listed} FROM marts.{name})"
            ).fetchone()[0]
            rows = con.execute(f"SELECT count(*) FROM marts.{name}").fetchone()[0]
            verdicts[name] = (
                f"identical ({rows} rows)"
                if only_dbt == only_floor == 0
                else f"DIFFERENT: {only_dbt} rows only in dbt, {only_floor} only in the floor"
            )
    finally:
        con.close()
    return verdicts


# --- the engine at national scale: the raw layer replicated ----------------------------------------


def bench_replicated(built: Path, dataset: Path, factor: int, as_of: date, repeat: int) -> dict:
    """Marts (dbt vs floor), the job's `dbt build` and the largest GX suite on `factor` × the raw rows."""
    from benchmarks.replicate import replicate

    replica = OUT / f"replica-x{factor}-{dataset.name}.duckdb"
    if not replica.exists():
        say(f"replicating the raw layer {factor}× (a national-size warehouse without its files)")
        rows = replicate(built, replica, factor)
        (OUT / f"{replica.name}.json").write_text(json.dumps(rows, indent=2))
    rows = json.loads((OUT / f"{replica.name}.json").read_text())
    result = {
        "factor": factor,
        "raw_rows": rows,
        "marts": bench_marts(replica, as_of, repeat, extras=False),
    }
    work = fresh_work()
    (work / "warehouse").mkdir()
    shutil.copy2(replica, warehouse(work))
    build = dbt(
        "dbt build (all, with tests) at national scale", work, as_of, "build", "--full-refresh"
    )
    result["dbt_build_all"] = {**build.as_dict(), "nodes": dbt_node_times()}
    say(
        f"national scale: dbt build with tests {build.wall_s:.0f} s, peak {build.peak_rss_mb:.0f} MB"
    )
    suite = measure.python_step(
        "GX suite raw.ijw_invoice_lines", "gx", str(warehouse(work)), "raw.ijw_invoice_lines"
    )
    result["gx_raw_invoice_lines"] = {**suite.as_dict(), **step_json(suite)}
    say(
        f"national scale: GX raw.ijw_invoice_lines {suite.wall_s:.0f} s, peak {suite.peak_rss_mb:.0f} MB"
    )
    return result


# --- the daily increment ------------------------------------------------------------------------------


def job(label: str, work: Path, as_of: date) -> tuple[measure.Measurement, dict[str, float]]:
    """`jeugdhulp run` on a data dir, as the daily schedule runs it; its per-step seconds too."""
    env = {
        "JEUGDHULP_DATA_DIR": str(work),
        "JEUGDHULP_AS_OF": as_of.isoformat(),
        "JEUGDHULP_PSEUDONYM_KEY": BENCH_KEY,
        "DAGSTER_HOME": str(work / ".dagster"),
    }
    jeugdhulp = str(Path(sys.executable).parent / "jeugdhulp")
    run = measure.run(label, [jeugdhulp, "run", "--log-level", "WARNING"], env=env, check=False)
    steps = _step_seconds(run.errors)
    if not steps or "dbt_models" not in steps:
        raise RuntimeError(
            f"{label}: `jeugdhulp run` did not get through dbt (exit {run.returncode}):\n"
            f"{(run.output + run.errors)[-3000:]}"
        )
    return run, steps


def history(dataset: Path, as_of: date) -> Path:
    """A cached warehouse holding everything but the as_of day's iJw files, and those files.

    Built once per dataset by `jeugdhulp run` on everything else, exactly as the days before would
    have left it (its dbt target too, so the daily run's dbt parse is as warm as in production).
    """
    cache = OUT / f"history-{dataset.name}"
    done = cache / "history.json"
    if done.exists():
        return cache
    if cache.exists():
        shutil.rmtree(cache)
    say(f"history for {dataset.name}: `jeugdhulp run` on everything before {as_of} (once, cached)")
    work = fresh_work(dataset)
    day = as_of.isoformat().encode()
    increment = []
    month = f"{as_of:%Y-%m}"
    for folder, _dirs, names in os.walk(work / "landing" / "ijw"):
        if month not in folder:  # the generator files messages by the month they were sent
            continue
        for name in names:
            path = Path(folder, name)
            with open(path, "rb") as stream:
                found = _DAY.search(stream.read(2048))
            if found and found[1] == day:
                increment.append(path)
    if not increment:
        raise RuntimeError(
            f"no iJw file in {dataset} is dated {as_of}: nothing to use as the day's increment"
        )
    increment.sort()
    (cache / "increment").mkdir(parents=True)
    for path in increment:
        target = cache / "increment" / path.relative_to(work / "landing")
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(path, target)
        path.unlink()
    run, steps = job("history run", work, as_of)
    shutil.copy2(warehouse(work), cache / "warehouse.duckdb")
    shutil.copytree(work / "dbt_target", cache / "dbt_target")
    done.write_text(
        json.dumps(
            {
                "dataset": dataset.name,
                "increment_files": len(increment),
                "history_files": sum(1 for _ in (work / "archive").rglob("*") if _.is_file()),
                "history_run_s": run.wall_s,
                "history_steps_s": steps,
            },
            indent=2,
        )
    )
    say(f"history for {dataset.name}: {run.wall_s:.0f} s")
    return cache


def daily_run(cache: Path, as_of: date) -> dict:
    work = fresh_work()
    (work / "warehouse").mkdir()
    shutil.copy2(cache / "warehouse.duckdb", warehouse(work))
    shutil.copytree(cache / "dbt_target", work / "dbt_target")
    subprocess.run(["cp", "-al", str(cache / "increment"), str(work / "landing")], check=True)
    run, steps = job("daily run", work, as_of)
    files = sum(1 for _ in (work / "archive").rglob("*") if _.is_file())
    return {
        "job": run,
        "steps_s": steps,
        "files": files,
        "wall_s": run.wall_s,
        "cpu_s": run.cpu_s,
        "dbt_nodes": dbt_node_times(work / "dbt_target"),
    }


def dbt_node_times(target: Path = OUT / "dbt_target") -> dict:
    """From the last dbt invocation's run_results.json: seconds spent in SQL per kind of node.

    dbt runs two nodes at a time (threads: 2), so these sums exceed wall time; wall time minus
    them over the threads is what dbt itself costs (start-up, parse, compile, bookkeeping).
    """
    path = target / "run_results.json"
    results = json.loads(path.read_text())
    kinds: dict[str, float] = {}
    nodes = []
    for node in results["results"]:
        kind = node["unique_id"].split(".", 1)[0]
        kinds[kind] = kinds.get(kind, 0.0) + node["execution_time"]
        nodes.append(
            (
                node["unique_id"].split(".")[-1]
                if kind != "test"
                else node["unique_id"].split(".")[2],
                node["execution_time"],
            )
        )
    nodes.sort(key=lambda item: -item[1])
    return {
        "elapsed_s": round(results.get("elapsed_time", 0.0), 2),
        "sql_s_by_kind": {k: round(v, 2) for k, v in sorted(kinds.items())},
        "sql_s": round(sum(kinds.values()), 2),
        "nodes": len(nodes),
        "slowest": {name: round(seconds, 2) for name, seconds in nodes[:25]},
    }


def bench_daily(histories: dict[int, Path], as_of: date, repeat: int) -> dict:
    runs: dict[int, list[dict]] = {years: [] for years in histories}
    for turn in range(repeat):
        order = sorted(histories) if turn % 2 == 0 else sorted(histories, reverse=True)
        for years in order:
            runs[years].append(daily_run(histories[years], as_of))
        say(
            f"daily {turn + 1}/{repeat}: "
            + ", ".join(f"{years}y {runs[years][-1]['wall_s']:.1f} s" for years in sorted(runs))
        )
    result = {}
    for years, items in runs.items():
        info = json.loads((histories[years] / "history.json").read_text())
        step_names = sorted({name for i in items for name in i["steps_s"]})
        result[f"{years}y"] = {
            "history_files": info["history_files"],
            "increment_files": items[-1]["files"],
            "wall_s": median([i["wall_s"] for i in items]),
            "cpu_s": median([i["cpu_s"] for i in items]),
            "peak_rss_mb": max(i["job"].peak_rss_mb for i in items),
            "steps_s": {
                name: median([i["steps_s"].get(name, 0.0) for i in items]) for name in step_names
            },
            "dbt_sql_s": median([i["dbt_nodes"]["sql_s"] for i in items]),
            "dbt_nodes": items[-1]["dbt_nodes"],
            "runs": [i["job"].as_dict() for i in items],
        }
    one, three = result["1y"], result["3y"]
    result["ratio_wall"] = round(three["wall_s"] / one["wall_s"], 2)
    result["ratio_cpu"] = round(three["cpu_s"] / one["cpu_s"], 2)
    result["ratio_by_step"] = {
        name: round(three["steps_s"][name] / one["steps_s"][name], 2)
        for name in one["steps_s"]
        if one["steps_s"][name] and name in three["steps_s"]
    }
    result["ratio_dbt_sql"] = round(three["dbt_sql_s"] / one["dbt_sql_s"], 2)
    return result


# --- report ---------------------------------------------------------------------------------------------


def machine() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_kb = int(
        next(
            line.split()[1]
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    )
    packages = (
        "duckdb",
        "dbt-core",
        "dbt-duckdb",
        "lxml",
        "pyarrow",
        "dagster",
        "dagster-dbt",
        "great-expectations",
        "pandas",
    )
    return {
        "nproc": os.cpu_count(),
        "memory_gb": round(memory_kb / 2**20, 1),
        "cpu": cpu,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "versions": {name: metadata.version(name) for name in packages},
    }


def verdict(value: float, limit: float) -> str:
    return "met" if value <= limit else "NOT met"


def markdown(results: dict) -> str:
    lines = [
        f"## Benchmark run {results['started']} (scale {results['scale']} of national, "
        f"as of {results['as_of']}, {results['repeat']} repeats, medians)",
        "",
    ]
    lines += [
        "| figure | ours | floor / baseline | ratio (wall) | ratio (CPU) | target | |",
        "|---|---|---|---|---|---|---|",
    ]
    if "ingestion" in results:
        r = results["ingestion"]
        lines.append(
            f"| ingestion, {r['files']} iJw files | {r['ours']['wall_s']} s | bare parse {r['bare_parse']['wall_s']} s "
            f"| {r['ratio_wall']}× | {r['ratio_cpu']}× | ≤ 1.5× | {verdict(r['ratio_wall'], TARGETS['ingestion'])} |"
        )
    if "marts" in results:
        r = results["marts"]
        lines.append(
            f"| marts ({len(r['marts'])} contract marts, no tests) | dbt {r['dbt']['wall_s']} s | "
            f"floor SQL {r['floor']['wall_s']} s | {r['ratio_wall']}× | {r['ratio_cpu']}× | ≤ 2× | "
            f"{verdict(r['ratio_wall'], TARGETS['marts'])} |"
        )
    if "replicated" in results:
        r = results["replicated"]
        m = r["marts"]
        lines.append(
            f"| marts at national size (raw × {r['factor']}, {r['raw_rows']['ijw_invoice_lines']} lines) | "
            f"dbt {m['dbt']['wall_s']} s | floor SQL {m['floor']['wall_s']} s | {m['ratio_wall']}× | "
            f"{m['ratio_cpu']}× | ≤ 2× | {verdict(m['ratio_wall'], TARGETS['marts'])} |"
        )
        b, g = r["dbt_build_all"], r["gx_raw_invoice_lines"]
        lines.append(
            f"| national size: the job's `dbt build` (with tests), peak memory | {b['peak_rss_mb']} MB "
            f"({b['wall_s']} s) | | | | < 4096 MB | {verdict(b['peak_rss_mb'], TARGETS['memory_mb'])} |"
        )
        lines.append(
            f"| national size: GX suite raw.ijw_invoice_lines, peak memory | {g['peak_rss_mb']} MB "
            f"({g['wall_s']} s) | | | | < 4096 MB | {verdict(g['peak_rss_mb'], TARGETS['memory_mb'])} |"
        )
    if "daily" in results:
        r = results["daily"]
        lines.append(
            f"| daily increment ({r['3y']['increment_files']} / {r['1y']['increment_files']} files) | "
            f"3 y history {r['3y']['wall_s']} s | 1 y history {r['1y']['wall_s']} s | {r['ratio_wall']}× | "
            f"{r['ratio_cpu']}× | ≤ 1.3× | {verdict(r['ratio_wall'], TARGETS['daily'])} |"
        )
    if "national" in results:
        r = results["national"]
        run = r["job"]
        lines.append(
            f"| national run, peak memory (sum over processes) | {run['peak_rss_mb']} MB | | | | < 4096 MB | "
            f"{verdict(run['peak_rss_mb'], TARGETS['memory_mb'])} |"
        )
        lines.append(
            f"| national run, end to end ({results['dataset']['files_by_source']['ijw']} iJw files) | "
            f"{run['wall_s']} s | | | | (stated) | |"
        )
    lines.append("")
    if "marts" in results:
        r = results["marts"]
        lines.append(f"- marts: floor vs dbt rows: {r['same_rows']}")
        lines.append(
            f"- marts: of dbt's {r['dbt']['wall_s']} s, SQL summed over its {r['dbt_nodes']['nodes']} nodes is "
            f"{r['dbt_sql_s']} s {r['dbt_nodes']['sql_s_by_kind']}; slowest: "
            + ", ".join(f"{k} {v}s" for k, v in list(r["dbt_nodes"]["slowest"].items())[:6])
        )
        lines.append(
            f"- marts: dbt with tests {r['dbt_with_tests']['wall_s']} s; `dbt build --full-refresh` of "
            f"everything {r['dbt_build_all']['wall_s']} s; dbt start-up + parse alone "
            f"(`dbt ls`) {r['dbt_noop_parse']['wall_s']} s"
        )
    if "replicated" in results:
        r = results["replicated"]
        lines.append(f"- national size: marts same rows as dbt: {r['marts']['same_rows']}")
        lines.append(
            f"- national size: dbt build SQL by kind {r['dbt_build_all']['nodes']['sql_s_by_kind']}; slowest: "
            + ", ".join(
                f"{k} {v}s" for k, v in list(r["dbt_build_all"]["nodes"]["slowest"].items())[:6]
            )
        )
    if "daily" in results:
        r = results["daily"]
        for key in ("1y", "3y"):
            d = r[key]
            lines.append(
                f"- daily {key}: history {d['history_files']} files, peak {d['peak_rss_mb']} MB; steps: "
                + ", ".join(f"{k} {v} s" for k, v in d["steps_s"].items() if v >= 0.5)
                + f"; dbt SQL summed over nodes {d['dbt_sql_s']} s {d['dbt_nodes']['sql_s_by_kind']}"
            )
        lines.append(
            f"- daily: 3y/1y ratio per step: {r['ratio_by_step']}; of dbt SQL {r['ratio_dbt_sql']}×"
        )
    if "national" in results:
        r = results["national"]
        lines.append(
            "- national run steps: "
            + ", ".join(f"{k} {v} s" for k, v in r["steps_s"].items() if v >= 0.5)
        )
        lines.append(
            f"- national run peak memory per process: {r['job']['peak_rss_by_process_mb']}"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run_all",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=DEFAULT_SCALE,
        help=f"fraction of the national profile (default {DEFAULT_SCALE})",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per figure; medians are reported"
    )
    parser.add_argument("--as-of", type=date.fromisoformat, default=DEFAULT_AS_OF)
    parser.add_argument(
        "--only",
        default="ingestion,national,marts,replicated,daily",
        help="comma-separated subset of: ingestion, national, marts, replicated, daily",
    )
    parser.add_argument(
        "--replicate",
        type=int,
        default=None,
        help="copies of the raw layer for the national-scale engine figures "
        "(default: 1/scale, i.e. national size; 0 or 1 skips them)",
    )
    args = parser.parse_args(argv)
    wanted = set(args.only.split(","))
    results: dict = {
        "started": datetime.now().isoformat(timespec="seconds"),
        "scale": args.scale,
        "as_of": args.as_of.isoformat(),
        "repeat": args.repeat,
        "machine": machine(),
    }
    started = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    say(f"data: national profile at scale {args.scale} (generated once, cached in {OUT})")
    year = national_landing(args.scale, 1, args.as_of)
    results["dataset"] = describe(year)
    if "ingestion" in wanted:
        results["ingestion"] = bench_ingestion(year, args.as_of, args.repeat)
    built = OUT / f"warehouse-{year.name}.duckdb"  # the national run's warehouse, for the marts
    if "national" in wanted or ("marts" in wanted and not built.exists()):
        results["national"], work = bench_national(year, args.as_of)
        shutil.move(str(warehouse(work)), str(built))
    if "marts" in wanted:
        results["marts"] = bench_marts(built, args.as_of, args.repeat)
    factor = args.replicate if args.replicate is not None else round(1 / args.scale)
    if "replicated" in wanted and factor > 1:
        if not built.exists():
            results["national"], work = bench_national(year, args.as_of)
            shutil.move(str(warehouse(work)), str(built))
        results["replicated"] = bench_replicated(built, year, factor, args.as_of, args.repeat)
    if "daily" in wanted:
        three = national_landing(args.scale, 3, args.as_of)
        histories = {1: history(year, args.as_of), 3: history(three, args.as_of)}
        results["daily"] = bench_daily(histories, args.as_of, args.repeat)
    if WORK.exists():
        shutil.rmtree(WORK)
    results["seconds"] = round(time.perf_counter() - started, 1)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    (OUT / f"results-{stamp}.json").write_text(json.dumps(results, indent=2, default=str))
    summary = markdown(results)
    (OUT / "latest.md").write_text(summary)
    print(summary)
    say(f"done in {results['seconds']} s; details in {OUT / f'results-{stamp}.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

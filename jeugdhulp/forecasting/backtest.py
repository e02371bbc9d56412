"""Replays the reporting dates of a year on a warehouse (`jeugdhulp backtest --year Y`).

The live warehouse's raw schema is copied once (`snapshot_warehouse`, under the run lock) and the
dbt seeds are loaded into the copy; for every reporting date a copy of that is cut back to what
had arrived by then (`cut_back`) and the real dbt project builds the forecast on it as of that
date (`replay_date`); the live warehouse is never built on. What each replay's marts said per provider — the forecast
(`mart_budget_utilisation`, with its interval when the mart has one), the signal, the ceiling and
the naive annualisation (`mart_forecast_history`) — is landed in the live warehouse's
`backtest.forecast_replays` (`land_replays`). The dbt models `mart_forecast_backtest` and
`mart_forecast_backtest_summary` set them against the final cost and compute the errors, so every
figure a reader sees comes from dbt.

What had arrived by a date (`cut_back`):
- iJw messages: by message date (`Dagtekening`), whole files;
- accountability (verantwoording): by `datum_aanlevering`;
- PGB spend: a month's spend is delivered on the 10th of the next month;
- providers' own forecasts and waiting-time deliveries: by `peildatum`;
- the municipal team's registrations: those started by then, an end after it not yet known;
- the programme budget: rows adopted by then (`adopted_on`);
- the other reference files (providers, ceilings, products and tariffs, population) stay: they
  are known in advance.
A file's registry row goes when none of its rows is left (iJw, accountability and PGB: when
any row is later, as the benchmark always did).

Why cut back instead of asking the providers' data "as it was": the warehouse keeps every row
with the date it arrived, so the cut-back copy is the data the region had on that date (save
corrections made by hand since).
"""

from __future__ import annotations

import calendar
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb

from jeugdhulp.ingest.raw_tables import RAW_TABLES, create_raw_schema_sql
from jeugdhulp.settings import PROJECT_ROOT

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
DBT = str(Path(sys.executable).parent / "dbt")
# the models a replay builds: everything the forecast and the forecast history need
REPLAY_SELECT = ("+mart_budget_utilisation", "+mart_forecast_history")
# the models that turn the landed replays into errors, built on the live warehouse
RESULT_MODELS = ("mart_forecast_backtest", "mart_forecast_backtest_summary")
REPLAY_SCHEMA = "backtest"
REPLAY_TABLE = f"{REPLAY_SCHEMA}.forecast_replays"
MATURITY_DAYS = 365  # dbt var forecast_maturity_days: a care month's invoicing is then complete

IJW_TABLES = (
    "ijw_requests",
    "ijw_allocations",
    "ijw_starts",
    "ijw_stops",
    "ijw_invoice_lines",
    "ijw_rejected_lines",
)
# optional marts columns (issue 16): recorded when the forecast has them
INTERVAL_COLUMNS = ("forecast_p10_eur", "forecast_p90_eur", "probability_over_ceiling")

REPLAY_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {REPLAY_SCHEMA};
CREATE TABLE IF NOT EXISTS {REPLAY_TABLE} (
    provider_agb VARCHAR NOT NULL,
    year INTEGER NOT NULL,
    reporting_date DATE NOT NULL,
    budget_ceiling_eur DECIMAL(18,2),
    invoiced_eur DECIMAL(18,2),
    forecast_eur DECIMAL(18,2),
    forecast_p10_eur DECIMAL(18,2),
    forecast_p90_eur DECIMAL(18,2),
    probability_over_ceiling DOUBLE,
    signal VARCHAR,
    naive_annualised_eur DECIMAL(18,2),
    replayed_at TIMESTAMP NOT NULL
);
"""
REPLAY_COLUMNS = (
    "provider_agb",
    "year",
    "reporting_date",
    "budget_ceiling_eur",
    "invoiced_eur",
    "forecast_eur",
    "forecast_p10_eur",
    "forecast_p90_eur",
    "probability_over_ceiling",
    "signal",
    "naive_annualised_eur",
)


class BacktestError(Exception):
    """The backtest cannot run (no warehouse, a year not yet mature, a failed dbt build)."""


@dataclass(frozen=True)
class Replay:
    """What the marts said on one reporting date: one row per provider."""

    reporting_date: date
    rows: list[dict]
    seconds: float


# ------------------------------------------------------------------------------ dates


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def reporting_dates(year: int) -> list[date]:
    """The reporting dates replayed by default: the twelve month-ends of the year."""
    return [month_end(year, month) for month in range(1, 13)]


def mature_on(year: int, maturity_days: int = MATURITY_DAYS) -> date:
    """The first date on which every care month of `year` is mature (its December that old)."""
    return date(year, 12, 31) + timedelta(days=maturity_days)


def check_mature(year: int, as_of: date, maturity_days: int = MATURITY_DAYS) -> None:
    ready = mature_on(year, maturity_days)
    if as_of < ready:
        latest = year - 1
        while as_of < mature_on(latest, maturity_days):
            latest -= 1
        raise BacktestError(
            f"year {year} is not mature as of {as_of}: its care months are mature "
            f"(forecast_maturity_days {maturity_days} after December) on {ready}, and until then "
            f"its final cost is not known. The latest mature year is {latest}."
        )


def check_built(warehouse: Path) -> None:
    """The warehouse has the marts a replay reads (a run built it)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        built = {
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
    missing = {"mart_budget_utilisation", "mart_forecast_history"} - built
    if missing:
        raise BacktestError(
            f"the warehouse {warehouse} has no {', '.join(sorted(missing))}: run `jeugdhulp run` "
            "first"
        )


# ------------------------------------------------------------------------------ cutting back


def _forget_files(con, table: str, condition: str) -> None:
    """Delete the rows of raw.`table` matching `condition` and the registry rows of the files
    that have no row left."""
    con.execute(f"""
        create or replace temp table cut_files as
        select distinct file_id from raw.{table} where {condition}""")
    con.execute(f"delete from raw.{table} where {condition}")
    con.execute(f"""
        delete from raw.file_registry where file_id in (select file_id from cut_files)
        and file_id not in (select file_id from raw.{table})""")


def _raw_tables(con) -> set[str]:
    return {
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'"
        ).fetchall()
    }


def cut_back(base: Path, target: Path, as_of: date) -> None:
    """A copy of the warehouse `base` at `target` holding only the raw rows that had arrived by
    `as_of` (module docstring). `base` is not changed; its built models are copied as they are
    and are rebuilt by the replay."""
    shutil.copyfile(base, target)
    with duckdb.connect(str(target)) as con:
        day = as_of.isoformat()
        later_files = " union ".join(
            f"select file_id from raw.{table} where message_date > date '{day}'"
            for table in IJW_TABLES
        )
        con.execute(f"delete from raw.file_registry where file_id in ({later_files})")
        for table in IJW_TABLES:
            con.execute(f"delete from raw.{table} where message_date > date '{day}'")
        con.execute(f"""delete from raw.file_registry where file_id in (
            select file_id from raw.accountability where datum_aanlevering > date '{day}')""")
        con.execute(f"delete from raw.accountability where datum_aanlevering > date '{day}'")
        pgb_delivered = "cast(maand || '-10' as date) + interval 1 month"
        con.execute(f"""delete from raw.file_registry where file_id in (
            select file_id from raw.pgb where {pgb_delivered} > date '{day}')""")
        con.execute(f"delete from raw.pgb where {pgb_delivered} > date '{day}'")
        present = _raw_tables(con)
        later = {
            "provider_forecasts": f"peildatum > date '{day}'",
            "waiting_times": f"peildatum > date '{day}'",
            "local_team_registrations": f"startdatum > date '{day}'",
            "reference_programme_budget": f"adopted_on > date '{day}'",
        }
        for table, condition in later.items():
            if table in present:
                _forget_files(con, table, condition)
        if "local_team_registrations" in present:
            con.execute(
                "update raw.local_team_registrations set einddatum = null "
                f"where einddatum > date '{day}'"
            )


# ------------------------------------------------------------------------------ dbt


def dbt_run(
    warehouse: Path,
    as_of: date,
    work: Path,
    select: Sequence[str],
    *,
    dbt: str = DBT,
    memory_limit: str = "",
    extra_vars: dict | None = None,
    command: str = "run",
) -> None:
    """`dbt <command> --select <select>` (default `run`; `seed` with no selection loads every
    seed) of the real dbt project on `warehouse` as of `as_of`, with its target and logs in
    `work` (the project's own target folder is left alone)."""
    variables = {"as_of": as_of.isoformat(), "warehouse_path": str(warehouse)}
    if memory_limit:
        variables["memory_limit"] = memory_limit
    variables.update(extra_vars or {})
    env = {
        **os.environ,
        "JEUGDHULP_WAREHOUSE_PATH": str(warehouse),
        "JEUGDHULP_AS_OF": as_of.isoformat(),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DO_NOT_TRACK": "1",
    }
    arguments = [
        dbt,
        "--no-use-colors",
        command,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
        "--vars",
        json.dumps(variables, sort_keys=True),
    ]
    if select:
        arguments += ["--select", *select]
    result = subprocess.run(arguments, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BacktestError(f"dbt {command} failed as of {as_of}:\n{result.stdout[-4000:]}")


# ------------------------------------------------------------------------------ replays


def _columns(con, schema: str, table: str) -> set[str]:
    return {
        name
        for (name,) in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()
    }


def read_replay(warehouse: Path, year: int, as_of: date) -> list[dict]:
    """Per provider, what a replay's marts say about `year` on `as_of` (REPLAY_COLUMNS but
    replayed_at)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        present = _columns(con, "marts", "mart_budget_utilisation")
        interval = ", ".join(f"b.{c}" if c in present else f"null as {c}" for c in INTERVAL_COLUMNS)
        naive = (
            "h.naive_annualised_eur"
            if _columns(con, "marts", "mart_forecast_history")
            else "null as naive_annualised_eur"
        )
        join = (
            "left join marts.mart_forecast_history as h on h.provider_agb = b.provider_agb "
            "and h.year = b.year and h.reporting_date = ?"
            if naive.startswith("h.")
            else ""
        )
        parameters = [as_of, year] if join else [year]
        cursor = con.execute(
            f"""
            select b.provider_agb, b.year, cast(? as date) as reporting_date,
                b.budget_ceiling_eur, b.invoiced_eur, b.forecast_eur, {interval}, b.signal, {naive}
            from marts.mart_budget_utilisation as b {join}
            where b.year = ? order by b.provider_agb""",
            [as_of, *parameters],
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def replay_date(
    base: Path, scratch: Path, year: int, as_of: date, *, dbt: str = DBT, memory_limit: str = ""
) -> Replay:
    """Cut `base` back to `as_of` in `scratch`, build the forecast there, read it, drop the copy."""
    started = time.perf_counter()
    target = scratch / f"asof_{as_of.isoformat()}.duckdb"
    cut_back(base, target, as_of)
    try:
        dbt_run(target, as_of, scratch, REPLAY_SELECT, dbt=dbt, memory_limit=memory_limit)
        rows = read_replay(target, year, as_of)
    finally:
        target.unlink(missing_ok=True)
        Path(f"{target}.wal").unlink(missing_ok=True)
    return Replay(as_of, rows, time.perf_counter() - started)


def snapshot_warehouse(live: Path, target: Path) -> None:
    """A new warehouse at `target` with the live warehouse's raw schema only: what a replay
    builds from (`run_replays` loads the seeds into it). Copied row by row, not as a file: the
    built schemas (incremental models such as fct_invoice_lines keep rows and rejections of files
    a cut-back removes) must not carry into a replay, and the copy stays as small as the raw
    data. Call it while holding the run lock."""
    target.unlink(missing_ok=True)
    with duckdb.connect(str(target)) as con:
        con.execute(create_raw_schema_sql())
        con.execute(f"attach '{live}' as live (read_only)")
        tables = con.execute(
            "select table_name from information_schema.tables where table_catalog = 'live' "
            "and table_schema = 'raw' and table_type = 'BASE TABLE' order by 1"
        ).fetchall()
        for (table,) in tables:
            if table in RAW_TABLES:
                con.execute(f"insert into raw.{table} by name select * from live.raw.{table}")
            else:
                con.execute(f"create table raw.{table} as select * from live.raw.{table}")
        con.execute("detach live")


def land_replays(live: Path, replays: Sequence[Replay], replayed_at: datetime) -> int:
    """Write the replays to `backtest.forecast_replays` of the live warehouse; a reporting date
    replayed again replaces its earlier rows (per year). Returns the rows written."""
    written = 0
    with duckdb.connect(str(live)) as con:
        con.execute(REPLAY_DDL)
        con.execute("begin")
        for replay in replays:
            years = {row["year"] for row in replay.rows}
            for year in years:
                con.execute(
                    f"delete from {REPLAY_TABLE} where year = ? and reporting_date = ?",
                    [year, replay.reporting_date],
                )
            if replay.rows:
                placeholders = ", ".join("?" for _ in range(len(REPLAY_COLUMNS) + 1))
                con.executemany(
                    f"insert into {REPLAY_TABLE} ({', '.join(REPLAY_COLUMNS)}, replayed_at) "
                    f"values ({placeholders})",
                    [[row[c] for c in REPLAY_COLUMNS] + [replayed_at] for row in replay.rows],
                )
            written += len(replay.rows)
        con.execute("commit")
    return written


def run_replays(
    live: Path,
    scratch: Path,
    year: int,
    dates: Sequence[date],
    *,
    dbt: str = DBT,
    memory_limit: str = "",
    progress: Callable[[int, int, Replay], None] | None = None,
) -> list[Replay]:
    """Replay every date on copies of `live` (a snapshot of it must be at `scratch/base.duckdb`,
    see `snapshot_warehouse`); `progress(i, n, replay)` after each date."""
    base = scratch / "base.duckdb"
    if not base.exists():
        raise BacktestError(f"no snapshot of the warehouse at {base}")
    # the seeds (code lists, calibration tables) as the dbt project has them now
    dbt_run(base, max(dates), scratch, [], dbt=dbt, memory_limit=memory_limit, command="seed")
    replays = []
    for number, as_of in enumerate(dates, start=1):
        replay = replay_date(base, scratch, year, as_of, dbt=dbt, memory_limit=memory_limit)
        replays.append(replay)
        if progress:
            progress(number, len(dates), replay)
    return replays


def summary_rows(live: Path, year: int) -> list[dict]:
    """mart_forecast_backtest_summary of `year` (for the command's closing table)."""
    with duckdb.connect(str(live), read_only=True) as con:
        cursor = con.execute(
            "select * from marts.mart_forecast_backtest_summary where year = ? "
            "order by reporting_date",
            [year],
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def format_summary(rows: Sequence[dict]) -> str:
    """The closing table of `jeugdhulp backtest`: per reporting date the cost-weighted errors."""

    def pct(value: Decimal | float | None) -> str:
        return "     –" if value is None else f"{float(value):5.1f}%"

    lines = [
        "reporting date  providers  forecast error  naive error  naive ÷ forecast  "
        "over ceiling signalled  false overschrijding"
    ]
    for row in rows:
        ratio = row["naive_to_forecast_ratio"]
        lines.append(
            f"{row['reporting_date']!s:<16}{row['providers']:>9}  {pct(row['forecast_wape_pct']):>14}"
            f"  {pct(row['naive_wape_pct']):>11}  {'–' if ratio is None else f'{ratio:.1f}':>16}"
            f"  {row['over_ceiling_signalled']:>10} of {row['over_ceiling']:<10}"
            f"  {row['false_overschrijding']:>20}"
        )
    return "\n".join(lines)

"""jeugdhulp/forecasting/backtest.py without dbt: maturity, cutting back the newer sources, the
snapshot a replay starts from, landing the replays."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import duckdb
import pytest

from jeugdhulp.forecasting.backtest import (
    REPLAY_COLUMNS,
    REPLAY_TABLE,
    BacktestError,
    Replay,
    check_mature,
    cut_back,
    land_replays,
    reporting_dates,
    snapshot_warehouse,
)
from jeugdhulp.ingest.raw_tables import create_raw_schema_sql


def test_reporting_dates_are_the_month_ends():
    dates = reporting_dates(2024)
    assert len(dates) == 12
    assert dates[1] == date(2024, 2, 29) and dates[-1] == date(2024, 12, 31)


def test_a_year_is_mature_365_days_after_its_december():
    check_mature(2024, date(2025, 12, 31))
    with pytest.raises(BacktestError) as raised:
        check_mature(2025, date(2026, 10, 31))
    message = str(raised.value)
    assert "2026-12-31" in message and "latest mature year is 2024" in message


def test_cut_back_the_optional_sources_by_their_own_dates(tmp_path):
    base, target = tmp_path / "base.duckdb", tmp_path / "cut.duckdb"
    with duckdb.connect(str(base)) as con:
        con.execute(create_raw_schema_sql())
        for file_id in ("budget", "amendment", "prognosis", "team"):
            con.execute(
                "insert into raw.file_registry (file_id, source, landed_path, size_bytes, status,"
                " rows_loaded, ingested_at) values (?, 'x', ?, 1, 'ingested', 1, ?)",
                [file_id, file_id, datetime(2026, 1, 1)],
            )
        con.execute(
            "insert into raw.reference_programme_budget (file_id, record_position, year, segment,"
            " budget_eur, adopted_on) values ('budget', 1, 2025, 'ambulant', 100, '2024-11-14'),"
            " ('amendment', 1, 2025, 'ambulant', 120, '2025-07-01')"
        )
        con.execute(
            "insert into raw.provider_forecasts (file_id, record_position, agb_code, jaar,"
            " peildatum, prognose_eur) values ('prognosis', 1, '11111111', 2025, '2025-03-31', 5),"
            " ('prognosis', 2, '11111111', 2025, '2025-09-30', 6)"
        )
        con.execute(
            "insert into raw.local_team_registrations (file_id, record_position, client_key,"
            " startdatum, einddatum) values ('team', 1, 'a', '2025-01-10', '2025-08-01'),"
            " ('team', 2, 'b', '2025-07-01', null)"
        )

    cut_back(base, target, date(2025, 6, 30))

    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("select file_id from raw.reference_programme_budget").fetchall() == [
            ("budget",)
        ]
        # the amendment file had no row left: its registry row goes; the prognosis file keeps its
        assert sorted(
            r[0] for r in con.execute("select file_id from raw.file_registry").fetchall()
        ) == [
            "budget",
            "prognosis",
            "team",
        ]
        assert con.execute("select peildatum from raw.provider_forecasts").fetchall() == [
            (date(2025, 3, 31),)
        ]
        # started by then, its end not yet known
        assert con.execute(
            "select client_key, einddatum from raw.local_team_registrations"
        ).fetchall() == [("a", None)]


def test_snapshot_keeps_raw_only(tmp_path):
    live, snapshot = tmp_path / "live.duckdb", tmp_path / "snapshot.duckdb"
    with duckdb.connect(str(live)) as con:
        con.execute(create_raw_schema_sql())
        con.execute(
            "insert into raw.reference_providers (file_id, record_position, agb_code)"
            " values ('f', 1, '11111111')"
        )
        con.execute("create schema seeds; create table seeds.codes as select 1 as code")
        con.execute("create schema marts; create table marts.fct_invoice_lines as select 1 as x")
    snapshot_warehouse(live, snapshot)
    with duckdb.connect(str(snapshot), read_only=True) as con:
        schemas = {
            r[0]
            for r in con.execute(
                "select distinct table_schema from information_schema.tables"
            ).fetchall()
        }
        assert schemas == {"raw"}
        assert con.execute("select agb_code from raw.reference_providers").fetchall() == [
            ("11111111",)
        ]


def replay(day: date, forecasts: dict[str, str]) -> Replay:
    rows = []
    for agb, forecast in forecasts.items():
        row = dict.fromkeys(REPLAY_COLUMNS)
        row.update(
            provider_agb=agb, year=day.year, reporting_date=day, forecast_eur=Decimal(forecast)
        )
        rows.append(row)
    return Replay(day, rows, 0.0)


def test_landing_a_date_again_replaces_its_rows(tmp_path):
    live = tmp_path / "live.duckdb"
    june, september = date(2024, 6, 30), date(2024, 9, 30)
    first = datetime(2026, 1, 1)
    assert (
        land_replays(
            live, [replay(june, {"A": "10", "B": "20"}), replay(september, {"A": "11"})], first
        )
        == 3
    )
    assert (
        land_replays(live, [replay(september, {"A": "12", "B": "22"})], datetime(2026, 2, 1)) == 2
    )
    with duckdb.connect(str(live), read_only=True) as con:
        rows = con.execute(
            f"select provider_agb, reporting_date, forecast_eur, replayed_at from {REPLAY_TABLE}"
            " order by 2, 1"
        ).fetchall()
    assert rows == [
        ("A", june, Decimal("10.00"), first),
        ("B", june, Decimal("20.00"), first),
        ("A", september, Decimal("12.00"), datetime(2026, 2, 1)),
        ("B", september, Decimal("22.00"), datetime(2026, 2, 1)),
    ]

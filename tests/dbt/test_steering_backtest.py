"""The forecast backtest's own logic: cutting a warehouse back to a date, the error measure and the signal timing."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import duckdb

from benchmarks.forecast_backtest import AsOfResult, ProviderResult, cut_back, report, signal_of
from jeugdhulp.ingest.raw_tables import create_raw_schema_sql


def test_cut_back_keeps_only_what_had_arrived(tmp_path):
    base, target = tmp_path / "base.duckdb", tmp_path / "cut.duckdb"
    with duckdb.connect(str(base)) as con:
        con.execute(create_raw_schema_sql())
        for file_id, sent in (("early", date(2025, 6, 30)), ("late", date(2025, 7, 1))):
            con.execute(
                "insert into raw.file_registry (file_id, source, landed_path, size_bytes, status,"
                " content_type, rows_loaded, ingested_at) values (?, 'ijw', ?, 1, 'ingested', 'JW305', 1, ?)",
                [file_id, file_id, datetime(2026, 1, 1)],
            )
            con.execute(
                "insert into raw.ijw_starts (file_id, record_position, message_id, message_date, sender,"
                " receiver, client_key, start_date) values (?, 1, ?, ?, '11111111', '0546', 'ck', ?)",
                [file_id, file_id, sent, sent],
            )
        con.execute(
            "insert into raw.accountability (file_id, record_position, boekjaar, datum_aanlevering)"
            " values ('vw-a', 1, 2024, date '2025-03-01'), ('vw-b', 1, 2024, date '2025-08-01')"
        )
        con.execute(
            "insert into raw.pgb (file_id, record_position, client_key, maand)"
            " values ('pgb-may', 1, 'ck', '2025-05'), ('pgb-jun', 1, 'ck', '2025-06')"
        )

    cut_back(base, target, date(2025, 6, 30))

    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("select file_id from raw.ijw_starts").fetchall() == [("early",)]
        assert con.execute("select file_id from raw.file_registry").fetchall() == [("early",)]
        assert con.execute("select file_id from raw.accountability").fetchall() == [("vw-a",)]
        # June's PGB file is delivered on 10 July
        assert con.execute("select file_id from raw.pgb").fetchall() == [("pgb-may",)]
    with duckdb.connect(str(base), read_only=True) as con:
        assert con.execute("select count(*) from raw.ijw_starts").fetchone() == (2,)


def provider(agb, actual, forecast, ceiling=None, signal=None, annualised=None) -> ProviderResult:
    return ProviderResult(
        agb,
        ceiling and Decimal(ceiling),
        Decimal(actual),
        Decimal(forecast),
        annualised and Decimal(annualised),
        None,
        signal,
    )


def test_wmape_weighs_errors_by_actual_cost():
    result = AsOfResult(
        date(2025, 9, 30),
        [
            provider("A", 900, 1000, annualised=600),
            provider("B", 100, 50, annualised=100),
            provider("C", 0, 40),  # no actual cost: not in the measure
        ],
    )
    assert result.wmape("forecast") == 15.0  # (100 + 50) / 1000
    assert result.wmape("annualised") == 30.0  # 300 / 1000


def test_signal_of_follows_the_mart_thresholds():
    assert signal_of(Decimal("10001"), Decimal("10000")) == "overschrijding"
    assert signal_of(Decimal("10000"), Decimal("10000")) == "dreigende_overschrijding"
    assert signal_of(Decimal("9500"), Decimal("10000")) == "op_koers"
    assert signal_of(Decimal("7999"), Decimal("10000")) == "onderbesteding"
    assert signal_of(Decimal("7999"), None) is None


def test_a_signal_counts_from_the_month_it_stays_on():
    def month(day, signal_x, signal_y):
        return AsOfResult(
            day,
            [provider("X", 1200, 1200, 1000, signal_x), provider("Y", 1100, 1000, 1000, signal_y)],
        )

    results = [
        month(date(2025, 1, 31), "overschrijding", "op_koers"),
        month(date(2025, 2, 28), "op_koers", "dreigende_overschrijding"),
        month(date(2025, 3, 31), "dreigende_overschrijding", "overschrijding"),
        month(date(2025, 4, 30), "overschrijding", "overschrijding"),
    ]
    summary = report(
        results,
        {"X": Decimal(1200), "Y": Decimal(1100)},
        {"X": Decimal(1000), "Y": Decimal(1000)},
        [date(2025, 3, 31)],
        2025,
    )
    assert summary["first_signal"]["X"]["signalled_from"] == "2025-03-31"
    assert summary["first_signal"]["Y"]["signalled_from"] == "2025-02-28"
    assert summary["as_of"]["2025-03-31"]["forecast"]["crossed_signalled"] == 2
    assert summary["as_of"]["2025-03-31"]["forecast"]["crossed_as_overschrijding"] == 1

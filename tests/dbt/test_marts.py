"""The dbt project's marts on a real DuckDB warehouse: hand-made raw rows in, exact figures out."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from jeugdhulp.ingest.raw_tables import create_raw_schema_sql
from tests.support.dbt import DBT, build_ok

AS_OF = "2025-04-15"
# These marts and everything upstream; tests only when all their parents are selected, so models
# other components add to the project do not take part.
SELECTION = [
    "+fct_invoice_lines",
    "+mart_costs_monthly",
    "+mart_kpi_annual",
    "+mart_invoice_timeliness",
    "+mart_invoicing_completeness",
    "resource_type:seed",
]

PROVIDER = "12345678"
LEIDEN, ALPHEN = "0546", "0484"

IJW_HEADER = ("file_id", "record_position", "message_id", "message_date", "sender", "receiver")
ALLOCATION_COLUMNS = IJW_HEADER + (
    "client_key",
    "allocation_number",
    "product_category",
    "product_code",
    "allocation_date",
    "start_date",
    "end_date",
    "change_reason",
    "volume",
    "unit",
    "frequency",
)
START_COLUMNS = IJW_HEADER + ("client_key", "allocation_number", "start_date", "delivery_status")
STOP_COLUMNS = IJW_HEADER + (
    "client_key",
    "allocation_number",
    "start_date",
    "end_reason",
    "end_date",
    "delivery_status",
)
LINE_COLUMNS = IJW_HEADER + (
    "declaration_number",
    "declaration_date",
    "client_key",
    "reference_number",
    "previous_reference_number",
    "allocation_number",
    "product_category",
    "product_code",
    "period_start",
    "period_end",
    "volume",
    "unit",
    "tariff_cents",
    "amount_cents",
    "debit_credit",
)
REJECTED_COLUMNS = IJW_HEADER + (
    "declaration_number",
    "client_key",
    "reference_number",
    "amount_cents",
    "debit_credit",
    "return_codes",
)
PRODUCT_COLUMNS = (
    "file_id",
    "record_position",
    "product_category",
    "product_code",
    "description",
    "unit",
    "tariff_eur",
    "valid_from",
    "valid_to",
    "segment",
)


def ck(label: str) -> str:
    """A client key as ingestion makes them (32 hex characters), readable by its label."""
    return hashlib.md5(label.encode()).hexdigest()


def d(text: str) -> date:
    return date.fromisoformat(text)


def insert(con: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...], rows: list[tuple]):
    """Insert rows; iJw rows get bsn_valid = true (every test BSN passes the 11-proef)."""
    with_bsn = "client_key" in columns and table.startswith("ijw_")
    names = ", ".join(columns + (("bsn_valid",) if with_bsn else ()))
    marks = ", ".join("?" for _ in range(len(columns) + with_bsn))
    con.executemany(
        f"insert into raw.{table} ({names}) values ({marks})",
        [tuple(row) + ((True,) if with_bsn else ()) for row in rows],
    )


def register(
    con: duckdb.DuckDBPyConnection,
    file_id: str,
    source: str,
    content_type: str,
    rows: int,
    ingested_at: datetime,
) -> None:
    seq = con.execute("select count(*) + 1 from raw.file_registry").fetchone()[0]
    con.execute(
        "insert into raw.file_registry (file_id, source, landed_path, size_bytes, status, "
        "content_type, rows_loaded, ingested_at, ingested_seq) "
        "values (?, ?, ?, 1, 'ingested', ?, ?, ?, ?)",
        [file_id, source, f"{source}/{file_id}", content_type, rows, ingested_at, seq],
    )


def line(
    file_id,
    position,
    declaration,
    declared,
    client,
    reference,
    previous,
    allocation,
    category,
    product,
    month_start,
    month_end,
    volume,
    unit,
    tariff_cents,
    debit_credit,
    municipality=LEIDEN,
):
    return (
        file_id,
        position,
        f"msg-{file_id}",
        declared,
        PROVIDER,
        municipality,
        declaration,
        declared,
        client,
        reference,
        previous,
        allocation,
        category,
        product,
        month_start,
        month_end,
        volume,
        unit,
        tariff_cents,
        volume * tariff_cents,
        debit_credit,
    )


def load_first_delivery(con: duckdb.DuckDBPyConnection) -> None:
    """Allocations, starts/stops, three JW323s (one credit + correction, one late line), reference."""
    t0 = datetime(2025, 1, 1, 8, 0)
    register(con, "f-jw301-a", "ijw", "JW301", 5, t0)
    insert(
        con,
        "ijw_allocations",
        ALLOCATION_COLUMNS,
        [
            (
                "f-jw301-a",
                10,
                "m1",
                d("2024-12-20"),
                LEIDEN,
                PROVIDER,
                ck("a"),
                "A1",
                "45",
                "45A48",
                d("2024-12-20"),
                d("2025-01-01"),
                d("2025-12-31"),
                None,
                3,
                "04",
                "2",
            ),
            (
                "f-jw301-a",
                20,
                "m1",
                d("2024-12-20"),
                LEIDEN,
                PROVIDER,
                ck("b"),
                "A2",
                "54",
                "54001",
                d("2024-12-20"),
                d("2025-01-01"),
                d("2025-12-31"),
                None,
                90,
                "01",
                "2",
            ),
            (
                "f-jw301-a",
                30,
                "m1",
                d("2024-12-20"),
                LEIDEN,
                PROVIDER,
                ck("c"),
                "A3",
                "45",
                "45A48",
                d("2024-12-20"),
                d("2025-01-01"),
                d("2025-12-31"),
                None,
                3,
                "04",
                "2",
            ),
            (
                "f-jw301-a",
                40,
                "m1",
                d("2024-12-20"),
                LEIDEN,
                PROVIDER,
                ck("f"),
                "A4",
                "45",
                "45A48",
                d("2024-12-20"),
                d("2025-01-01"),
                d("2025-02-28"),
                None,
                3,
                "04",
                "2",
            ),
            (
                "f-jw301-a",
                50,
                "m1",
                d("2024-12-20"),
                LEIDEN,
                PROVIDER,
                ck("g"),
                "A5",
                "45",
                "45A48",
                d("2024-12-20"),
                d("2025-01-01"),
                d("2025-12-31"),
                None,
                3,
                "04",
                "2",
            ),
        ],
    )
    register(con, "f-jw301-b", "ijw", "JW301", 1, t0)
    insert(
        con,
        "ijw_allocations",
        ALLOCATION_COLUMNS,
        [
            # A3 deleted by a later version (RedenWijziging 13)
            (
                "f-jw301-b",
                10,
                "m2",
                d("2025-01-03"),
                LEIDEN,
                PROVIDER,
                ck("c"),
                "A3",
                "45",
                "45A48",
                d("2025-01-03"),
                d("2025-01-01"),
                d("2025-12-31"),
                "13",
                3,
                "04",
                "2",
            ),
        ],
    )
    register(con, "f-jw305", "ijw", "JW305", 5, t0)
    insert(
        con,
        "ijw_starts",
        START_COLUMNS,
        [
            (
                "f-jw305",
                10,
                "m3",
                d("2025-01-07"),
                PROVIDER,
                LEIDEN,
                ck("a"),
                "A1",
                d("2025-01-06"),
                "1",
            ),
            (
                "f-jw305",
                20,
                "m3",
                d("2025-01-07"),
                PROVIDER,
                LEIDEN,
                ck("b"),
                "A2",
                d("2025-02-03"),
                "1",
            ),
            (
                "f-jw305",
                30,
                "m3",
                d("2025-01-07"),
                PROVIDER,
                LEIDEN,
                ck("c"),
                "A3",
                d("2025-01-01"),
                "1",
            ),
            (
                "f-jw305",
                40,
                "m3",
                d("2025-01-07"),
                PROVIDER,
                LEIDEN,
                ck("f"),
                "A4",
                d("2025-01-15"),
                "1",
            ),
            (
                "f-jw305",
                50,
                "m3",
                d("2025-01-07"),
                PROVIDER,
                LEIDEN,
                ck("g"),
                "A5",
                d("2025-01-02"),
                "1",
            ),
        ],
    )
    register(con, "f-jw307", "ijw", "JW307", 2, t0)
    insert(
        con,
        "ijw_stops",
        STOP_COLUMNS,
        [
            # temporary stop: A2 stays expected; A5 ends for good on 31 January
            (
                "f-jw307",
                10,
                "m4",
                d("2025-02-21"),
                PROVIDER,
                LEIDEN,
                ck("b"),
                "A2",
                d("2025-02-03"),
                "20",
                d("2025-02-20"),
                "1",
            ),
            (
                "f-jw307",
                20,
                "m4",
                d("2025-02-21"),
                PROVIDER,
                LEIDEN,
                ck("g"),
                "A5",
                d("2025-01-02"),
                "31",
                d("2025-01-31"),
                "1",
            ),
        ],
    )

    jan, jan_end = d("2025-01-01"), d("2025-01-31")
    feb, feb_end = d("2025-02-01"), d("2025-02-28")
    register(con, "f-jw323-jan", "ijw", "JW323", 1, datetime(2025, 2, 11))
    insert(
        con,
        "ijw_invoice_lines",
        LINE_COLUMNS,
        [
            line(
                "f-jw323-jan",
                10,
                "D-01",
                d("2025-02-10"),
                ck("a"),
                "R1",
                None,
                "A1",
                "45",
                "45A48",
                jan,
                jan_end,
                3,
                "04",
                7800,
                "D",
            ),
        ],
    )
    register(con, "f-jw323-feb", "ijw", "JW323", 4, datetime(2025, 3, 6))
    insert(
        con,
        "ijw_invoice_lines",
        LINE_COLUMNS,
        [
            line(
                "f-jw323-feb",
                10,
                "D-02",
                d("2025-03-05"),
                ck("a"),
                "R2",
                None,
                "A1",
                "45",
                "45A48",
                feb,
                feb_end,
                4,
                "04",
                7800,
                "D",
            ),
            line(
                "f-jw323-feb",
                20,
                "D-02",
                d("2025-03-05"),
                ck("b"),
                "R3",
                None,
                "A2",
                "54",
                "54001",
                feb,
                feb_end,
                90,
                "01",
                126,
                "D",
            ),
            # January credited in full and re-invoiced with 2 hours: both late (after 28 February)
            line(
                "f-jw323-feb",
                30,
                "D-02",
                d("2025-03-05"),
                ck("a"),
                "R4",
                "R1",
                "A1",
                "45",
                "45A48",
                jan,
                jan_end,
                3,
                "04",
                7800,
                "C",
            ),
            line(
                "f-jw323-feb",
                40,
                "D-02",
                d("2025-03-05"),
                ck("a"),
                "R5",
                None,
                "A1",
                "45",
                "45A48",
                jan,
                jan_end,
                2,
                "04",
                7800,
                "D",
            ),
        ],
    )
    register(con, "f-jw323-alphen", "ijw", "JW323", 1, datetime(2025, 4, 2))
    insert(
        con,
        "ijw_invoice_lines",
        LINE_COLUMNS,
        [
            line(
                "f-jw323-alphen",
                10,
                "D-03",
                d("2025-04-01"),
                ck("e"),
                "R6",
                None,
                "B1",
                "44",
                "44A27",
                jan,
                jan_end,
                1,
                "14",
                19591,
                "D",
                municipality=ALPHEN,
            ),
        ],
    )

    # two product snapshots: only the later one counts
    register(con, "f-products-old", "reference", "products", 1, datetime(2024, 12, 1))
    insert(
        con,
        "reference_products",
        PRODUCT_COLUMNS,
        [
            (
                "f-products-old",
                2,
                "45",
                "45A48",
                "Ambulant",
                "04",
                Decimal("75.00"),
                d("2024-01-01"),
                None,
                "OUD",
            ),
        ],
    )
    register(con, "f-products-new", "reference", "products", 3, datetime(2025, 1, 2))
    insert(
        con,
        "reference_products",
        PRODUCT_COLUMNS,
        [
            (
                "f-products-new",
                2,
                "45",
                "45A48",
                "Ambulant",
                "04",
                Decimal("78.00"),
                d("2024-01-01"),
                None,
                "Ambulant",
            ),
            (
                "f-products-new",
                3,
                "54",
                "54001",
                "Jeugd-ggz",
                "01",
                Decimal("1.26"),
                d("2024-01-01"),
                None,
                "GGZ",
            ),
            (
                "f-products-new",
                4,
                "44",
                "44A27",
                "Verblijf",
                "14",
                Decimal("195.91"),
                d("2024-01-01"),
                None,
                "Verblijf",
            ),
        ],
    )
    register(con, "f-providers", "reference", "providers", 1, datetime(2025, 1, 2))
    insert(
        con,
        "reference_providers",
        ("file_id", "record_position", "agb_code", "name", "contract_type"),
        [
            ("f-providers", 2, PROVIDER, "Zorg BV", "raamcontract"),
        ],
    )


def load_second_delivery(con: duckdb.DuckDBPyConnection) -> None:
    """A JW325 rejecting February's line R2 (already in the fact table) and a March JW323."""
    register(con, "f-jw325", "ijw", "JW325", 1, datetime(2025, 4, 12))
    insert(
        con,
        "ijw_rejected_lines",
        REJECTED_COLUMNS,
        [
            (
                "f-jw325",
                10,
                "m9",
                d("2025-04-11"),
                LEIDEN,
                PROVIDER,
                "D-02",
                ck("a"),
                "R2",
                31200,
                "D",
                "9321",
            ),
        ],
    )
    register(con, "f-jw323-mar", "ijw", "JW323", 1, datetime(2025, 4, 12))
    insert(
        con,
        "ijw_invoice_lines",
        LINE_COLUMNS,
        [
            line(
                "f-jw323-mar",
                10,
                "D-04",
                d("2025-04-10"),
                ck("a"),
                "R7",
                None,
                "A1",
                "45",
                "45A48",
                d("2025-03-01"),
                d("2025-03-31"),
                2,
                "04",
                7800,
                "D",
            ),
        ],
    )


def dbt_build(warehouse: Path, work: Path, *extra: str) -> None:
    build_ok(
        warehouse, work, AS_OF, "--select", *SELECTION, "--indirect-selection", "cautious", *extra
    )


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    if not DBT.exists():
        pytest.skip(f"dbt executable not found beside the interpreter: {DBT}")
    work = tmp_path_factory.mktemp("dbt_marts")
    warehouse = work / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(create_raw_schema_sql())
        load_first_delivery(con)
    dbt_build(warehouse, work)
    return {"warehouse": warehouse, "work": work}


def test_schemas_are_named_exactly(built):
    schemas = {
        s
        for (s,) in query(built["warehouse"], "select schema_name from information_schema.schemata")
    }
    assert {"raw", "staging", "intermediate", "marts", "seeds"} <= schemas
    assert not any(s.startswith("main_") for s in schemas)


def test_invoice_lines_are_signed_and_dated(built):
    rows = query(
        built["warehouse"],
        """
        select reference_number, municipality_code, service_month, volume, amount_eur,
               lag_days, is_late, is_rejected
        from marts.fct_invoice_lines order by reference_number""",
    )
    assert rows == [
        ("R1", "GM0546", d("2025-01-01"), 3, Decimal("234.00"), 10, False, False),
        ("R2", "GM0546", d("2025-02-01"), 4, Decimal("312.00"), 5, False, False),
        ("R3", "GM0546", d("2025-02-01"), 90, Decimal("113.40"), 5, False, False),
        ("R4", "GM0546", d("2025-01-01"), -3, Decimal("-234.00"), 33, True, False),
        ("R5", "GM0546", d("2025-01-01"), 2, Decimal("156.00"), 33, True, False),
        ("R6", "GM0484", d("2025-01-01"), 1, Decimal("195.91"), 60, True, False),
    ]


def test_costs_monthly_nets_credits_and_uses_latest_product_file(built):
    rows = query(
        built["warehouse"],
        """
        select municipality_code, provider_agb, product_code, service_month, product_category,
               segment, amount_eur, volume, clients
        from marts.mart_costs_monthly order by municipality_code, service_month, product_code""",
    )
    assert rows == [
        ("GM0484", PROVIDER, "44A27", d("2025-01-01"), "44", "Verblijf", Decimal("195.91"), 1, 1),
        ("GM0546", PROVIDER, "45A48", d("2025-01-01"), "45", "Ambulant", Decimal("156.00"), 2, 1),
        ("GM0546", PROVIDER, "45A48", d("2025-02-01"), "45", "Ambulant", Decimal("312.00"), 4, 1),
        ("GM0546", PROVIDER, "54001", d("2025-02-01"), "54", "GGZ", Decimal("113.40"), 90, 1),
    ]


def test_kpi_annual_annualises_the_observed_months(built):
    rows = query(
        built["warehouse"],
        """
        select municipality_code, year, unique_youths, non_unique_youths, care_months,
               avg_months_per_youth, total_cost_eur, avg_cost_per_youth_month,
               intensity_hours_per_month, months_observed, total_cost_annualised_eur,
               care_months_annualised, residential_days_per_month
        from marts.mart_kpi_annual order by municipality_code""",
    )
    assert rows == [
        # one etmaal: residential care, one day in its care month and no hours; as of 15 April
        # 2025, January-February are observed (March's invoice deadline, 30 April, has not passed)
        (
            "GM0484",
            2025,
            1,
            1,
            1,
            Decimal("1.00"),
            Decimal("195.91"),
            Decimal("195.91"),
            None,
            2,
            Decimal("1175.46"),
            Decimal("6.00"),
            Decimal("1.00"),
        ),
        # care months: ck-a Jan (2 h), ck-a Feb (4 h), ck-b Feb (90 min = 1.5 h)
        (
            "GM0546",
            2025,
            2,
            2,
            3,
            Decimal("1.50"),
            Decimal("581.40"),
            Decimal("193.80"),
            Decimal("2.50"),
            2,
            Decimal("3488.40"),
            Decimal("18.00"),
            None,
        ),
    ]


def test_invoice_timeliness_per_provider_month(built):
    rows = query(
        built["warehouse"],
        """
        select service_month, lines, amount_eur, late_lines, late_amount_eur, late_share,
               median_lag_days, p90_lag_days, is_deadline_passed
        from marts.mart_invoice_timeliness order by service_month""",
    )
    assert rows == [
        # debits R1 (lag 10), R5 (33, late), R6 (60, late); the credit R4 is left out
        (
            d("2025-01-01"),
            3,
            Decimal("585.91"),
            2,
            Decimal("351.91"),
            Decimal("0.6667"),
            Decimal("33.0"),
            Decimal("54.6"),
            True,
        ),
        (
            d("2025-02-01"),
            2,
            Decimal("425.40"),
            0,
            Decimal("0.00"),
            Decimal("0.0000"),
            Decimal("5.0"),
            Decimal("5.0"),
            True,
        ),
    ]


def test_invoicing_completeness(built):
    rows = query(
        built["warehouse"],
        """
        select municipality_code, service_month, expected_care_months, invoiced_care_months,
               missing_care_months, completeness_pct
        from marts.mart_invoicing_completeness order by service_month""",
    )
    assert rows == [
        # January: A1 invoiced, A4 and A5 (ended 31 Jan) not; A2 not started, A3 deleted
        ("GM0546", d("2025-01-01"), 3, 1, 2, Decimal("33.33")),
        # February: A1, A2 (temporary stop) invoiced, A4 not; March's deadline has not passed
        ("GM0546", d("2025-02-01"), 3, 2, 1, Decimal("66.67")),
    ]


def test_incremental_run_applies_a_late_rejection(built):
    warehouse, work = built["warehouse"], built["work"]
    with duckdb.connect(str(warehouse)) as con:
        # a marker on a stored line: an incremental run must leave untouched lines alone
        con.execute(
            "update marts.fct_invoice_lines set period_end = date '1999-12-31' "
            "where reference_number = 'R1'"
        )
        load_second_delivery(con)

    # the daily run's shape: seeds and unit tests were built and run the first time
    dbt_build(warehouse, work, "--exclude", "resource_type:seed", "resource_type:unit_test")

    rows = query(
        warehouse,
        """
        select reference_number, is_rejected, rejection_file_id, rejection_return_codes, period_end
        from marts.fct_invoice_lines order by reference_number""",
    )
    assert rows == [
        ("R1", False, None, None, d("1999-12-31")),
        ("R2", True, "f-jw325", "9321", d("2025-02-28")),
        ("R3", False, None, None, d("2025-02-28")),
        ("R4", False, None, None, d("2025-01-31")),
        ("R5", False, None, None, d("2025-01-31")),
        ("R6", False, None, None, d("2025-01-31")),
        ("R7", False, None, None, d("2025-03-31")),
    ]
    run_sql = (
        work
        / "target"
        / "run"
        / "jeugdhulp"
        / "models"
        / "marts"
        / "invoicing"
        / "fct_invoice_lines.sql"
    ).read_text()
    assert "delete from" in run_sql.lower()

    costs = query(
        warehouse,
        """
        select service_month, product_code, amount_eur from marts.mart_costs_monthly
        where municipality_code = 'GM0546' order by service_month, product_code""",
    )
    assert costs == [
        (d("2025-01-01"), "45A48", Decimal("156.00")),
        (d("2025-02-01"), "54001", Decimal("113.40")),
        (d("2025-03-01"), "45A48", Decimal("156.00")),
    ]
    completeness = query(
        warehouse,
        """
        select service_month, expected_care_months, invoiced_care_months, completeness_pct
        from marts.mart_invoicing_completeness order by service_month""",
    )
    assert completeness == [
        (d("2025-01-01"), 3, 1, Decimal("33.33")),
        (d("2025-02-01"), 3, 1, Decimal("33.33")),
    ]
    kpi = query(
        warehouse,
        """
        select care_months, total_cost_eur, avg_cost_per_youth_month, intensity_hours_per_month,
               total_cost_annualised_eur
        from marts.mart_kpi_annual where municipality_code = 'GM0546'""",
    )
    # annualised on January-February, the months whose invoice deadline has passed: 269.40 × 6
    assert kpi == [(3, Decimal("425.40"), Decimal("141.80"), Decimal("1.83"), Decimal("1616.40"))]

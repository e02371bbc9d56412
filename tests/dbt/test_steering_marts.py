"""The steering marts on a real DuckDB warehouse: a hand-made region in raw.*, every figure recomputed here in Python."""

from __future__ import annotations

import calendar
import hashlib
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest

from jeugdhulp.ingest.raw_tables import create_raw_schema_sql
from tests.support.dbt import DBT, build_ok

AS_OF = date(2025, 9, 30)

P1, P2 = "11111111", "22222222"
LEIDEN, ALPHEN = "0546", "0484"
CENT = Decimal("0.01")

# forecast settings: the dbt vars' defaults (docs/forecast.md)
MATURITY_DAYS, HISTORY_MONTHS, SHRINKAGE_LINES = 365, 24, 100
RUN_RATE_MONTHS, ALLOCATION_WEIGHT, REPORT_DELAY_DAYS = 6, 0.5, 14
MIN_COMPLETION, GAP_RATIO = 0.5, 0.5
SEASON_MONTHS, SEASON_SHRINKAGE_LINES = 36, 200
STOCK_SEASON_SHRINKAGE = 200
CALIBRATION_SEED = Path(__file__).parents[2] / "dbt_project/seeds/forecast_error_calibration.csv"


# --------------------------------------------------------------------------------- calendar


def ck(label: str) -> str:
    """A client key as ingestion makes them (32 hex characters), readable by its label."""
    return hashlib.md5(label.encode()).hexdigest()


def month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def months(first: date, last: date) -> list[date]:
    out, month = [], first
    while month <= last:
        out.append(month)
        month = add_months(month, 1)
    return out


def median(values: list[float]) -> float | None:
    """Interpolated median, as DuckDB's quantile_cont(x, 0.5); None for no values."""
    return statistics.median(values) if values else None


def cents(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------------- the world


@dataclass
class Allocation:
    number: str
    municipality: str  # CBS code
    provider: str
    client: str
    category: str
    product: str
    start: date
    end: date | None
    volume: int  # hours (P1) or minutes (P2) a month
    tariff_cents: int
    unit: str
    referrer: str | None
    care_start: date
    care_end: date | None = None
    end_reason: str | None = None
    pause: tuple[date, date] | None = None  # (temporary stop, restart)


@dataclass
class Line:
    provider: str
    municipality: str
    client: str
    allocation: str
    category: str
    product: str
    month: date
    declared: date
    amount_cents: int  # signed
    volume: int
    tariff_cents: int
    unit: str
    reference: str
    previous: str | None = None
    rejected: bool = False

    @property
    def debit_credit(self) -> str:
        return "C" if self.amount_cents < 0 else "D"


def build_allocations() -> list[Allocation]:
    allocations = []
    # twelve clients of P1 in Leiden, 45A48 (hours), costing 1..12 hours a month
    for i in range(1, 13):
        referrer = "01" if i <= 6 else "02"
        allocations.append(
            Allocation(
                f"A{i:02d}",
                LEIDEN,
                P1,
                ck(f"{i:02d}"),
                "45",
                "45A48",
                date(2023, 1, 1),
                None,
                i,
                7800,
                "04",
                referrer,
                date(2023, 1, 1),
            )
        )
    by_number = {a.number: a for a in allocations}
    # ck-05 ends by plan on 30 June 2025
    by_number["A05"].care_end, by_number["A05"].end_reason = date(2025, 6, 30), "31"
    # ck-06 pauses through April 2024 (reason 20) and restarts on 1 May
    by_number["A06"].pause = (date(2024, 3, 31), date(2024, 5, 1))
    # ck-07 ends on 31 December 2023 (premature), comes back under a new allocation on 1 March 2024
    by_number["A07"].care_end, by_number["A07"].end_reason = date(2023, 12, 31), "34"
    by_number["A07"].end = date(2023, 12, 31)
    allocations.append(
        Allocation(
            "A07B",
            LEIDEN,
            P1,
            ck("07"),
            "45",
            "45A48",
            date(2024, 3, 1),
            None,
            7,
            7800,
            "04",
            "03",
            date(2024, 3, 1),
        )
    )
    # P2 in Alphen, 54001 (minutes): ck-13 (referred by a medical specialist), ck-14 (no JW315)
    allocations.append(
        Allocation(
            "B13",
            ALPHEN,
            P2,
            ck("13"),
            "54",
            "54001",
            date(2023, 1, 1),
            None,
            600,
            126,
            "01",
            "05",
            date(2023, 1, 1),
        )
    )
    allocations.append(
        Allocation(
            "B14",
            ALPHEN,
            P2,
            ck("14"),
            "54",
            "54001",
            date(2024, 7, 1),
            None,
            900,
            126,
            "01",
            None,
            date(2024, 7, 1),
        )
    )
    # a new P1 client in Leiden, started 1 September 2025: in care, not invoiced yet
    allocations.append(
        Allocation(
            "A15",
            LEIDEN,
            P1,
            ck("15"),
            "45",
            "45A48",
            date(2025, 9, 1),
            None,
            20,
            7800,
            "04",
            "01",
            date(2025, 9, 1),
        )
    )
    # a new P2 client in Alphen, started 22 September 2025: after the count of 16 September
    # (as_of − 14), known by as_of, so in care for the months after it
    allocations.append(
        Allocation(
            "B16",
            ALPHEN,
            P2,
            ck("16"),
            "54",
            "54001",
            date(2025, 9, 22),
            None,
            300,
            126,
            "01",
            "05",
            date(2025, 9, 22),
        )
    )
    return allocations


def in_care(allocation: Allocation, month: date) -> bool:
    if allocation.care_start > month_end(month):
        return False
    if allocation.care_end is not None and allocation.care_end < month:
        return False
    if allocation.pause and allocation.pause[0] < month and month_end(month) < allocation.pause[1]:
        return False
    return True


def build_lines(allocations: list[Allocation]) -> list[Line]:
    lines: list[Line] = []
    seq = 0

    def reference() -> str:
        nonlocal seq
        seq += 1
        return f"R{seq:05d}"

    for allocation in allocations:
        for month in months(date(2023, 1, 1), date(2025, 8, 1)):
            if not in_care(allocation, month):
                continue
            if allocation.provider == P1:
                # ck-11 and ck-12 are always invoiced 45 days late: a tail the forecast must learn
                lag = 45 if allocation.client in (ck("11"), ck("12")) else 10
            else:
                lag = 100 if month.month == 3 else 20
            amount = allocation.volume * allocation.tariff_cents
            lines.append(
                Line(
                    allocation.provider,
                    allocation.municipality,
                    allocation.client,
                    allocation.number,
                    allocation.category,
                    allocation.product,
                    month,
                    month_end(month) + timedelta(days=lag),
                    amount,
                    allocation.volume,
                    allocation.tariff_cents,
                    allocation.unit,
                    reference(),
                )
            )
    # February 2024 of ck-01 rejected, re-sent a month later
    rejected = next(ln for ln in lines if ln.client == ck("01") and ln.month == date(2024, 2, 1))
    rejected.rejected = True
    lines.append(
        Line(
            P1,
            LEIDEN,
            ck("01"),
            "A01",
            "45",
            "45A48",
            date(2024, 2, 1),
            date(2024, 4, 12),
            7800,
            1,
            7800,
            "04",
            reference(),
        )
    )
    # May 2024 of ck-02 credited in full and re-debited with one hour less
    original = next(ln for ln in lines if ln.client == ck("02") and ln.month == date(2024, 5, 1))
    lines.append(
        Line(
            P1,
            LEIDEN,
            ck("02"),
            "A02",
            "45",
            "45A48",
            original.month,
            date(2024, 7, 10),
            -original.amount_cents,
            -original.volume,
            7800,
            "04",
            reference(),
            previous=original.reference,
        )
    )
    lines.append(
        Line(
            P1,
            LEIDEN,
            ck("02"),
            "A02",
            "45",
            "45A48",
            original.month,
            date(2024, 7, 10),
            7800,
            1,
            7800,
            "04",
            reference(),
        )
    )
    return lines


ACCOUNTABILITY_FILES = [
    # (file_id, provider, year, delivered, rows: (municipality, product, amount delta vs invoiced))
    (
        "f-vw-p1-2024",
        P1,
        2024,
        date(2025, 3, 15),
        [(LEIDEN, "45A48", Decimal("0.75")), (ALPHEN, "45A48", None)],
    ),
    ("f-vw-p2-2024-a", P2, 2024, date(2025, 4, 20), [(ALPHEN, "54001", Decimal("100.00"))]),
    ("f-vw-p2-2024-b", P2, 2024, date(2025, 5, 10), [(ALPHEN, "54001", Decimal("0.00"))]),
]
GEEN_DECLARATIES_AMOUNT = Decimal("500.00")  # P1 accounts for Alphen 45A48, never invoiced
CEILINGS = {
    (P1, 2025): Decimal("40000.00"),
    (P2, 2025): Decimal("30000.00"),
    (P1, 2024): Decimal("50000.00"),
}

# the programme budget: (file_id, ingested_at, rows: (year, segment, budget, adopted_on)); the
# second file amends 2025's verblijf, the third is adopted after AS_OF and does not count yet
PROGRAMME_BUDGET_FILES = [
    (
        "f-budget-1",
        datetime(2024, 12, 1),
        [
            (2024, "Jeugdhulp ambulant", Decimal("30000.00"), date(2023, 11, 9)),
            (2024, "Verblijf", Decimal("12345.67"), date(2023, 11, 9)),
            (2025, "Jeugdhulp ambulant", Decimal("25000.00"), date(2024, 11, 12)),
            (2025, "Verblijf", Decimal("10000.00"), date(2024, 11, 12)),
        ],
    ),
    (
        "f-budget-2",
        datetime(2025, 7, 2),
        [(2025, "verblijf", Decimal("8000.01"), date(2025, 6, 30))],
    ),
    ("f-budget-3", datetime(2025, 10, 2), [(2025, "Verblijf", Decimal("1.00"), date(2025, 10, 1))]),
]
# the budget as it stands on AS_OF, per year
PROGRAMME_BUDGET = {2024: Decimal("42345.67"), 2025: Decimal("33000.01")}


# --------------------------------------------------------------------------------- loading


def insert(con, table: str, rows: list[dict]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    con.executemany(
        f"insert into raw.{table} ({', '.join(columns)}) values ({', '.join('?' for _ in columns)})",
        [[row[c] for c in columns] for row in rows],
    )


def register(con, file_id: str, source: str, content_type: str, ingested_at: datetime) -> None:
    seq = con.execute("select count(*) + 1 from raw.file_registry").fetchone()[0]
    con.execute(
        "insert into raw.file_registry (file_id, source, landed_path, size_bytes, status, content_type,"
        " rows_loaded, ingested_at, ingested_seq) values (?, ?, ?, 1, 'ingested', ?, 1, ?, ?)",
        [file_id, source, f"{source}/{file_id}", content_type, ingested_at, seq],
    )


def header(file_id: str, position: int, sent: date, sender: str, receiver: str) -> dict:
    return {
        "file_id": file_id,
        "record_position": position,
        "message_id": f"m-{file_id}",
        "message_date": sent,
        "sender": sender,
        "receiver": receiver,
        "bsn_valid": True,
    }


def load(con, allocations: list[Allocation], lines: list[Line]) -> None:
    requests, jw301, starts, stops = [], [], [], []
    for position, a in enumerate(allocations, start=1):
        sent = a.start - timedelta(days=5)
        if a.referrer:
            requests.append(
                {
                    **header(
                        "f-jw315", position, sent - timedelta(days=3), a.provider, a.municipality
                    ),
                    "client_key": a.client,
                    "provider_reference": f"ref-{a.number}",
                    "product_category": a.category,
                    "product_code": a.product,
                    "referrer_type": a.referrer,
                }
            )
        jw301.append(
            {
                **header("f-jw301", position, sent, a.municipality, a.provider),
                "client_key": a.client,
                "allocation_number": a.number,
                "provider_reference": f"ref-{a.number}",
                "product_category": a.category,
                "product_code": a.product,
                "allocation_date": sent,
                "start_date": a.start,
                "end_date": a.end,
                "volume": a.volume,
                "unit": a.unit,
                "frequency": "4",
            }
        )
        starts.append(
            {
                **header(
                    "f-jw305",
                    position * 10,
                    a.care_start + timedelta(days=3),
                    a.provider,
                    a.municipality,
                ),
                "client_key": a.client,
                "allocation_number": a.number,
                "product_category": a.category,
                "product_code": a.product,
                "start_date": a.care_start,
                "delivery_status": "1",
            }
        )
        if a.pause:
            stops.append(
                {
                    **header(
                        "f-jw307",
                        position * 10,
                        a.pause[0] + timedelta(days=2),
                        a.provider,
                        a.municipality,
                    ),
                    "client_key": a.client,
                    "allocation_number": a.number,
                    "start_date": a.care_start,
                    "end_reason": "20",
                    "end_date": a.pause[0],
                    "delivery_status": "1",
                }
            )
            starts.append(
                {
                    **header(
                        "f-jw305",
                        position * 10 + 1,
                        a.pause[1] + timedelta(days=2),
                        a.provider,
                        a.municipality,
                    ),
                    "client_key": a.client,
                    "allocation_number": a.number,
                    "product_category": a.category,
                    "product_code": a.product,
                    "start_date": a.pause[1],
                    "delivery_status": "1",
                }
            )
        if a.care_end:
            stops.append(
                {
                    **header(
                        "f-jw307",
                        position * 10 + 1,
                        a.care_end + timedelta(days=4),
                        a.provider,
                        a.municipality,
                    ),
                    "client_key": a.client,
                    "allocation_number": a.number,
                    "start_date": a.care_start,
                    "end_reason": a.end_reason,
                    "end_date": a.care_end,
                    "delivery_status": "1",
                }
            )
    insert(con, "ijw_requests", requests)
    insert(con, "ijw_allocations", jw301)
    insert(con, "ijw_starts", starts)
    insert(con, "ijw_stops", stops)

    invoice_rows, rejected_rows = [], []
    for position, line in enumerate(lines, start=1):
        file_id = f"f-jw323-{line.provider}-{line.municipality}-{line.declared.isoformat()}"
        declaration = f"D-{line.provider}-{line.declared.isoformat()}"
        invoice_rows.append(
            {
                **header(file_id, position, line.declared, line.provider, line.municipality),
                "declaration_number": declaration,
                "declaration_date": line.declared,
                "client_key": line.client,
                "reference_number": line.reference,
                "previous_reference_number": line.previous,
                "allocation_number": line.allocation,
                "product_category": line.category,
                "product_code": line.product,
                "period_start": line.month,
                "period_end": month_end(line.month),
                "volume": abs(line.volume),
                "unit": line.unit,
                "tariff_cents": line.tariff_cents,
                "amount_cents": abs(line.amount_cents),
                "debit_credit": line.debit_credit,
            }
        )
        if line.rejected:
            rejected_rows.append(
                {
                    **header(
                        "f-jw325",
                        position,
                        line.declared + timedelta(days=5),
                        line.municipality,
                        line.provider,
                    ),
                    "declaration_number": declaration,
                    "client_key": line.client,
                    "reference_number": line.reference,
                    "amount_cents": line.amount_cents,
                    "debit_credit": "D",
                    "return_codes": "9321",
                }
            )
    # a line declared after the reporting date: not known yet, must be ignored everywhere
    invoice_rows.append(
        {
            **header("f-jw323-future", 1, AS_OF + timedelta(days=10), P1, LEIDEN),
            "declaration_number": "D-future",
            "declaration_date": AS_OF + timedelta(days=10),
            "client_key": ck("01"),
            "reference_number": "R-future",
            "previous_reference_number": None,
            "allocation_number": "A01",
            "product_category": "45",
            "product_code": "45A48",
            "period_start": date(2025, 9, 1),
            "period_end": date(2025, 9, 30),
            "volume": 1,
            "unit": "04",
            "tariff_cents": 7800,
            "amount_cents": 7800,
            "debit_credit": "D",
        }
    )
    insert(con, "ijw_invoice_lines", invoice_rows)
    insert(con, "ijw_rejected_lines", rejected_rows)

    register(con, "f-ceilings", "reference", "budget_ceilings", datetime(2025, 1, 2))
    insert(
        con,
        "reference_budget_ceilings",
        [
            {
                "file_id": "f-ceilings",
                "record_position": i,
                "agb_code": agb,
                "year": year,
                "budget_ceiling_eur": amount,
            }
            for i, ((agb, year), amount) in enumerate(CEILINGS.items(), start=2)
        ],
    )
    for file_id, ingested_at, budget_rows in PROGRAMME_BUDGET_FILES:
        register(con, file_id, "reference", "programme_budget", ingested_at)
        insert(
            con,
            "reference_programme_budget",
            [
                {
                    "file_id": file_id,
                    "record_position": i,
                    "year": year,
                    "segment": segment,
                    "budget_eur": amount,
                    "adopted_on": adopted_on,
                }
                for i, (year, segment, amount, adopted_on) in enumerate(budget_rows, start=2)
            ],
        )
    register(con, "f-providers", "reference", "providers", datetime(2025, 1, 2))
    insert(
        con,
        "reference_providers",
        [
            {
                "file_id": "f-providers",
                "record_position": 2,
                "agb_code": P1,
                "name": "Zorg Een",
                "contract_type": "raamcontract",
            },
            {
                "file_id": "f-providers",
                "record_position": 3,
                "agb_code": P2,
                "name": "GGZ Twee",
                "contract_type": "raamcontract",
            },
        ],
    )

    invoiced = accepted_by(
        lines, lambda ln: (ln.provider, "GM" + ln.municipality, ln.product, ln.month.year)
    )
    for i, (file_id, provider, year, delivered, rows) in enumerate(ACCOUNTABILITY_FILES):
        register(con, file_id, "verantwoording", "verantwoording", datetime(2025, 6, 1, 0, i))
        records = []
        for position, (municipality, product, delta) in enumerate(rows, start=2):
            amount = (
                GEEN_DECLARATIES_AMOUNT
                if delta is None
                else invoiced[(provider, "GM" + municipality, product, year)] + delta
            )
            records.append(
                {
                    "file_id": file_id,
                    "record_position": position,
                    "boekjaar": year,
                    "agb_code": provider,
                    "gemeente_code": municipality,
                    "productcategorie": "45" if product == "45A48" else "54",
                    "productcode": product,
                    "volume": Decimal(1),
                    "eenheid": "04",
                    "bedrag_eur": amount,
                    "aantal_clienten": 1,
                    "accountantsverklaring": "nee",
                    "datum_aanlevering": delivered,
                }
            )
        insert(con, "accountability", records)


# --------------------------------------------------------------------------------- Python truth


def known_accepted(lines: list[Line]) -> list[Line]:
    return [ln for ln in lines if not ln.rejected and ln.declared <= AS_OF]


def accepted_by(lines: list[Line], key) -> dict:
    sums: dict = defaultdict(Decimal)
    for line in known_accepted(lines):
        sums[key(line)] += Decimal(line.amount_cents) / 100
    return dict(sums)


def age(month: date) -> int:
    return (AS_OF - month_end(month)).days


def days_in(month: date) -> int:
    return calendar.monthrange(month.year, month.month)[1]


def own_weights(
    ratios: dict[str, dict[int, list[tuple[float, int]]]], shrinkage: float
) -> dict[tuple[str, int], float | None]:
    """docs/forecast.md steps 1b and 1c, written out again: the weight of a category's own
    month-of-year index against the region's. `ratios`: per category (the region as '*') and
    month of the year, the (ratio, evidence) of each month measured. The empirical-Bayes weight
    between² / (between² + noise² / years), noise² pooled over the months of the year measured
    more than once; where none is, evidence / (evidence + shrinkage)."""
    mean = {
        (key, moy): sum(r for r, _ in values) / len(values)
        for key, by_moy in ratios.items()
        for moy, values in by_moy.items()
    }
    weights: dict[tuple[str, int], float | None] = {}
    for key, by_moy in ratios.items():
        repeated = {moy: values for moy, values in by_moy.items() if len(values) > 1}
        noise = between = None
        if repeated:
            noise = sum(
                (r - mean[(key, moy)]) ** 2 for moy, values in repeated.items() for r, _ in values
            ) / sum(len(values) - 1 for values in repeated.values())
            gaps = [
                (mean[(key, moy)] - mean[("*", moy)]) ** 2 - noise / len(values)
                for moy, values in by_moy.items()
                if ("*", moy) in mean
            ]
            between = max(sum(gaps) / len(gaps), 0.0) if gaps else None
        for moy, values in by_moy.items():
            if noise is None:
                evidence = sum(n for _, n in values)
                weights[(key, moy)] = evidence / (evidence + shrinkage)
            elif between is None:
                weights[(key, moy)] = None
            elif between + noise / len(values) == 0:
                weights[(key, moy)] = 1.0
            else:
                weights[(key, moy)] = between / (between + noise / len(values))
    return weights


def expected_seasonality(lines: list[Line]) -> dict[tuple[str, int], float]:
    """docs/forecast.md step 1b, written out again: month-of-year index per provider from its
    categories' indices (cost per day against the centred level of the mature months ±6),
    shrunk towards the region's, normalised to a day-weighted mean of 1."""
    known = [ln for ln in known_accepted(lines) if ln.month <= AS_OF]
    as_of_month = AS_OF.replace(day=1)
    mature = sorted({ln.month for ln in known if age(ln.month) >= MATURITY_DAYS})[-SEASON_MONTHS:]
    categories = sorted({ln.category for ln in known})
    per_day: dict = {}
    for key in [*categories, "*"]:
        for month in mature:
            of = [ln for ln in known if ln.month == month and key in ("*", ln.category)]
            if of:
                per_day[(key, month)] = (
                    sum(ln.amount_cents for ln in of) / 100 / days_in(month),
                    sum(1 for ln in of if ln.debit_credit == "D"),
                )
    raw: dict = {}
    by_key: dict = {}
    for key in [*categories, "*"]:
        ratios: dict = by_key.setdefault(key, defaultdict(list))
        for (k, month), (cost, debit_lines) in per_day.items():
            if k != key:
                continue
            around = [
                c
                for (k2, m2), (c, _) in per_day.items()
                if k2 == key and add_months(month, -6) <= m2 <= add_months(month, 6)
            ]
            level = sum(around) / len(around)
            if level > 0:
                ratios[month.month].append((cost / level, debit_lines))
        for moy, values in ratios.items():
            raw[(key, moy)] = (
                sum(r for r, _ in values) / len(values),
                sum(n for _, n in values),
            )
    days = {moy: days_in(date(2023, moy, 1)) for moy in range(1, 13)}
    weights = own_weights(by_key, SEASON_SHRINKAGE_LINES)
    index: dict = {}
    for key in [*categories, "*"]:
        shrunk = {}
        for moy in range(1, 13):
            region = raw.get(("*", moy), (None, 0))[0]
            if key != "*" and (key, moy) in raw and weights[(key, moy)] is not None:
                own = raw[(key, moy)][0]
                weight = weights[(key, moy)]
                shrunk[moy] = weight * own + (1 - weight) * (1.0 if region is None else region)
            else:
                shrunk[moy] = 1.0 if region is None else region
        norm = sum(days.values()) / sum(shrunk[m] * days[m] for m in range(1, 13))
        for moy in range(1, 13):
            index[(key, moy)] = shrunk[moy] * norm
    out = {}
    for provider in sorted({ln.provider for ln in known}):
        recent: dict = defaultdict(float)
        every: dict = defaultdict(float)
        for ln in known:
            if ln.provider == provider:
                every[ln.category] += ln.amount_cents / 100
                if add_months(as_of_month, -12) <= ln.month < as_of_month:
                    recent[ln.category] += ln.amount_cents / 100
        mix = {k: max(v, 0.0) for k, v in recent.items()}
        if sum(mix.values()) <= 0:
            mix = {k: max(v, 0.0) for k, v in every.items()}
        total = sum(mix.values())
        for moy in range(1, 13):
            out[(provider, moy)] = (
                sum(w / total * index[(k, moy)] for k, w in mix.items())
                if total > 0
                else index[("*", moy)]
            )
    return out


def counted_on(a: Allocation, day: date) -> bool:
    """In care on the day as the forecast counts it: started, no definitive stop before it, and
    within the allocation's validity."""
    return (
        a.care_start <= day
        and (a.care_end is None or a.care_end >= day)
        and a.start <= day
        and (a.end is None or a.end >= day)
    )


def expected_stock_seasonality(
    started: list[Allocation], rate: dict[str, float], first_month: date
) -> dict[tuple[str, int], float]:
    """docs/forecast.md step 1c, written out again: month-of-year index of the value of the
    allocations in care on the 15th, per category against the centred level of the thirteen
    months around it (all between the first invoiced month and the month before the reporting
    month), shrunk towards the region's, normalised to a mean of 1, mixed per provider by the
    value in care on as_of − delay."""
    as_of_month = AS_OF.replace(day=1)
    observed = months(first_month, add_months(as_of_month, -1))
    categories = sorted({a.category for a in started})
    stock: dict = {}
    for key in [*categories, "*"]:
        for month in observed:
            of = [
                a
                for a in started
                if key in ("*", a.category) and counted_on(a, month + timedelta(days=14))
            ]
            if of:
                stock[(key, month)] = (sum(rate[a.number] for a in of), len(of))
    eligible = [
        m
        for m in observed
        if add_months(first_month, 6) <= m <= add_months(as_of_month, -7)
        and m > add_months(as_of_month, -7 - SEASON_MONTHS)
    ]
    raw: dict = {}
    by_key: dict = {}
    for key in [*categories, "*"]:
        ratios: dict = by_key.setdefault(key, defaultdict(list))
        for month in eligible:
            around = [
                stock[(key, m)][0]
                for m in months(add_months(month, -6), add_months(month, 6))
                if (key, m) in stock
            ]
            if (key, month) in stock and len(around) == 13 and sum(around) > 0:
                value, count = stock[(key, month)]
                ratios[month.month].append((value / (sum(around) / 13), count))
        for moy, values in ratios.items():
            raw[(key, moy)] = (sum(r for r, _ in values) / len(values), sum(n for _, n in values))
    weights = own_weights(by_key, STOCK_SEASON_SHRINKAGE)
    index: dict = {}
    for key in [*categories, "*"]:
        shrunk = {}
        for moy in range(1, 13):
            region = raw.get(("*", moy), (None, 0))[0]
            if key != "*" and (key, moy) in raw and weights[(key, moy)] is not None:
                own = raw[(key, moy)][0]
                weight = weights[(key, moy)]
                shrunk[moy] = weight * own + (1 - weight) * (1.0 if region is None else region)
            else:
                shrunk[moy] = 1.0 if region is None else region
        total = sum(shrunk.values())
        for moy in range(1, 13):
            index[(key, moy)] = shrunk[moy] * 12 / total
    late = AS_OF - timedelta(days=REPORT_DELAY_DAYS)
    out = {}
    for provider in sorted({a.provider for a in started}):
        mix: dict = defaultdict(float)
        for a in started:
            if a.provider == provider and counted_on(a, late):
                mix[a.category] += max(rate[a.number], 0.0)
        total = sum(mix.values())
        for moy in range(1, 13):
            out[(provider, moy)] = (
                sum(w / total * index[(k, moy)] for k, w in mix.items())
                if total > 0
                else index[("*", moy)]
            )
    return out


def expected_forecast(
    allocations: list[Allocation], lines: list[Line]
) -> dict[tuple[str, int], Decimal]:
    """docs/forecast.md, written out again: lag shares, seasonality, Cape Cod run rate that
    follows the allocations in care, active allocations, known stops and Einddatums."""
    known = known_accepted(lines)
    as_of_month = AS_OF.replace(day=1)
    season = expected_seasonality(lines)

    def lag(line: Line) -> int:
        return (line.declared - month_end(line.month)).days

    line_months = sorted({ln.month for ln in known})
    mature = [m for m in line_months if age(m) >= MATURITY_DAYS][-HISTORY_MONTHS:]
    history = [ln for ln in known if ln.month in mature and lag(ln) <= MATURITY_DAYS]
    developing = [m for m in months(line_months[0], as_of_month) if age(m) < MATURITY_DAYS]
    providers = sorted({ln.provider for ln in known} | {p for p, y in CEILINGS if y <= AS_OF.year})

    def share(of: list[Line], month: date) -> float | None:
        final = sum(ln.amount_cents for ln in of)
        if final <= 0:
            return None
        return min(
            1.0, max(0.0, sum(ln.amount_cents for ln in of if lag(ln) <= age(month)) / final)
        )

    # the day each mature month's invoicing began: its first lag with a positive net amount
    by_lag: dict = defaultdict(int)
    for ln in history:
        by_lag[(ln.provider, ln.month, lag(ln))] += ln.amount_cents
    began = {}
    for (provider, month, days), amount in by_lag.items():
        if amount > 0:
            began[(provider, month)] = min(days, began.get((provider, month), days))

    completion, started_share = {}, {}
    for provider in providers:
        own = [ln for ln in history if ln.provider == provider]
        lines_seen = sum(1 for ln in own if ln.amount_cents > 0)
        weight = lines_seen / (lines_seen + SHRINKAGE_LINES)
        for month in developing:
            region, mine = share(history, month), share(own, month)
            completion[(provider, month)] = (
                1.0
                if region is None
                else region
                if mine is None
                else weight * mine + (1 - weight) * region
            )
            # the same over the mature months whose invoicing had begun by this age
            begun = [
                ln
                for ln in history
                if began.get((ln.provider, ln.month), MATURITY_DAYS + 1) <= age(month)
            ]
            own_begun = [ln for ln in begun if ln.provider == provider]
            begun_lines = sum(1 for ln in own_begun if ln.amount_cents > 0)
            begun_weight = begun_lines / (begun_lines + SHRINKAGE_LINES)
            region, mine = share(begun, month), share(own_begun, month)
            if region is not None:
                started_share[(provider, month)] = (
                    region if mine is None else begun_weight * mine + (1 - begun_weight) * region
                )

    # active allocations valued at their own cost per day of care
    started = [a for a in allocations if a.care_start <= AS_OF]
    per_month: dict = defaultdict(int)
    for ln in known:
        per_month[(ln.allocation, ln.month)] += ln.amount_cents
    own_rate = {}
    for a in started:
        invoiced = [(m, c) for (n, m), c in per_month.items() if n == a.number and c > 0]
        if invoiced:
            # days of care, each weighted by its month's season index
            days = sum(
                max(
                    1,
                    (min(month_end(m), a.care_end or month_end(m)) - max(m, a.care_start)).days + 1,
                )
                * season.get((a.provider, m.month), 1.0)
                for m, _ in invoiced
            )
            own_rate[a.number] = sum(c for _, c in invoiced) / 100 / days
    rate = {}
    for a in started:
        same = [
            own_rate[b.number]
            for b in started
            if b.provider == a.provider and b.product == a.product and b.number in own_rate
        ]
        rate[a.number] = own_rate.get(a.number, sum(same) / len(same) if same else 0.0)

    stock_season = expected_stock_seasonality(started, rate, line_months[0])

    def reference_day(month: date) -> date:
        late = AS_OF - timedelta(days=REPORT_DELAY_DAYS)
        return min(month + timedelta(days=14), late) if month < as_of_month else late

    def future_factor(a: Allocation, month: date) -> float:
        """After the reporting month: a known definitive stop ends it, an Einddatum before the
        month's 15th counts at the extension share (none learned here: 1)."""
        mid = month + timedelta(days=14)
        if month <= as_of_month:
            return 1.0
        if a.care_end is not None and a.care_end < mid:
            return 0.0
        return 1.0

    def allocated(provider: str, month: date) -> float:
        day = reference_day(month)
        # after the reporting month every start known by as_of counts, as the known stops do
        known = AS_OF if month > as_of_month else day
        return sum(
            rate[a.number] * future_factor(a, month)
            for a in started
            if a.provider == provider
            and a.care_start <= known
            and a.start <= known
            and (a.care_end is None or a.care_end >= day)
            and (a.end is None or a.end >= day)
        ) / stock_season.get((provider, day.month), 1.0)

    grid = months(min(line_months[0], as_of_month), date(AS_OF.year, 12, 1))
    window = [m for m in grid if add_months(as_of_month, -RUN_RATE_MONTHS) <= m < as_of_month]
    out: dict = defaultdict(Decimal)
    for provider in providers:
        invoiced = defaultdict(float)
        for ln in known:
            if ln.provider == provider:
                invoiced[ln.month] += ln.amount_cents / 100
        # allocation data: any allocation in care from the window on
        has_allocations = any(allocated(provider, m) > 0 for m in grid if m >= window[0])

        def c(month: date, provider: str = provider) -> float:
            if month > as_of_month:
                return 0.0
            return completion.get((provider, month), 1.0)

        def a(month: date, provider: str = provider, invoiced: dict = invoiced) -> float:
            """The share for a month whose invoicing has begun: what has usually come by then."""
            if month <= as_of_month and invoiced[month] > 0:
                return started_share.get((provider, month), c(month))
            return c(month)

        days = {m: days_in(m) for m in grid}

        def s(month: date, provider: str = provider) -> float:
            return season.get((provider, month.month), 1.0)

        # months that tell the level: mostly complete and something invoiced
        # ... and, with allocation data, one in care on the 15th (else care began later on)
        usable = [
            m
            for m in window
            if a(m) >= MIN_COMPLETION
            and invoiced[m] > 0
            and (allocated(provider, m) > 0 or not has_allocations)
        ]
        pooled_days = sum(a(m) * days[m] * s(m) for m in window)
        per_day = (
            median([invoiced[m] / (a(m) * days[m] * s(m)) for m in usable])
            if usable
            else sum(invoiced[m] for m in window) / pooled_days
            if pooled_days > 0
            else 0.0
        )
        in_window = [allocated(provider, m) for m in usable if allocated(provider, m) > 0]
        scale = median(
            [
                invoiced[m] / (a(m) * days[m] * s(m) * allocated(provider, m))
                for m in usable
                if allocated(provider, m) > 0
            ]
        )
        reference = median(in_window)
        for month in grid:
            in_care = allocated(provider, month)
            run_rate = per_day * days[month] * s(month)
            if scale is not None and reference:
                run_rate *= in_care / reference  # the run rate follows the allocations in care
            if scale is not None:
                allocation_based = scale * in_care * days[month] * s(month)
            elif not usable and in_care > 0:  # a new provider: its allocations alone
                allocation_based = in_care * days[month] * s(month)
            else:
                allocation_based = None
            if not usable and has_allocations:  # new: only months with allocations in care
                expected = allocation_based or 0.0
            elif allocation_based is None:
                expected = run_rate
            elif in_care == 0:
                expected = 0.0
            elif not usable:
                expected = allocation_based
            else:
                expected = ALLOCATION_WEIGHT * allocation_based + (1 - ALLOCATION_WEIGHT) * run_rate
            if month > as_of_month:
                value = expected
            elif (provider, month) in completion:
                value = invoiced[month] + (1 - a(month)) * expected
                missing = (
                    invoiced[month] < GAP_RATIO * c(month) * expected
                )  # a declaration is missing
                if missing and (in_care > 0 or allocation_based is None):
                    value = max(expected, invoiced[month] + (1 - c(month)) * expected)
            else:
                value = invoiced[month]
            out[(provider, month.year)] += cents(value)
    return dict(out)


def expected_interval(
    forecast: Decimal, invoiced: Decimal, ceiling: Decimal | None, year: int
) -> tuple[Decimal, Decimal, Decimal | None]:
    """docs/forecast.md step 6: P10, P90 and probability_over_ceiling from the seed's quantiles."""
    import csv

    months_ahead = 12 - AS_OF.month if year == AS_OF.year else 0
    size = "large" if forecast >= 1_000_000 else "medium" if forecast >= 100_000 else "small"
    with CALIBRATION_SEED.open() as handle:
        row = next(
            r
            for r in csv.DictReader(handle)
            if int(r["months_ahead"]) == months_ahead and r["size_class"] == size
        )
    q = {p: float(row[f"q{p:02d}"]) for p in (5, 10, 25, 50, 75, 90, 95)}
    f = float(forecast)
    if f <= 0:
        return forecast, forecast, None if ceiling is None else Decimal(0)
    if (AS_OF - date(year, 12, 31)).days >= MATURITY_DAYS:  # every invoice is in: no spread
        return forecast, forecast, None if ceiling is None else Decimal(int(forecast > ceiling))
    p10 = cents(max(float(invoiced), min(f, f * (1 + q[10]))))
    p90 = cents(max(f, f * (1 + q[90])))
    if ceiling is None:
        return p10, p90, None
    if ceiling <= 0:
        return p10, p90, Decimal(1)
    t = float(ceiling) / f - 1
    points = [(q[p], p / 100) for p in (5, 10, 25, 50, 75, 90, 95)]
    if t >= q[95]:
        share = 0.95 + 0.05 * (min(1.0, (t - q[95]) / (q[95] - q[90])) if q[95] > q[90] else 1.0)
    elif t < q[5]:
        share = 0.05 * max(0.0, 1 - (q[5] - t) / (q[10] - q[5])) if q[10] > q[5] else 0.0
    else:
        (lo, plo), (hi, phi) = next(
            (points[i], points[i + 1]) for i in range(len(points) - 2, -1, -1) if t >= points[i][0]
        )
        share = plo + (phi - plo) * ((t - lo) / (hi - lo) if hi > lo else 0.0)
    return p10, p90, Decimal(1 - share).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


# CBS hulpvorm of the fixture's categories (docs/throughput_method.md): both are ambulant (02)
HULPVORM = {"45": "02", "54": "02"}
CBS_CLASS = {"31": "volgens_plan", "34": "voortijdig"}  # JZ588 -> CBS end class


def expected_trajectories(allocations: list[Allocation]) -> list[dict]:
    """CBS trajectories per client × provider × hulpvorm: merge records that overlap (a start on
    or before the latest end); adjoining records (a start the day after) stay apart. Repeat: an
    earlier trajectory ended ≥ 2 days before the start and on or after the start's half-year's
    first day minus 5 years."""
    groups: dict = defaultdict(list)
    for a in allocations:
        records = [(a.care_start, a.pause[0] if a.pause else a.care_end)]
        if a.pause:  # reason 20 is no end: the record runs to the restart
            records = [(a.care_start, a.pause[1]), (a.pause[1], a.care_end)]
        for start, end in records:
            groups[(a.client, a.provider, HULPVORM[a.category])].append((start, end, a))
    trajectories = []
    for (client, provider, hulpvorm), records in groups.items():
        records.sort(key=lambda r: r[0])
        current = None
        for start, end, a in records:
            if current and (current["end"] is None or start <= current["end"]):
                current["end"] = (
                    None if end is None or current["end"] is None else max(current["end"], end)
                )
                current["last"] = a
                continue
            current = {
                "client": client,
                "provider": provider,
                "hulpvorm": hulpvorm,
                "start": start,
                "end": end,
                "first": a,
                "last": a,
            }
            trajectories.append(current)
    for t in trajectories:
        period_start = date(t["start"].year, 1 if t["start"].month <= 6 else 7, 1)
        t["repeat"] = any(
            o is not t
            and o["client"] == t["client"]
            and o["end"] is not None
            and o["end"] <= t["start"] - timedelta(days=2)
            and o["end"] >= period_start.replace(year=period_start.year - 5)
            for o in trajectories
        )
        t["reason"] = t["last"].end_reason if t["end"] else None
        t["transferred"] = t["end"] is not None and any(
            o["client"] == t["client"]
            and (o["provider"], o["hulpvorm"]) != (t["provider"], t["hulpvorm"])
            and t["end"] <= o["start"] <= t["end"] + timedelta(days=30)
            for o in trajectories
        )
    return trajectories


def half_year(day: date) -> str:
    return f"{day.year}-H{1 if day.month <= 6 else 2}"


# --------------------------------------------------------------------------------- dbt


def dbt_build(warehouse: Path, work: Path) -> None:
    build_ok(
        warehouse,
        work,
        AS_OF.isoformat(),
        "--select",
        "+path:models/marts/steering",
        "--indirect-selection",
        "cautious",
        timeout=300,
    )


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict:
    if not DBT.exists():
        pytest.skip(f"dbt executable not found beside the interpreter: {DBT}")
    work = tmp_path_factory.mktemp("steering")
    warehouse = work / "warehouse.duckdb"
    allocations = build_allocations()
    lines = build_lines(allocations)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(create_raw_schema_sql())
        load(con, allocations, lines)
    dbt_build(warehouse, work)
    return {"warehouse": warehouse, "allocations": allocations, "lines": lines}


# --------------------------------------------------------------------------------- tests


def test_budget_forecast_matches_the_method_recomputed(world):
    rows = query(
        world["warehouse"],
        """
        select provider_agb, year, budget_ceiling_eur, invoiced_eur, forecast_eur, utilisation_pct, signal
        from marts.mart_budget_utilisation order by provider_agb, year""",
    )
    forecast = expected_forecast(world["allocations"], world["lines"])
    invoiced = accepted_by(world["lines"], lambda ln: (ln.provider, ln.month.year))
    assert [(r[0], r[1]) for r in rows] == sorted(forecast)
    for provider, year, ceiling, invoiced_eur, forecast_eur, pct, signal in rows:
        assert invoiced_eur == invoiced[(provider, year)]
        assert abs(forecast_eur - forecast[(provider, year)]) <= Decimal("0.05"), (provider, year)
        assert ceiling == CEILINGS.get((provider, year))
        if ceiling is None:
            assert (pct, signal) == (None, None)
        else:
            assert pct == cents(forecast_eur / ceiling * 100)
            assert signal == (
                "overschrijding"
                if pct > 100
                else "dreigende_overschrijding"
                if pct > 95
                else "onderbesteding"
                if pct < 80
                else "op_koers"
            )


def test_forecast_interval_follows_the_calibration_seed(world):
    rows = query(
        world["warehouse"],
        """
        select provider_agb, year, budget_ceiling_eur, invoiced_eur, forecast_eur,
            forecast_p10_eur, forecast_p90_eur, probability_over_ceiling
        from marts.mart_budget_utilisation order by provider_agb, year""",
    )
    assert rows
    for provider, year, ceiling, invoiced, forecast, p10, p90, probability in rows:
        assert p10 <= forecast <= p90, (provider, year)
        want_p10, want_p90, want_probability = expected_interval(forecast, invoiced, ceiling, year)
        assert abs(p10 - want_p10) <= Decimal("0.01"), (provider, year)
        assert abs(p90 - want_p90) <= Decimal("0.01"), (provider, year)
        if want_probability is None:
            assert probability is None
        else:
            assert abs(probability - want_probability) <= Decimal("0.001"), (provider, year)


def test_forecast_grosses_up_the_late_tail_and_counts_the_new_client(world):
    (p1_2025,) = query(
        world["warehouse"],
        f"""
        select invoiced_eur, outstanding_eur, projected_eur, forecast_eur from marts.mart_budget_utilisation
        where provider_agb = '{P1}' and year = 2025""",
    )
    invoiced, outstanding, projected, forecast = p1_2025
    # August's late tail (ck-11, ck-12) and all of September are outstanding on 30 September
    assert outstanding > Decimal("23") * 78 + 10 * 78
    assert forecast == invoiced + outstanding + projected
    # without ck-05 (ended in June) but with ck-15 (started 1 September, 20 h), the allocations
    # push the projection above the run rate of the last six months
    months_rate = sum(i for i in range(1, 13)) * 78
    assert projected > 3 * months_rate * Decimal("0.99")


def test_throughput_matches_trajectories_recomputed(world):
    rows = query(
        world["warehouse"],
        """
        select municipality_code, dimension, dimension_value, half_year, started, started_repeat,
               ended, ended_by_plan, ended_premature, ended_unknown, transferred_out,
               running_at_end, is_complete_period, avg_duration_days_ended, youths
        from marts.mart_throughput order by 1, 2, 3, 4""",
    )
    trajectories = expected_trajectories(world["allocations"])
    cells: dict = defaultdict(lambda: [0, 0, 0, 0, 0, 0, 0, 0, [], set()])
    periods = sorted({half_year(d) for d in months(date(2023, 1, 1), AS_OF.replace(day=1))})

    def keys(municipality: str, t: dict, a: Allocation, period: str) -> list[tuple]:
        m = "GM" + municipality
        return [
            (m, "hulpvorm", t["hulpvorm"], period),
            (m, "product_code", a.product, period),
            (m, "provider", t["provider"], period),
        ]

    for t in trajectories:
        for period in periods:
            year, h = int(period[:4]), period[-1]
            first = date(year, 1 if h == "1" else 7, 1)
            last = min(date(year, 6, 30) if h == "1" else date(year, 12, 31), AS_OF)
            if first <= t["start"] <= last:
                for key in keys(t["first"].municipality, t, t["first"], period):
                    cells[key][0] += 1
                    cells[key][1] += t["repeat"]
            if t["end"] and first <= t["end"] <= last:
                for key in keys(t["last"].municipality, t, t["last"], period):
                    cells[key][2] += 1
                    cells[key][3] += CBS_CLASS[t["reason"]] == "volgens_plan"
                    cells[key][4] += CBS_CLASS[t["reason"]] == "voortijdig"
                    cells[key][6] += t["transferred"]
                    cells[key][8].append((t["end"] - t["start"]).days)
            if t["start"] <= last and (t["end"] is None or t["end"] > last):
                for key in keys(t["last"].municipality, t, t["last"], period):
                    cells[key][7] += 1
            if t["start"] <= last and (t["end"] is None or t["end"] >= first):
                for key in keys(t["last"].municipality, t, t["last"], period):
                    cells[key][9].add(t["client"])
    expected = []
    for (municipality, dimension, value, period), cell in sorted(cells.items()):
        *counts, durations, youths = cell
        average = (
            Decimal(sum(durations) / len(durations)).quantize(Decimal("0.1")) if durations else None
        )
        complete = period != half_year(AS_OF)
        expected.append(
            (municipality, dimension, value, period, *counts, complete, average, len(youths))
        )
    assert rows == expected
    # the fixture's stories: ck-07 comes back after 2 months (a repeat), ck-06's pause is no end,
    # ck-05 ends by plan, ck-07's first trajectory prematurely; 2025-H2 is observed to 30 September
    assert ("GM0546", "hulpvorm", "02", "2024-H1", 1, 1, 0, 0, 0, 0, 0, 12, True, None, 12) in rows
    assert (
        "GM0546", "provider", P1, "2025-H1", 0, 0, 1, 1, 0, 0, 0, 11, True, Decimal("911.0"), 12
    ) in rows  # fmt: skip
    assert ("GM0546", "product_code", "45A48", "2025-H2")[:4] in {r[:4] for r in rows}
    assert [r[12] for r in rows if r[3] == "2025-H2"] == [False] * 3 * 2


def test_accountability_reconciliation(world):
    rows = query(
        world["warehouse"],
        """
        select provider_agb, municipality_code, product_code, year, accountability_amount_eur,
               invoiced_amount_eur, difference_eur, status, delivered_on_time
        from marts.mart_accountability_reconciliation order by year, provider_agb, municipality_code""",
    )
    invoiced = accepted_by(
        world["lines"], lambda ln: (ln.provider, "GM" + ln.municipality, ln.product, ln.month.year)
    )
    p1_leiden, p2_alphen = (
        invoiced[(P1, "GM0546", "45A48", 2024)],
        invoiced[(P2, "GM0484", "54001", 2024)],
    )
    assert rows == [
        # 2023: nobody delivered; the due date (1 April 2024) has passed
        (
            P1,
            "GM0546",
            "45A48",
            2023,
            None,
            invoiced[(P1, "GM0546", "45A48", 2023)],
            -invoiced[(P1, "GM0546", "45A48", 2023)],
            "geen_verantwoording",
            False,
        ),
        (
            P2,
            "GM0484",
            "54001",
            2023,
            None,
            invoiced[(P2, "GM0484", "54001", 2023)],
            -invoiced[(P2, "GM0484", "54001", 2023)],
            "geen_verantwoording",
            False,
        ),
        (
            P1,
            "GM0484",
            "45A48",
            2024,
            Decimal("500.00"),
            None,
            Decimal("500.00"),
            "geen_declaraties",
            True,
        ),
        (
            P1,
            "GM0546",
            "45A48",
            2024,
            p1_leiden + Decimal("0.75"),
            p1_leiden,
            Decimal("0.75"),
            "akkoord",
            True,
        ),
        # the corrected re-delivery replaces the first file; the first delivery (20 April) was late
        (P2, "GM0484", "54001", 2024, p2_alphen, p2_alphen, Decimal("0.00"), "akkoord", False),
    ]


def largest_remainder(weights: dict[str, int], total_cents: int) -> dict[str, Decimal]:
    """`total_cents` divided in proportion to integer `weights`: floors, then one cent each to the
    largest remainders (ties: the lower key); the parts add up to the total exactly."""
    whole = sum(weights.values())
    floors = {k: (w * total_cents) // whole for k, w in weights.items()}  # Python floors
    remainders = {k: w * total_cents - floors[k] * whole for k, w in weights.items()}
    left = total_cents - sum(floors.values())
    order = sorted(weights, key=lambda k: (-remainders[k], k))
    return {k: Decimal(floors[k] + (1 if k in order[:left] else 0)) / 100 for k in weights}


def test_settlement_keys_2025_on_2023(world):
    rows = query(
        world["warehouse"],
        """
        select municipality_code, year, actual_cost_eur, key_share_pct, key_based_cost_eur,
               regional_actual_eur, regional_budget_eur, contribution_eur, settlement_eur,
               forecast_settlement_eur, own_vs_key_eur
        from marts.mart_settlement order by year, municipality_code""",
    )
    forecast = {
        y: v
        for y, v in query(
            world["warehouse"],
            "select year, sum(forecast_eur) from marts.mart_budget_utilisation group by year",
        )
    }
    cost = accepted_by(world["lines"], lambda ln: ("GM" + ln.municipality, ln.month.year))
    expected = []
    for year in (2023, 2024, 2025):
        region_then = sum(v for (m, y), v in cost.items() if y == year - 2)
        region_now = sum(v for (m, y), v in cost.items() if y == year)
        budget = PROGRAMME_BUDGET.get(year)
        if region_then:
            weights = {m: int(cost[(m, year - 2)] * 100) for m in ("GM0484", "GM0546")}
            contribution = largest_remainder(weights, int(budget * 100))
            settled = largest_remainder(weights, int((region_now - budget) * 100))
            forecast_settled = largest_remainder(weights, int((forecast[year] - budget) * 100))
        for municipality in ("GM0484", "GM0546"):
            actual = cost.get((municipality, year), Decimal(0))
            if region_then:
                key = cost[(municipality, year - 2)] / region_then
                based = cents(key * region_now)
                expected.append(
                    (
                        municipality,
                        year,
                        actual,
                        (100 * key).quantize(Decimal("0.0001")),
                        based,
                        region_now,
                        budget,
                        contribution[municipality],
                        settled[municipality],
                        forecast_settled[municipality],
                        actual - based,
                    )
                )
            else:
                expected.append(
                    (
                        municipality,
                        year,
                        actual,
                        None,
                        None,
                        region_now,
                        budget,
                        None,
                        None,
                        None,
                        None,
                    )
                )
    assert rows == expected
    # the settlements share exactly the region's overspend against its budget, to the cent
    assert sum(r[8] for r in rows if r[1] == 2025) == rows[-1][5] - PROGRAMME_BUDGET[2025]
    assert sum(r[7] for r in rows if r[1] == 2025) == PROGRAMME_BUDGET[2025]


def test_cost_concentration_takes_the_ten_most_expensive(world):
    rows = query(
        world["warehouse"],
        """
        select municipality_code, year, clients, total_cost_eur, top10_cost_eur, top10_share_pct
        from marts.mart_cost_concentration order by municipality_code, year""",
    )
    per_client = accepted_by(
        world["lines"], lambda ln: ("GM" + ln.municipality, ln.month.year, ln.client)
    )
    expected = []
    for municipality, year in sorted({(m, y) for m, y, _ in per_client}):
        costs = sorted(
            (v for (m, y, _), v in per_client.items() if (m, y) == (municipality, year)),
            reverse=True,
        )
        top = sum(c for c in costs[:10] if c > 0)
        total = sum(costs)
        expected.append(
            (
                municipality,
                year,
                sum(1 for c in costs if c > 0),
                total,
                top,
                cents(100 * top / total),
            )
        )
    assert rows == expected
    # Leiden 2025: twelve clients; the two cheapest (ck-01, ck-02: 1 and 2 hours a month) fall outside the top 10
    leiden_2025 = rows[-1]
    assert leiden_2025[2] == 12
    assert (
        leiden_2025[3] - leiden_2025[4]
        == per_client[("GM0546", 2025, ck("01"))] + per_client[("GM0546", 2025, ck("02"))]
    )


def test_referrers_follow_the_jw315_and_add_up_to_the_total_cost(world):
    rows = query(
        world["warehouse"],
        """
        select municipality_code, referrer_type, year, allocations, youths, cost_eur
        from marts.mart_referrers order by municipality_code, year, referrer_type""",
    )
    referrer = {a.number: a.referrer or "onbekend" for a in world["allocations"]}
    cost = accepted_by(
        world["lines"], lambda ln: ("GM" + ln.municipality, referrer[ln.allocation], ln.month.year)
    )
    cells: dict = defaultdict(lambda: [0, set()])
    for a in world["allocations"]:
        for year in (2023, 2024, 2025):
            if a.start <= date(year, 12, 31) and (a.end is None or a.end >= date(year, 1, 1)):
                cell = cells[("GM" + a.municipality, referrer[a.number], year)]
                cell[0] += 1
                cell[1].add(a.client)
    keys = sorted(set(cells) | set(cost), key=lambda k: (k[0], k[2], k[1]))
    assert rows == [
        (m, r, y, cells[(m, r, y)][0], len(cells[(m, r, y)][1]), cost.get((m, r, y), Decimal(0)))
        for m, r, y in keys
    ]
    totals = query(
        world["warehouse"],
        """
        select r.municipality_code, r.year, sum(r.cost_eur), max(c.total_cost_eur)
        from marts.mart_referrers r join marts.mart_cost_concentration c using (municipality_code, year)
        group by 1, 2""",
    )
    assert all(row[2] == row[3] for row in totals)

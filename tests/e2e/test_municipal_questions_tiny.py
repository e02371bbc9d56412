"""The municipal-question marts on the tiny profile against an independent calculation (issue 17).

`jeugdhulp run` on tiny (seed 7, as of 2026-10-15, the shared `tiny_run`); the expected rows of
mart_costs_by_financing, mart_clients_by_dimension, mart_youths_unknown_to_municipality and the
new columns of mart_kpi_annual (residential_days_per_month, youths_per_1000) are computed here in
plain Python from the archived iJw XML, the SVB PGB files and the reference CSVs
(tests/support/independent.py), following docs/contract.md §3 — never from the warehouse's
staging or intermediate tables. Only the mart under test is read from the warehouse.

Each test also asserts which cases tiny exercises, so a change of the generator that drops a case
shows up instead of silently weakening the test.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from tests.support.independent import (
    kpi_annual,
    month_end,
    municipality_code,
    read_archive,
    read_care_archive,
    read_product_segments,
    read_providers,
    read_table,
    to_decimal,
)
from tests.support.pipeline import TINY_AS_OF

pytestmark = pytest.mark.slow

AS_OF = date.fromisoformat(TINY_AS_OF)
CENT = Decimal("0.01")
MUNICIPAL_REFERRER = "01"  # COD327 01 gemeente: the municipal team (seed code_referrer_types)


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def read_pgb(folder: Path) -> list[dict]:
    """Every row of every archived SVB file (docs/contract.md §2.4)."""
    rows = []
    for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".csv", ".xlsx")):
        for row in read_table(path):
            month = str(row["maand"]).strip()
            rows.append(
                {
                    "bsn": str(row["bsn"]).strip(),
                    "municipality": municipality_code(row["gemeente_code"]),
                    "month": date(int(month[:4]), int(month[5:7]), 1),
                    "category": str(row["productcategorie"]).strip().zfill(2),
                    "amount": to_decimal(row["bedrag_eur"]),
                }
            )
    return rows


def read_population(reference: Path) -> dict[tuple[str, int], int]:
    population = {}
    for path in sorted(reference.rglob("population*")):
        for row in read_table(path):
            key = (municipality_code(row["municipality_code"]), int(str(row["year"]).strip()))
            population[key] = int(str(row["youth_0_17"]).strip())
    return population


def youths_0_17(population: dict[tuple[str, int], int], municipality: str, year: int) -> int | None:
    """The year's row, else the latest earlier year's (docs/contract.md §3)."""
    years = [y for (m, y) in population if m == municipality and y <= year]
    return population[(municipality, max(years))] if years else None


def segment_of(products: list[dict], code: str, category: str, month: date) -> str | None:
    versions = [
        p
        for p in products
        if p["code"] == code
        and p["category"] == category
        and (p["valid_from"] is None or p["valid_from"] <= month_end(month))
        and (p["valid_to"] is None or p["valid_to"] >= month)
    ]
    versions.sort(key=lambda p: p["valid_from"] or date.min, reverse=True)
    return versions[0]["segment"] if versions else None


@pytest.fixture(scope="module")
def files(tiny_run):
    archive = tiny_run.data_dir / "archive"
    return {
        "landed": read_archive(archive / "ijw"),
        "care": read_care_archive(archive / "ijw", AS_OF),
        "pgb": read_pgb(archive / "pgb"),
        "population": read_population(archive / "reference"),
        "products": read_product_segments(archive / "reference"),
        "providers": read_providers(archive / "reference"),
    }


@pytest.fixture(scope="module")
def client_months(files) -> list[dict]:
    """docs/contract.md §3: every client's month by financing form. ZIN: the accepted net amount
    per municipality × client × provider × product × month; it is a care month of the
    municipality carrying the largest share of a care month (client × provider × product × month
    netting above zero). PGB: per municipality × client × category × month, a care month when the
    spend is above zero."""
    by_municipality: dict[tuple, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    category: dict[tuple, str] = {}
    for line in files["landed"].accepted():
        key = (line.bsn, line.provider, line.code, line.service_month)
        by_municipality[key][line.municipality] += line.amount
        category[key] = max(category.get(key, ""), line.category)
    rows = []
    for key, amounts in by_municipality.items():
        bsn, provider, code, month = key
        counted = None
        if sum(amounts.values()) > 0:
            counted = sorted(amounts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        for municipality, amount in amounts.items():
            rows.append(
                {
                    "financing": "ZIN",
                    "municipality": municipality,
                    "bsn": bsn,
                    "provider": provider,
                    "code": code,
                    "category": category[key],
                    "segment": segment_of(files["products"], code, category[key], month),
                    "month": month,
                    "amount": amount,
                    "care": municipality == counted,
                }
            )
    pgb: dict[tuple, Decimal] = defaultdict(Decimal)
    for row in files["pgb"]:
        pgb[(row["municipality"], row["bsn"], row["category"], row["month"])] += row["amount"]
    for (municipality, bsn, category_code, month), amount in pgb.items():
        rows.append(
            {
                "financing": "PGB",
                "municipality": municipality,
                "bsn": bsn,
                "provider": None,
                "code": None,
                "category": category_code,
                "segment": None,
                "month": month,
                "amount": amount,
                "care": amount > 0,
            }
        )
    return rows


def _cells(rows, key_of) -> dict[tuple, dict]:
    cells: dict[tuple, dict] = defaultdict(
        lambda: {"amount": Decimal(0), "clients": set(), "care_months": 0}
    )
    for row in rows:
        key = key_of(row)
        if key is None:
            continue
        cell = cells[key]
        cell["amount"] += row["amount"]
        if row["care"]:
            cell["clients"].add(row["bsn"])
            cell["care_months"] += 1
    return cells


# ------------------------------------------------------------------------ costs by financing


def test_costs_by_financing_match_independent_calculation(tiny_run, client_months):
    expected = _cells(
        client_months,
        lambda r: (r["municipality"], r["financing"], r["category"] or "onbekend", r["month"]),
    )
    rows = tiny_run.dicts("select * from marts.mart_costs_by_financing")
    actual = {
        (r["municipality_code"], r["financing"], r["product_category"], r["service_month"]): r
        for r in rows
    }
    assert len(actual) == len(rows)
    assert set(actual) == set(expected)
    for key, cell in expected.items():
        row = actual[key]
        assert row["amount_eur"] == cell["amount"], key
        assert row["clients"] == len(cell["clients"]), key
        assert row["care_months"] == cell["care_months"], key

    # the ZIN side is mart_costs_monthly's money
    zin = sum(r["amount_eur"] for r in rows if r["financing"] == "ZIN")
    assert (
        zin == tiny_run.dicts("select sum(amount_eur) as s from marts.mart_costs_monthly")[0]["s"]
    )
    # cases on tiny: PGB rows next to ZIN in the same category and month. Not covered: a client
    # with two ZIN care months in one category and month (the dbt unit test
    # costs_by_financing_counts_clients_per_financing has it)
    assert {r["financing"] for r in rows} == {"ZIN", "PGB"}
    assert {k[0::2] for k in actual if k[1] == "PGB"} & {k[0::2] for k in actual if k[1] == "ZIN"}


# ----------------------------------------------------------------------- clients by dimension

DIMENSIONS = {
    "total": lambda r: "totaal",
    "financing": lambda r: r["financing"],
    "product_category": lambda r: r["category"] or "onbekend",
    "provider": lambda r: r["provider"] if r["financing"] == "ZIN" else None,
    "segment": lambda r: (r["segment"] or "onbekend") if r["financing"] == "ZIN" else None,
    "product_code": lambda r: r["code"] if r["financing"] == "ZIN" else None,
}


def test_clients_by_dimension_match_independent_calculation(tiny_run, files, client_months):
    expected: dict[tuple, dict] = {}
    for dimension, value_of in DIMENSIONS.items():

        def key_of(row, dimension=dimension, value_of=value_of):
            value = value_of(row)
            if value is None:
                return None
            return (row["municipality"], row["month"].year, dimension, value)

        expected.update(_cells(client_months, key_of))
    rows = tiny_run.dicts("select * from marts.mart_clients_by_dimension")
    actual = {
        (r["municipality_code"], r["year"], r["dimension"], r["dimension_value"]): r for r in rows
    }
    assert len(actual) == len(rows)
    assert set(actual) == set(expected)
    for key, cell in expected.items():
        row = actual[key]
        clients = len(cell["clients"])
        population = youths_0_17(files["population"], key[0], key[1])
        assert row["clients"] == clients, key
        assert row["care_months"] == cell["care_months"], key
        assert row["amount_eur"] == cell["amount"], key
        assert row["amount_per_client_eur"] == (
            cents(cell["amount"] / clients) if clients else None
        ), key
        assert row["youths_0_17"] == population, key
        assert row["clients_per_1000_youths"] == (
            cents(Decimal(clients * 1000) / population) if population else None
        ), key
        if key[2] == "provider":
            assert row["dimension_label"] == files["providers"][key[3]]["name"], key

    # distinct at the cell's own grain: the year's clients, not a sum of monthly counts
    monthly = tiny_run.dicts(
        """select municipality_code, year(service_month) as year, sum(clients) as client_months
        from marts.mart_costs_by_financing group by all"""
    )
    for row in monthly:
        total = actual[(row["municipality_code"], row["year"], "total", "totaal")]
        assert total["clients"] <= row["client_months"]
    assert any(
        actual[(r["municipality_code"], r["year"], "total", "totaal")]["clients"]
        < r["client_months"]
        for r in monthly
    )
    # ZIN equals the KPI table
    kpi = {
        (r["municipality_code"], r["year"]): r
        for r in tiny_run.dicts("select * from marts.mart_kpi_annual")
    }
    for (municipality, year, dimension, value), row in actual.items():
        if (dimension, value) == ("financing", "ZIN"):
            assert row["clients"] == kpi[(municipality, year)]["unique_youths"]
            assert row["care_months"] == kpi[(municipality, year)]["care_months"]
            assert row["amount_eur"] == kpi[(municipality, year)]["total_cost_eur"]
    # cases on tiny: a youth with care at two providers in one year, PGB in the total
    per_youth_providers: dict[tuple, set] = defaultdict(set)
    for row in client_months:
        if row["care"] and row["financing"] == "ZIN":
            per_youth_providers[(row["municipality"], row["month"].year, row["bsn"])].add(
                row["provider"]
            )
    assert any(len(p) > 1 for p in per_youth_providers.values())
    assert any(k[2:] == ("financing", "PGB") and r["clients"] for k, r in actual.items())


def test_kpi_residential_days_and_rate_per_1000(tiny_run, files):
    expected = kpi_annual(files["landed"])
    rows = tiny_run.dicts("select * from marts.mart_kpi_annual")
    assert {(r["municipality_code"], r["year"]) for r in rows if r["care_months"]} == set(expected)
    for row in rows:
        want = expected.get((row["municipality_code"], row["year"]))
        if want is None:
            continue
        if want["residential_months"]:
            days = Decimal(want["days"]) / want["residential_months"]
            assert row["residential_days_per_month"] == cents(days), row
        else:
            assert row["residential_days_per_month"] is None, row
        if want["timed_months"]:
            assert row["intensity_hours_per_month"] == cents(
                want["hours"] / want["timed_months"]
            ), row
        population = youths_0_17(files["population"], row["municipality_code"], row["year"])
        assert row["youths_per_1000"] == cents(Decimal(len(want["youths"]) * 1000) / population)
    # cases on tiny: a municipality-year with both residential (etmaal) and hourly care
    assert any(w["residential_months"] and w["timed_months"] for w in expected.values())


# --------------------------------------------------------------- unknown to the municipality


def test_youths_unknown_to_municipality_match_independent_calculation(tiny_run, files):
    from tests.e2e.test_steering_tiny import referrer_of

    care = files["care"]
    live = {
        key: a
        for key, a in care.allocations.items()
        if not a.deleted and a.start is not None and a.start <= AS_OF
    }
    first_year = min(a.start.year for a in live.values())
    youth_types: dict[tuple, list] = defaultdict(list)  # (municipality, year, bsn) -> referrers
    allocation_years: dict[tuple, set[int]] = defaultdict(set)
    for key, allocation in live.items():
        for year in range(first_year, AS_OF.year + 1):
            if allocation.start <= date(year, 12, 31) and (
                allocation.end is None or allocation.end >= date(year, 1, 1)
            ):
                youth_types[(allocation.municipality, year, allocation.bsn)].append(
                    referrer_of(care, allocation)
                )
                allocation_years[key].add(year)
    unknown = {
        key
        for key, types in youth_types.items()
        if all(t is not None and t != MUNICIPAL_REFERRER for t in types)
    }
    expected: dict[tuple, dict] = defaultdict(
        lambda: {"youths": 0, "unknown": 0, "cost": Decimal(0)}
    )
    for municipality, year, bsn in youth_types:
        expected[(municipality, year)]["youths"] += 1
        expected[(municipality, year)]["unknown"] += (municipality, year, bsn) in unknown
    for line in files["landed"].accepted():
        if line.declaration_date > AS_OF or line.service_month > AS_OF:
            continue
        allocation = live.get((line.municipality, line.allocation))
        year = line.service_month.year
        if allocation is None or year not in allocation_years[(line.municipality, line.allocation)]:
            continue
        if (line.municipality, year, allocation.bsn) in unknown:
            expected[(line.municipality, year)]["cost"] += line.amount

    rows = tiny_run.dicts("select * from marts.mart_youths_unknown_to_municipality")
    actual = {(r["municipality_code"], r["year"]): r for r in rows}
    assert len(actual) == len(rows)
    assert set(actual) == set(expected)
    for key, want in expected.items():
        row = actual[key]
        assert row["youths"] == want["youths"], key
        assert row["youths_unknown_to_municipality"] == want["unknown"], key
        assert row["youths_known_to_municipality"] == want["youths"] - want["unknown"], key
        assert row["cost_unknown_to_municipality_eur"] == want["cost"], key

    # cases on tiny: youths known through the municipal team and youths unknown to it, some
    # of them with two allocations in a year; cost on the unknown ones
    assert any(0 < r["youths_unknown_to_municipality"] < r["youths"] for r in rows)
    assert any(r["cost_unknown_to_municipality_eur"] > 0 for r in rows)
    assert any(len(youth_types[k]) > 1 for k in unknown)

    # the contract lists the same figures with mart_referrers: on each referrer type's row
    referrer_rows = tiny_run.dicts("select * from marts.mart_referrers")
    assert referrer_rows
    for row in referrer_rows:
        want = expected.get((row["municipality_code"], row["year"]))
        unknown_youths = want["unknown"] if want else 0
        assert row["youths_unknown_to_municipality"] == unknown_youths, row
        assert row["cost_unknown_to_municipality_eur"] == (want["cost"] if want else 0), row


def test_report_has_the_financing_and_clients_section(tiny_run):
    """The published report of a municipality shows ZIN/PGB, clients per dimension and the
    youths unknown to it (jeugdhulp/publish/report.py, _clients_section)."""
    pages = [
        path.read_text(encoding="utf-8")
        for path in (tiny_run.data_dir / "published").rglob("index.html")
        if "GM0546" in path.parts and "intern" in path.parts  # openbaar: costs tables only
    ]
    assert pages
    for page in pages:
        assert 'id="clienten"' in page
        assert "Persoonsgebonden budget" in page
        assert "Jeugdigen die de gemeente niet kent maar wel betaalt" in page

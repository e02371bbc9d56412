"""The report's monthly and budget figures (rpt_report_monthly, rpt_report_budget) on the tiny run,
against an independent calculation from the archived iJw XML, to the cent; and the intern report's
figures against the intern published tables.

Recomputed here in plain Python from the accepted lines: the cost, distinct persons and cumulative
cost per month, the year's cost so far, a municipality's part of what is still coming in and the
year-end forecast. Taken from the warehouse (models with tests of their own): the providers'
amounts still to come (int_provider_months_projected.outstanding_eur, docs/forecast.md), their
year-end forecast and budget ceilings (mart_budget_utilisation) and the key share (mart_settlement).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pyarrow.parquet as pq
import pytest

from jeugdhulp.publish.catalogue import MARTS
from jeugdhulp.publish.figures import compute
from jeugdhulp.publish.openbaar import openbaar_figures, suppress_openbaar, with_tier
from jeugdhulp.publish.selection import Target
from jeugdhulp.publish.warehouse import open_work_copy
from tests.support.independent import read_archive
from tests.support.pipeline import TINY_AS_OF

pytestmark = pytest.mark.slow

AS_OF = date.fromisoformat(TINY_AS_OF)
REPORT_MONTH = AS_OF.replace(day=1)
CENT = Decimal("0.01")
TARGETS = {"GM0546": {"GM0546"}, "regio": {"GM0546", "GM0638"}}  # tiny's two municipalities


def cents(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


@pytest.fixture(scope="module")
def lines(tiny_run):
    accepted = read_archive(tiny_run.data_dir / "archive" / "ijw").accepted()
    return [ln for ln in accepted if ln.service_month <= REPORT_MONTH]


@pytest.fixture(scope="module")
def warehouse(tiny_run):
    return {
        "outstanding": [
            (r["provider_agb"], r["service_month"], r["outstanding_eur"])
            for r in tiny_run.dicts(
                "select provider_agb, service_month, outstanding_eur "
                "from intermediate.int_provider_months_projected "
                f"where month_status = 'developing' and service_month <= '{REPORT_MONTH}'"
            )
        ],
        "utilisation": tiny_run.dicts("select * from marts.mart_budget_utilisation"),
        "keys": {
            (r["municipality_code"], r["year"]): r["key_share_pct"]
            for r in tiny_run.dicts("select * from marts.mart_settlement")
        },
        "monthly": tiny_run.dicts("select * from publication.rpt_report_monthly"),
        "budget": tiny_run.dicts("select * from publication.rpt_report_budget"),
    }


def expected_months(lines, outstanding, code: str) -> dict[tuple[int, int], dict]:
    """(year, month) → amount, persons, cumulative, still coming in, expected final cost."""
    mine = TARGETS[code]
    amount: dict[date, Decimal] = defaultdict(Decimal)
    persons: dict[date, set] = defaultdict(set)
    own_pm: dict[tuple, Decimal] = defaultdict(Decimal)  # provider × month, this target
    all_pm: dict[tuple, Decimal] = defaultdict(Decimal)  # provider × month, every municipality
    own_py: dict[tuple, Decimal] = defaultdict(Decimal)
    all_py: dict[tuple, Decimal] = defaultdict(Decimal)
    for ln in lines:
        month = ln.service_month.replace(day=1)
        all_pm[(ln.provider, month)] += ln.amount
        all_py[(ln.provider, month.year)] += ln.amount
        if ln.municipality in mine:
            amount[month] += ln.amount
            persons[month].add(ln.bsn)
            own_pm[(ln.provider, month)] += ln.amount
            own_py[(ln.provider, month.year)] += ln.amount
    coming: dict[date, Decimal] = defaultdict(Decimal)
    for provider, month, still in outstanding:
        if code == "regio":
            share = Decimal(1)
        elif all_pm[(provider, month)] > 0:
            share = own_pm[(provider, month)] / all_pm[(provider, month)]
        elif all_py[(provider, month.year)] > 0:
            share = own_py[(provider, month.year)] / all_py[(provider, month.year)]
        else:
            share = Decimal(0)
        coming[month] += still * share
    coming = {month: cents(value) for month, value in coming.items()}
    result = {}
    for year in sorted({m.year for m in amount} | {m.year for m, v in coming.items() if v > 0}):
        with_cost = [m for m in amount if m.year == year]
        last = max(with_cost + [m for m, v in coming.items() if m.year == year and v > 0])
        running = Decimal(0)
        for number in range(1, last.month + 1):
            month = date(year, number, 1)
            running += amount.get(month, Decimal(0))
            still = coming.get(month, Decimal(0)) > 0
            result[(year, number)] = {
                "amount_eur": cents(amount[month]) if month in amount else None,
                "persons": len(persons[month]),
                "cumulative_eur": cents(running) if month <= max(with_cost) else None,
                "is_still_coming_in": still,
                "expected_final_eur": (
                    cents(amount.get(month, Decimal(0)) + coming[month]) if still else None
                ),
            }
    return result


def largest_remainder(total: Decimal, weights: dict[str, Decimal]) -> dict[str, Decimal]:
    """`total` (whole cents) over `weights` in whole cents: each its floor, the cents left one
    each to the largest remainders (ties: the key ascending)."""
    total_cents = int(total * 100)
    weight_cents = {k: int(w * 100) for k, w in weights.items()}
    whole = sum(weight_cents.values())
    floors = {k: (w * total_cents) // whole for k, w in weight_cents.items()}
    left = total_cents - sum(floors.values())
    ranked = sorted(
        weight_cents, key=lambda k: (-(weight_cents[k] * total_cents - floors[k] * whole), k)
    )
    return {k: Decimal(floors[k] + (1 if k in ranked[:left] else 0)) / 100 for k in weight_cents}


def expected_budget(lines, warehouse, code: str, year: int) -> dict:
    mine = TARGETS[code]
    own: dict[str, Decimal] = defaultdict(Decimal)
    by_municipality: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    months = {ln.service_month.replace(day=1) for ln in lines if ln.service_month.year == year}
    people = set()
    for ln in lines:
        if ln.service_month.year == year:
            by_municipality[ln.provider][ln.municipality] += ln.amount
            if ln.municipality in mine:
                own[ln.provider] += ln.amount
                people.add(ln.bsn)
    factors = {
        r["provider_agb"]: r["forecast_eur"] / r["invoiced_eur"]
        for r in warehouse["utilisation"]
        if r["year"] == year and r["invoiced_eur"] > 0
    }
    # per provider the region's forecast in cents, divided over the municipalities by their own
    # cost there (largest remainder), so the municipalities add up to the region
    forecast = Decimal(0)
    for provider in own:
        factor = factors.get(provider, Decimal(12) / len(months))
        shares = by_municipality[provider]
        region = sum(shares.values(), Decimal(0))
        if region > 0:
            parts = largest_remainder(cents(region * factor), shares)
        else:
            parts = {m: cents(amount * factor) for m, amount in shares.items()}
        forecast += sum((parts[m] for m in shares if m in mine), Decimal(0))
    ceilings = [r["budget_ceiling_eur"] for r in warehouse["utilisation"] if r["year"] == year]
    total = (
        sum(c for c in ceilings if c is not None) if any(c is not None for c in ceilings) else None
    )
    key = Decimal(100) if code == "regio" else warehouse["keys"].get((code, year))
    budget = None if total is None or key is None else cents(total * key / 100)
    return {
        "persons": len(people),
        "actual_eur": cents(sum(own.values(), Decimal(0))),
        "ceiling_budget_eur": budget,
        "forecast_eur": forecast,
        "providers_without_forecast": sum(1 for provider in own if provider not in factors),
        "months_observed": len(months),
        "budget_status": (
            "geen_plafonds" if total is None else "geen_verdeelsleutel" if key is None else "ok"
        ),
    }


@pytest.mark.parametrize("code", sorted(TARGETS))
def test_monthly_figures_match_the_independent_calculation(lines, warehouse, code):
    expected = expected_months(lines, warehouse["outstanding"], code)
    rows = {
        (r["year"], r["month"]): r for r in warehouse["monthly"] if r["municipality_code"] == code
    }
    assert sorted(rows) == sorted(expected)
    for key, want in expected.items():
        got = {column: rows[key][column] for column in want}
        assert got == want, (code, key)
    # the tiny run has months still coming in: the recent ones, each expected to end higher
    coming = [key for key, want in expected.items() if want["is_still_coming_in"]]
    assert (AS_OF.year, AS_OF.month - 1) in coming
    assert all(
        expected[key]["expected_final_eur"] > (expected[key]["amount_eur"] or 0) for key in coming
    )


@pytest.mark.parametrize("code", sorted(TARGETS))
def test_budget_figures_match_the_independent_calculation(lines, warehouse, code):
    report_year = max(ln.service_month.year for ln in lines)
    for row in (r for r in warehouse["budget"] if r["municipality_code"] == code):
        want = expected_budget(lines, warehouse, code, row["year"])
        assert {column: row[column] for column in want} == want, (code, row["year"])
        assert row["is_report_year"] == (row["year"] == report_year)
    region = next(
        r for r in warehouse["budget"] if r["municipality_code"] == "regio" and r["is_report_year"]
    )
    # the region's budget is its ceilings; the forecast against it gives the signal
    pct = (100 * region["forecast_eur"] / region["ceiling_budget_eur"]).quantize(CENT)
    assert region["utilisation_pct"] == pct
    assert region["signal"] == (
        "overschrijding"
        if pct > 100
        else "dreigende_overschrijding"
        if pct > 95
        else "onderbesteding"
        if pct < 80
        else "op_koers"
    )


def published(tiny_run, code: str, table: str) -> list[dict]:
    """The target's own rows of its intern file (the region's folder holds every municipality's
    rows too; its own are 'regio')."""
    path = tiny_run.data_dir / "published" / "intern" / code / f"{table}.parquet"
    return [r for r in pq.read_table(path).to_pylist() if r["municipality_code"] == code]


@pytest.mark.parametrize("code", sorted(TARGETS))
def test_the_intern_report_shows_the_intern_published_tables(tiny_run, code):
    target = Target(code, code)
    with open_work_copy(tiny_run.warehouse) as work:
        work.con.execute("CREATE SCHEMA pub")
        for spec in MARTS:
            if work.has(spec.name):
                work.con.execute(f"CREATE TABLE pub.{spec.name} AS SELECT * FROM src.{spec.name}")
        figures = compute(work, target, AS_OF, tier="intern")
    year = figures.year
    monthly = [r for r in published(tiny_run, code, "rpt_report_monthly") if r["year"] == year]
    segments = published(tiny_run, code, "rpt_costs_segment_month")
    totals = {
        int(r["month"]): r["amount_eur"]
        for r in segments
        if r["year"] == year and r["segment"] == "totaal" and r["month"] != "jaar"
    }
    assert figures.monthly.hidden == 0
    assert figures.monthly.current == [
        None if totals.get(month) is None else float(totals[month]) for month in range(1, 13)
    ]
    assert figures.monthly.expected_final == {
        r["month"]: float(r["expected_final_eur"]) for r in monthly if r["is_still_coming_in"]
    }
    assert figures.monthly.expected_final  # months still coming in are shown
    assert figures.budget.cumulative == [
        next(
            (
                float(r["cumulative_eur"])
                for r in monthly
                if r["month"] == month and r["cumulative_eur"] is not None
            ),
            None,
        )
        for month in range(1, 13)
    ]
    budget = next(r for r in published(tiny_run, code, "rpt_report_budget") if r["year"] == year)
    year_total = next(
        r
        for r in segments
        if r["year"] == year and r["segment"] == "totaal" and r["month"] == "jaar"
    )
    assert figures.budget.actual == float(budget["actual_eur"]) == float(year_total["amount_eur"])
    assert figures.budget.forecast == float(budget["forecast_eur"])
    assert figures.budget.signal == budget["signal"]
    by_segment = sorted(
        (
            r
            for r in segments
            if r["year"] == year and r["month"] == "jaar" and r["segment"] != "totaal"
        ),
        key=lambda r: -r["amount_eur"],
    )
    assert figures.segments.values == [float(r["amount_eur"]) for r in by_segment]
    assert figures.segments.labels == [r["segment_name"] for r in by_segment]
    providers = sorted(
        (
            r
            for r in published(tiny_run, code, "rpt_costs_provider_year")
            if r["year"] == year and r["provider_agb"] != "totaal"
        ),
        key=lambda r: (-r["amount_eur"], r["provider_agb"]),
    )
    assert figures.top_providers.values == [float(r["amount_eur"]) for r in providers][:10]
    assert (
        figures.top_providers.labels
        == [f"{r['provider_name']} ({r['provider_agb']})" for r in providers][:10]
    )


def test_the_openbaar_page_shows_an_expected_final_cost_only_beside_a_published_month(tiny_run):
    code = "GM0638"  # tiny's small municipality: some of its months have 1 to 4 persons
    with open_work_copy(tiny_run.warehouse) as work:
        work.con.execute("CREATE SCHEMA pub")
        for spec in MARTS:
            if work.has(spec.name):
                work.con.execute(f"CREATE TABLE pub.{spec.name} AS SELECT * FROM src.{spec.name}")
        suppress_openbaar(work, [spec for spec in MARTS if work.has(spec.name) and spec.openbaar])
        intern = compute(work, Target(code, code), AS_OF, tier="intern")
        openbaar = with_tier(openbaar_figures(work, intern), "openbaar")
    assert openbaar.tier == "openbaar"
    path = tiny_run.data_dir / "published" / "openbaar" / code / "rpt_costs_segment_month.parquet"
    shown = {
        int(r["month"])
        for r in pq.read_table(path).to_pylist()
        if r["year"] == intern.year
        and r["segment"] == "totaal"
        and r["month"] != "jaar"
        and r["suppressed"] is None
    }
    assert openbaar.monthly.expected_final == {
        month: value for month, value in intern.monthly.expected_final.items() if month in shown
    }
    # a month still coming in is left out when its cost is suppressed
    assert set(intern.monthly.expected_final) - shown - {AS_OF.month}


def test_the_region_kpis_are_the_municipalities_summed_like_for_like(tiny_run):
    """rpt_report_kpi's region row against the municipalities' mart_kpi_annual rows, summed here."""
    marts = tiny_run.dicts("select * from marts.mart_kpi_annual")
    region = {
        r["year"]: r
        for r in tiny_run.dicts("select * from publication.rpt_report_kpi")
        if r["municipality_code"] == "regio"
    }
    assert sorted(region) == sorted({r["year"] for r in marts})
    sides = (
        ("unique_youths_observed", "previous_unique_youths_observed", "unique_youths_change_pct"),
        ("care_months_observed", "previous_care_months_observed", "care_months_change_pct"),
        ("total_cost_observed_eur", "previous_total_cost_observed_eur", "total_cost_change_pct"),
    )
    for year, row in region.items():
        rows = [r for r in marts if r["year"] == year]
        for column in ("unique_youths", "non_unique_youths", "care_months", "total_cost_eur"):
            assert row[column] == sum(r[column] for r in rows), (year, column)
        both = [
            r
            for r in rows
            if all(r[c] is not None for now, before, _ in sides for c in (now, before))
        ]
        assert row["municipalities_left_out"] == len(rows) - len(both)
        for now, before, change in sides:
            total = sum(r[before] for r in both)
            want = (
                round(100 * float(sum(r[now] for r in both)) / float(total) - 100, 2)
                if total
                else None
            )
            if want is None:
                assert row[change] is None, (year, change)
            else:
                assert row[change] == pytest.approx(want, abs=0.005), (year, change)
    # the tiny run compares 2026's observed months with the same months of 2025
    assert region[AS_OF.year]["total_cost_change_pct"] is not None


@pytest.mark.parametrize("code", sorted(TARGETS))
def test_the_intern_kpi_invoicing_dq_referrers_and_throughput_are_the_published_rows(
    tiny_run, code
):
    with open_work_copy(tiny_run.warehouse) as work:
        work.con.execute("CREATE SCHEMA pub")
        for spec in MARTS:
            if work.has(spec.name):
                work.con.execute(f"CREATE TABLE pub.{spec.name} AS SELECT * FROM src.{spec.name}")
        figures = compute(work, Target(code, code), AS_OF, tier="intern")
    year = figures.year
    kpi = {r["year"]: r for r in published(tiny_run, code, "rpt_report_kpi")}
    unique = figures.kpi.rows[0]
    assert unique.label == "Unieke jeugdigen in zorg"
    assert (unique.previous, unique.current) == (
        kpi[year - 1]["unique_youths"],
        kpi[year]["unique_youths"],
    )
    assert unique.change == kpi[year]["unique_youths_change_pct"]
    costs = next(row for row in figures.kpi.rows if row.label == "Totale kosten")
    assert costs.change == kpi[year]["total_cost_change_pct"]
    late = [
        r
        for r in published(tiny_run, code, "rpt_report_lateness")
        if r["year"] == year and r["provider_agb"] != "totaal" and r["lines"]
    ]
    late.sort(key=lambda r: (-r["late_pct"], -r["lines"], r["provider_agb"]))
    assert figures.lateness.values == [r["late_pct"] for r in late][:12]
    assert figures.lateness.extra["lines"] == [r["lines"] for r in late][:12]
    complete = {
        r["provider_agb"]: r
        for r in published(tiny_run, code, "rpt_report_completeness")
        if r["year"] == year
    }
    assert figures.completeness.extra["expected"] == complete["totaal"]["expected_care_months"]
    assert figures.completeness.extra["overall"] == complete["totaal"]["invoiced_pct"]
    dq = published(tiny_run, code, "rpt_report_dq")
    assert sorted((r["rule_id"], r["severity"], r["findings"]) for r in figures.dq) == sorted(
        (r["rule_id"], r["severity"], r["findings"]) for r in dq
    )
    referrers = sorted(
        (r for r in published(tiny_run, code, "rpt_report_referrers") if r["year"] == year),
        key=lambda r: r["referrer_type"],
    )
    assert [(r["referrer_type"], r["youths"], r["cost_eur"]) for r in figures.referrers] == [
        (r["referrer_type"], r["youths"], r["cost_eur"]) for r in referrers
    ]
    half = f"{AS_OF.year}-H{1 if AS_OF.month <= 6 else 2}"
    flow = sorted(
        (
            r
            for r in published(tiny_run, code, "rpt_report_throughput")
            if r["hulpvorm"] == "totaal" and r["half_year"] <= half
        ),
        key=lambda r: r["half_year"],
    )[-6:]
    assert figures.throughput.periods == [r["half_year"] for r in flow]
    assert figures.throughput.started == [r["started"] for r in flow]
    assert figures.dq and figures.lateness.values and figures.referrers

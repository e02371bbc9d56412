"""Fabricated contract marts (docs/contract.md §3) in a DuckDB file, for the publishing tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pyarrow as pa

AS_OF = date(2025, 10, 15)
MONTHS = [
    date(year, month, 1)
    for year in (2024, 2025)
    for month in range(1, 13)
    if date(year, month, 1) <= date(2025, 9, 1)
]

NAMES = {
    "GM0546": "Leiden",
    "GM0534": "Hillegom",
    "GM0638": "Zoeterwoude",
    "GM1884": "Kaag en Braassem",
}
PROVIDERS = {
    "11111111": "Jeugdzorg Rijnland",
    "22222222": "Kind & GGZ Holland",
    "33333333": "Woonhuis De Linde",
    "44444444": "Dyslexiepraktijk Leiden",
}
PRODUCTS = {  # product_code: (category, segment, unit volume per client per month, tariff)
    "45A48": ("45", "ambulant", Decimal("8"), Decimal("78.00")),
    "54001": ("54", "jeugd-ggz", Decimal("6"), Decimal("131.40")),
    "44A27": ("44", "verblijf", Decimal("30"), Decimal("195.91")),
}
# (municipality, provider, product) → clients per month: Leiden large, Kaag en Braassem tiny
CELLS = {
    ("GM0546", "11111111", "45A48"): 40,
    ("GM0546", "22222222", "54001"): 12,
    ("GM0546", "33333333", "44A27"): 2,
    ("GM0546", "44444444", "45A48"): 7,
    ("GM0534", "11111111", "45A48"): 9,
    ("GM0534", "22222222", "54001"): 3,
    ("GM0534", "33333333", "44A27"): 1,
    ("GM0638", "11111111", "45A48"): 6,
    ("GM0638", "22222222", "54001"): 4,
    ("GM1884", "22222222", "54001"): 2,
}
CENT = Decimal("0.01")


def money(value: Decimal | float | int) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def clients_in(cell: tuple[str, str, str], month: date) -> int:
    base = CELLS[cell]
    return base + 1 if base >= 5 and month.month % 4 == 0 else base


def cost_rows() -> list[tuple]:
    rows = []
    for cell in CELLS:
        municipality, provider, product = cell
        category, segment, volume, tariff = PRODUCTS[product]
        for month in MONTHS:
            clients = clients_in(cell, month)
            amount = money(clients * volume * tariff)
            rows.append(
                (
                    municipality,
                    provider,
                    category,
                    product,
                    segment,
                    month,
                    amount,
                    money(clients * volume),
                    clients,
                )
            )
    return rows


KPI = {  # (municipality, year): unique, non-unique, care months, total cost, intensity
    ("GM0546", 2024): (58, 61, 700, Decimal("612345.67"), 7.5),
    ("GM0546", 2025): (60, 63, 540, Decimal("498765.43"), 7.8),
    ("GM0534", 2024): (13, 13, 150, Decimal("98765.40"), 6.0),
    ("GM0534", 2025): (12, 13, 110, Decimal("77777.77"), 6.1),
    ("GM0638", 2024): (4, 5, 45, Decimal("21000.00"), 5.5),
    ("GM0638", 2025): (9, 10, 80, Decimal("40000.00"), 5.9),
    ("GM1884", 2024): (2, 2, 20, Decimal("15000.00"), 6.0),
    ("GM1884", 2025): (2, 2, 18, Decimal("14000.00"), 6.0),
}

THROUGHPUT = {  # (municipality, hulpvorm, half): youths, started, repeat, ended, by plan, running, duration
    ("GM0546", "02", "2024-H1"): (45, 12, 3, 10, 7, 35, 180.5),
    ("GM0546", "02", "2024-H2"): (47, 11, 2, 13, 9, 33, 171.0),
    ("GM0546", "02", "2025-H1"): (48, 14, 5, 9, 6, 39, 165.25),
    ("GM0546", "14", "2025-H1"): (12, 5, 0, 6, 4, 6, 240.0),
    ("GM0534", "02", "2025-H1"): (9, 3, 1, 5, 5, 4, 150.0),
    ("GM0638", "02", "2025-H1"): (6, 2, 0, 0, 0, 6, None),
    ("GM1884", "14", "2025-H1"): (2, 1, 0, 1, 1, 1, 90.0),
}
# the same trajectories of GM0546 in 2025-H1 per provider (they add up to the hulpvorm rows)
THROUGHPUT_PROVIDERS = {
    ("GM0546", "11111111", "2025-H1"): (50, 17, 5, 13, 9, 41, 190.0),
    ("GM0546", "22222222", "2025-H1"): (10, 2, 0, 2, 1, 4, 100.0),
}
HULPVORM_LABELS = {
    "02": "Jeugdhulp zonder verblijf: ambulant op locatie van de aanbieder",
    "14": "Jeugdhulp met verblijf: overig residentieel",
}

CONCENTRATION = {  # (municipality, year): clients, total cost, top-10 cost
    ("GM0546", 2024): (58, Decimal("612345.67"), Decimal("214320.98")),
    ("GM0534", 2024): (13, Decimal("98765.40"), Decimal("90123.45")),
    ("GM0638", 2024): (4, Decimal("21000.00"), Decimal("21000.00")),
    ("GM1884", 2024): (2, Decimal("15000.00"), Decimal("15000.00")),
}

REFERRERS = {  # (municipality, referrer, year): allocations, youths, cost
    ("GM0546", "01", 2025): (40, 35, Decimal("250000.00")),
    ("GM0546", "02", 2025): (22, 20, Decimal("150000.50")),
    ("GM0546", "08", 2025): (3, 3, Decimal("98000.00")),
    ("GM0534", "01", 2025): (12, 11, Decimal("70000.00")),
    ("GM0638", "02", 2025): (6, 4, Decimal("20000.00")),
}

BUDGET_CEILINGS = {
    "11111111": Decimal("900000.00"),
    "22222222": Decimal("250000.00"),
    "33333333": Decimal("250000.00"),
    "44444444": Decimal("80000.00"),
}
KEY_SHARES = {
    "GM0546": Decimal("70.5"),
    "GM0534": Decimal("15.25"),
    "GM0638": Decimal("9.25"),
    "GM1884": Decimal("5.0"),
}
PROGRAMME_BUDGET = {  # (segment, year): budget (the region's, no persons)
    ("ambulant", 2025): Decimal("700000.00"),
    ("jeugd-ggz", 2025): Decimal("300000.00"),
    ("verblijf", 2025): Decimal("150000.00"),
}
REGIONAL_BUDGET = {2024: Decimal("1000000.00"), 2025: Decimal("1150000.00")}
LOCAL_TEAM = {  # (municipality, year): team only, team then specialist, median days, without team
    ("GM0546", 2025): (31, 12, 48.0, 40),
    ("GM0534", 2025): (3, 6, 20.0, 8),  # 3 team-only youths: hidden, and the share with them
}
# (provider, category, month): delivered, weeks, waiting, open, region median, near and growing
WAITING = {
    ("11111111", "45", date(2025, 8, 1)): (True, 6.0, 14, True, 7.5, False),
    ("11111111", "45", date(2025, 9, 1)): (True, 7.0, 16, True, 8.0, False),
    ("22222222", "54", date(2025, 8, 1)): (True, 11.0, 20, False, 11.0, False),
    ("22222222", "54", date(2025, 9, 1)): (True, 13.5, 26, False, 13.5, True),
    ("33333333", "44", date(2025, 9, 1)): (True, 9.0, 3, False, 9.0, False),  # 3 waiting: hidden
    ("44444444", "45", date(2025, 8, 1)): (False, None, None, None, 7.5, False),
}
RESIDENCE = {  # (municipality, month): billed to two, overlapping, other municipality, moved
    ("GM0546", date(2025, 3, 1)): (6, 0, 5, 0),
    ("GM0546", date(2025, 6, 1)): (0, 2, 0, 7),  # 2 overlapping: hidden
    ("GM0534", date(2025, 6, 1)): (0, 0, 0, 1),
}

DDL = {
    "mart_costs_monthly": "municipality_code VARCHAR, provider_agb VARCHAR, product_category VARCHAR, "
    "product_code VARCHAR, segment VARCHAR, service_month DATE, "
    "amount_eur DECIMAL(18,2), volume DECIMAL(18,2), clients BIGINT",
    "mart_kpi_annual": "municipality_code VARCHAR, year INTEGER, unique_youths BIGINT, "
    "non_unique_youths BIGINT, care_months BIGINT, avg_months_per_youth DOUBLE, "
    "total_cost_eur DECIMAL(18,2), avg_cost_per_youth_month DECIMAL(18,2), "
    "intensity_hours_per_month DOUBLE, months_observed INTEGER, "
    "total_cost_annualised_eur DECIMAL(18,2), care_months_annualised DOUBLE, "
    "forecast_cost_eur DECIMAL(18,2), unique_youths_observed BIGINT, care_months_observed BIGINT, "
    "total_cost_observed_eur DECIMAL(18,2), previous_unique_youths_observed BIGINT, "
    "previous_care_months_observed BIGINT, previous_total_cost_observed_eur DECIMAL(18,2), "
    "unique_youths_change_pct DECIMAL(9,2), non_unique_youths_change_pct DECIMAL(9,2), "
    "care_months_change_pct DECIMAL(9,2), total_cost_change_pct DECIMAL(9,2), "
    "avg_cost_per_youth_month_change_pct DECIMAL(9,2)",
    "mart_invoice_timeliness": "provider_agb VARCHAR, service_month DATE, lines BIGINT, "
    "amount_eur DECIMAL(18,2), late_lines BIGINT, "
    "late_amount_eur DECIMAL(18,2), late_share DOUBLE, "
    "median_lag_days DOUBLE, p90_lag_days DOUBLE",
    "mart_invoicing_completeness": "provider_agb VARCHAR, municipality_code VARCHAR, "
    "service_month DATE, expected_care_months BIGINT, "
    "invoiced_care_months BIGINT, missing_care_months BIGINT, "
    "completeness_pct DOUBLE",
    "mart_budget_utilisation": "provider_agb VARCHAR, year INTEGER, budget_ceiling_eur DECIMAL(18,2), "
    "invoiced_eur DECIMAL(18,2), forecast_eur DECIMAL(18,2), "
    "utilisation_pct DOUBLE, signal VARCHAR, outside_ceilings BOOLEAN, "
    "ceiling_reached_on DATE, headroom_months DECIMAL(18,1), forecast_p10_eur DECIMAL(18,2), "
    "forecast_p90_eur DECIMAL(18,2), probability_over_ceiling DOUBLE",
    "mart_segment_budget": "segment VARCHAR, year INTEGER, budget_eur DECIMAL(18,2), "
    "invoiced_eur DECIMAL(18,2), forecast_eur DECIMAL(18,2), utilisation_pct DECIMAL(18,2), "
    "signal VARCHAR",
    "mart_local_team": "municipality_code VARCHAR, year INTEGER, youths_team_only BIGINT, "
    "youths_team_then_specialist BIGINT, median_days_team_to_specialist DOUBLE, "
    "youths_specialist_without_team BIGINT, youths_total BIGINT, team_share_pct DECIMAL(18,2)",
    "mart_waiting_times": "provider_agb VARCHAR, product_category VARCHAR, report_month DATE, "
    "delivered BOOLEAN, waiting_weeks DECIMAL(18,1), waiting_count INTEGER, "
    "capacity_open BOOLEAN, region_median_waiting_weeks DECIMAL(18,1), "
    "near_ceiling_and_growing BOOLEAN",
    "mart_residence_signals": "municipality_code VARCHAR, month DATE, months_billed_to_two INTEGER, "
    "overlapping_allocations INTEGER, invoice_other_than_allocation INTEGER, "
    "move_with_running_allocation INTEGER",
    "mart_throughput": "municipality_code VARCHAR, dimension VARCHAR, dimension_value VARCHAR, "
    "dimension_label VARCHAR, half_year VARCHAR, "
    "started BIGINT, started_repeat BIGINT, ended BIGINT, ended_by_plan BIGINT, "
    "ended_premature BIGINT, ended_unknown BIGINT, transferred_out BIGINT, "
    "running_at_end BIGINT, is_complete_period BOOLEAN, avg_duration_days_ended DOUBLE, "
    "youths BIGINT",
    "mart_accountability_reconciliation": "provider_agb VARCHAR, municipality_code VARCHAR, "
    "product_code VARCHAR, year INTEGER, "
    "accountability_amount_eur DECIMAL(18,2), "
    "invoiced_amount_eur DECIMAL(18,2), "
    "difference_eur DECIMAL(18,2), status VARCHAR, "
    "delivered_on_time BOOLEAN",
    "mart_settlement": "municipality_code VARCHAR, year INTEGER, actual_cost_eur DECIMAL(18,2), "
    "key_share_pct DECIMAL(9,4), key_based_cost_eur DECIMAL(18,2), "
    "settlement_eur DECIMAL(18,2), contribution_eur DECIMAL(18,2), "
    "regional_budget_eur DECIMAL(18,2), regional_actual_eur DECIMAL(18,2), "
    "forecast_settlement_eur DECIMAL(18,2), own_vs_key_eur DECIMAL(18,2)",
    "mart_cost_concentration": "municipality_code VARCHAR, year INTEGER, clients BIGINT, "
    "total_cost_eur DECIMAL(18,2), top10_cost_eur DECIMAL(18,2), "
    "top10_share_pct DOUBLE",
    "mart_referrers": "municipality_code VARCHAR, referrer_type VARCHAR, year INTEGER, "
    "allocations BIGINT, youths BIGINT, cost_eur DECIMAL(18,2)",
    "mart_costs_by_financing": "municipality_code VARCHAR, financing VARCHAR, "
    "product_category VARCHAR, product_category_description VARCHAR, service_month DATE, "
    "amount_eur DECIMAL(18,2), clients BIGINT, care_months BIGINT",
    "mart_clients_by_dimension": "municipality_code VARCHAR, year INTEGER, dimension VARCHAR, "
    "dimension_value VARCHAR, dimension_label VARCHAR, clients BIGINT, care_months BIGINT, "
    "amount_eur DECIMAL(18,2), amount_per_client_eur DECIMAL(18,2), "
    "clients_per_1000_youths DECIMAL(18,2), youths_0_17 BIGINT",
    "mart_youths_unknown_to_municipality": "municipality_code VARCHAR, year INTEGER, "
    "youths BIGINT, youths_unknown_to_municipality BIGINT, youths_known_to_municipality BIGINT, "
    "cost_unknown_to_municipality_eur DECIMAL(18,2)",
    "mart_cost_change": "municipality_code VARCHAR, product_category VARCHAR, "
    "product_category_description VARCHAR, year INTEGER, "
    "months_compared INTEGER, cost_eur DECIMAL(18,2), previous_cost_eur DECIMAL(18,2), "
    "clients BIGINT, previous_clients BIGINT, cost_change_eur DECIMAL(18,2), "
    "volume_effect_eur DECIMAL(18,2), intensity_effect_eur DECIMAL(18,2), "
    "price_effect_eur DECIMAL(18,2)",
    "mart_top_clients": "municipality_code VARCHAR, year INTEGER, rank INTEGER, case_key VARCHAR, "
    "amount_eur DECIMAL(18,2), providers BIGINT, products BIGINT, months_in_care BIGINT, "
    "product_codes VARCHAR",
    "mart_product_norms": "level VARCHAR, product_code VARCHAR, product_category VARCHAR, "
    "year INTEGER, provider_agb VARCHAR, months_compared INTEGER, is_complete_year BOOLEAN, "
    "clients BIGINT, care_months BIGINT, amount_eur DECIMAL(18,2), units BIGINT, "
    "amount_per_care_month_avg DECIMAL(18,2), amount_per_care_month_stddev DECIMAL(18,2), "
    "amount_per_care_month_p25 DECIMAL(18,2), amount_per_care_month_median DECIMAL(18,2), "
    "amount_per_care_month_p75 DECIMAL(18,2), units_per_care_month_avg DECIMAL(18,2), "
    "units_per_care_month_stddev DECIMAL(18,2), units_per_care_month_p25 DECIMAL(18,2), "
    "units_per_care_month_median DECIMAL(18,2), units_per_care_month_p75 DECIMAL(18,2), "
    "norm_amount_per_care_month DECIMAL(18,2), amount_index DECIMAL(9,2), "
    "units_index DECIMAL(9,2), providers_compared BIGINT, "
    "provider_median_amount_per_care_month DECIMAL(18,2), amount_robust_z DECIMAL(12,2), "
    "outlier_rule_applies BOOLEAN, is_outlier BOOLEAN, units_per_client DECIMAL(18,2), "
    "previous_clients BIGINT, previous_units_per_client DECIMAL(18,2), "
    "units_per_client_change_pct DECIMAL(9,2), units_per_client_welch_t DECIMAL(12,2), "
    "is_significant_rise BOOLEAN, previous_units BIGINT, units_change_pct DECIMAL(9,2), "
    "clients_change_pct DECIMAL(9,2), clients_growth_z DECIMAL(12,2), "
    "is_significant_volume_growth BOOLEAN",
    "dq_findings": "rule_id VARCHAR, severity VARCHAR, provider_agb VARCHAR, "
    "municipality_code VARCHAR, source_file VARCHAR, record_ref VARCHAR, message VARCHAR",
    "fct_invoice_lines": "provider_agb VARCHAR, municipality_code VARCHAR, declaration_number VARCHAR, "
    "reference_number VARCHAR, previous_reference_number VARCHAR, "
    "client_key VARCHAR, allocation_number VARCHAR, product_category VARCHAR, "
    "product_code VARCHAR, service_month DATE, volume DECIMAL(18,2), "
    "unit VARCHAR, tariff_eur DECIMAL(18,2), amount_eur DECIMAL(18,2), "
    "declaration_date DATE, is_rejected BOOLEAN, lag_days INTEGER, "
    "is_late BOOLEAN",
}


def _costs_by(rows: list[tuple], key) -> dict:
    totals: dict = {}
    for row in rows:
        totals[key(row)] = totals.get(key(row), Decimal(0)) + row[6]
    return totals


def _change(now, before) -> Decimal | None:
    return round(Decimal(100) * Decimal(now) / Decimal(before) - 100, 2) if before else None


def _like_for_like(municipality: str, year: int, unique: int, months: int, total: Decimal) -> tuple:
    """forecast, both sides of the comparison and the changes (mart_kpi_annual): 2025 is observed
    for 9 months, whose values the KPI table holds; the same months of 2024 are fabricated from
    2024's year (a youth fewer, 9/12 of its care months and cost); 2024 has no year before."""
    if year != 2025:
        return (None, unique, months, total, None, None, None, None, None, None, None, None)
    p_unique, _, p_months, p_total, _ = KPI[(municipality, 2024)]
    p_unique, p_months, p_total = p_unique - 1, p_months * 9 // 12, money(p_total * 9 / 12)
    return (
        money(total * 12 / 9 * Decimal("1.02")),
        unique,
        months,
        total,
        p_unique,
        p_months,
        p_total,
        _change(unique, p_unique),
        None,  # (not fabricated)
        _change(months, p_months),
        _change(total, p_total),
        _change(total / months, p_total / p_months),
    )


def mart_rows() -> dict[str, list[tuple]]:
    costs = cost_rows()
    rows: dict[str, list[tuple]] = {"mart_costs_monthly": costs}

    kpi = []
    for (municipality, year), (unique, non_unique, months, total, intensity) in KPI.items():
        observed = 9 if year == 2025 else 12
        annual_cost = money(total * 12 / observed) if observed < 12 else None
        annual_months = months * 12 / observed if observed < 12 else None
        kpi.append(
            (
                municipality,
                year,
                unique,
                non_unique,
                months,
                round(months / non_unique, 4),
                total,
                money(total / months),
                intensity,
                observed,
                annual_cost,
                annual_months,
                *_like_for_like(municipality, year, unique, months, total),
            )
        )
    rows["mart_kpi_annual"] = kpi

    timeliness = []
    late_rate = {"11111111": 10, "22222222": 30, "33333333": 34, "44444444": 0}
    for provider in PROVIDERS:
        for month in MONTHS:
            cells = [row for row in costs if row[1] == provider and row[5] == month]
            lines = sum(row[8] for row in cells)
            amount = sum((row[6] for row in cells), Decimal(0))
            late = lines * late_rate[provider] // 100
            late_amount = money(amount * late / lines)
            timeliness.append(
                (
                    provider,
                    month,
                    lines,
                    amount,
                    late,
                    late_amount,
                    round(late / lines, 4),
                    21.0,
                    48.5,
                )
            )
    rows["mart_invoice_timeliness"] = timeliness

    completeness = []
    for (municipality, provider, product), _ in CELLS.items():
        for month in MONTHS:
            if month.year == 2025 and month.month <= 8:
                expected = clients_in((municipality, provider, product), month)
                missing = 1 if provider == "22222222" else 0
                completeness.append(
                    (
                        provider,
                        municipality,
                        month,
                        expected,
                        expected - missing,
                        missing,
                        round(100 * (expected - missing) / expected, 2),
                    )
                )
    rows["mart_invoicing_completeness"] = completeness

    invoiced = _costs_by(costs, lambda row: (row[1], row[5].year))
    budget = []
    for provider, ceiling in BUDGET_CEILINGS.items():
        for year in (2024, 2025):
            spent = invoiced[(provider, year)]
            forecast = money(spent * 12 / 9 * Decimal("1.05")) if year == 2025 else spent
            pct = round(float(forecast / ceiling * 100), 2)
            signal = (
                "overschrijding"
                if pct > 100
                else "dreigende_overschrijding"
                if pct > 95
                else "onderbesteding"
                if pct < 80
                else "op_koers"
            )
            # a projected day the ceiling is reached for the providers above 80 % in 2025
            # (fabricated: the tests need one on a row shown and one on a row hidden)
            reached = date(2025, 12, 1 + int(pct) % 28) if year == 2025 and pct > 80 else None
            headroom = round((ceiling - forecast) / (forecast / 12), 1) if year == 2025 else None
            # an interval around the forecast (fabricated: ±8 %) and the chance of passing the
            # ceiling; a finished year has neither spread nor doubt
            spread = forecast * Decimal("0.08") if year == 2025 else Decimal(0)
            chance = (1.0 if forecast > ceiling else 0.0) if year == 2024 else min(1.0, pct / 200)
            budget.append(
                (provider, year, ceiling, spent, forecast, pct, signal, False, reached, headroom,
                 money(forecast - spread), money(forecast + spread), chance)
            )  # fmt: skip
    rows["mart_budget_utilisation"] = budget
    rows["mart_segment_budget"] = [
        (
            segment,
            year,
            amount,
            money(amount * Decimal("0.7")),
            money(amount * Decimal("0.97")),
            Decimal("97.00"),
            "dreigende_overschrijding",
        )
        for (segment, year), amount in PROGRAMME_BUDGET.items()
    ]
    rows["mart_local_team"] = [
        (
            m,
            y,
            only,
            then,
            days,
            without,
            only + then + without,
            round(Decimal(100 * only) / (only + then + without), 2),
        )
        for (m, y), (only, then, days, without) in LOCAL_TEAM.items()
    ]
    rows["mart_waiting_times"] = [
        (p, c, month, *values) for (p, c, month), values in WAITING.items()
    ]
    rows["mart_residence_signals"] = [(m, month, *v) for (m, month), v in RESIDENCE.items()]

    rows["mart_throughput"] = [
        (
            m,
            dimension,
            c,
            HULPVORM_LABELS.get(c),
            h,
            started,
            repeat,
            ended,
            by_plan,
            ended - by_plan,  # the rest premature: a small class is suppressed on its own
            0,
            0,
            running,
            True,
            duration,
            youths,
        )
        for dimension, cells in (("hulpvorm", THROUGHPUT), ("provider", THROUGHPUT_PROVIDERS))
        for (m, c, h), (
            youths,
            started,
            repeat,
            ended,
            by_plan,
            running,
            duration,
        ) in cells.items()
    ]

    by_cell_year = _costs_by(costs, lambda row: (row[1], row[0], row[3], row[5].year))
    reconciliation = []
    for (provider, municipality, product, year), amount in sorted(by_cell_year.items()):
        if year == 2024:
            difference = Decimal("0.50") if provider != "22222222" else Decimal("-250.00")
            status = "akkoord" if abs(difference) <= 1 else "verschil"
            reconciliation.append(
                (
                    provider,
                    municipality,
                    product,
                    year,
                    amount + difference,
                    amount,
                    difference,
                    status,
                    provider != "33333333",
                )
            )
    rows["mart_accountability_reconciliation"] = reconciliation

    by_municipality_year = _costs_by(costs, lambda row: (row[0], row[5].year))
    regional = _costs_by(costs, lambda row: row[5].year)
    settlement = []
    for (municipality, year), actual in sorted(by_municipality_year.items()):
        share = KEY_SHARES[municipality]
        key_based = money(regional[year] * share / 100)
        budget = REGIONAL_BUDGET[year]
        settlement.append(
            (
                municipality,
                year,
                actual,
                share,
                key_based,
                money(share * (regional[year] - budget) / 100),
                money(share * budget / 100),
                budget,
                regional[year],
                None,
                actual - key_based,
            )
        )
    rows["mart_settlement"] = settlement

    rows["mart_cost_concentration"] = [
        (m, y, clients, total, top10, round(float(top10 / total * 100), 2))
        for (m, y), (clients, total, top10) in CONCENTRATION.items()
    ]
    rows["mart_referrers"] = [
        (m, r, y, allocations, youths, cost)
        for (m, r, y), (allocations, youths, cost) in REFERRERS.items()
    ]
    rows.update(municipal_question_rows(costs))
    rows["dq_findings"] = [
        ("9346", "error", "22222222", "GM0546", "landing/ijw/a.xml", "ref-1", "bedrag 10 ≠ 2 × 4"),
        ("9346", "error", "22222222", "GM0546", "landing/ijw/a.xml", "ref-2", "bedrag 11 ≠ 2 × 4"),
        ("9346", "error", "22222222", "GM0534", "landing/ijw/b.xml", "ref-3", "bedrag 12 ≠ 2 × 4"),
        ("0611", "warn", "11111111", "GM0546", "landing/ijw/c.xml", "ref-4", "tarief 80 ≠ 78"),
        ("8214", "warn", "33333333", "GM0638", "landing/ijw/d.xml", "ref-5", "gat in periodes"),
        ("file_unreadable", "error", None, None, "landing/reference/x.csv", None, "geen header"),
    ]
    rows["fct_invoice_lines"] = [
        (
            "22222222",
            "GM0546",
            "D1",
            "R1",
            None,
            "a" * 32,
            "T1",
            "54",
            "54001",
            date(2025, 1, 1),
            Decimal("6"),
            "04",
            Decimal("131.40"),
            Decimal("788.40"),
            date(2025, 2, 3),
            False,
            3,
            False,
        ),
    ]
    return rows


def municipal_question_rows(costs: list[tuple]) -> dict[str, list[tuple]]:
    """The issue-17 marts, fabricated from the cost cells: ZIN only (no PGB here), one year's
    figures per municipality and category, its top clients under made-up case keys."""
    by_category: dict[tuple, tuple[Decimal, int]] = {}
    for m, _, category, _, _, month, amount, _, clients in costs:
        total, persons = by_category.get((m, category, month), (Decimal(0), 0))
        by_category[(m, category, month)] = (total + amount, persons + clients)
    financing = [
        (m, "ZIN", category, CATEGORY_NAMES[category], month, amount, clients, clients)
        for (m, category, month), (amount, clients) in sorted(by_category.items())
    ]
    yearly: dict[tuple, list] = {}
    for (m, category, month), (amount, clients) in by_category.items():
        cell = yearly.setdefault((m, month.year, category), [Decimal(0), 0, 0])
        cell[0] += amount
        cell[1] = max(cell[1], clients)
        cell[2] += clients
    dimension = [
        (m, y, "product_category", category, CATEGORY_NAMES[category], clients, months, amount,
         money(amount / clients), money(Decimal(clients) * 1000 / 4000), 4000)
        for (m, y, category), (amount, clients, months) in sorted(yearly.items())
    ]  # fmt: skip
    youths: dict[tuple[str, int], int] = {}
    for (m, y, _), (_, clients, _) in yearly.items():
        youths[(m, y)] = youths.get((m, y), 0) + clients
    # everyone here came through the municipality: nobody unknown to it
    unknown = [(m, y, n, 0, n, Decimal(0)) for (m, y), n in sorted(youths.items())]
    change = [
        (m, category, CATEGORY_NAMES[category], 2025, 9, amount, before[0], clients, before[1], amount - before[0],
         amount - before[0], Decimal(0), Decimal(0))
        for (m, y, category), (amount, clients, _) in sorted(yearly.items())
        if y == 2025 and (before := yearly.get((m, 2024, category)))
    ]  # fmt: skip
    top = [
        (m, 2025, rank, f"{m[2:]}{rank:012x}", money(Decimal(1000) * (11 - rank)), 1, 1, 9,
         "45A48")
        for m in NAMES
        for rank in range(1, 11)
    ]  # fmt: skip
    return {
        "mart_costs_by_financing": financing,
        "mart_clients_by_dimension": dimension,
        "mart_youths_unknown_to_municipality": unknown,
        "mart_cost_change": change,
        "mart_top_clients": top,
        "mart_product_norms": product_norm_rows(),
    }


def product_norm_rows() -> list[tuple]:
    """mart_product_norms for 2025 (January–September against the same months of 2024): on 45A48
    Dyslexiepraktijk Leiden (44444444) bills 20 hours a care month against the usual 8 (an
    outlier; the rule counted five qualifying providers, of which this slice shows two) and the
    product's clients grew significantly; on 54001 Kind & GGZ Holland's units per client rose
    significantly; 44A27 has 3 clients (a small cell)."""
    d = Decimal
    head = ("product", "provider")

    def row(level, product, provider, clients, months, amount, units, spread, norm, index,
            outlier, per_client, previous, change):  # fmt: skip
        category = PRODUCTS[product][0]
        return (
            (head[level], product, category, 2025, provider, 9, False, clients, months)
            + (d(amount), units, *map(d, spread), d(norm), *map(d, index))
            + outlier
            + (d(per_client), *previous, *change)
        )

    def product(compared, median):  # the product rows carry the providers compared, no flag
        return (compared, None if median is None else d(median), None, False, False)

    return [  # spread: amount avg, sd, p25, median, p75, then units; index: amount, units
        row(0, "45A48", None, 72, 585, "449280.00", 5760,
            ("768.00", "338.00", "624.00", "624.00", "624.00", "9.85", "4.33", "8", "8", "8"),
            "768.00", ("100.00", "100.00"), product(5, "640.00"), "80.00",
            (50, d("78.00")), (d("2.56"), d("0.40"), False, 3900, d("47.69"), d("44.00"),
                               d("1.99"), True)),
        row(1, "45A48", "11111111", 60, 495, "308880.00", 3960,
            ("624.00", "0.00", "624.00", "624.00", "624.00", "8", "0", "8", "8", "8"),
            "768.00", ("81.25", "81.25"), (5, d("640.00"), d("-0.27"), True, False), "66.00",
            (44, d("64.00")), (d("3.13"), d("0.50"), False, 2816, d("40.63"), d("36.36"),
                               d("1.57"), False)),
        row(1, "45A48", "44444444", 12, 90, "140400.00", 1800,
            ("1560.00", "0.00", "1560.00", "1560.00", "1560.00", "20", "0", "20", "20", "20"),
            "768.00", ("203.12", "203.12"), (5, d("640.00"), d("15.51"), True, True), "150.00",
            (6, d("150.00")), (d("0.00"), None, False, 900, d("100.00"), d("100.00"),
                               d("1.41"), False)),
        row(0, "54001", None, 21, 171, "149007.60", 1134,
            ("871.39", "120.50", "788.40", "788.40", "919.80", "6.63", "0.92", "6", "6", "7"),
            "871.39", ("100.00", "100.00"), product(1, "871.39"), "54.00",
            (20, d("40.00")), (d("35.00"), d("2.80"), True, 800, d("41.75"), d("5.00"),
                               d("0.16"), False)),
        row(1, "54001", "22222222", 21, 171, "149007.60", 1134,
            ("871.39", "120.50", "788.40", "788.40", "919.80", "6.63", "0.92", "6", "6", "7"),
            "871.39", ("100.00", "100.00"), (1, d("871.39"), None, False, False), "54.00",
            (20, d("40.00")), (d("35.00"), d("2.80"), True, 800, d("41.75"), d("5.00"),
                               d("0.16"), False)),
        row(0, "44A27", None, 3, 27, "158687.10", 810,
            ("5877.30", "0.00", "5877.30", "5877.30", "5877.30", "30", "0", "30", "30", "30"),
            "5877.30", ("100.00", "100.00"), product(0, None), "270.00",
            (3, d("270.00")), (d("0.00"), None, False, 810, d("0.00"), d("0.00"), d("0.00"),
                               False)),
        row(1, "44A27", "33333333", 3, 27, "158687.10", 810,
            ("5877.30", "0.00", "5877.30", "5877.30", "5877.30", "30", "0", "30", "30", "30"),
            "5877.30", ("100.00", "100.00"), (0, None, None, False, False), "270.00",
            (3, d("270.00")), (d("0.00"), None, False, 810, d("0.00"), d("0.00"), d("0.00"),
                               False)),
    ]  # fmt: skip


CATEGORY_NAMES = {
    "45": "Jeugdhulp ambulant",
    "54": "Jeugd-ggz",
    "44": "Jeugdhulp verblijf (excl. behandeling)",
}


# the names publication.rpt_labels gives the codes (dbt_project/models/publication/rpt_labels.sql):
# product 44A27 has none (a code without a label publishes an empty name), nor referrer '08'
PRODUCT_NAMES = {
    "45A48": "Ambulante jeugdhulp individueel",
    "54001": "Jeugd-ggz behandeling",
}
SEGMENT_NAMES = {
    "ambulant": "Ambulante jeugdhulp",
    "jeugd-ggz": "Jeugd-ggz",
    "verblijf": "Jeugdhulp met verblijf",
    "totaal": "Alle segmenten",
}
REFERRER_NAMES = {"01": "Gemeente", "02": "Huisarts", "03": "Jeugdarts"}


def label_rows() -> list[tuple[str, str, str]]:
    """(kind, code, label) as publication.rpt_labels has them."""
    kinds = {
        "municipality": {**NAMES, "regio": "Regio (alle gemeenten)"},
        "provider": {**PROVIDERS, "totaal": "Alle aanbieders"},
        "product_category": {**CATEGORY_NAMES, "totaal": "Alle productcategorieën"},
        "product": PRODUCT_NAMES,
        "segment": SEGMENT_NAMES,
        "referrer_type": REFERRER_NAMES,
    }
    return [(kind, code, label) for kind, names in kinds.items() for code, label in names.items()]


def build_labels(con: duckdb.DuckDBPyConnection) -> None:
    """publication.rpt_labels: kind × code → Dutch name."""
    con.execute("CREATE TABLE publication.rpt_labels (kind VARCHAR, code VARCHAR, label VARCHAR)")
    con.executemany("INSERT INTO publication.rpt_labels VALUES (?, ?, ?)", label_rows())


def person_rows() -> list[tuple]:
    """The fabricated persons behind CELLS: person i of a cell is in care in every month the cell
    has more than i clients, at the product's volume × tariff a month. (municipality, provider,
    category, segment, service_month, person, amount)."""
    rows = []
    for cell in CELLS:
        municipality, provider, product = cell
        category, segment, volume, tariff = PRODUCTS[product]
        for month in MONTHS:
            for person in range(clients_in(cell, month)):
                rows.append(
                    (
                        municipality,
                        provider,
                        category,
                        segment,
                        month,
                        f"{municipality}-{provider}-{product}-{person}",
                        money(volume * tariff),
                    )
                )
    return rows


# the publication models as dbt builds them (dbt_project/models/publication/), over person_rows()
_PUBLICATION = {
    "rpt_costs_provider_year": (
        "coalesce(municipality_code, 'regio') AS municipality_code, "
        "coalesce(provider_agb, 'totaal') AS provider_agb, year",
        "(municipality_code, provider_agb, year), (municipality_code, year), "
        "(provider_agb, year), (year)",
        "municipality_code, municipality_name, provider_agb, "
        "CASE WHEN provider_agb = 'totaal' THEN 'Alle aanbieders' ELSE p.name END AS provider_name,"
        " year, persons, amount_eur",
        "LEFT JOIN providers p ON p.agb = g.provider_agb",
    ),
    "rpt_costs_product_year": (
        "coalesce(municipality_code, 'regio') AS municipality_code, "
        "coalesce(product_category, 'totaal') AS product_category, year",
        "(municipality_code, product_category, year), (municipality_code, year), "
        "(product_category, year), (year)",
        "municipality_code, municipality_name, product_category, "
        "CASE WHEN product_category = 'totaal' THEN 'Alle productcategorieën' ELSE c.name END "
        "AS product_category_name, year, persons, amount_eur",
        "LEFT JOIN categories c ON c.code = g.product_category",
    ),
    "rpt_costs_segment_month": (
        "coalesce(municipality_code, 'regio') AS municipality_code, "
        "coalesce(segment, 'totaal') AS segment, year, coalesce(month, 'jaar') AS month",
        "(municipality_code, segment, year, month), (municipality_code, segment, year), "
        "(municipality_code, year, month), (municipality_code, year), (segment, year, month), "
        "(segment, year), (year, month), (year)",
        "municipality_code, municipality_name, segment, segment AS segment_name, year, month, "
        "CASE WHEN month = 'jaar' THEN 'Heel jaar' ELSE 'maand ' || month END AS month_name, "
        "persons, amount_eur",
        "",
    ),
}


def build_publication(con: duckdb.DuckDBPyConnection) -> None:
    """Schema `publication` with the rpt_* tables, distinct persons counted per cell."""
    con.execute("CREATE SCHEMA publication")
    people = pa.table(
        {
            name: pa.array(list(column))
            for name, column in zip(
                (
                    "municipality_code",
                    "provider_agb",
                    "product_category",
                    "segment",
                    "service_month",
                    "person",
                    "amount_eur",
                ),
                zip(*person_rows()),
            )
        }
    )
    con.register("people_batch", people)
    con.execute(
        "CREATE TEMP TABLE people AS SELECT *, year(service_month) AS year, "
        "lpad(CAST(month(service_month) AS VARCHAR), 2, '0') AS month FROM people_batch"
    )
    con.unregister("people_batch")
    con.execute("CREATE TEMP TABLE providers (agb VARCHAR, name VARCHAR)")
    con.executemany("INSERT INTO providers VALUES (?, ?)", list(PROVIDERS.items()))
    con.execute("CREATE TEMP TABLE categories (code VARCHAR, name VARCHAR)")
    con.executemany("INSERT INTO categories VALUES (?, ?)", list(CATEGORY_NAMES.items()))
    con.execute("CREATE TEMP TABLE names (code VARCHAR, name VARCHAR)")
    con.executemany(
        "INSERT INTO names VALUES (?, ?)",
        list(NAMES.items()) + [("regio", "Regio (alle gemeenten)")],
    )
    for table, (keys, sets, columns, join) in _PUBLICATION.items():
        con.execute(
            f"CREATE TABLE publication.{table} AS SELECT {columns} FROM ("
            f"SELECT {keys}, count(DISTINCT person) AS persons, "
            f"CAST(sum(amount_eur) AS DECIMAL(18, 2)) AS amount_eur FROM people "
            f"GROUP BY GROUPING SETS ({sets})) g "
            f"LEFT JOIN (SELECT code, name AS municipality_name FROM names) m "
            f"ON m.code = g.municipality_code {join}"
        )


def build_report_kpi(con: duckdb.DuckDBPyConnection) -> None:
    """rpt_report_kpi as dbt builds it: the mart's rows, and the region ('regio') summed with the
    like-for-like changes of the sides summed over the municipalities that have both."""
    sides = (
        "unique_youths_observed IS NOT NULL AND previous_unique_youths_observed IS NOT NULL AND "
        "care_months_observed IS NOT NULL AND previous_care_months_observed IS NOT NULL AND "
        "total_cost_observed_eur IS NOT NULL AND previous_total_cost_observed_eur IS NOT NULL"
    )

    def both(column: str) -> str:
        return f"sum(CASE WHEN {sides} THEN {column} END)"

    def change(now: str, before: str) -> str:
        return (
            f"CASE WHEN {both(before)} > 0 THEN round(100.0 * {both(now)} / {both(before)} - 100, "
            "2) END"
        )

    common = (
        "months_observed, unique_youths, non_unique_youths, care_months, "
        "care_months_annualised, total_cost_eur, total_cost_annualised_eur, forecast_cost_eur"
    )
    con.execute(
        "CREATE TABLE publication.rpt_report_kpi AS SELECT k.municipality_code, "
        "coalesce(n.name, k.municipality_code) AS municipality_name, CAST(year AS INTEGER) AS "
        f"year, {common}, CAST(avg_months_per_youth AS DOUBLE) AS avg_months_per_youth, "
        "CAST(CASE WHEN non_unique_youths > 0 THEN 1.0 * care_months_annualised / "
        "non_unique_youths END AS DOUBLE) AS avg_months_per_youth_annualised, "
        "CAST(avg_cost_per_youth_month AS DOUBLE) AS avg_cost_per_youth_month, "
        "CAST(intensity_hours_per_month AS DOUBLE) AS intensity_hours_per_month, "
        "CAST(unique_youths_change_pct AS DOUBLE) AS unique_youths_change_pct, "
        "CAST(non_unique_youths_change_pct AS DOUBLE) AS non_unique_youths_change_pct, "
        "CAST(care_months_change_pct AS DOUBLE) AS care_months_change_pct, "
        "CAST(total_cost_change_pct AS DOUBLE) AS total_cost_change_pct, "
        "CAST(avg_cost_per_youth_month_change_pct AS DOUBLE) AS "
        "avg_cost_per_youth_month_change_pct, municipalities_left_out FROM ("
        f"SELECT municipality_code, year, {common}, avg_months_per_youth, "
        "avg_cost_per_youth_month, intensity_hours_per_month, unique_youths_change_pct, "
        "non_unique_youths_change_pct, care_months_change_pct, total_cost_change_pct, "
        "avg_cost_per_youth_month_change_pct, CAST(NULL AS BIGINT) AS municipalities_left_out "
        "FROM marts.mart_kpi_annual UNION ALL "
        "SELECT 'regio', year, max(months_observed), sum(unique_youths), sum(non_unique_youths), "
        "sum(care_months), sum(care_months_annualised), sum(total_cost_eur), "
        "sum(total_cost_annualised_eur), sum(forecast_cost_eur), "
        "1.0 * sum(care_months) / nullif(sum(non_unique_youths), 0), "
        "1.0 * sum(total_cost_eur) / nullif(sum(care_months), 0), NULL, "
        f"{change('unique_youths_observed', 'previous_unique_youths_observed')}, NULL, "
        f"{change('care_months_observed', 'previous_care_months_observed')}, "
        f"{change('total_cost_observed_eur', 'previous_total_cost_observed_eur')}, "
        f"CASE WHEN {both('care_months_observed')} > 0 AND "
        f"{both('previous_care_months_observed')} > 0 AND "
        f"{both('previous_total_cost_observed_eur')} > 0 THEN round(100.0 * "
        f"({both('total_cost_observed_eur')} / {both('care_months_observed')}) / "
        f"({both('previous_total_cost_observed_eur')} / "
        f"{both('previous_care_months_observed')}) - 100, 2) END, "
        f"count(*) FILTER (WHERE NOT ({sides})) FROM marts.mart_kpi_annual GROUP BY year) k "
        "LEFT JOIN names n ON n.code = k.municipality_code"
    )


def build_report_models(con: duckdb.DuckDBPyConnection, omit: set[str]) -> None:
    """rpt_report_monthly and rpt_report_budget as dbt builds them, over person_rows() and the
    fabricated budget marts: nothing still coming in (no steering history), the forecast per
    provider forecast / invoiced of mart_budget_utilisation (else × 12 / months observed).
    Without mart_budget_utilisation or mart_settlement dbt cannot build rpt_report_budget."""
    con.execute(
        "CREATE TEMP TABLE observed AS SELECT * FROM people "
        f"WHERE service_month <= DATE '{AS_OF.replace(day=1)}'"
    )
    con.execute(
        "CREATE TABLE publication.rpt_report_monthly AS SELECT g.municipality_code, "
        "coalesce(n.name, g.municipality_code) AS municipality_name, CAST(year AS INTEGER) AS year,"
        " CAST(month AS INTEGER) AS month, 'maand ' || month AS month_name, service_month, "
        "amount_eur, persons, CAST(sum(amount_eur) OVER (PARTITION BY g.municipality_code, year "
        "ORDER BY month) AS DECIMAL(18, 2)) AS cumulative_eur, false AS is_still_coming_in, "
        "CAST(NULL AS DECIMAL(18, 2)) AS expected_final_eur FROM ("
        "SELECT coalesce(municipality_code, 'regio') AS municipality_code, year, month, "
        "service_month, count(DISTINCT person) AS persons, "
        "CAST(sum(amount_eur) AS DECIMAL(18, 2)) AS amount_eur FROM observed GROUP BY GROUPING "
        "SETS ((municipality_code, year, month, service_month), (year, month, service_month))) g "
        "LEFT JOIN names n ON n.code = g.municipality_code"
    )
    if "mart_kpi_annual" not in omit:
        build_report_kpi(con)
    if "mart_accountability_reconciliation" not in omit:
        # as models/publication/rpt_report_accountability.sql: per target, provider and year
        con.execute(
            "CREATE TABLE publication.rpt_report_accountability AS WITH r AS (SELECT "
            "municipality_code, provider_agb, year, accountability_amount_eur, "
            "invoiced_amount_eur, difference_eur, status, delivered_on_time FROM "
            "marts.mart_accountability_reconciliation UNION ALL SELECT 'regio', provider_agb, "
            "year, accountability_amount_eur, invoiced_amount_eur, difference_eur, status, "
            "delivered_on_time FROM marts.mart_accountability_reconciliation), g AS (SELECT "
            "municipality_code, coalesce(provider_agb, 'totaal') AS provider_agb, year, "
            "sum(accountability_amount_eur) AS a, sum(invoiced_amount_eur) AS i, "
            "sum(difference_eur) AS d, sum(abs(difference_eur)) AS ad, count(*) AS n, "
            "count(*) FILTER (WHERE status = 'akkoord') AS ok, count(*) FILTER (WHERE status = "
            "'verschil') AS v, count(*) FILTER (WHERE status = 'geen_verantwoording') AS gv, "
            "count(*) FILTER (WHERE status = 'geen_declaraties') AS gd, "
            "bool_and(delivered_on_time) AS on_time FROM r GROUP BY GROUPING SETS "
            "((municipality_code, provider_agb, year), (municipality_code, year))) SELECT "
            "g.municipality_code, g.provider_agb, CASE WHEN g.provider_agb = 'totaal' THEN "
            "'Alle aanbieders' ELSE coalesce(p.name, 'AGB ' || g.provider_agb) END AS "
            "provider_name, CAST(year AS INTEGER) AS year, CAST(a AS DECIMAL(18, 2)) AS "
            "accountability_amount_eur, CAST(i AS DECIMAL(18, 2)) AS invoiced_amount_eur, "
            "CAST(d AS DECIMAL(18, 2)) AS difference_eur, CAST(ad AS DECIMAL(18, 2)) AS "
            "absolute_difference_eur, n AS products, ok AS products_akkoord, v AS "
            "products_verschil, gv AS products_geen_verantwoording, gd AS "
            "products_geen_declaraties, CASE WHEN v > 0 THEN 'verschil' WHEN gv > 0 THEN "
            "'geen verantwoording' WHEN gd > 0 THEN 'geen declaraties' ELSE 'akkoord' END AS "
            "status, on_time AS delivered_on_time FROM g LEFT JOIN providers p ON p.agb = "
            "g.provider_agb"
        )
    if not omit & {"mart_invoice_timeliness", "mart_costs_monthly"}:
        con.execute(
            "CREATE TABLE publication.rpt_report_lateness AS WITH t AS (SELECT provider_agb, "
            "year(service_month) AS year, sum(lines) AS lines, sum(late_lines) AS late_lines "
            "FROM marts.mart_invoice_timeliness GROUP BY ALL), tp AS (SELECT DISTINCT "
            "municipality_code, provider_agb FROM marts.mart_costs_monthly UNION ALL SELECT "
            "DISTINCT 'regio', provider_agb FROM t), g AS (SELECT municipality_code, "
            "coalesce(t.provider_agb, 'totaal') AS provider_agb, year, sum(lines) AS lines, "
            "sum(coalesce(late_lines, 0)) AS late_lines FROM tp JOIN t USING (provider_agb) "
            "GROUP BY GROUPING SETS ((municipality_code, t.provider_agb, year), "
            "(municipality_code, year))) SELECT g.municipality_code, g.provider_agb, "
            "CASE WHEN g.provider_agb = 'totaal' THEN 'Alle aanbieders' ELSE coalesce(p.name, "
            "'AGB ' || g.provider_agb) END AS provider_name, CAST(year AS INTEGER) AS year, "
            "CAST(lines AS BIGINT) AS lines, CAST(late_lines AS BIGINT) AS late_lines, "
            "CASE WHEN lines > 0 THEN 100.0 * late_lines / lines END AS late_pct FROM g "
            "LEFT JOIN providers p ON p.agb = g.provider_agb"
        )
    if "mart_referrers" not in omit:
        con.execute(
            "CREATE TABLE publication.rpt_report_referrers AS SELECT coalesce(municipality_code, "
            "'regio') AS municipality_code, year, referrer_type, NULL::VARCHAR AS "
            "referrer_description, CAST(sum(allocations) AS BIGINT) AS allocations, "
            "CAST(sum(youths) AS BIGINT) AS youths, CAST(sum(cost_eur) AS DECIMAL(18, 2)) AS "
            "cost_eur FROM marts.mart_referrers GROUP BY GROUPING SETS ((municipality_code, "
            "year, referrer_type), (year, referrer_type))"
        )
    if "mart_throughput" not in omit:
        con.execute(
            "CREATE TABLE publication.rpt_report_throughput AS WITH c AS (SELECT half_year, "
            "bool_and(is_complete_period) AS is_complete_period FROM marts.mart_throughput "
            "GROUP BY half_year), g AS (SELECT coalesce(municipality_code, 'regio') AS "
            "municipality_code, half_year, coalesce(dimension_value, 'totaal') AS hulpvorm, "
            "max(dimension_label) AS label, sum(youths) AS youths, sum(started) AS started, "
            "sum(started_repeat) AS started_repeat, sum(ended) AS ended, sum(ended_by_plan) AS "
            "ended_by_plan, sum(ended_premature) AS ended_premature, sum(running_at_end) AS "
            "running_at_end, sum(avg_duration_days_ended * ended) AS days FROM "
            "marts.mart_throughput WHERE dimension = 'hulpvorm' GROUP BY GROUPING SETS "
            "((municipality_code, half_year, dimension_value), (municipality_code, half_year), "
            "(half_year, dimension_value), (half_year))) SELECT g.municipality_code, "
            "g.half_year, g.hulpvorm, CASE WHEN g.hulpvorm = 'totaal' THEN 'Alle hulpvormen' "
            "ELSE g.label END AS hulpvorm_label, CAST(youths AS BIGINT) AS youths, "
            "CAST(started AS BIGINT) AS started, CAST(started_repeat AS BIGINT) AS "
            "started_repeat, CAST(ended AS BIGINT) AS ended, CAST(ended_by_plan AS BIGINT) AS "
            "ended_by_plan, CAST(ended_premature AS BIGINT) AS ended_premature, "
            "CAST(running_at_end AS BIGINT) AS running_at_end, CASE WHEN ended > 0 THEN "
            "days / ended END AS avg_duration_days_ended, c.is_complete_period FROM g "
            "LEFT JOIN c USING (half_year)"
        )
    if "dq_findings" not in omit:
        con.execute(
            "CREATE TABLE publication.dq_findings_summary AS SELECT municipality_code, "
            "provider_agb, rule_id, severity, count(*) AS findings FROM marts.dq_findings "
            "WHERE rule_id NOT LIKE 'residence%' GROUP BY ALL"
        )
        con.execute(
            "CREATE TABLE publication.rpt_report_dq AS SELECT municipality_code, rule_id, "
            "severity, count(*) AS findings, count(DISTINCT provider_agb) AS providers FROM ("
            "SELECT municipality_code, rule_id, severity, provider_agb FROM marts.dq_findings "
            "WHERE municipality_code IS NOT NULL UNION ALL SELECT 'regio', rule_id, severity, "
            "provider_agb FROM marts.dq_findings) WHERE rule_id NOT LIKE 'residence%' GROUP BY ALL"
        )
    if "mart_invoicing_completeness" not in omit:
        con.execute(
            "CREATE TABLE publication.rpt_report_completeness AS WITH g AS (SELECT "
            "coalesce(municipality_code, 'regio') AS municipality_code, coalesce(provider_agb, "
            "'totaal') AS provider_agb, year(service_month) AS year, sum(expected_care_months) "
            "AS expected, sum(invoiced_care_months) AS invoiced, sum(missing_care_months) AS "
            "missing FROM marts.mart_invoicing_completeness GROUP BY GROUPING SETS "
            "((municipality_code, provider_agb, year(service_month)), (municipality_code, "
            "year(service_month)), (provider_agb, year(service_month)), (year(service_month)))) "
            "SELECT g.municipality_code, g.provider_agb, CASE WHEN g.provider_agb = 'totaal' THEN "
            "'Alle aanbieders' ELSE coalesce(p.name, 'AGB ' || g.provider_agb) END AS "
            "provider_name, CAST(year AS INTEGER) AS year, CAST(expected AS BIGINT) AS "
            "expected_care_months, CAST(invoiced AS BIGINT) AS invoiced_care_months, "
            "CAST(missing AS BIGINT) AS missing_care_months, CASE WHEN expected > 0 THEN 100.0 * "
            "coalesce(invoiced, 0) / expected END AS invoiced_pct FROM g "
            "LEFT JOIN providers p ON p.agb = g.provider_agb"
        )
    if omit & {"mart_budget_utilisation", "mart_settlement"}:
        return
    con.execute(
        "CREATE TABLE publication.rpt_report_budget AS WITH "
        "actuals AS (SELECT coalesce(municipality_code, 'regio') AS municipality_code, year, "
        "count(DISTINCT person) AS persons, sum(amount_eur) AS actual_eur FROM observed "
        "GROUP BY GROUPING SETS ((municipality_code, year), (year))), "
        "own AS (SELECT coalesce(municipality_code, 'regio') AS municipality_code, provider_agb, "
        "year, sum(amount_eur) AS amount_eur FROM observed "
        "GROUP BY GROUPING SETS ((municipality_code, provider_agb, year), (provider_agb, year))), "
        "months AS (SELECT year, count(DISTINCT service_month) AS months_observed FROM observed "
        "GROUP BY year), "
        "factors AS (SELECT provider_agb, year, CASE WHEN invoiced_eur > 0 "
        "THEN 1.0 * forecast_eur / invoiced_eur END AS factor FROM marts.mart_budget_utilisation), "
        "ceilings AS (SELECT year, sum(budget_ceiling_eur) AS ceilings_eur "
        "FROM marts.mart_budget_utilisation GROUP BY year), "
        "forecasts AS (SELECT own.municipality_code, own.year, sum(own.amount_eur * "
        "coalesce(factors.factor, 12.0 / months.months_observed)) AS forecast_eur, "
        "count(*) FILTER (WHERE factors.factor IS NULL) AS without FROM own "
        "LEFT JOIN factors USING (provider_agb, year) LEFT JOIN months USING (year) "
        "GROUP BY ALL), "
        "budgets AS (SELECT a.*, c.ceilings_eur, CASE WHEN a.municipality_code = 'regio' "
        "THEN 100 ELSE s.key_share_pct END AS key_share_pct, CASE WHEN a.municipality_code = "
        "'regio' THEN c.ceilings_eur ELSE c.ceilings_eur * s.key_share_pct / 100 END AS budget, "
        "f.forecast_eur, f.without, m.months_observed FROM actuals a "
        "LEFT JOIN ceilings c USING (year) LEFT JOIN marts.mart_settlement s "
        "ON s.municipality_code = a.municipality_code AND s.year = a.year "
        "LEFT JOIN forecasts f ON f.municipality_code = a.municipality_code AND f.year = a.year "
        "LEFT JOIN months m ON m.year = a.year) "
        "SELECT b.municipality_code, coalesce(n.name, b.municipality_code) AS municipality_name, "
        "CAST(b.year AS INTEGER) AS year, b.year = max(b.year) OVER () AS is_report_year, "
        "b.persons, CAST(b.actual_eur AS DECIMAL(18, 2)) AS actual_eur, "
        "CAST(b.ceilings_eur AS DECIMAL(18, 2)) AS ceilings_eur, "
        "CAST(b.key_share_pct AS DECIMAL(9, 4)) AS key_share_pct, "
        "CAST(b.budget AS DECIMAL(18, 2)) AS ceiling_budget_eur, CASE "
        "WHEN b.ceilings_eur IS NULL THEN 'geen_plafonds' WHEN b.key_share_pct IS NULL "
        "THEN 'geen_verdeelsleutel' ELSE 'ok' END AS budget_status, "
        "CAST(b.forecast_eur AS DECIMAL(18, 2)) AS forecast_eur, 'per aanbieder de regionale "
        "jaarprognose (inclusief nog niet gedeclareerde zorg), naar rato van de eigen kosten' || "
        "CASE WHEN b.without > 0 THEN '; ' || b.without || ' aanbieder(s) zonder prognose "
        "doorgetrokken × 12/' || b.months_observed ELSE '' END AS forecast_method, "
        "b.without AS providers_without_forecast, b.months_observed, "
        "CAST(CASE WHEN b.budget > 0 THEN round(100 * b.forecast_eur / b.budget, 2) END "
        "AS DECIMAL(18, 2)) AS utilisation_pct, CASE WHEN b.budget IS NULL THEN NULL "
        "WHEN 100 * b.forecast_eur / b.budget > 100 THEN 'overschrijding' "
        "WHEN 100 * b.forecast_eur / b.budget > 95 THEN 'dreigende_overschrijding' "
        "WHEN 100 * b.forecast_eur / b.budget < 80 THEN 'onderbesteding' ELSE 'op_koers' END "
        "AS signal FROM budgets b LEFT JOIN names n ON n.code = b.municipality_code"
    )


def build_warehouse(path: Path, *, omit: Iterable[str] = (), names: bool = True) -> Path:
    """A warehouse.duckdb with schema `marts` (all contract marts but `omit`), schema
    `publication` (the rpt_* tables and rpt_labels; omit "publication" to leave it out, or
    "rpt_labels" for a warehouse from before the names) and name lookups."""
    path.parent.mkdir(parents=True, exist_ok=True)
    omit = set(omit)
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE SCHEMA marts")
        for table, rows in mart_rows().items():
            if table in omit:
                continue
            con.execute(f"CREATE TABLE marts.{table} ({DDL[table]})")
            if rows:
                # one columnar insert: row-by-row executemany takes seconds
                batch = pa.table(
                    {f"c{i}": pa.array(list(column)) for i, column in enumerate(zip(*rows))}
                )
                con.register("batch", batch)
                con.execute(f"INSERT INTO marts.{table} SELECT * FROM batch")
                con.unregister("batch")
        if "publication" not in omit:
            build_publication(con)
            build_report_models(con, omit)
            if "rpt_labels" not in omit:
                build_labels(con)
        if names:
            con.execute("CREATE SCHEMA seeds")
            con.execute(
                "CREATE TABLE seeds.municipalities (municipality_code VARCHAR, "
                "municipality_name VARCHAR)"
            )
            con.executemany(
                "INSERT INTO seeds.municipalities VALUES (?, ?)",
                [(code[2:], name) for code, name in NAMES.items()] + [("0626", "Voorschoten")],
            )
            con.execute("CREATE SCHEMA staging")
            con.execute(
                "CREATE TABLE staging.stg_reference__providers (agb_code VARCHAR, "
                "name VARCHAR, contract_type VARCHAR)"
            )
            con.executemany(
                "INSERT INTO staging.stg_reference__providers VALUES (?, ?, 'raamcontract')",
                list(PROVIDERS.items()),
            )
    finally:
        con.close()
    return path

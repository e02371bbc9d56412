"""The KPI table compares like with like on the region profile as of 4 December (issue 15).

On 4 December the running year's November is barely invoiced. The KPI change of the running year
must then have the sign of the change of the months both years have complete (their invoice
deadline passed: January-October), recomputed here from the archived iJw messages, not the
sign of year to date × 12/11 against the whole year before. Two years of the region profile
(seed 7), ingested, and dbt builds only mart_kpi_annual and what it needs (a few minutes; the
unit tests of the rule run with the tiny profile's dbt build).

Measured (5 December 2026): the region's cost January-October 2026 € 76,431,885.55 against
€ 73,625,062.38 in January-October 2025, +3.81 % in the KPI table and in the archive; year to
date × 12/11 against the whole of 2025 would say −5.99 %. Leiden (GM0546): € 12,493,539.87
against € 12,128,276.77, +3.01 % (naive −6.65 %). Forecast 2026: € 93.8 million (Leiden 15.3).
"""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import date
from decimal import Decimal

import duckdb
import pytest

from tests.support.dbt import build_ok
from tests.support.independent import read_archive

pytestmark = pytest.mark.slow

AS_OF = date(2026, 12, 4)
SEED = 7
OBSERVED = 10  # January-October: October's deadline (30 November) has passed, November's not
PCT = Decimal("0.01")


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    from jeugdhulp.ingest import ingest_all
    from jeugdhulp.settings import load_settings
    from jeugdhulp.synthetic import generate

    data_dir = tmp_path_factory.mktemp("kpi_region")
    env = dict(
        os.environ,
        JEUGDHULP_DATA_DIR=str(data_dir),
        JEUGDHULP_AS_OF=AS_OF.isoformat(),
        JEUGDHULP_PSEUDONYM_KEY="test-key-not-secret",
    )
    generate(data_dir, profile="region", seed=SEED, as_of=AS_OF, progress=False, years=2)
    settings = load_settings(env)
    ingest_all(settings)
    build_ok(
        settings.warehouse_path,
        data_dir,
        AS_OF.isoformat(),
        "--select",
        "+mart_kpi_annual",
        "--indirect-selection",
        "cautious",
        "--exclude-resource-type",
        "unit_test",
        timeout=1800,
    )
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        kpi = con.execute(
            """select municipality_code, year, months_observed, total_cost_eur,
                      total_cost_observed_eur, previous_total_cost_observed_eur,
                      total_cost_change_pct, total_cost_annualised_eur, forecast_cost_eur
               from marts.mart_kpi_annual"""
        ).fetchall()
    landed = read_archive(data_dir / "archive" / "ijw")
    monthly: dict[tuple[str, int, int], Decimal] = defaultdict(Decimal)
    for line in landed.accepted():
        month = line.service_month
        monthly[(line.municipality, month.year, month.month)] += line.amount
    return {
        "kpi": {(r[0], r[1]): r[2:] for r in kpi},
        "monthly": monthly,
    }


def _sum(monthly, municipality: str | None, year: int, months: range) -> Decimal:
    return sum(
        (
            v
            for (m, y, mo), v in monthly.items()
            if y == year and mo in months and (municipality is None or m == municipality)
        ),
        Decimal(0),
    )


def _figures(region, municipality: str | None) -> dict:
    monthly, kpi = region["monthly"], region["kpi"]
    rows = [v for (m, y), v in kpi.items() if y == 2026 and municipality in (None, m)]
    assert rows and all(r[0] == OBSERVED for r in rows)
    observed_2026 = _sum(monthly, municipality, 2026, range(1, OBSERVED + 1))
    observed_2025 = _sum(monthly, municipality, 2025, range(1, OBSERVED + 1))
    ytd_2026 = _sum(monthly, municipality, 2026, range(1, 13))
    full_2025 = _sum(monthly, municipality, 2025, range(1, 13))
    kpi_observed = sum(r[2] for r in rows)
    kpi_previous = sum(r[3] for r in rows)
    return {
        "like_for_like_pct": (100 * observed_2026 / observed_2025 - 100).quantize(PCT),
        "kpi_pct": (100 * kpi_observed / kpi_previous - 100).quantize(PCT),
        "kpi_row_pct": rows[0][4] if municipality else None,
        "naive_pct": (100 * (ytd_2026 * 12 / 11) / full_2025 - 100).quantize(PCT),
        "observed": (kpi_observed, kpi_previous, observed_2026, observed_2025),
        "forecast_2026": sum(r[6] or 0 for r in rows),
    }


@pytest.mark.parametrize("municipality", [None, "GM0546"], ids=["region", "leiden"])
def test_running_year_change_has_the_sign_of_the_like_for_like_change(region, municipality):
    figures = _figures(region, municipality)
    kpi_observed, kpi_previous, observed_2026, observed_2025 = figures["observed"]
    # the KPI compares exactly January-October of both years, as the archive holds them
    assert (kpi_observed, kpi_previous) == (observed_2026, observed_2025)
    assert figures["kpi_pct"] == figures["like_for_like_pct"]
    if municipality:
        assert figures["kpi_row_pct"] == figures["like_for_like_pct"]
    assert (figures["kpi_pct"] > 0) == (figures["like_for_like_pct"] > 0)
    print(municipality or "region", figures)

"""Regional finance on the tiny profile against an independent calculation from the landed files.

`jeugdhulp run` on tiny (seed 7, as of 2026-10-15). mart_settlement and mart_segment_budget are
recomputed here in plain Python from the archived iJw XML and the reference files (the programme
budget with its amendment, products.csv), following docs/contract.md §3; only the providers'
year-end forecast (a model, docs/forecast.md) is taken from mart_budget_utilisation.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest

from tests.support.independent import (
    month_end,
    read_archive,
    read_product_segments,
    read_programme_budget,
)
from tests.support.pipeline import TINY_AS_OF

pytestmark = pytest.mark.slow

AS_OF = date.fromisoformat(TINY_AS_OF)
CENT = Decimal("0.01")
REGION = {"GM0546", "GM0638"}  # tiny's two municipalities, both Holland Rijnland


@pytest.fixture(scope="module")
def landed(tiny_run):
    archive = tiny_run.data_dir / "archive"
    lines = [
        ln
        for ln in read_archive(archive / "ijw").accepted()
        if ln.declaration_date <= AS_OF and ln.service_month <= AS_OF
    ]
    return {
        "lines": lines,
        "budget": read_programme_budget(archive / "reference", AS_OF),
        "products": read_product_segments(archive / "reference"),
        "forecast": {
            (r["provider_agb"], r["year"]): (r["forecast_eur"], r["invoiced_eur"])
            for r in tiny_run.dicts("select * from marts.mart_budget_utilisation")
        },
    }


def test_tiny_has_a_programme_budget_with_an_amendment(tiny_run):
    archive = tiny_run.data_dir / "archive" / "reference"
    names = sorted(p.name for p in archive.rglob("programme_budget*"))
    assert names == ["programme_budget.csv", "programme_budget_wijziging_2026.csv"]


def test_settlement_matches_the_independent_calculation(tiny_run, landed):
    cost: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    for line in landed["lines"]:
        cost[(line.municipality, line.service_month.year)] += line.amount
    forecast: dict[int, Decimal] = defaultdict(Decimal)
    for (_, year), (value, _) in landed["forecast"].items():
        forecast[year] += value
    rows = {
        (r["municipality_code"], r["year"]): r
        for r in tiny_run.dicts("select * from marts.mart_settlement")
    }
    assert set(rows) == set(cost)
    for (municipality, year), actual in cost.items():
        row = rows[(municipality, year)]
        regional = sum(v for (m, y), v in cost.items() if y == year and m in REGION)
        budget = sum(landed["budget"][year].values())
        assert row["actual_cost_eur"] == actual
        assert row["regional_actual_eur"] == regional
        assert row["regional_budget_eur"] == budget
        assert row["regional_forecast_eur"] == forecast[year]
        # tiny covers 2025-2026: no year has a complete T-2 year to take its key from
        assert row["key_share_pct"] is None
        assert row["contribution_eur"] is row["settlement_eur"] is None
        assert row["forecast_settlement_eur"] is row["own_vs_key_eur"] is None
    # the amendment (25 June 2026) counts: 2026's budget is not the one adopted in November 2025
    assert rows[("GM0546", 2026)]["regional_budget_eur"] == sum(landed["budget"][2026].values())


def _segment(products: list[dict], code: str, category: str, month: date) -> str:
    versions = [
        p
        for p in products
        if p["code"] == code
        and p["category"] == category
        and (p["valid_from"] is None or p["valid_from"] <= month_end(month))
        and (p["valid_to"] is None or p["valid_to"] >= month)
    ]
    versions.sort(key=lambda p: p["valid_from"] or date.min, reverse=True)
    return (versions[0]["segment"] if versions else None) or "onbekend"


def test_segment_budget_matches_the_independent_calculation(tiny_run, landed):
    # invoiced per provider × year × (municipality, segment)
    cells: dict[tuple[str, int], dict[tuple[str, str], Decimal]] = defaultdict(
        lambda: defaultdict(Decimal)
    )
    for line in landed["lines"]:
        segment = _segment(landed["products"], line.code, line.category, line.service_month)
        key = (line.municipality, segment.lower())
        cells[(line.provider, line.service_month.year)][key] += line.amount
    invoiced: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    expected_forecast: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for (_, year), parts in cells.items():
        for (_, segment), amount in parts.items():
            invoiced[(year, segment)] += amount
            expected_forecast[(year, segment)] += amount
    # the part not yet invoiced, split by the provider's mix (docs/contract.md §3)
    for (provider, year), (forecast, provider_invoiced) in landed["forecast"].items():
        mix = cells.get((provider, year), {})
        assert provider_invoiced == sum(mix.values(), Decimal(0)), provider
        open_part = forecast - provider_invoiced
        if not open_part:
            continue
        weights = {k: max(v, Decimal(0)) for k, v in mix.items()}
        if sum(weights.values()) <= 0:
            every_year: dict = defaultdict(Decimal)
            for (p, _), parts in cells.items():
                if p == provider:
                    for k, v in parts.items():
                        every_year[k] += v
            weights = {k: max(v, Decimal(0)) for k, v in every_year.items()}
        total = sum(weights.values())
        if total <= 0:
            expected_forecast[(year, "onbekend")] += open_part
            continue
        for (_, segment), weight in weights.items():
            expected_forecast[(year, segment)] += open_part * weight / total
    budget = {(y, s): v for y, segments in landed["budget"].items() for s, v in segments.items()}
    rows = {
        (r["year"], r["segment"].lower()): r
        for r in tiny_run.dicts("select * from marts.mart_segment_budget")
    }
    assert set(rows) == set(invoiced) | set(budget)
    for key, row in rows.items():
        assert row["budget_eur"] == budget.get(key), key
        assert row["invoiced_eur"] == invoiced.get(key, Decimal(0)), key
        forecast = expected_forecast.get(key, Decimal(0)).quantize(CENT, ROUND_HALF_UP)
        assert abs(row["forecast_eur"] - forecast) <= CENT, key
        if key in budget and budget[key] > 0:
            pct = (100 * row["forecast_eur"] / budget[key]).quantize(CENT, ROUND_HALF_UP)
            assert row["utilisation_pct"] == pct, key
            signal = (
                "overschrijding"
                if pct > 100
                else "dreigende_overschrijding"
                if pct > 95
                else "onderbesteding"
                if pct < 80
                else "op_koers"
            )
            assert row["signal"] == signal, key
        else:
            assert row["signal"] is None, key
    # the forecast split adds up to the providers' forecast, per year, within a cent a segment
    for year in {y for y, _ in rows}:
        split = sum(r["forecast_eur"] for (y, _), r in rows.items() if y == year)
        providers = sum(v for (_, y), (v, _) in landed["forecast"].items() if y == year)
        assert abs(split - providers) <= CENT * len(rows)
    # tiny's budget has an overspent and an underspent segment in the running year
    signals = {r["signal"] for (y, _), r in rows.items() if y == 2026}
    assert len(signals - {None}) >= 2, signals

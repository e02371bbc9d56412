"""The issue 16 measures of benchmarks/forecast_backtest.py, on hand-made results."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from benchmarks.forecast_backtest import AsOfResult, ProviderResult, done_when


def _provider(agb, ceiling, actual, forecast, signal, hindsight):
    return ProviderResult(agb, D(ceiling), D(actual), D(forecast), None, None, signal, D(hindsight))


def test_false_overschrijding_is_counted_for_the_forecast_and_for_hindsight():
    march = AsOfResult(date(2025, 3, 31))
    march.providers = [
        # ends under its ceiling: the forecast's overschrijding is false, hindsight's too
        _provider("1", 100, 95, 104, "overschrijding", 101),
        # ends under its ceiling, forecast at 97 %: not an overschrijding; hindsight's 100.5 % is
        _provider("2", 200, 190, 194, "dreigende_overschrijding", 201),
        # really crosses its ceiling: never a false signal
        _provider("3", 100, 120, 130, "overschrijding", 125),
        # exactly at the ceiling is not over it
        _provider("4", 100, 90, 100, "dreigende_overschrijding", 100),
    ]
    ceilings = {"1": D(100), "2": D(200), "3": D(100), "4": D(100)}
    measures = done_when([march], ["3"], ceilings, 2025)
    assert measures["false_overschrijding_by_date"] == {"2025-03-31": 1}
    assert measures["false_overschrijding_hindsight_by_date"] == {"2025-03-31": 2}
    assert measures["false_overschrijding_max_per_provider"] == 0.25

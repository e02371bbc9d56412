"""The issue 16 measures of benchmarks/forecast_backtest.py, on hand-made results."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from benchmarks.forecast_backtest import (
    AsOfResult,
    CareCost,
    ProviderResult,
    clairvoyant,
    done_when,
    interval_coverage,
    interval_coverage_range,
    split_known,
)


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
    # the clairvoyant yardstick: provider 1 at 100 (not over), 2 at 205 (over), 3 at 118
    for provider, seer in zip(march.providers, (100, 205, 118, 90), strict=True):
        provider.clairvoyant = D(seer)
    measures = done_when([march], ["3"], ceilings, 2025)
    assert measures["false_overschrijding_by_date"] == {"2025-03-31": 1}
    assert measures["false_overschrijding_clairvoyant_by_date"] == {"2025-03-31": 1}
    assert measures["false_overschrijding_hindsight_by_date"] == {"2025-03-31": 2}
    assert measures["false_overschrijding_max_per_provider"] == 0.25


def _care(agb, client, month, start, amount):
    return CareCost(agb, client, month, start, D(amount))


def test_the_clairvoyant_yardstick_knows_the_clients_in_care_and_takes_last_years_newcomers():
    costs = [
        # 2024: client a all year; client b came in June (not yet in care on 31 March 2024)
        *[_care("1", "a", date(2024, m, 1), date(2023, 5, 1), 100) for m in range(1, 13)],
        *[_care("1", "b", date(2024, m, 1), date(2024, 6, 3), 50) for m in range(6, 13)],
        # 2025: a stops after April; c started on 20 March 2025, known on 31 March
        *[_care("1", "a", date(2025, m, 1), date(2023, 5, 1), 100) for m in range(1, 5)],
        *[_care("1", "c", date(2025, m, 1), date(2025, 3, 20), 80) for m in range(3, 13)],
        # b, in care in March 2025, gets a new allocation in May: continuing, so known
        *[_care("1", "b", date(2025, m, 1), date(2024, 6, 3), 50) for m in range(1, 5)],
        *[_care("1", "b", date(2025, m, 1), date(2025, 5, 1), 60) for m in range(5, 13)],
        # d comes in September 2025: not under way on 31 March
        *[_care("1", "d", date(2025, m, 1), date(2025, 9, 1), 70) for m in range(9, 13)],
        # a line without allocation for a client not in care: not under way either
        _care("1", None, date(2025, 7, 1), None, 5),
    ]
    split = split_known(costs, 2025, date(2025, 3, 31))
    under_way = 4 * 100 + 10 * 80 + 4 * 50 + 8 * 60
    assert split == {"1": (D(under_way), D(4 * 70 + 5))}
    # last year's newcomers after 31 March 2024: b's June–December
    assert split_known(costs, 2024, date(2024, 3, 31))["1"] == (D(1200), D(7 * 50))
    assert clairvoyant(costs, 2025, date(2025, 3, 31)) == {"1": D(under_way + 7 * 50)}
    # on 31 December everything is the past
    assert split_known(costs, 2025, date(2025, 12, 31))["1"][1] == 0


def test_the_error_of_the_months_already_past_is_weighed_by_their_final_cost():
    june = AsOfResult(date(2025, 6, 30))
    june.providers = [
        _provider("1", 100, 95, 104, None, 101),
        _provider("2", 200, 190, 194, None, 201),
        _provider("3", 100, 0, 0, None, 0),  # no cost up to June: no weight, no error
    ]
    for provider, (estimate, final) in zip(
        june.providers, ((55, 50), (90, 100), (0, 0)), strict=True
    ):
        provider.to_date_estimate, provider.to_date_actual = D(estimate), D(final)
    # (|55 − 50| + |90 − 100|) / (50 + 100)
    assert june.wmape_to_date() == 10.0
    measures = done_when([june], [], {"1": D(100), "2": D(200), "3": D(100)}, 2025)
    assert measures["wmape_to_date_pct_by_date"] == {"2025-06-30": 10.0}


def test_a_client_in_care_in_december_is_under_way_on_31_january():
    costs = [
        _care("1", "e", date(2024, 12, 1), date(2024, 11, 4), 40),
        # no January invoice (a skipped month), care goes on under a new allocation
        _care("1", "e", date(2025, 2, 1), date(2025, 2, 1), 40),
        _care("1", "f", date(2025, 2, 1), date(2025, 2, 1), 30),  # new in February
    ]
    assert split_known(costs, 2025, date(2025, 1, 31)) == {"1": (D(40), D(30))}


def _inside(agb, actual, inside):
    """A provider whose interval holds (or misses) its final cost."""
    if inside:
        low, high = D(actual) - 1, D(actual) + 1
    else:
        low, high = D(actual) + 1, D(actual) + 2
    return ProviderResult(agb, None, D(actual), D(actual), None, None, None, p10=low, p90=high)


def _dates(rows_by_date):
    results = []
    for month, rows in rows_by_date.items():
        result = AsOfResult(date(2025, month, 28))
        result.providers = rows
        results.append(result)
    return results


def test_the_coverage_range_is_a_point_when_every_provider_is_inside():
    results = _dates({m: [_inside(str(n), 100 * (n + 1), True) for n in range(5)] for m in (3, 6)})
    assert interval_coverage(results) == 100.0
    assert interval_coverage_range(results) == (100.0, 100.0)


def test_the_coverage_range_resamples_providers_with_all_their_dates():
    # two providers of equal cost: one inside on every date, one outside on every date. A
    # resample of two providers is (in, in), (in, out), (out, in) or (out, out): 100, 50, 50, 0.
    results = _dates({m: [_inside("1", 100, True), _inside("2", 100, False)] for m in (3, 6, 9)})
    assert interval_coverage(results) == 50.0
    assert interval_coverage_range(results) == (0.0, 100.0)
    # the same two providers, each inside on two of its four dates: every resample is at 50 %
    results = _dates(
        {
            3: [_inside("1", 100, True), _inside("2", 100, True)],
            6: [_inside("1", 100, True), _inside("2", 100, False)],
            9: [_inside("1", 100, False), _inside("2", 100, True)],
            12: [_inside("1", 100, False), _inside("2", 100, False)],
        }
    )
    assert interval_coverage(results) == 50.0
    assert interval_coverage_range(results) == (50.0, 50.0)


def test_the_coverage_range_narrows_with_more_providers_of_the_same_habits():
    def world(providers):
        # every fifth provider's interval misses: 80 % covered
        return _dates({6: [_inside(str(n), 100, n % 5 != 0) for n in range(providers)]})

    few, many = world(10), world(400)
    assert interval_coverage(few) == interval_coverage(many) == 80.0
    low_few, high_few = interval_coverage_range(few)
    low_many, high_many = interval_coverage_range(many)
    assert low_few <= low_many <= 80.0 <= high_many <= high_few
    assert high_many - low_many < (high_few - low_few) / 3
    # a world without an interval in its mart has no range
    bare = _dates({6: [_provider("1", 100, 90, 95, "op_koers", 90)]})
    assert interval_coverage_range(bare) is None

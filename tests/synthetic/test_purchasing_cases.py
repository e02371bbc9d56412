"""The purchasing-office cases the generator places (docs/purchasing_marts.md) and the ground truth
it writes about them: the tariffs of products.csv with their change on 1 January, the outlier and
rising providers and the PGB-and-ZIN and complex cases of the region profile.

The region's cases are checked on its resolved world and on one small municipality simulated
directly (seconds), not on a region generation."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from decimal import Decimal

from jeugdhulp.synthetic.catalogue import PRODUCTS_BY_CODE
from jeugdhulp.synthetic.months import month_index
from jeugdhulp.synthetic.profiles import resolve
from jeugdhulp.synthetic.providers import (
    BULK_PRODUCT,
    OUTLIER_VOLUME_FACTOR,
    RISING_VOLUME_GROWTH,
)
from jeugdhulp.synthetic.randomness import rng_for
from jeugdhulp.synthetic.trajectories import (
    COMPLEX_MAX_AGE,
    COMPLEX_MIN_AGE,
    COMPLEX_PRODUCT,
    MunicipalityWorld,
)
from jeugdhulp.synthetic.youths import BsnPool, valid_test_bsns

AS_OF = date(2026, 10, 15)


def test_tiny_truth_lists_the_tariffs_of_products_csv_and_no_region_case(generated_tiny):
    out, truth = generated_tiny
    purchasing = truth["purchasing"]
    assert "purchasing" in truth["definitions"]
    with open(out / "landing" / "reference" / "products.csv", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    written = {
        (r["product_code"], r["valid_from"][:4]): r["tariff_eur"] for r in rows if r["tariff_eur"]
    }
    assert {
        (code, year): entry["tariff_eur"]
        for code, years in purchasing["tariffs"].items()
        for year, entry in years.items()
    } == written
    # every tariff row runs 1 January - 31 December: the change takes effect on 1 January
    assert all(r["valid_from"][4:] == "-01-01" and r["valid_to"][4:] == "-12-31" for r in rows)
    hours = purchasing["tariffs"]["45A48"]
    assert hours["2025"] == {"tariff_eur": "81.12"}
    assert hours["2026"] == {"tariff_eur": "84.36", "change_pct": 3.99}
    assert round(100 * Decimal("84.36") / Decimal("81.12") - 100, 2) == Decimal("3.99")
    for key in ("outlier_providers", "rising_providers", "pgb_with_zin", "complex_cases"):
        assert purchasing[key] == []


def test_region_marks_one_outlier_and_one_rising_provider_in_the_bulk_product():
    world = resolve("region", 7, AS_OF, None)
    outliers = [p for p in world.providers if p.volume_factor != 1.0]
    rising = [p for p in world.providers if p.volume_growth]
    assert [p.volume_factor for p in outliers] == [OUTLIER_VOLUME_FACTOR]
    assert [p.volume_growth for p in rising] == [RISING_VOLUME_GROWTH]
    ambulant = sorted(
        (p for p in world.providers if p.archetype == "ambulant" and p.weight_for(BULK_PRODUCT)),
        key=lambda p: (-p.weight_for(BULK_PRODUCT), p.agb),
    )
    # the two largest local practices in the bulk product: enough clients to judge
    assert [outliers[0].agb, rising[0].agb] == [ambulant[0].agb, ambulant[1].agb]
    assert world.pgb_with_zin_share > 0 and world.complex_cases_per_1000 > 0
    tiny = resolve("tiny", 7, AS_OF, None)
    assert all(p.volume_factor == 1.0 and not p.volume_growth for p in tiny.providers)
    assert tiny.pgb_with_zin_share == 0 and tiny.complex_cases_per_1000 == 0


def _simulated(municipality_code: str, **cases):
    world = resolve("region", 7, AS_OF, None)
    municipality = next(m for m in world.municipalities if m.code == municipality_code)
    simulation = MunicipalityWorld(
        municipality=municipality,
        partition_no=municipality.index + 1,
        others=[m for m in world.municipalities if m.code != municipality_code],
        providers=[p for p in world.providers if p.serves(municipality_code)],
        pool=BsnPool(0, len(valid_test_bsns()), False),
        rng=rng_for(7, "world", municipality_code),
        first_month=world.years[0] * 12,
        warmup_months=world.warmup_months,
        last_month=month_index(AS_OF),
        return_probability=world.return_probability,
        arrivals_per_youth_in_care=world.arrivals_per_youth_in_care,
        **cases,
    )
    simulation.simulate()
    return world, simulation


def _weekly_hours(episode) -> float:
    """The allocated hours per week of a 45A48 allocation (per week, or per month as 4 weeks)."""
    return episode.volume / 4 if episode.frequency == "4" else episode.volume


def test_outlier_and_rising_providers_get_larger_allocations():
    world = resolve("region", 7, AS_OF, None)
    outlier = next(p for p in world.providers if p.volume_factor != 1.0)
    rising = next(p for p in world.providers if p.volume_growth)
    _, simulation = _simulated(sorted(outlier.municipalities)[0])
    bulk = [e for e in simulation.episodes if e.product.code == BULK_PRODUCT]
    own = [_weekly_hours(e) for e in bulk if e.provider.agb == outlier.agb]
    others = [_weekly_hours(e) for e in bulk if e.provider.agb != outlier.agb]
    assert len(own) >= 20
    assert sum(own) / len(own) > 2 * sum(others) / len(others)
    _, simulation = _simulated(sorted(rising.municipalities)[0])
    by_year: dict[int, list[float]] = {}
    for episode in simulation.episodes:
        if episode.provider.agb == rising.agb and episode.product.code == BULK_PRODUCT:
            by_year.setdefault(episode.allocation_start.year, []).append(_weekly_hours(episode))
    means = [sum(by_year[y]) / len(by_year[y]) for y in range(world.years[0], AS_OF.year + 1)]
    assert all(later > earlier for earlier, later in zip(means, means[1:])), means


def test_pgb_and_zin_and_complex_cases_go_where_intended():
    _, simulation = _simulated("0546", pgb_with_zin_share=1.0, complex_cases_per_1000=2.0)
    with_zin = [b for b in simulation.budgets if b.with_zin]
    assert len(with_zin) > len(simulation.budgets) / 2
    for budget in with_zin:
        first_day = date(budget.first_month // 12, budget.first_month % 12 + 1, 1)
        # in ZIN care when the budget started (in 0546, or after a move in the new municipality)
        assert any(
            e.has_care
            and e.care_start <= first_day + timedelta(days=31)
            and e.care_end >= first_day
            for e in budget.youth.episodes
        )
    assert len(simulation.complex_cases) >= 20
    for episode in simulation.complex_cases:
        assert episode.product.code == COMPLEX_PRODUCT
        assert COMPLEX_MIN_AGE <= episode.youth.age_on(episode.request_date) <= COMPLEX_MAX_AGE
        # the iJw maximum of an allocation's Budget
        assert episode.budget_cents_until(episode.allocation_end_effective) <= 99_999_999
    # placements run their own course (median 20 months), not cut to the care the youth had
    durations = sorted((e.care_end - e.care_start).days for e in simulation.complex_cases)
    assert durations[len(durations) // 2] > 365
    heaviest_month = PRODUCTS_BY_CODE["44A27"].tariff_cents(2025) * 31
    budgets = sorted(e.monthly_budget_cents for e in simulation.complex_cases)
    # far above a month of the heaviest residential product
    assert budgets[len(budgets) // 2] > 2 * heaviest_month

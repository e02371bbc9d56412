"""The generator's profiles (tiny, region, national): which municipalities, providers, years and defects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from jeugdhulp.synthetic.defects import IJW_DEFECTS
from jeugdhulp.synthetic.municipalities import Municipality, holland_rijnland, national, tiny
from jeugdhulp.synthetic.providers import (
    Provider,
    build_providers,
    mark_purchasing_cases,
    plan_for,
    tiny_providers,
)
from jeugdhulp.synthetic.trajectories import ARRIVALS_PER_YOUTH_IN_CARE, TINY_SCRIPTS, Script

REGION_FIRST_YEAR = 2023
# region: months simulated before the first year, so that the world is in its steady state by
# then (returning youths come back up to years after care that began in the warm-up; a shorter
# warm-up let care volume and cost climb through the first years) and so that the test-BSN
# range's first use lies before the landing zone (docs/synthetic_data.md)
REGION_WARMUP_MONTHS = 60
# region: youths whose care ends come back for new care with this probability (trajectories.py,
# docs/synthetic_data.md: CBS finds roughly half of the starts by youths with earlier care) ...
REGION_RETURN_PROBABILITY = 0.75
# ... so fewer new episodes are needed for about `youths_in_care` distinct youths a year
REGION_ARRIVALS_PER_YOUTH_IN_CARE = 0.37
# region: a quarter of new personal budgets go to a youth already in ZIN care (PGB and ZIN)
REGION_PGB_WITH_ZIN_SHARE = 0.25
# region: new complex cases (trajectories.py) a year per 1,000 youths aged 0-17, so scaled by a
# municipality's population (docs/synthetic_data.md: the cost tail)
REGION_COMPLEX_CASES_PER_1000 = 2.0


class ProfileError(ValueError):
    """An unknown profile or an impossible combination of profile, as_of and years."""


@dataclass(frozen=True)
class World:
    """Everything the partitions share: the profile resolved against a seed and an as_of date."""

    profile: str
    years: list[int]
    municipalities: list[Municipality]
    providers: list[Provider]
    warmup_months: int
    defects: dict[int, tuple[str, ...]]  # municipality index -> defect kinds to inject there
    scripts: dict[int, tuple[Script, ...]]  # municipality index -> forced episodes
    parallel: bool  # worth a process pool
    national: bool
    pgb_with_zin_share: float = 0.0  # new personal budgets given to youths already in ZIN care
    complex_cases_per_1000: float = 0.0  # complex cases a year per 1,000 youths aged 0-17
    return_probability: float = 0.0  # youths coming back after their care ended (0: random picks)
    arrivals_per_youth_in_care: float = ARRIVALS_PER_YOUTH_IN_CARE
    # the programme budget per segment from the products delivered (region: its complex cases are
    # maatwerk delivered by residential providers) instead of the providers' product weights
    budget_by_delivered_product: bool = False


PROFILES = ("tiny", "region", "national")


def resolve(profile: str, seed: int, as_of: date, years: int | None) -> World:
    if profile not in PROFILES:
        raise ProfileError(f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)}")
    if years is not None and years < 1:
        raise ProfileError(f"years must be at least 1, got {years}")
    if profile == "tiny":
        year_list = _years(as_of, years or 2)
        municipalities = tiny()
        providers = tiny_providers(seed, municipalities, plan_for(year_list[0], as_of))
        defects = {0: IJW_DEFECTS, 1: ("9346", "invalid_bsn", "9389")}
        return World(
            profile,
            year_list,
            municipalities,
            providers,
            12,
            defects,
            {0: TINY_SCRIPTS},
            False,
            False,
        )
    if profile == "region":
        first = min(REGION_FIRST_YEAR, as_of.year) if years is None else as_of.year - years + 1
        year_list = list(range(first, as_of.year + 1))
        municipalities = holland_rijnland(8000)
        providers = mark_purchasing_cases(
            build_providers(seed, 150, municipalities, plan_for(year_list[0], as_of))
        )
        return World(
            profile,
            year_list,
            municipalities,
            providers,
            REGION_WARMUP_MONTHS,
            _spread_defects(seed, municipalities, 4),
            {},
            True,
            False,
            REGION_PGB_WITH_ZIN_SHARE,
            REGION_COMPLEX_CASES_PER_1000,
            REGION_RETURN_PROBABILITY,
            REGION_ARRIVALS_PER_YOUTH_IN_CARE,
            True,
        )
    year_list = _years(as_of, years or 2)
    municipalities = national(seed, 340, 450_000, regions=42)
    providers = _national_providers(seed, municipalities, plan_for(year_list[0], as_of))
    return World(
        profile,
        year_list,
        municipalities,
        providers,
        12,
        _spread_defects(seed, municipalities, 8),
        {},
        True,
        True,
    )


def _years(as_of: date, count: int) -> list[int]:
    return list(range(as_of.year - count + 1, as_of.year + 1))


def _spread_defects(
    seed: int, municipalities: list[Municipality], per_kind: int
) -> dict[int, tuple[str, ...]]:
    """Each defect kind `per_kind` times, in municipalities drawn by size (larger ones more often)."""
    from jeugdhulp.synthetic.randomness import WeightedChoice, rng_for

    rng = rng_for(seed, "defect-spread")
    choice = WeightedChoice(municipalities, [m.youths_in_care for m in municipalities])
    spread: dict[int, list[str]] = {}
    for kind in IJW_DEFECTS:
        for _ in range(per_kind):
            spread.setdefault(choice.draw(rng).index, []).append(kind)
    return {index: tuple(kinds) for index, kinds in spread.items()}


def _national_providers(seed, municipalities, plan) -> list[Provider]:
    """Per youth-care region a provider population shaped like Holland Rijnland's, scaled to its size."""
    by_region: dict[int, list[Municipality]] = {}
    for municipality in municipalities:
        by_region.setdefault(municipality.region, []).append(municipality)
    providers: list[Provider] = []
    agbs: set[str] = set()
    names: set[str] = set()
    for region, members in sorted(by_region.items()):
        in_care = sum(m.youths_in_care for m in members)
        count = max(12, round(150 * in_care / 8000 * 0.45))
        providers.extend(
            build_providers(
                seed,
                count,
                members,
                plan,
                region=region,
                first_index=len(providers),
                taken_agbs=agbs,
                taken_names=names,
            )
        )
    return providers

"""How care for each product typically runs: how often it starts, for how long, how intense, for whom, referred by whom."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from jeugdhulp.synthetic.randomness import WeightedChoice

# COD327 referrer types: 01 municipal team, 02 GP, 03 youth doctor, 04 certified institution,
# 05 medical specialist, 06 self-referral, 08 court / public prosecutor
_REFERRERS = {
    "ambulant": {"01": 55, "02": 24, "03": 6, "04": 6, "05": 4, "06": 3, "08": 2},
    "ggz": {"01": 24, "02": 52, "03": 3, "04": 4, "05": 14, "06": 3},
    "dyslexie": {"01": 82, "02": 10, "06": 8},
    "dagbehandeling": {"01": 48, "02": 14, "03": 12, "04": 6, "05": 20},
    "verblijf": {"01": 34, "04": 36, "08": 20, "02": 4, "05": 6},
    "maatwerk": {"01": 70, "04": 20, "08": 10},
    "vervoer": {"01": 100},
}

# JZ588 end reasons for care that ends other than by age or death; 31 = ended by plan
_END_REASONS = {"31": 68, "32": 6, "33": 3, "34": 8, "35": 4, "36": 2, "37": 3, "38": 4, "39": 2}


@dataclass(frozen=True, slots=True)
class CarePattern:
    product_code: str
    arrival_share: float  # share of new episodes in a municipality
    median_months: float  # median care duration
    spread: float  # lognormal sigma of the duration
    allocation_months: tuple[int, ...]  # lengths the first allocation is given for
    extension_months: tuple[int, ...]  # lengths an extension adds
    volume_choices: tuple[int, ...]  # allocated volume per frequency period (or total for 6)
    volume_weights: tuple[float, ...]
    min_age: int
    max_age: int

    def duration_days(self, rng: random.Random) -> int:
        months = self.median_months * math.exp(rng.gauss(0.0, self.spread))
        return max(20, min(round(months * 30.44), 6 * 365))


PATTERNS: dict[str, CarePattern] = {
    pattern.product_code: pattern
    for pattern in (
        CarePattern(
            "45A48", 0.335, 10.0, 0.7, (6, 12), (6, 12), (1, 2, 3, 4, 6), (18, 38, 26, 12, 6), 0, 17
        ),
        CarePattern(
            "54001", 0.090, 5.0, 0.5, (6,), (6,), (240, 360, 480, 600), (25, 35, 25, 15), 4, 17
        ),
        CarePattern("54002", 0.085, 8.0, 0.6, (6, 12), (6,), (4, 6, 8), (35, 40, 25), 4, 17),
        CarePattern(
            "54003", 0.065, 11.0, 0.6, (12,), (6, 12), (8, 10, 12, 16), (25, 35, 25, 15), 4, 17
        ),
        CarePattern(
            "54004", 0.040, 13.0, 0.6, (12,), (6, 12), (2, 3, 4, 5), (25, 35, 25, 15), 6, 17
        ),
        CarePattern("54D01", 0.070, 15.0, 0.25, (18,), (6,), (52, 60, 68), (30, 45, 25), 7, 12),
        CarePattern("41A00", 0.055, 12.0, 0.5, (12,), (6, 12), (6, 8, 10), (30, 40, 30), 2, 12),
        CarePattern("41A03", 0.035, 14.0, 0.5, (12,), (6, 12), (8, 10, 12), (35, 40, 25), 2, 17),
        CarePattern("44A25", 0.027, 13.0, 0.6, (12,), (6, 12), (1,), (1,), 11, 17),
        CarePattern("44A26", 0.025, 15.0, 0.6, (12,), (6, 12), (1,), (1,), 10, 17),
        CarePattern("44A27", 0.022, 18.0, 0.55, (12,), (6, 12), (1,), (1,), 10, 17),
        CarePattern("44A08", 0.018, 26.0, 0.5, (12,), (12,), (1,), (1,), 4, 17),
        CarePattern("42A01", 0.0, 11.0, 0.5, (12,), (6, 12), (2, 3, 4, 5), (25, 35, 25, 15), 2, 17),
        CarePattern(
            "50A01",
            0.014,
            10.0,
            0.5,
            (6, 12),
            (6,),
            (900, 1500, 2500, 4500, 9000),
            (25, 32, 25, 12, 6),
            4,
            17,
        ),
    )
}

# vervoer is never allocated on its own (arrival share 0): it comes with day treatment
TRANSPORT_PRODUCT = "42A01"
TRANSPORT_SHARE = 0.55
DAY_TREATMENT = frozenset({"41A00", "41A03"})

REFERRER_CHOICES: dict[str, WeightedChoice] = {
    segment: WeightedChoice(list(weights), list(weights.values()))
    for segment, weights in _REFERRERS.items()
}
END_REASON_CHOICE = WeightedChoice(list(_END_REASONS), list(_END_REASONS.values()))
ARRIVAL_CHOICE = WeightedChoice(
    [code for code, p in PATTERNS.items() if p.arrival_share > 0],
    [p.arrival_share for p in PATTERNS.values() if p.arrival_share > 0],
)


_VOLUME_CHOICES: dict[str, WeightedChoice] = {
    code: WeightedChoice(pattern.volume_choices, pattern.volume_weights)
    for code, pattern in PATTERNS.items()
}


def draw_volume(pattern: CarePattern, rng: random.Random) -> int:
    """The allocated volume per frequency period (the total for frequency 6, euros for unit 83)."""
    return _VOLUME_CHOICES[pattern.product_code].draw(rng)

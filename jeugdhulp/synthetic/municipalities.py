"""The municipalities of a profile, their youth population per year and how many of their youths are in care."""

from __future__ import annotations

import math
from dataclasses import dataclass

from jeugdhulp.synthetic.randomness import rng_for

# Holland Rijnland: CBS code, name, approximate youths 0-17 (relative sizes are real), care rate
_HOLLAND_RIJNLAND = (
    ("0484", "Alphen aan den Rijn", 23500, 0.15),
    ("0534", "Hillegom", 4800, 0.12),
    ("1884", "Kaag en Braassem", 6100, 0.12),
    ("0537", "Katwijk", 15000, 0.12),
    ("0546", "Leiden", 19500, 0.12),
    ("0547", "Leiderdorp", 5800, 0.12),
    ("0553", "Lisse", 4800, 0.12),
    ("0569", "Nieuwkoop", 6300, 0.12),
    ("0575", "Noordwijk", 8700, 0.12),
    ("0579", "Oegstgeest", 6200, 0.12),
    ("1525", "Teylingen", 8300, 0.12),
    ("0638", "Zoeterwoude", 1800, 0.12),
)

# tiny: two real codes with a toy population (about 30 youths in care a year)
_TINY = (
    ("0546", "Leiden", 150, 0.12),
    ("0638", "Zoeterwoude", 100, 0.12),
)


@dataclass(frozen=True, slots=True)
class Municipality:
    index: int  # position in the profile, 0-based: also the partition number - 1
    code: str  # 4-digit CBS code, as in iJw headers
    name: str
    youth_0_17: int  # youths 0-17 in the first year
    care_rate: float  # share of youths 0-17 in care during a year
    region: int  # youth-care region (national profile: which providers serve it)

    @property
    def youths_in_care(self) -> float:
        return self.youth_0_17 * self.care_rate


def holland_rijnland(youths_in_care: int) -> list[Municipality]:
    """The 12 Holland Rijnland municipalities, populations scaled so `youths_in_care` are in care."""
    return _scaled(_HOLLAND_RIJNLAND, youths_in_care)


def tiny() -> list[Municipality]:
    return _scaled(_TINY, None)


def national(seed: int, count: int, youths_in_care: int, regions: int) -> list[Municipality]:
    """`count` synthetic municipalities with plausible CBS codes and sizes, grouped into regions."""
    rng = rng_for(seed, "national-municipalities")
    codes = sorted(rng.sample(range(3, 2000), count))
    rows = []
    for code in codes:
        youths = round(6000 * math.exp(rng.gauss(0.0, 0.85)))
        rows.append(
            (f"{code:04d}", f"Gemeente {code:04d}", max(400, youths), rng.uniform(0.10, 0.16))
        )
    municipalities = _scaled(tuple(rows), youths_in_care)
    per_region = max(1, math.ceil(count / regions))
    return [
        Municipality(m.index, m.code, m.name, m.youth_0_17, m.care_rate, m.index // per_region)
        for m in municipalities
    ]


def _scaled(rows, youths_in_care: int | None) -> list[Municipality]:
    in_care = sum(youths * rate for _, _, youths, rate in rows)
    scale = 1.0 if youths_in_care is None else youths_in_care / in_care
    return [
        Municipality(index, code, name, round(youths * scale), rate, 0)
        for index, (code, name, youths, rate) in enumerate(rows)
    ]


def population_rows(
    seed: int, municipalities: list[Municipality], years: list[int]
) -> list[dict[str, str]]:
    """Rows of reference/population.csv: youths 0-17 per municipality per year (a slow drift)."""
    rows = []
    for municipality in municipalities:
        rng = rng_for(seed, "population", municipality.code)
        youths = float(municipality.youth_0_17)
        for position, year in enumerate(years):
            if position:
                youths *= 1 + rng.uniform(-0.015, 0.012)
            rows.append(
                {
                    "municipality_code": municipality.code,
                    "year": str(year),
                    "youth_0_17": str(round(youths)),
                }
            )
    return rows

"""Providers' monthly waiting-time deliveries (landing/beschikbaarheid/), with a few left out.

Every provider reports, from January of the year before the reporting date on, once a month
(around the 10th of the next month) its waiting weeks, number waiting and whether it takes on
new clients, per product category it offers or holds allocations in. The ground truth records:
- `missing`: provider × category × month deliveries deliberately left out (one category left out
  of a file; the whole file when it was the only one). They are chosen where the delivery is
  surely owed
  (docs/contract.md §3, mart_waiting_times): a provider that is not punctual, with care in that
  category in the month's year that began well before the reporting date, for a month whose
  deadline (the last day of the next month) passed.
- `growing`: per provider planned to cross its budget ceiling, its waiting list grows every
  month of the last half year delivered (the client stop a full ceiling brings).
"""

from __future__ import annotations

from datetime import date, timedelta

from jeugdhulp.synthetic.catalogue import PRODUCTS_BY_CODE
from jeugdhulp.synthetic.landing_files import FileSink, csv_bytes
from jeugdhulp.synthetic.months import day_in_month, month_index, month_label, month_start
from jeugdhulp.synthetic.randomness import rng_for

HEADER = [
    "peildatum",
    "agb_code",
    "productcategorie",
    "wachttijd_weken",
    "aantal_wachtend",
    "capaciteit_beschikbaar",
]
GROWING_MONTHS = 6  # the last months delivered in which a crossing provider's list grows


def active_categories(world, as_of: date) -> set[tuple[str, str, int]]:
    """(AGB, category, year) where the partition has care that surely makes a delivery owed: an
    allocation not deleted, sent at least 30 days before the reporting date, with care started,
    for every year its care and its first allocated period share up to the reporting date."""
    found: set[tuple[str, str, int]] = set()
    for episode in world.episodes:
        if (
            episode.care_start is None
            or episode.deleted_on is not None
            or episode.allocation_date > as_of - timedelta(days=30)
            or episode.care_start > as_of
        ):
            continue
        last = min(
            episode.care_end, as_of, episode.allocation_end, episode.allocation_end_effective
        )
        for year in range(episode.care_start.year, last.year + 1):
            found.add((episode.provider.agb, episode.product.category, year))
    return found


def write_waiting_times(
    sink: FileSink, seed: int, providers, as_of: date, sure: set[tuple[str, str, int]]
) -> dict:
    """Write every provider's monthly deliveries; return the truth (missing, growing)."""
    first = (as_of.year - 1) * 12
    last_due = month_index(as_of) - 2  # its deadline, the end of the next month, is before as_of
    punctual = {p.agb for p in providers if p.behaviour.kind == "punctual"}
    candidates = sorted(
        (agb, category, month)
        for agb, category, year in sure
        if agb not in punctual
        for month in range(max(first, year * 12), min(last_due, year * 12 + 11) + 1)
    )
    wanted = 3 if len(providers) <= 5 else max(3, len(providers) // 10)
    rng = rng_for(seed, "beschikbaarheid", "missing")
    missing = set(rng.sample(candidates, min(wanted, len(candidates))))
    growing: dict[str, list[str]] = {}
    for provider in sorted(providers, key=lambda p: p.agb):
        categories = sorted(
            {PRODUCTS_BY_CODE[code].category for code in provider.products}
            | {c for agb, c, _ in sure if agb == provider.agb}
        )
        provider_rng = rng_for(seed, "beschikbaarheid", provider.agb)
        months = [
            m for m in range(first, month_index(as_of)) if _delivered_on(m, provider) <= as_of
        ]
        crossing = provider.ceiling_plan == "crossing"
        grow_from = months[-GROWING_MONTHS] if len(months) >= GROWING_MONTHS else first
        levels = {c: provider_rng.randint(2, 25) for c in categories}
        for month in months:
            rows = []
            for category in categories:
                if crossing and month >= grow_from:
                    levels[category] += provider_rng.randint(1, 4)
                else:
                    levels[category] = max(0, levels[category] + provider_rng.randint(-3, 3))
                level = levels[category]
                weeks = round(2 + level * provider_rng.uniform(0.35, 0.6), 1)
                if (provider.agb, category, month) in missing:
                    continue
                rows.append(
                    [
                        month_start(month).isoformat(),
                        provider.agb,
                        category,
                        f"{weeks:.1f}".replace(".", ","),
                        str(level),
                        "nee" if level > 20 else "ja",
                    ]
                )
            if crossing and month >= grow_from:
                growing.setdefault(provider.agb, []).append(month_label(month))
            if not rows:
                continue  # its only category left out: the whole file stays away
            delivered = _delivered_on(month, provider)
            label = month_label(month)
            sink.write(
                f"landing/beschikbaarheid/{label}/wachttijden_{provider.agb}_{label}.csv",
                csv_bytes(HEADER, rows, excel_dialect=True),
                "beschikbaarheid",
                delivered.year,
            )
    return {
        "missing": sorted(
            f"{agb}|{category}|{month_label(month)}" for agb, category, month in missing
        ),
        "growing": growing,
        "first_month": month_label(first),
        "last_month_due": month_label(last_due),
    }


def _delivered_on(month: int, provider) -> date:
    """Around the 10th of the next month, the day fixed per provider."""
    return day_in_month(month + 1, 5 + int(provider.agb[-2:]) % 12)

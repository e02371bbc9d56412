"""Regional finance files: the programme budget per year × segment (with a begrotingswijziging)
and the providers' own year-end forecasts (prognoses), with their truth.

The programme budget is set against the care truly delivered (`care_delivered`, per provider and
year, split over segments by the provider's product weights; on the region profile by the
segments of the products delivered, since its complex cases are maatwerk delivered by residential
providers: docs/synthetic_data.md): the region total lands near the
realised cost, with one segment deliberately underbudgeted (overspent, 88-92 %) and one
overbudgeted (underspent, 108-112 %), the others within 2 %. In the as_of year a
begrotingswijziging adopted on 25 June raises the overspent segment's budget by half its gap;
it lands only when adopted by as_of.

Prognoses: every provider with a budget ceiling (raamcontract) owes a year-end forecast per
quarter (peildatum 31 March, 30 June, 30 September) for the running year and the year before.
Each provider has a bias (mostly optimistic about its own growth: mean +5 %), the reports a
noise that shrinks towards the year's end; some providers deliver late (45-90 days after the
peildatum instead of 10-20), some never. A file is written only when delivered by as_of.
"""

from __future__ import annotations

from datetime import date, timedelta

from jeugdhulp.synthetic.catalogue import PRODUCTS_BY_CODE
from jeugdhulp.synthetic.landing_files import FileSink, csv_bytes, format_amount, xlsx_bytes
from jeugdhulp.synthetic.providers import Provider
from jeugdhulp.synthetic.randomness import rng_for

ORIGINAL_ADOPTED = (11, 6)  # the budget for year Y is adopted on 6 November of Y - 1
AMENDMENT_ADOPTED = (6, 25)  # the begrotingswijziging of the running year: 25 June
PEILDATA = ((3, 31), (6, 30), (9, 30))


def segment_shares(provider: Provider) -> dict[str, float]:
    """The provider's care split over segments by its products' market weights."""
    shares: dict[str, float] = {}
    total = sum(provider.weights) or 1.0
    for code, weight in zip(provider.products, provider.weights):
        segment = PRODUCTS_BY_CODE[code].segment
        shares[segment] = shares.get(segment, 0.0) + weight / total
    return shares


def care_by_segment(
    providers: list[Provider], care_delivered: dict[tuple[str, int], int]
) -> dict[int, dict[str, float]]:
    by_agb = {p.agb: p for p in providers}
    out: dict[int, dict[str, float]] = {}
    for (agb, year), cents in care_delivered.items():
        provider = by_agb.get(agb)
        if provider is None or cents <= 0:
            continue
        for segment, share in segment_shares(provider).items():
            year_segments = out.setdefault(year, {})
            year_segments[segment] = year_segments.get(segment, 0.0) + cents * share
    return out


def care_by_delivered_segment(rows: dict[tuple[str, int], list]) -> dict[int, dict[str, float]]:
    """Care per year and segment of the products delivered; `rows`: (agb, year) -> the provider's
    (municipality, product, volume, cents, clients) of that year (the accountability rows)."""
    out: dict[int, dict[str, float]] = {}
    for (_, year), products in rows.items():
        for _, code, _, cents, _ in products:
            if cents > 0:
                segment = PRODUCTS_BY_CODE[code].segment
                year_segments = out.setdefault(year, {})
                year_segments[segment] = year_segments.get(segment, 0.0) + cents
    return out


def _round_budget(cents: float) -> int:
    step = 100_000 if cents >= 10_000_000 else 10_000  # whole thousands, small ones hundreds
    return max(step, round(cents / step) * step)


def write_programme_budget(
    sink: FileSink,
    seed: int,
    providers: list[Provider],
    years: list[int],
    care_delivered: dict[tuple[str, int], int],
    as_of: date,
    delivered_by_segment: dict[int, dict[str, float]] | None = None,
) -> dict:
    """programme_budget.csv (every year, as adopted) and, once adopted, the as_of year's
    amendment; returns the truth. The care per segment is `delivered_by_segment` (by the products
    delivered) when given, else the providers' care split by their product weights."""
    care = (
        delivered_by_segment
        if delivered_by_segment is not None
        else care_by_segment(providers, care_delivered)
    )
    rng = rng_for(seed, "programme-budget")
    segments = sorted({s for year in care.values() for s in year})
    truth: dict = {"years": {}, "files": []}
    if not segments:
        return truth
    over, under = rng.sample(segments, 2) if len(segments) > 1 else (segments[0], None)
    truth["overspent_segment"], truth["underspent_segment"] = over, under
    original_rows, amendment_rows = [], []
    for year in years:
        adopted = date(year - 1, *ORIGINAL_ADOPTED)
        if adopted > as_of or year not in care:
            continue
        year_truth = {}
        for segment in segments:
            realised = care[year].get(segment, 0.0)
            if realised <= 0:
                continue
            if segment == over:
                factor = rng.uniform(0.88, 0.92)
            elif segment == under:
                factor = rng.uniform(1.08, 1.12)
            else:
                factor = rng.uniform(0.98, 1.02)
            budget = _round_budget(realised * factor)
            original_rows.append([str(year), segment, format_amount(budget), adopted.isoformat()])
            entry = {
                "budget_eur": format_amount(budget),
                "adopted_on": adopted.isoformat(),
                "care_delivered_eur": format_amount(round(realised)),
            }
            amended_on = date(year, *AMENDMENT_ADOPTED)
            if year == as_of.year and segment == over and amended_on <= as_of:
                amended = _round_budget(budget + (realised - budget) / 2)
                # the amendment comes from Excel: ';', decimal comma, BOM
                amendment_rows.append(
                    [str(year), segment, format_amount(amended, ","), amended_on.isoformat()]
                )
                entry["amended_budget_eur"] = format_amount(amended)
                entry["amended_on"] = amended_on.isoformat()
            year_truth[segment] = entry
        truth["years"][str(year)] = year_truth
    header = ["year", "segment", "budget_eur", "adopted_on"]
    if original_rows:
        truth["files"].append(
            sink.write(
                "landing/reference/programme_budget.csv",
                csv_bytes(header, original_rows),
                "reference",
                as_of.year,
            )
        )
    if amendment_rows:
        truth["files"].append(
            sink.write(
                f"landing/reference/programme_budget_wijziging_{as_of.year}.csv",
                csv_bytes(header, amendment_rows, excel_dialect=True),
                "reference",
                as_of.year,
            )
        )
    return truth


def write_prognoses(
    sink: FileSink,
    seed: int,
    providers: list[Provider],
    years: list[int],
    care_delivered: dict[tuple[str, int], int],
    as_of: date,
) -> dict:
    """One file per provider × peildatum delivered by as_of; returns the truth per provider."""
    truth: dict = {"providers": {}}
    for provider in sorted(providers, key=lambda p: p.agb):
        if provider.ceiling_plan == "none":
            continue
        rng = rng_for(seed, "prognoses", provider.agb)
        habit = rng.choices(["on_time", "late", "never"], weights=[0.7, 0.18, 0.12])[0]
        bias = rng.gauss(0.05, 0.07)
        file_format = rng.choices(["csv", "excel_csv", "xlsx"], weights=[0.5, 0.25, 0.25])[0]
        per_segment = rng.random() < 0.3
        entry = {"habit": habit, "bias": round(bias, 4), "format": file_format, "reports": []}
        for year in years:
            if year < as_of.year - 1:
                continue
            actual = care_delivered.get((provider.agb, year), 0)
            if actual <= 0:
                continue
            for quarter, (month, day) in enumerate(PEILDATA):
                peildatum = date(year, month, day)
                noise = rng.gauss(0.0, 0.05 * (3 - quarter) / 3 + 0.01)
                skipped = rng.random() < 0.1
                delay = rng.randint(45, 90) if habit == "late" else rng.randint(10, 20)
                delivered = peildatum + timedelta(days=delay)
                forecast = max(0, round(actual * (1 + bias + noise) / 100) * 100)
                report = {
                    "year": year,
                    "peildatum": peildatum.isoformat(),
                    "prognose_eur": format_amount(forecast),
                    "delivered_on": delivered.isoformat(),
                    "status": "missing" if habit == "never" or skipped else "delivered",
                }
                if report["status"] == "delivered" and delivered > as_of:
                    report["status"] = "not_yet_delivered"
                entry["reports"].append(report)
                if report["status"] != "delivered":
                    continue
                report["file"] = _write_prognosis(
                    sink, provider, year, peildatum, forecast, file_format, per_segment
                )
        entry["actual_care_eur"] = {
            str(y): format_amount(care_delivered.get((provider.agb, y), 0))
            for y in years
            if y >= as_of.year - 1
        }
        truth["providers"][provider.agb] = entry
    return truth


def _write_prognosis(
    sink: FileSink,
    provider: Provider,
    year: int,
    peildatum: date,
    forecast: int,
    file_format: str,
    per_segment: bool,
) -> str:
    header = ["agb_code", "jaar", "peildatum", "prognose_eur"]
    parts: list[tuple[str | None, int]] = [(None, forecast)]
    if per_segment:
        header.append("segment")
        shares = sorted(segment_shares(provider).items())
        parts, left = [], forecast
        for i, (segment, share) in enumerate(shares):
            cents = left if i == len(shares) - 1 else round(forecast * share)
            left -= cents
            parts.append((segment, cents))
    relative = f"landing/prognoses/{year}/prognose_{provider.agb}_{peildatum.isoformat()}"
    if file_format == "xlsx":
        rows = [
            [provider.agb, year, peildatum, cents / 100] + ([segment] if per_segment else [])
            for segment, cents in parts
        ]
        data = xlsx_bytes(header, rows, sheet="Prognose", stamp=peildatum)
        return sink.write(relative + ".xlsx", data, "prognoses", year)
    decimal = "," if file_format == "excel_csv" else "."
    rows = [
        [provider.agb, str(year), peildatum.isoformat(), format_amount(cents, decimal)]
        + ([segment] if per_segment else [])
        for segment, cents in parts
    ]
    data = csv_bytes(header, rows, excel_dialect=file_format == "excel_csv")
    return sink.write(relative + ".csv", data, "prognoses", year)

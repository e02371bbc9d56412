"""Providers' annual accountability files (verantwoording): one per provider per year, due 1 April of the next year.

The figures are the provider's own record of the care it delivered (the true care, not what was
accepted), per municipality and product. Most providers deliver CSV in February or March; some
deliver late, some not at all, some in XLSX or in the Dutch Excel CSV dialect, and some report a
few rows that differ slightly from what they invoiced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from jeugdhulp.synthetic.catalogue import PRODUCTS_BY_CODE
from jeugdhulp.synthetic.landing_files import FileSink, csv_bytes, format_amount, xlsx_bytes
from jeugdhulp.synthetic.providers import Provider
from jeugdhulp.synthetic.randomness import rng_for

HEADER = [
    "boekjaar",
    "agb_code",
    "gemeente_code",
    "productcategorie",
    "productcode",
    "volume",
    "eenheid",
    "bedrag_eur",
    "aantal_clienten",
    "accountantsverklaring",
    "datum_aanlevering",
]
# revenue above which the accountability needs an accountant's statement
AUDIT_THRESHOLD_CENTS = 125_000_00


@dataclass(frozen=True)
class DeliveryPlan:
    status: str  # on_time | late | missing
    delivered: date | None
    file_format: str  # csv | excel_csv | xlsx
    differing: bool


def due_date(year: int) -> date:
    return date(year + 1, 4, 1)


def plan_delivery(
    seed: int, provider: Provider, year: int, forced: DeliveryPlan | None = None
) -> DeliveryPlan:
    if forced is not None:
        return forced
    rng = rng_for(seed, "accountability", provider.agb, year)
    draw = rng.random()
    if draw < 0.05:
        status, delivered = "missing", None
    elif draw < 0.17:
        status, delivered = "late", due_date(year) + timedelta(days=rng.randint(3, 100))
    else:
        # around the deadline: mostly in March, some in February, the last ones on 1 April
        status, delivered = "on_time", date(year + 1, 2, 15) + timedelta(days=rng.randint(0, 45))
    form = rng.random()
    file_format = "xlsx" if form < 0.10 else "excel_csv" if form < 0.18 else "csv"
    return DeliveryPlan(status, delivered, file_format, rng.random() < 0.12)


def tiny_plans(providers: list[Provider], year: int) -> dict[str, DeliveryPlan]:
    """tiny: one XLSX delivered late and differing, one Excel-dialect CSV on time, one missing."""
    return {
        providers[0].agb: DeliveryPlan("late", date(year + 1, 5, 12), "xlsx", True),
        providers[1].agb: DeliveryPlan("on_time", date(year + 1, 3, 18), "excel_csv", False),
        providers[2].agb: DeliveryPlan("missing", None, "csv", False),
    }


def write_accountability(
    sink: FileSink,
    seed: int,
    provider: Provider,
    year: int,
    rows: list[
        tuple[str, str, int, int, int]
    ],  # (municipality code, product code, volume, cents, clients)
    plan: DeliveryPlan,
) -> str | None:
    """Write one provider-year file (if delivered); rows sorted by municipality and product."""
    if plan.delivered is None:
        return None
    rng = rng_for(seed, "accountability-rows", provider.agb, year)
    rows = sorted(rows)
    amounts = [cents for _, _, _, cents, _ in rows]
    if plan.differing and rows:
        for position in sorted(rng.sample(range(len(rows)), min(2, len(rows)))):
            factor = rng.choice((-1, 1)) * rng.uniform(0.02, 0.06)
            amounts[position] = max(0, amounts[position] + round(amounts[position] * factor) + 100)
    statement = "ja" if sum(amounts) >= AUDIT_THRESHOLD_CENTS else "nee"
    delivered = plan.delivered
    excel = plan.file_format == "excel_csv"
    out_rows: list[list[object]] = []
    for (code, product_code, volume, _, clients), cents in zip(rows, amounts):
        product = PRODUCTS_BY_CODE[product_code]
        if plan.file_format == "xlsx":
            out_rows.append(
                [
                    year,
                    provider.agb,
                    code,
                    product.category,
                    product_code,
                    volume,
                    product.unit,
                    cents / 100,
                    clients,
                    statement,
                    delivered,
                ]
            )
        else:
            # Excel drops the leading zero of a municipality code; the reader pads it back
            municipality = code.lstrip("0") if excel else code
            out_rows.append(
                [
                    str(year),
                    provider.agb,
                    municipality,
                    product.category,
                    product_code,
                    str(volume),
                    product.unit,
                    format_amount(cents, "," if excel else "."),
                    str(clients),
                    statement,
                    delivered.isoformat(),
                ]
            )
    stem = f"landing/verantwoording/{year}/verantwoording_{provider.agb}_{year}"
    if plan.file_format == "xlsx":
        data = xlsx_bytes(HEADER, out_rows, sheet="Productieverantwoording", stamp=delivered)
        return sink.write(f"{stem}.xlsx", data, "verantwoording", delivered.year)
    return sink.write(
        f"{stem}.csv",
        csv_bytes(HEADER, out_rows, excel_dialect=excel),
        "verantwoording",
        delivered.year,
    )

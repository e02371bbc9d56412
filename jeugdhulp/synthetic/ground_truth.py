"""The ground truth of a generated landing zone: what was injected where, and the figures the pipeline must reproduce."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

from lxml import etree

from jeugdhulp.synthetic.landing_files import format_amount

# Written into the file so a reader knows exactly what each figure means.
DEFINITIONS = {
    "municipality_key": "GM + the 4-digit CBS code of the municipality in the JW323 header, '|', the year",
    "accepted_cost_eur": (
        "signed sum (credit negative) of every JW323 Prestatie in a landed file that is ingested "
        "(not the malformed or wrong-version copies), excluding lines listed as rejected in a landed "
        "JW325 (matched on provider AGB + DeclaratieNummer + ReferentieNummer), grouped by the "
        "municipality in the JW323 header (or the provider AGB) and the year of the line's "
        "ProductPeriode start. Lines with an invalid BSN count."
    ),
    "youths": "distinct BSNs (as written, invalid ones included) with a care month in the year: a "
    "(BSN, provider, product code, month) whose accepted net amount is > 0",
    "care_months": "number of such (BSN, provider, product code, month) in the year",
    "kpis_by_municipality_year": "unique_youths and care_months as above, but with the municipality of the "
    "JW323 header as part of the care-month key (a youth who moved counts in "
    "both municipalities)",
    "providers": "distinct provider AGBs with accepted invoice lines for care in the year",
    "lines": "JW323 Prestaties in ingested files whose ProductPeriode starts in the year, rejected included",
    "files": "files landed in the year: iJw by message date, verantwoording and pgb by delivery date, "
    "reference files in the as_of year",
    "cost_eur": "accepted_cost_eur summed over municipalities",
    "care_delivered_eur": "value of the care providers truly delivered (correct volumes x tariffs), per "
    "provider and year, including care after as_of and not yet invoiced: what the "
    "budget ceilings were set against",
    "skip_schedule": "per provider of the skipping kind: the months (YYYY-MM) for which it was set to send no "
    "JW323 at all, catching up later; a month in which it had no care leaves no trace",
    "skipped_months": "the months of skip_schedule in which the provider had care that a landed, ingestible "
    "JW323 invoiced later: the skipped months the data shows (8214 gaps)",
    "skipping_providers": "providers with at least one skipped month as above (a provider set to skip months "
    "but without care in any of them is not one)",
    "programme_budget": "the programme budget written (synthetic/finance.py): per year and segment the "
    "budget as adopted (adopted_on: 6 November of the year before), the care truly delivered in the "
    "segment (care_delivered_eur split by the providers' product weights) and, for the as_of year's "
    "overspent segment once adopted by as_of (25 June), the amended budget of the begrotingswijziging; "
    "overspent_segment is budgeted at 88-92 % of its care, underspent_segment at 108-112 %, the others "
    "within 2 %",
    "prognoses": "per provider with a budget ceiling: habit (on_time, late: 45-90 days after the "
    "peildatum, never), bias (the relative error it builds in), file format, and per report (year, "
    "peildatum 31 March / 30 June / 30 September) the forecast, delivery date and status (delivered: "
    "a file in landing/prognoses/; not_yet_delivered: due after as_of; missing: never sent); "
    "actual_care_eur: the care truly delivered per year",
    "local_team": "paths: every youth registered in a municipal team export (landing/lokaal_team/), "
    "per municipality and year, with its path in mart_local_team: team_only (no specialist care in "
    "the municipality that year) or team_then_specialist (team start on or before the year's one "
    "JW305 start in the municipality; days_team_to_specialist in between). bsn as written in the "
    "export (pseudonymised at ingestion)",
    "waiting_times": "missing: provider|category|YYYY-MM waiting-time deliveries deliberately left out, each "
    "owed (care in the category that year, deadline passed): exactly the waiting_times_not_delivered "
    "findings; growing: per provider planned to cross its ceiling, the months (YYYY-MM) in which its "
    "waiting counts grow; first_month: the first month delivered; last_month_due: the last month "
    "whose deadline (end of the next month) passed before as_of",
    "residence_cases": "woonplaatsbeginsel cases injected on purpose (synthetic/residence_cases.py), one per "
    "entry: kind, the youth's bsn (pseudonymised at ingestion), provider, old (A) and new (B) "
    "municipality with their allocations and validity, move_date, the special lines placed; findings: "
    "the residence findings of marts.dq_findings the case must give, each rule_id, municipality_code, "
    "month (YYYY-MM: the month int_residence_findings_detected assigns), provider_agb and, where the "
    "message names it, amount_eur; other_findings: findings of other rules the case gives (9338 on a "
    "line invoiced under another municipality's allocation). The clean data gives no residence "
    "finding: every residence finding is one of these",
    "purchasing": "the purchasing-office cases (docs/purchasing_marts.md): outlier_providers, each "
    "provider whose allocated volumes (all its products) are volume_factor x the usual, from the "
    "first year on; rising_providers, each provider whose allocated volumes grow by volume_growth "
    "per year after the first year (allocations starting in year Y: x (1 + growth)^(Y - first "
    "year)); tariffs: per product and year the contract tariff of reference/products.csv (valid "
    "1 January - 31 December; the change on 1 January is the yearly indexation), with the change "
    "in percent against the year before; pgb_with_zin: personal budgets given to a youth in ZIN "
    "care of the same municipality at the time (bsn pseudonymised at ingestion), ending in or "
    "after the first year; complex_cases: the complex cases (maatwerkarrangement 50A01 with a "
    "monthly budget far above the usual, trajectories.py) with care ending in or after the first "
    "year: youth, municipality and provider at the start, care dates, monthly budget (the "
    "invoiced amount per month is 75-105 % of it, prorated in the first and last month). The tiny "
    "profile has no outlier, rising, PGB-and-ZIN or complex case",
    "municipality_code_in_csv": "reference/population.csv, verantwoording and pgb carry the plain 4-digit "
    "CBS code (e.g. 0546), as the iJw headers do; the Excel-dialect files drop "
    "the leading zero (546)",
}


def euros(cents: int) -> str:
    return format_amount(cents)


def truth_document(
    *,
    profile: str,
    seed: int,
    as_of: str,
    years: list[int],
    defects: list[dict],
    accepted_municipality_year: Counter,
    accepted_provider_year: Counter,
    totals_by_year: dict[int, dict],
    files_by_source: dict[str, int],
    providers: list,
    care_delivered: Counter,
    ceilings: dict[tuple[str, int], int],
    municipality_kpis: dict[tuple[str, int], tuple[int, int]],
    accountability: dict[str, list[str]],
    behaviours: Counter,
    bsn: dict,
    unplaced_defects: list[str],
) -> dict:
    # the schedule only: write_truth keeps the months the landed data shows (see observed_skips)
    skipping = sorted(
        (p for p in providers if p.behaviour.kind == "skipping" and p.behaviour.skipped_months),
        key=lambda p: p.agb,
    )
    schedule = {
        p.agb: [month_label(m) for m in sorted(p.behaviour.skipped_months)] for p in skipping
    }
    return {
        "profile": profile,
        "seed": seed,
        "as_of": as_of,
        "years": years,
        # allocation messages may predate this (allocations running when the data starts); invoices do not
        "invoices_from": f"{years[0]:04d}-01",
        "definitions": DEFINITIONS,
        "defects": sorted(defects, key=lambda d: (d["file"], d["kind"], d["reference"])),
        "accepted_cost_eur": {
            "by_municipality_year": {
                f"GM{code}|{year}": euros(cents)
                for (code, year), cents in sorted(accepted_municipality_year.items())
            },
            "by_provider_year": {
                f"{agb}|{year}": euros(cents)
                for (agb, year), cents in sorted(accepted_provider_year.items())
            },
        },
        "kpis_by_municipality_year": {
            f"GM{code}|{year}": {"unique_youths": youths, "care_months": months}
            for (code, year), (youths, months) in municipality_kpis.items()
        },
        "totals_by_year": {
            str(year): {**values, "cost_eur": euros(values["cost_eur"])}
            for year, values in sorted(totals_by_year.items())
        },
        "files_by_source": dict(sorted(files_by_source.items())),
        "punctual_providers": sorted(p.agb for p in providers if p.behaviour.kind == "punctual"),
        "skipping_providers": list(schedule),
        "skipped_months": schedule,
        "skip_schedule": schedule,
        "ceiling_crossing_providers": sorted(
            p.agb for p in providers if p.ceiling_plan == "crossing"
        ),
        "underspending_providers": sorted(
            p.agb for p in providers if p.ceiling_plan == "underspend"
        ),
        "budget_ceiling_eur": {
            f"{agb}|{year}": euros(c) for (agb, year), c in sorted(ceilings.items())
        },
        "care_delivered_eur": {
            f"{agb}|{year}": euros(cents) for (agb, year), cents in sorted(care_delivered.items())
        },
        "accountability": {status: sorted(keys) for status, keys in sorted(accountability.items())},
        "behaviours": dict(sorted(behaviours.items())),
        "bsn": bsn,
        "unplaced_defects": sorted(unplaced_defects),
    }


def month_label(month: int) -> str:
    return f"{month // 12:04d}-{month % 12 + 1:02d}"


def observed_skips(out: Path, schedule: dict[str, list[str]]) -> dict[str, list[str]]:
    """Per provider, the scheduled months whose care a landed JW323 invoiced later.

    A scheduled month is only skipped in the data when the provider had care then: a provider
    without care in a month has nothing to declare for it, skipping or not. The generator's care
    lives in the partition processes, so this is read back from what they wrote: the ProductPeriode
    months of every Prestatie in the provider's ingestible JW323 files (well-formed iJw 3.2; a
    broken copy is re-sent valid, so it adds nothing). A scheduled month never has a declaration of
    its own, so any care in it was caught up in a later one.
    """
    wanted = {agb: set(months) for agb, months in schedule.items()}
    invoiced: dict[str, set[str]] = {agb: set() for agb in wanted}
    folder = out / "landing" / "ijw"
    if wanted and folder.is_dir():
        for month_folder in sorted(os.scandir(folder), key=lambda entry: entry.name):
            if not month_folder.is_dir():
                continue
            for entry in os.scandir(month_folder.path):
                parts = entry.name.split("_")
                if parts[0] == "JW323" and len(parts) == 4 and parts[1] in wanted:
                    invoiced[parts[1]].update(_care_months(entry.path))
    return {
        agb: sorted(wanted[agb] & invoiced[agb]) for agb in schedule if wanted[agb] & invoiced[agb]
    }


def _care_months(path: str) -> set[str]:
    try:
        root = etree.parse(path, etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    except etree.XMLSyntaxError:
        return set()  # a malformed copy: not ingested
    if "/ijw/3_2/" not in (etree.QName(root).namespace or ""):
        return set()  # a copy in another iJw release: quarantined
    return {
        begin.text[:7]
        for begin in root.iterfind(".//{*}ProductPeriode/{*}Begindatum")
        if begin.text
    }


def write_truth(out: Path, document: dict) -> Path:
    """Write ground_truth.json, with the skipped months narrowed to those the landed data shows."""
    skipped = observed_skips(out, document.get("skip_schedule", {}))
    document = {**document, "skipping_providers": list(skipped), "skipped_months": skipped}
    path = out / "ground_truth.json"
    path.write_text(
        json.dumps(document, indent=2, sort_keys=False, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return path


def purchasing_truth(
    providers: list, years: list[int], pgb_with_zin: list[dict], complex_cases: list[dict]
) -> dict:
    """The purchasing-office cases the generator placed (see DEFINITIONS["purchasing"])."""
    from jeugdhulp.synthetic.catalogue import PRODUCTS

    tariffs: dict[str, dict[str, dict]] = {}
    for product in PRODUCTS:
        previous = None
        for year in years:
            cents = product.tariff_cents(year)
            if cents is None:
                continue
            entry: dict = {"tariff_eur": euros(cents)}
            if previous is not None:
                entry["change_pct"] = round(100 * cents / previous - 100, 2)
            tariffs.setdefault(product.code, {})[str(year)] = entry
            previous = cents
    return {
        "outlier_providers": [
            {"provider_agb": p.agb, "products": list(p.products), "volume_factor": p.volume_factor}
            for p in sorted(providers, key=lambda p: p.agb)
            if p.volume_factor != 1.0
        ],
        "rising_providers": [
            {"provider_agb": p.agb, "products": list(p.products), "volume_growth": p.volume_growth}
            for p in sorted(providers, key=lambda p: p.agb)
            if p.volume_growth
        ],
        "tariffs": tariffs,
        "pgb_with_zin": sorted(
            pgb_with_zin, key=lambda b: (b["municipality_code"], b["first_month"], b["bsn"])
        ),
        "complex_cases": sorted(
            complex_cases, key=lambda c: (c["municipality_code"], c["care_start"], c["bsn"])
        ),
    }

"""An independent recomputation of mart_local_team and mart_waiting_times from the landed files.

Reads the archived team exports and waiting-time deliveries (tests/support/independent.py's
`read_table`), the archived iJw XML (`read_archive`, `read_care_archive`) and the municipalities
seed, and applies docs/contract.md §3 literally in plain Python: never the warehouse's staging or
intermediate tables. Keys are BSNs as delivered (the warehouse keys on their pseudonyms).
"""

from __future__ import annotations

import csv
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from tests.support.independent import (
    agb_code,
    municipality_code,
    read_archive,
    read_care_archive,
    read_table,
    to_date,
    to_decimal,
)
from tests.support.pipeline import REPO

MIN_DATE = date(2015, 1, 1)  # dbt var access_min_date
MAX_WAITING_WEEKS = Decimal(260)  # dbt var waiting_weeks_max


def elfproef(bsn: str) -> bool:
    if len(bsn) != 9 or not bsn.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(bsn[:8], range(9, 1, -1))) - int(bsn[8])
    return total % 11 == 0


def seed_municipalities() -> set[str]:
    with open(REPO / "dbt_project" / "seeds" / "municipalities.csv", encoding="utf-8") as handle:
        return {row["municipality_code"] for row in csv.DictReader(handle)}


@dataclass(frozen=True)
class TeamPath:
    municipality: str
    bsn: str
    year: int
    path: str
    days: int | None


def team_registrations(archive: Path, as_of: date) -> list[tuple[str, str, date, date]]:
    """Usable registrations: (bsn, municipality, start, end clipped to as_of)."""
    known = seed_municipalities()
    found = set()
    for path in sorted((archive / "lokaal_team").rglob("*")):
        if not path.is_file():
            continue
        for row in read_table(path):
            bsn = str(row["bsn"]).strip().zfill(9)
            code = municipality_code(row["gemeente_code"])
            start, end = to_date(row["startdatum"]), to_date(row["einddatum"])
            if not elfproef(bsn) or code not in known or not MIN_DATE <= start <= as_of:
                continue
            if end is not None and end < start:
                continue
            found.add((bsn, code, start, min(end or as_of, as_of)))
    return sorted(found)


def specialist_dates(archive: Path, as_of: date) -> dict[tuple[str, str, int], date]:
    """(municipality, bsn, year) -> first specialist date: earliest JW305 start in the year, else
    the first day of the first care month counted for the municipality in the year."""
    landed = read_archive(archive / "ijw")
    per_month: dict[tuple, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for line in landed.accepted():
        per_month[(line.bsn, line.provider, line.code, line.service_month)][line.municipality] += (
            line.amount
        )
    care: dict[tuple[str, str, int], date] = {}
    for (bsn, _provider, _code, month), by_municipality in per_month.items():
        if sum(by_municipality.values()) <= 0 or month > as_of:
            continue
        municipality = sorted(by_municipality.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        key = (municipality, bsn, month.year)
        care[key] = min(care.get(key, month), month)
    starts: dict[tuple[str, str, int], date] = {}
    for event in read_care_archive(archive / "ijw", as_of).starts:
        if event.start is None or event.start > as_of:
            continue
        key = (event.municipality, event.bsn, event.start.year)
        starts[key] = min(starts.get(key, event.start), event.start)
    return {key: starts.get(key, care.get(key)) for key in set(care) | set(starts)}


def team_paths(archive: Path, as_of: date) -> list[TeamPath]:
    registrations = team_registrations(archive, as_of)
    specialist = specialist_dates(archive, as_of)
    team: dict[tuple[str, str, int], date] = {}
    for bsn, code, start, end in registrations:
        for year in range(start.year, end.year + 1):
            key = (code, bsn, year)
            team[key] = min(team.get(key, start), start)
    team_years = {(code, year) for code, _, year in team}
    paths = []
    for key in sorted(set(team) | set(specialist)):
        code, bsn, year = key
        if (code, year) not in team_years:
            continue
        first_team, first_specialist = team.get(key), specialist.get(key)
        if first_specialist is None:
            path, days = "team_only", None
        elif first_team is None:
            path, days = "specialist_without_team", None
        elif first_team <= first_specialist:
            path, days = "team_then_specialist", (first_specialist - first_team).days
        else:
            path, days = "specialist_then_team", None
        paths.append(TeamPath(code, bsn, year, path, days))
    return paths


def _round(value, places: str) -> Decimal:
    return Decimal(str(value)).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def local_team_mart(archive: Path, as_of: date) -> dict[tuple[str, int], dict]:
    cells: dict[tuple[str, int], list[TeamPath]] = defaultdict(list)
    for path in team_paths(archive, as_of):
        cells[(path.municipality, path.year)].append(path)
    result = {}
    for key, paths in cells.items():
        count = {kind: sum(p.path == kind for p in paths) for kind in (
            "team_only", "team_then_specialist", "specialist_then_team", "specialist_without_team"
        )}  # fmt: skip
        days = [p.days for p in paths if p.days is not None]
        result[key] = {
            "youths_team_only": count["team_only"],
            "youths_team_then_specialist": count["team_then_specialist"],
            "median_days_team_to_specialist": _round(statistics.median(days), "0.1")
            if days
            else None,
            "youths_specialist_then_team": count["specialist_then_team"],
            "youths_specialist_without_team": count["specialist_without_team"],
            "youths_total": len(paths),
            "team_share_pct": _round(Decimal(100) * count["team_only"] / len(paths), "0.01"),
        }
    return result


def waiting_deliveries(archive: Path, as_of: date) -> dict[tuple[str, str, date], dict]:
    """(provider, category, month) -> the delivered values, out-of-range values as None."""
    found: dict[tuple[str, str, date], dict] = {}
    for path in sorted((archive / "beschikbaarheid").rglob("*")):
        if not path.is_file():
            continue
        for row in read_table(path):
            reference = to_date(row["peildatum"])
            if not MIN_DATE <= reference <= as_of:
                continue
            weeks = to_decimal(row["wachttijd_weken"])
            count = int(row["aantal_wachtend"]) if str(row["aantal_wachtend"]).strip() else None
            key = (agb_code(row["agb_code"]), str(row["productcategorie"]).zfill(2),
                   reference.replace(day=1))  # fmt: skip
            found[key] = {
                "waiting_weeks": weeks
                if weeks is not None and 0 <= weeks <= MAX_WAITING_WEEKS
                else None,
                "waiting_count": count if count is not None and count >= 0 else None,
                "capacity_open": {"ja": True, "nee": False}.get(
                    str(row["capaciteit_beschikbaar"]).strip().lower()
                ),
            }
    return found


def region_medians(deliveries: dict) -> dict[tuple[str, date], Decimal]:
    values: dict[tuple[str, date], list[Decimal]] = defaultdict(list)
    for (_, category, month), row in deliveries.items():
        if row["waiting_weeks"] is not None:
            values[(category, month)].append(row["waiting_weeks"])
    return {key: _round(statistics.median(v), "0.01") for key, v in values.items()}

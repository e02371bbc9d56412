"""The municipal team's registration exports (landing/lokaal_team/), with the paths they show.

Each municipality exports the youths its own team supports once a year (in January, for the year
before) and once more shortly before the reporting date for the running year. Two kinds of youth
are registered, and the ground truth records each with its path (docs/contract.md §3,
mart_local_team):
- `team_only`: a youth without specialist care that year. Their BSN is one no youth of the
  partition's slice holds in care (request to last day) during the year: a test BSN never handed
  out, or one whose holders were in care only in other years, so no JW305 or care month of the
  year can carry it.
- `team_then_specialist`: a youth of the simulation whose one episode that year (no other holder
  of the number has one) starts care (JW305, landed by the export) in the municipality some weeks
  after the team started; `days` is the time in between. Episodes with a deleted or corrected
  start, a move or a start in the first two months are passed over, so that the JW305 is the
  year's first specialist date beyond doubt.
Registrations of a closed year end within that year, so a youth's path belongs to one year.
Youths whose BSN is shared across partitions (the national profile) are never registered: their
pseudonym could link to another partition's care.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from jeugdhulp.synthetic.landing_files import FileSink, csv_bytes, xlsx_bytes
from jeugdhulp.synthetic.randomness import rng_for
from jeugdhulp.synthetic.youths import valid_test_bsns

HEADER = ["bsn", "gemeente_code", "startdatum", "einddatum", "soort_ondersteuning"]
SUPPORT_TYPES = (
    "opvoedondersteuning",
    "gezinsbegeleiding",
    "schoolmaatschappelijk werk",
    "kortdurende begeleiding",
    "oudergesprekken",
)
TEAM_ONLY_SHARE = 0.08  # team-only registrations per youth in care of the municipality per year
TEAM_THEN_SPECIALIST_SHARE = 0.25  # of the eligible specialist starts, how many the team saw first
TEAM_THEN_SPECIALIST_MIN = 2  # per municipality and year, when there are that many eligible
# the export of the running year leaves this many days before the reporting date
RUNNING_EXPORT_LEAD = timedelta(days=5)


@dataclass(frozen=True)
class Registration:
    bsn: str
    start: date
    end: date | None
    support: str
    path: str  # team_only | team_then_specialist
    days: int | None  # team start -> specialist start, for team_then_specialist


def write_local_team(world, task, sink: FileSink) -> list[dict]:
    """Write the municipality's team exports; return the truth entries of the paths registered."""
    if task.bsn_shared:
        return []
    code = task.municipality.code
    truth: list[dict] = []
    for year in range(task.first_year, task.as_of.year + 1):
        running = year == task.as_of.year
        delivered = task.as_of - RUNNING_EXPORT_LEAD if running else date(year + 1, 1, 20)
        if delivered > task.as_of or delivered < date(year, 1, 1):
            continue
        rng = rng_for(task.seed, "lokaal_team", code, year)
        registrations = _team_only(world, task, year, delivered, rng)
        registrations += _team_then_specialist(world, code, year, delivered, rng)
        if not registrations:
            continue
        registrations.sort(key=lambda r: (r.start, r.bsn))
        rows = []
        for reg in registrations:
            end = reg.end if reg.end is not None and reg.end <= delivered else None
            rows.append([reg.bsn, code, reg.start, end, reg.support])
            entry = {"municipality_code": f"GM{code}", "year": year, "bsn": reg.bsn,
                     "path": reg.path, "team_start": reg.start.isoformat()}  # fmt: skip
            if reg.days is not None:
                entry["days_team_to_specialist"] = reg.days
            truth.append(entry)
        as_xlsx = running and task.municipality.index == 0
        name = f"landing/lokaal_team/{code}/registraties_{code}_{year}"
        if as_xlsx:
            data = xlsx_bytes(
                HEADER,
                [[r[0], r[1], r[2], r[3] or None, r[4]] for r in rows],
                sheet="Registraties",
                stamp=delivered,
            )
            sink.write(f"{name}.xlsx", data, "lokaal_team", delivered.year)
        else:
            text_rows = [
                [r[0], r[1], _dutch(r[2]), _dutch(r[3]) if r[3] else "", r[4]] for r in rows
            ]
            data = csv_bytes(HEADER, text_rows, excel_dialect=True)
            sink.write(f"{name}.csv", data, "lokaal_team", delivered.year)
    return truth


def _dutch(day: date) -> str:
    return f"{day.day:02d}-{day.month:02d}-{day.year:04d}"


def _episodes_in_year(world, year: int) -> dict[str, list]:
    """Per BSN, the episodes of any of its holders that touch the year (request to last day)."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    found: dict[str, list] = {}
    for episode in world.episodes:
        begin = min(episode.request_date, episode.allocation_start)
        if begin <= last and episode.last_day >= first:
            found.setdefault(episode.youth.bsn, []).append(episode)
    return found


def _quiet_bsns(world, task, year: int) -> list[str]:
    """BSNs of the partition's slice that no youth holds in care in the year: no JW305 start and
    no care month of the year can carry them."""
    busy = _episodes_in_year(world, year)
    numbers = valid_test_bsns()[task.bsn_start : task.bsn_start + task.bsn_size]
    return [bsn for bsn in numbers if bsn not in busy]


def _team_only(world, task, year: int, delivered: date, rng) -> list[Registration]:
    wanted = max(4, round(task.municipality.youths_in_care * TEAM_ONLY_SHARE))
    quiet = _quiet_bsns(world, task, year)
    if not quiet:
        return []
    chosen = rng.sample(quiet, min(wanted, len(quiet)))
    last_start = min(date(year, 12, 1), delivered)
    registrations = []
    for bsn in sorted(chosen):
        span = (last_start - date(year, 1, 1)).days
        start = date(year, 1, 1) + timedelta(days=rng.randrange(max(1, span)))
        end = min(start + timedelta(days=rng.randint(30, 180)), date(year, 12, 31))
        registrations.append(
            Registration(bsn, start, end, rng.choice(SUPPORT_TYPES), "team_only", None)
        )
    return registrations


def _team_then_specialist(world, code: str, year: int, delivered: date, rng) -> list[Registration]:
    """Youths whose one specialist start in the municipality this year the team preceded."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    eligible: list[tuple[str, date]] = []
    for bsn, episodes in sorted(_episodes_in_year(world, year).items()):
        if len(episodes) != 1:
            continue  # a second episode (or another holder of the number) could come first
        episode = episodes[0]
        start = episode.care_start
        if (
            episode.municipality != code
            or start is None
            or episode.deleted_on is not None
            or episode.wrong_start is not None
            or episode.moved_from is not None
            or not date(year, 3, 1) <= start <= min(last, delivered - timedelta(days=10))
            or episode.start_message_date > delivered - timedelta(days=5)
            or min(episode.request_date, episode.allocation_start) < first
        ):
            continue
        eligible.append((bsn, start))
    wanted = max(TEAM_THEN_SPECIALIST_MIN, round(len(eligible) * TEAM_THEN_SPECIALIST_SHARE))
    registrations = []
    for bsn, start in sorted(rng.sample(eligible, min(wanted, len(eligible)))):
        days = rng.randint(14, 56)
        team_start = start - timedelta(days=days)
        end = min(start + timedelta(days=rng.randint(0, 60)), last)
        registrations.append(
            Registration(
                bsn, team_start, end, rng.choice(SUPPORT_TYPES), "team_then_specialist", days
            )
        )
    return registrations


def local_team_truth(results) -> dict:
    """The ground truth's `local_team` section: every registered path, sorted."""
    paths = sorted(
        (entry for result in results for entry in result.local_team),
        key=lambda e: (e["municipality_code"], e["year"], e["bsn"]),
    )
    return {"paths": paths}

"""Runs a generation end to end: resolve the profile, run the partitions (in parallel when worth it), write the rest."""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from jeugdhulp.privacy.development_key import merge_manifest
from jeugdhulp.sources import SOURCES
from jeugdhulp.synthetic.accountability import (
    DeliveryPlan,
    due_date,
    plan_delivery,
    tiny_plans,
    write_accountability,
)
from jeugdhulp.synthetic.finance import (
    care_by_delivered_segment,
    write_prognoses,
    write_programme_budget,
)
from jeugdhulp.synthetic.ground_truth import purchasing_truth, truth_document, write_truth
from jeugdhulp.synthetic.landing_files import FileSink
from jeugdhulp.synthetic.local_team import local_team_truth
from jeugdhulp.synthetic.partition import PartitionResult, PartitionTask, run_partition
from jeugdhulp.synthetic.profiles import World, resolve
from jeugdhulp.synthetic.reference_data import budget_ceilings, write_reference
from jeugdhulp.synthetic.residence_cases import kinds_for as residence_kinds_for
from jeugdhulp.synthetic.waiting_times import write_waiting_times
from jeugdhulp.synthetic.youths import pool_slices, valid_test_bsns


class GenerationError(RuntimeError):
    """The generator cannot run as asked (e.g. the landing zone already holds files)."""


@dataclass(frozen=True)
class GenerationSummary:
    out: Path
    profile: str
    seed: int
    as_of: date
    years: tuple[int, ...]
    files_by_source: dict[str, int]  # ijw, reference, verantwoording, pgb
    ijw_messages_by_type: dict[str, int]  # valid messages per type (JW301 ... JW325)
    defects: int  # defects recorded in the ground truth
    totals_by_year: dict[int, dict]  # youths, care_months, providers, lines, files, cost_eur (str)
    ground_truth_path: Path
    seconds: float

    @property
    def files(self) -> int:
        return sum(self.files_by_source.values())


def generate(
    out: Path,
    profile: str = "region",
    seed: int = 1,
    as_of: date | None = None,
    progress: bool = True,
    *,
    years: int | None = None,
    workers: int | None = None,
) -> GenerationSummary:
    """Write a synthetic landing zone under `out/landing/` and its ground truth as `out/ground_truth.json`.

    Only what has arrived by `as_of` (default: today) is written. The same arguments give the same
    bytes. `years` overrides how many years (ending with as_of's year) are generated; `workers`
    caps the processes used (default: all cores, for the region and national profiles).
    """
    started = time.perf_counter()
    as_of = as_of or date.today()
    out = Path(out)
    _refuse_filled_landing(out)
    world = resolve(profile, seed, as_of, years)
    tasks = _tasks(world, out, seed, as_of)
    results = _run_partitions(tasks, world, workers, progress)

    sink = FileSink(out, "reference-and-accountability")
    file_counts: Counter = Counter()
    accepted_municipality: Counter = Counter()
    accepted_provider: Counter = Counter()
    care_delivered: Counter = Counter()
    behaviours: Counter = Counter()
    lines: Counter = Counter()
    care_months: Counter = Counter()
    youths: dict[int, set] = {}
    municipality_youths: dict[tuple[str, int], set] = {}
    municipality_care_months: Counter = Counter()
    active_providers: dict[int, set] = {}
    accountability_rows: dict[tuple[str, int], list] = {}
    defects: list[dict] = []
    unplaced: list[str] = []
    bsn = {"youths_created": 0, "collisions": 0, "test_bsns_available": len(valid_test_bsns())}
    reuses: Counter = Counter()
    returns_cancelled = returning_episodes = 0
    for result in results:
        file_counts.update(result.file_counts)
        accepted_municipality.update(result.accepted_municipality_year)
        accepted_provider.update(result.accepted_provider_year)
        care_delivered.update(result.care_cost_provider_year)
        behaviours.update(result.behaviours)
        lines.update(result.lines_by_year)
        care_months.update(result.care_months_by_year)
        for year, found in result.youths_by_year.items():
            youths.setdefault(year, set()).update(found)
        for key, found in result.municipality_youths.items():
            municipality_youths.setdefault(key, set()).update(found)
        municipality_care_months.update(result.municipality_care_months)
        for year, found in result.providers_by_year.items():
            active_providers.setdefault(year, set()).update(found)
        for (agb, code, product, year), (volume, cents, clients) in result.accountability.items():
            accountability_rows.setdefault((agb, year), []).append(
                (code, product, volume, cents, clients)
            )
        defects.extend(result.defects)
        unplaced.extend(result.unplaced_defects)
        bsn["youths_created"] += result.youths_created
        bsn["collisions"] += result.bsn_collisions
        reuses.update(result.bsn_reuses)
        returns_cancelled += result.returns_cancelled
        returning_episodes += result.returning_episodes

    # numbers handed to a youth after another youth held them (docs/synthetic_data.md): the
    # warehouse sees such a youth as returning; by the year of the hand-over
    bsn["reuses"] = sum(reuses.values())
    bsn["reuses_by_year"] = {str(year): reuses[year] for year in sorted(reuses)}
    bsn["returns_cancelled"] = returns_cancelled
    bsn["returning_episodes"] = returning_episodes
    ceilings = budget_ceilings(world.providers, world.years, care_delivered)
    write_reference(
        sink, seed, world.providers, world.municipalities, world.years, ceilings, as_of.year
    )
    delivered_by_segment = (
        care_by_delivered_segment(accountability_rows)
        if world.budget_by_delivered_product
        else None
    )
    statuses = _write_accountability(sink, world, seed, as_of, accountability_rows, defects)
    programme_budget = write_programme_budget(
        sink, seed, world.providers, world.years, care_delivered, as_of, delivered_by_segment
    )
    prognoses = write_prognoses(sink, seed, world.providers, world.years, care_delivered, as_of)
    care_categories = set().union(*(result.care_categories for result in results))
    waiting_truth = write_waiting_times(sink, seed, world.providers, as_of, care_categories)
    sink.close()
    merge_manifest(out)
    file_counts.update(sink.counts)

    totals = {}
    for year in world.years:
        cost = sum(c for (_, y), c in accepted_municipality.items() if y == year)
        totals[year] = {
            "youths": len(youths.get(year, ())),
            "care_months": care_months[year],
            "providers": len(active_providers.get(year, ())),
            "lines": lines[year],
            "files": sum(n for (_, y), n in file_counts.items() if y == year),
            "cost_eur": cost,
        }
    files_by_source = {
        source: sum(n for (s, _), n in file_counts.items() if s == source) for source in SOURCES
    }
    document = truth_document(
        profile=world.profile,
        seed=seed,
        as_of=as_of.isoformat(),
        years=world.years,
        defects=defects,
        accepted_municipality_year=accepted_municipality,
        accepted_provider_year=accepted_provider,
        totals_by_year=totals,
        files_by_source=files_by_source,
        providers=world.providers,
        care_delivered=care_delivered,
        ceilings=ceilings,
        municipality_kpis={
            key: (len(municipality_youths[key]), municipality_care_months[key])
            for key in sorted(municipality_youths)
        },
        accountability=statuses,
        behaviours=behaviours,
        bsn=bsn,
        unplaced_defects=unplaced,
    )
    document["local_team"] = local_team_truth(results)
    document["waiting_times"] = waiting_truth
    document["residence_cases"] = [case for result in results for case in result.residence_cases]
    document["programme_budget"] = programme_budget
    document["prognoses"] = prognoses
    document["purchasing"] = purchasing_truth(
        world.providers,
        world.years,
        [b for result in results for b in result.pgb_with_zin],
        [case for result in results for case in result.complex_cases],
    )
    truth_path = write_truth(out, document)
    messages = {
        k.removeprefix("messages_"): v
        for k, v in sorted(behaviours.items())
        if k.startswith("messages_")
    }
    return GenerationSummary(
        out=out,
        profile=world.profile,
        seed=seed,
        as_of=as_of,
        years=tuple(world.years),
        files_by_source=files_by_source,
        ijw_messages_by_type=messages,
        defects=len(defects),
        totals_by_year={
            year: {**v, "cost_eur": document["totals_by_year"][str(year)]["cost_eur"]}
            for year, v in totals.items()
        },
        ground_truth_path=truth_path,
        seconds=round(time.perf_counter() - started, 2),
    )


def _refuse_filled_landing(out: Path) -> None:
    landing = out / "landing"
    if landing.is_dir():
        for _, _, files in os.walk(landing):
            if any(not name.startswith(".") for name in files):
                raise GenerationError(
                    f"{landing} already holds files; generate into an empty data directory (or let "
                    "`jeugdhulp run` ingest them first) so two generations never mix"
                )


def _tasks(world: World, out: Path, seed: int, as_of: date) -> list[PartitionTask]:
    municipalities = world.municipalities
    if world.national:
        slices = [(0, len(valid_test_bsns()))] * len(municipalities)
    else:
        slices = pool_slices([m.youths_in_care for m in municipalities])
    tasks = []
    for municipality, (start, size) in zip(municipalities, slices):
        others = tuple(
            m
            for m in municipalities
            if m.code != municipality.code
            and (not world.national or m.region == municipality.region)
        )
        tasks.append(
            PartitionTask(
                out=out,
                seed=seed,
                as_of=as_of,
                first_year=world.years[0],
                last_year=world.years[-1],
                warmup_months=world.warmup_months,
                municipality=municipality,
                others=others,
                providers=tuple(p for p in world.providers if p.serves(municipality.code)),
                bsn_start=start,
                bsn_size=size,
                bsn_shared=world.national,
                defects=world.defects.get(municipality.index, ()),
                scripts=world.scripts.get(municipality.index, ()),
                residence_cases=residence_kinds_for(world.profile, municipality.index),
                pgb_with_zin_share=world.pgb_with_zin_share,
                complex_cases_per_1000=world.complex_cases_per_1000,
                return_probability=world.return_probability,
                arrivals_per_youth_in_care=world.arrivals_per_youth_in_care,
            )
        )
    return tasks


def _run_partitions(
    tasks: list[PartitionTask], world: World, workers: int | None, progress: bool
) -> list[PartitionResult]:
    """Results in partition order, whichever process produced them and whenever they finished."""
    from tqdm import tqdm

    workers = workers or os.cpu_count() or 1
    bar = tqdm(
        total=len(tasks),
        desc=f"generate {world.profile}",
        unit="municipality",
        file=sys.stderr,
        disable=not progress,
    )
    results: dict[int, PartitionResult] = {}
    try:
        if not world.parallel or workers <= 1 or len(tasks) <= 1:
            for task in tasks:
                results[task.partition_no] = run_partition(task)
                bar.update(1)
        else:
            # largest first, so the two cores finish at about the same time
            ordered = sorted(tasks, key=lambda t: -t.municipality.youths_in_care)
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(
                max_workers=min(workers, len(tasks)), mp_context=context
            ) as pool:
                futures = [pool.submit(run_partition, task) for task in ordered]
                for future in as_completed(futures):
                    result = future.result()
                    results[result.partition_no] = result
                    bar.update(1)
    finally:
        bar.close()
    return [results[task.partition_no] for task in tasks]


def _write_accountability(
    sink, world: World, seed: int, as_of: date, rows: dict, defects: list[dict]
) -> dict[str, list[str]]:
    """Verantwoording files for every closed year; returns the delivery status of each provider-year."""
    statuses: dict[str, list[str]] = {
        "on_time": [],
        "late": [],
        "not_delivered": [],
        "not_due": [],
        "differing": [],
        "xlsx": [],
        "excel_dialect": [],
    }
    by_agb = {p.agb: p for p in world.providers}
    for year in world.years:
        if year >= as_of.year:
            continue
        forced = tiny_plans(world.providers, year) if world.profile == "tiny" else {}
        for agb in sorted(a for a, y in rows if y == year):
            provider = by_agb[agb]
            plan: DeliveryPlan = plan_delivery(seed, provider, year, forced.get(agb))
            key = f"{agb}|{year}"
            landed = plan.delivered is not None and plan.delivered <= as_of
            if landed:
                path = write_accountability(sink, seed, provider, year, rows[(agb, year)], plan)
                statuses["on_time" if plan.delivered <= due_date(year) else "late"].append(key)
                if plan.differing:
                    statuses["differing"].append(key)
                if plan.file_format == "xlsx":
                    statuses["xlsx"].append(key)
                if plan.file_format == "excel_csv":
                    statuses["excel_dialect"].append(key)
                    defects.append(
                        {
                            "kind": "excel_dialect_csv",
                            "rule_id": "excel_dialect_csv",
                            "description": "excel_dialect_csv",
                            "file": path,
                            "reference": f"verantwoording {agb} {year}: ';' separator, decimal comma, UTF-8 BOM, "
                            "municipality codes without leading zero; valid, must be read in full",
                            "provider_agb": agb,
                            "rows": len(rows[(agb, year)]),
                        }
                    )
            elif due_date(year) <= as_of:
                statuses["not_delivered"].append(key)
            else:
                statuses["not_due"].append(key)
    return statuses

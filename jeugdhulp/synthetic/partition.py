"""Generates everything of one municipality partition: its world, its iJw files and PGB files, and its truth figures.

A partition is self-contained (own random stream, own id ranges, own files), so partitions can run
in any order or in parallel processes and still give the same bytes. Youths who move away stay in
their first partition: their later allocations carry the new municipality in the header.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from jeugdhulp.synthetic import residence_cases
from jeugdhulp.synthetic.defects import DESCRIPTIONS, RULE_IDS, Injector
from jeugdhulp.synthetic.invoicing import DeclarationBuilder, Draft, Stream, care_lines
from jeugdhulp.synthetic.landing_files import (
    FileSink,
    csv_bytes,
    format_amount,
    ijw_bytes,
    ijw_path,
)
from jeugdhulp.synthetic.local_team import write_local_team
from jeugdhulp.synthetic.messages import (
    Outgoing,
    answer_message,
    declaration_message,
    episode_messages,
)
from jeugdhulp.synthetic.months import day_in_month, month_end, month_index, month_label
from jeugdhulp.synthetic.municipalities import Municipality
from jeugdhulp.synthetic.providers import Provider
from jeugdhulp.synthetic.randomness import WeightedChoice, rng_for
from jeugdhulp.synthetic.trajectories import ARRIVALS_PER_YOUTH_IN_CARE, MunicipalityWorld, Script
from jeugdhulp.synthetic.waiting_times import active_categories
from jeugdhulp.synthetic.youths import BsnPool


@dataclass(frozen=True)
class PartitionTask:
    out: Path
    seed: int
    as_of: date
    first_year: int
    last_year: int
    warmup_months: int
    municipality: Municipality
    others: tuple[Municipality, ...]  # where youths may move to
    providers: tuple[Provider, ...]  # providers serving this municipality
    bsn_start: int
    bsn_size: int
    bsn_shared: bool
    defects: tuple[str, ...]  # defect kinds to inject in this partition
    scripts: tuple[Script, ...] = ()
    residence_cases: tuple[str, ...] = ()  # woonplaatsbeginsel cases (residence_cases.py)
    pgb_with_zin_share: float = 0.0  # new personal budgets given to youths in ZIN care
    complex_cases_per_1000: float = 0.0  # complex cases a year per 1,000 youths aged 0-17
    return_probability: float = 0.0  # youths coming back after their care ended (trajectories.py)
    arrivals_per_youth_in_care: float = ARRIVALS_PER_YOUTH_IN_CARE

    @property
    def partition_no(self) -> int:
        return self.municipality.index + 1


@dataclass
class PartitionResult:
    partition_no: int
    file_counts: Counter = field(default_factory=Counter)  # (source, year) -> files
    accepted_municipality_year: Counter = field(default_factory=Counter)  # (code, year) -> cents
    accepted_provider_year: Counter = field(default_factory=Counter)  # (agb, year) -> cents
    lines_by_year: Counter = field(default_factory=Counter)
    care_months_by_year: Counter = field(default_factory=Counter)
    youths_by_year: dict = field(default_factory=dict)  # year -> set of BSNs with a care month
    municipality_youths: dict = field(default_factory=dict)  # (code, year) -> set of BSNs
    municipality_care_months: Counter = field(
        default_factory=Counter
    )  # (code, year) -> care months
    providers_by_year: dict = field(default_factory=dict)  # year -> set of AGBs with accepted cost
    care_cost_provider_year: Counter = field(default_factory=Counter)  # true care, for ceilings
    accountability: dict = field(
        default_factory=dict
    )  # (agb, code, product, year) -> [vol, cents, bsns]
    defects: list = field(default_factory=list)
    behaviours: Counter = field(default_factory=Counter)
    unplaced_defects: list = field(default_factory=list)
    youths_created: int = 0
    bsn_collisions: int = 0
    bsn_reuses: Counter = field(default_factory=Counter)  # year -> numbers given to another youth
    returns_cancelled: int = 0  # reuses that retired a youth expected back
    returning_episodes: int = 0  # episodes of youths returning after their care ended
    residence_cases: list = field(default_factory=list)  # truth of the injected cases
    local_team: list = field(default_factory=list)  # truth of the team paths registered
    care_categories: set = field(default_factory=set)  # (agb, category, year) surely owed
    pgb_with_zin: list = field(default_factory=list)  # personal budgets of youths in ZIN care
    complex_cases: list = field(default_factory=list)  # the complex cases placed (truth)


class _Writer:
    """Writes the partition's iJw messages with partition-unique message ids."""

    def __init__(self, task: PartitionTask, sink: FileSink, result: PartitionResult) -> None:
        self.task = task
        self.sink = sink
        self.result = result
        self._seq = 0
        self._broken = 0

    def write(self, outgoing: Outgoing, broken: str | None = None) -> str | None:
        if outgoing.sent > self.task.as_of:
            return None
        self._seq += 1
        message = outgoing.message(f"{self.task.partition_no:04d}{self._seq:08d}")
        if broken:
            self._broken += 1
        data = ijw_bytes(message, broken, self._broken)
        if not broken:
            self._count(outgoing)
        return self.sink.write(ijw_path(message), data, "ijw", outgoing.sent.year)

    def _count(self, outgoing: Outgoing) -> None:
        counts = self.result.behaviours
        kind = outgoing.message_type
        counts[f"messages_{kind}"] += 1
        for record in outgoing.records:
            if kind == "JW301" and record.change_reason:
                counts[
                    {
                        "04": "allocation_extensions",
                        "13": "allocation_deletions",
                        "07": "allocations_ended_by_move",
                    }[record.change_reason]
                ] += 1
            elif kind == "JW305" and record.delivery_status == "3":
                counts["start_deletions"] += 1
            elif kind == "JW307":
                counts[f"stops_reason_{record.end_reason}"] += 1
            elif kind == "JW315":
                counts[f"referrals_type_{record.referrer_type}"] += 1


def run_partition(task: PartitionTask) -> PartitionResult:
    """Simulate, write and account for one municipality partition."""
    result = PartitionResult(task.partition_no)
    first_month = task.first_year * 12
    last_month = task.last_year * 12 + 11
    code = task.municipality.code
    pool = BsnPool(task.bsn_start, task.bsn_size, task.bsn_shared)
    world = MunicipalityWorld(
        municipality=task.municipality,
        partition_no=task.partition_no,
        others=list(task.others),
        providers=list(task.providers),
        pool=pool,
        rng=rng_for(task.seed, "world", code),
        first_month=first_month,
        warmup_months=task.warmup_months,
        last_month=last_month,
        scripts=task.scripts,
        pgb_with_zin_share=task.pgb_with_zin_share,
        complex_cases_per_1000=task.complex_cases_per_1000,
        arrivals_per_youth_in_care=task.arrivals_per_youth_in_care,
        return_probability=task.return_probability,
    )
    world.simulate()
    cases = residence_cases.add_episodes(
        world, task.residence_cases, rng_for(task.seed, "residence", code), task.as_of
    )
    result.youths_created = len(world.youths)
    result.bsn_collisions = pool.collisions
    result.bsn_reuses.update(pool.reuses)
    result.returns_cancelled = pool.returns_cancelled
    result.returning_episodes = world.returns
    result.behaviours["youths_moved"] = sum(1 for e in world.episodes if e.moved_from is not None)

    sink = FileSink(task.out, f"partition-{task.partition_no:05d}")
    writer = _Writer(task, sink, result)
    history_start = date(task.first_year, 1, 1)
    for episode in world.episodes:
        # episodes that were over before the first year are history the landing zone does not hold
        if episode.last_day < history_start:
            continue
        for outgoing in episode_messages(episode):
            writer.write(outgoing)

    streams = _streams(world, first_month, last_month, task, result)
    injector = _plan_defects(task, streams, first_month)
    builder = DeclarationBuilder(
        partition_no=task.partition_no,
        rng=rng_for(task.seed, "invoicing", code),
        as_of=task.as_of,
        first_month=first_month,
    )
    ordered = list(streams.values())
    for position, stream in enumerate(ordered):
        builder.build(stream, injector)
        _carry_unplaced(injector, stream, ordered[position + 1 :], first_month)
    result.unplaced_defects = injector.unplaced
    residence_cases.place(cases, streams, task.as_of)

    care_net: Counter = Counter()
    defect_files: dict[int, tuple[str | None, str | None, str | None]] = {}
    for stream in ordered:
        for draft in stream.drafts:
            defect_files[id(draft)] = _emit(draft, writer, result, care_net)
    for note in injector.notes:
        broken_path, valid_path, answer_path = defect_files[id(note.draft)]
        if valid_path is None or (note.caught and answer_path is None):
            result.unplaced_defects.append(note.kind)  # did not land by as_of after all
            continue
        entry = {
            "kind": note.kind,
            "rule_id": RULE_IDS[note.kind],
            "description": DESCRIPTIONS[note.kind],
            "file": broken_path if note.draft.broken else valid_path,
            "reference": note.reference,
            "provider_agb": note.draft.stream.provider.agb,
            "municipality_code": note.draft.stream.municipality,
            "declaration_number": note.draft.number,
            "rejected_in_jw325": note.caught,
        }
        if note.draft.broken:
            entry["resent_as"] = valid_path
        if note.caught:
            entry["jw325_file"] = answer_path
        result.defects.append(entry)

    region_net: Counter = Counter()
    for (code, bsn, agb, product, month), cents in care_net.items():
        region_net[(bsn, agb, product, month)] += cents
        if cents > 0:
            year = month // 12
            result.municipality_care_months[(code, year)] += 1
            result.municipality_youths.setdefault((code, year), set()).add(bsn)
    for (bsn, _agb, _product, month), cents in region_net.items():
        if cents > 0:
            year = month // 12
            result.care_months_by_year[year] += 1
            result.youths_by_year.setdefault(year, set()).add(bsn)
    _write_personal_budgets(world, task, sink, first_month)
    result.pgb_with_zin = [
        {
            "bsn": budget.youth.bsn,
            "municipality_code": budget.municipality,
            "first_month": month_label(budget.first_month),
            "last_month": month_label(budget.last_month),
            "category": budget.category,
        }
        for budget in world.budgets
        if budget.with_zin and budget.last_month >= first_month
    ]
    history_start_day = date(task.first_year, 1, 1)
    result.complex_cases = [
        {
            "bsn": episode.youth.bsn,
            "municipality_code": episode.municipality,
            "provider_agb": episode.provider.agb,
            "product_code": episode.product.code,
            "care_start": episode.care_start.isoformat(),
            "care_end": episode.care_end.isoformat(),
            "monthly_budget_eur": format_amount(episode.monthly_budget_cents),
        }
        for episode in world.complex_cases
        if episode.has_care and episode.care_end >= history_start_day
    ]
    result.residence_cases = residence_cases.truth(cases)
    result.local_team = write_local_team(world, task, sink)
    result.care_categories = active_categories(world, task.as_of)
    sink.close()
    result.file_counts = sink.counts
    return result


def _streams(world, first_month, last_month, task, result) -> dict[tuple[str, str], Stream]:
    """True care lines grouped per provider x municipality, plus the truth about care delivered."""
    rng = rng_for(task.seed, "care", task.municipality.code)
    streams: dict[tuple[str, str], Stream] = {}
    accountability = result.accountability
    for episode in world.episodes:
        lines = care_lines(episode, first_month, last_month, rng)
        if not lines:
            continue
        key = (episode.provider.agb, episode.municipality)
        stream = streams.get(key)
        if stream is None:
            stream = streams[key] = Stream(episode.provider, episode.municipality)
        stream.lines.extend(lines)
        stream.episodes.append(episode)
        for care in lines:
            year = care.month // 12
            result.care_cost_provider_year[(episode.provider.agb, year)] += care.amount_cents
            slot = accountability.get((key[0], key[1], episode.product.code, year))
            if slot is None:
                slot = accountability[(key[0], key[1], episode.product.code, year)] = [0, 0, set()]
            slot[0] += care.volume
            slot[1] += care.amount_cents
            slot[2].add(episode.youth.bsn)
    for stream in streams.values():
        stream.lines.sort(key=lambda care: (care.month, care.episode.seq))
    for slot in accountability.values():
        slot[2] = len(slot[2])
    return streams


def _plan_defects(task: PartitionTask, streams: dict, first_month: int) -> Injector:
    rng = rng_for(task.seed, "defects", task.municipality.code)
    injector = Injector(rng=rng, as_of=task.as_of, partition_no=task.partition_no)
    candidates = [s for s in streams.values() if not s.provider.behaviour.clean]
    if not candidates:
        return injector
    choice = WeightedChoice(candidates, [len(s.lines) for s in candidates])
    window = max(1, month_index(task.as_of) - 3 - first_month)
    for kind in task.defects:
        stream = choice.draw(rng)
        injector.plan(stream, kind, first_month + 1 + int(rng.random() * window * 0.6))
    return injector


def _carry_unplaced(
    injector: Injector, stream: Stream, later: list[Stream], first_month: int
) -> None:
    """Defects a stream had no room for move on to the next stream that can take them."""
    left = injector.pending.pop(id(stream), [])
    if not left:
        return
    for candidate in later:
        if not candidate.provider.behaviour.clean:
            for item in left:
                injector.plan(candidate, item.kind, first_month + 1)
            return
    injector.pending[id(stream)] = left


def _emit(draft: Draft, writer: _Writer, result: PartitionResult, care_net: Counter):
    """Write a draft's JW323 (and broken copy) and JW325; add what landed to the truth figures."""
    broken_path = None
    if draft.broken:
        broken_path = writer.write(declaration_message(draft, draft.date), draft.broken)
    valid = declaration_message(draft, draft.valid_date)
    valid_path = writer.write(valid)
    if valid_path is None:
        return broken_path, None, None
    answer_path = writer.write(answer_message(draft))
    agb = draft.stream.provider.agb
    code = draft.stream.municipality
    counts = result.behaviours
    for sent in draft.lines:
        line = sent.line
        year = line.period_start.year
        result.lines_by_year[year] += 1
        service_month = month_index(line.period_start)
        if draft.date > month_end(service_month + 1):
            counts["late_lines"] += 1
        if answer_path is not None and sent.rejected:
            counts["rejected_lines"] += 1
            continue
        signed = -line.amount_cents if line.debit_credit == "C" else line.amount_cents
        if line.debit_credit == "C":
            counts["credit_lines"] += 1
        result.accepted_municipality_year[(code, year)] += signed
        result.accepted_provider_year[(agb, year)] += signed
        result.providers_by_year.setdefault(year, set()).add(agb)
        care_net[(code, line.bsn, agb, line.product_code, service_month)] += signed
    return broken_path, valid_path, answer_path


def _write_personal_budgets(
    world: MunicipalityWorld, task: PartitionTask, sink: FileSink, first_month: int
) -> None:
    """One SVB file per municipality per month, delivered on the 10th of the next month."""
    code = task.municipality.code
    header = ["bsn", "gemeente_code", "maand", "productcategorie", "bedrag_eur"]
    for month in range(first_month, month_index(task.as_of)):
        delivered = day_in_month(month + 1, 10)
        if delivered > task.as_of:
            break
        rng = rng_for(task.seed, "pgb", code, month)
        rows = []
        for budget in world.budgets:
            if budget.first_month <= month <= budget.last_month:
                cents = round(budget.monthly_cents * rng.uniform(0.85, 1.1))
                rows.append(
                    [
                        budget.youth.bsn,
                        code,
                        month_label(month),
                        budget.category,
                        format_amount(cents),
                    ]
                )
        if rows:
            label = month_label(month)
            sink.write(
                f"landing/pgb/{label[:4]}/svb_pgb_{code}_{label}.csv",
                csv_bytes(header, rows),
                "pgb",
                delivered.year,
            )

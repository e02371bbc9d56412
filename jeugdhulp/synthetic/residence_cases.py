"""Woonplaatsbeginsel cases injected on purpose, with what the residence signals must find.

Which municipality pays is decided by where the youth lives (woonplaatsbeginsel): on a move the old
municipality ends its allocations the day before (RedenWijziging 07) and the new one allocates from
the move on (trajectories.py does that for every move of the clean data). These cases break it the
way it breaks in practice, each for a youth of its own in a partition's municipality (A) and one
of the others (B), with a non-punctual provider:

- move_running_allocation: the youth moves from A to B mid-year; B allocates from the move, the
  provider stops care in A (JW307) and continues under B's allocation, but A never ends its
  allocation: it runs on for months.
- billed_to_two: the same, and the provider also invoices A, under the allocation that runs on, the
  first full month after the move, which B is invoiced for as well (the same days).
- invoice_other_municipality: a clean move, but the provider invoices one month of the care in B
  under A's old ToewijzingNummer; B accepts it (and the line is a 9338 for B: no allocation of B's
  own with that number).
- overlapping_allocations: A and B both allocate care to the youth from the same day (no move);
  A's care ends, B's care starts after it, so no day is invoiced twice.

Hooks: `add_episodes` after the world is simulated (before the messages are written), `place` after
the declarations are built (before they are written), `truth` for ground_truth.json. Every case
lies months before as_of, so all its messages and lines land.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field
from datetime import date

from jeugdhulp.synthetic.care_patterns import PATTERNS
from jeugdhulp.synthetic.invoicing import CareLine, SentLine, Stream
from jeugdhulp.synthetic.months import add_days, add_months, day_in_month, month_index, month_label
from jeugdhulp.synthetic.trajectories import Episode, MunicipalityWorld
from jeugdhulp.synthetic.youths import Youth

KINDS = (
    "move_running_allocation",
    "billed_to_two",
    "invoice_other_municipality",
    "overlapping_allocations",
)
# rule_id of each signal in marts.dq_findings (int_residence_findings_detected)
RULES = {
    "months_billed_to_two": "residence_billed_to_two",
    "overlapping_allocations": "residence_overlapping_allocations",
    "invoice_other_than_allocation": "residence_invoice_other_municipality",
    "move_with_running_allocation": "residence_move_running_allocation",
}
# months before the as_of month the youth's first request falls in, and the move
_REQUEST_MONTHS_BACK = {
    "move_running_allocation": 9,
    "billed_to_two": 10,
    "invoice_other_municipality": 11,
    "overlapping_allocations": 12,
}
_MOVE_MONTHS_BACK = {
    "move_running_allocation": 5,
    "billed_to_two": 6,
    "invoice_other_municipality": 7,
}


# the youths are 4 to 14: old enough for youth mental health (54002), far from 18
_CASE_AGES = dataclasses.replace(PATTERNS["54002"], min_age=4, max_age=14)


def kinds_for(profile: str, municipality_index: int) -> tuple[str, ...]:
    """Every case in the first municipality; the larger profiles repeat them in the second."""
    if municipality_index == 0 or (profile != "tiny" and municipality_index == 1):
        return KINDS
    return ()


@dataclass(eq=False)
class Case:
    kind: str
    youth: Youth
    old: Episode  # the episode (allocation) of municipality A
    new: Episode  # the episode (allocation) of municipality B
    move: date | None
    lines: list[dict] = field(default_factory=list)  # the special lines as placed
    placed: bool = False


def add_episodes(
    world: MunicipalityWorld, kinds: tuple[str, ...], rng: random.Random, as_of: date
) -> list[Case]:
    """The cases' youths and episodes, added to the simulated world of municipality A."""
    if not kinds or not world.others:
        return []
    providers = _providers(world)
    if not providers:
        return []
    chosen: set[str] = set()
    cases = []
    as_of_month = month_index(as_of)
    saved = world.rng
    world.rng = rng  # the world's helpers draw from the cases' own stream
    try:
        for kind in kinds:
            destination = rng.choice(world.others).code
            provider = rng.choice([p for p in providers if p.serves(destination)] or providers)
            request = day_in_month(as_of_month - _REQUEST_MONTHS_BACK[kind], rng.randint(3, 12))
            youth = _fresh_youth(world, request, chosen)
            if kind == "overlapping_allocations":
                cases.append(_side_by_side(world, youth, provider, providers, request, destination))
                continue
            move = day_in_month(as_of_month - _MOVE_MONTHS_BACK[kind], rng.randint(8, 22))
            old = world._new_episode(youth, provider, "45A48", request, (move - request).days + 200)
            old.end_reason = "31"
            world._split(old, move, destination)
            new = world.episodes[-1]
            if kind != "invoice_other_municipality":
                # A does not end its allocation: no RedenWijziging 07, it runs a year
                old.shortened = None
                old.extensions = []
                old.allocation_end = add_days(add_months(old.allocation_start, 12), -1)
            cases.append(Case(kind, youth, old, new, move))
    finally:
        world.rng = saved
    return cases


def place(cases: list[Case], streams: dict[tuple[str, str], Stream], as_of: date) -> None:
    """Change the built declarations for the cases that invoice wrongly."""
    latest = add_days(as_of, -30)
    for case in cases:
        if case.kind == "billed_to_two":
            _bill_to_two(case, streams, latest)
            if not case.placed:
                # no month of the new allocation was invoiced plainly in time: what remains is
                # the allocation that runs on
                case.kind = "move_running_allocation"
                case.placed = True
        elif case.kind == "invoice_other_municipality":
            _invoice_other(case, streams, latest)  # unplaced: a clean move, nothing to find
        else:
            case.placed = True


def truth(cases: list[Case]) -> list[dict]:
    """Per case: what happened, and the residence findings (and other findings) it must give."""
    entries = []
    for case in cases:
        if not case.placed:
            continue
        old, new = case.old, case.new
        entry = {
            "kind": case.kind,
            "bsn": case.youth.bsn,
            "provider_agb": old.provider.agb,
            "old_municipality": f"GM{old.municipality}",
            "new_municipality": f"GM{new.municipality}",
            "old_allocation": old.allocation_number,
            "old_allocation_valid": [
                old.allocation_start.isoformat(),
                old.allocation_end_effective.isoformat(),
            ],
            "new_allocation": new.allocation_number,
            "new_allocation_valid": [
                new.allocation_start.isoformat(),
                new.allocation_end_effective.isoformat(),
            ],
            "move_date": case.move.isoformat() if case.move else None,
            "lines": case.lines,
            "findings": _expected(case),
            # findings of other rules the case gives: the misdirected line has no allocation of
            # the municipality it was sent to
            "other_findings": [
                {
                    "rule_id": "9338",
                    "provider_agb": line["provider_agb"],
                    "municipality_code": line["municipality_code"],
                    "reference": line["reference"],
                }
                for line in case.lines
                if case.kind == "invoice_other_municipality"
            ],
        }
        entries.append(entry)
    return entries


# --- the cases ----------------------------------------------------------------------------------


def _providers(world: MunicipalityWorld) -> list:
    """Providers of A that offer 45A48 and invoice every month: neither punctual (whose data
    must stay clean) nor skipping (whose months may be caught up after as_of)."""
    code = world.municipality.code
    chosen = []
    for choice in world._providers_by_product.values():
        for provider in choice.items:
            if (
                provider.serves(code)
                and provider.behaviour.kind in ("normal", "sloppy")
                and provider.weight_for("45A48") > 0
                and provider not in chosen
            ):
                chosen.append(provider)
    return sorted(chosen, key=lambda p: p.agb)


def _fresh_youth(world: MunicipalityWorld, day: date, chosen: set[str]) -> Youth:
    """A youth for a case, with a BSN of the municipality's slice that carries no history the
    case could mix with: one no youth ever held, else (the region's slices are all in use) one
    whose every holder only ever had allocations of this municipality, all over before `day`.
    `chosen`: the BSNs earlier cases took."""
    pool = world.pool
    holders: dict[str, list[Youth]] = {}
    for youth in world.youths:
        holders.setdefault(youth.bsn, []).append(youth)
    numbers = pool._numbers[pool._start : pool._start + pool._size]
    unused = sorted(set(numbers) - set(holders) - chosen)
    if not unused:
        unused = sorted(
            bsn
            for bsn, youths in holders.items()
            if bsn not in chosen
            and all(
                episode.municipality == world.municipality.code and episode.last_day < day
                for youth in youths
                for episode in youth.episodes
            )
        )
    if not unused:
        raise RuntimeError("no quiet BSN left for a woonplaatsbeginsel case")
    rng = world.rng
    bsn = rng.choice(unused)
    chosen.add(bsn)
    age = rng.randint(_CASE_AGES.min_age, _CASE_AGES.max_age)
    birth = add_days(day, -(age * 365 + age // 4 + rng.randint(0, 364)))
    youth = Youth(
        bsn=bsn, birth_date=birth, gender="1" if rng.random() < 0.55 else "2", busy_until=day
    )
    world.youths.append(youth)
    return youth


def _side_by_side(world, youth, provider, providers, request, destination) -> Case:
    """A allocates 45A48 for three months of care; B allocates from the same day, its care
    (another product) starting five weeks after A's ended."""
    rng = world.rng
    old = world._new_episode(youth, provider, "45A48", request, 90)
    old.end_reason = "31"
    other = rng.choice([p for p in providers if p.serves(destination)] or providers)
    product = "54002" if other.weight_for("54002") > 0 else "45A48"
    new = world._new_episode(youth, other, product, request, 120)
    new.municipality = destination
    new.referrer_type, new.referrer_name, new.referrer_agb = "02", None, old.referrer_agb
    new.allocation_date = old.allocation_date
    new.allocation_start = old.allocation_start
    new.allocation_end = add_days(add_months(old.allocation_start, 12), -1)
    new.care_start = add_days(old.care_end, 35)
    new.care_end = add_days(new.care_start, 119)
    new.start_message_date = add_days(new.care_start, 5)
    new.stop_message_date = add_days(new.care_end, 5)
    new.extensions = []
    new.pause = new.pause_messages = new.wrong_start = None
    world._extend_to_cover(new, PATTERNS[product])
    youth.busy_until = max(youth.busy_until, new.care_end, new.allocation_end_effective)
    return Case("overlapping_allocations", youth, old, new, None)


def _sent_once(stream: Stream | None, care: CareLine, latest: date):
    """The draft and line that invoiced this care, when exactly one accepted regular line did."""
    if stream is None:
        return None
    found = [
        (draft, sent)
        for draft in stream.drafts
        for sent in draft.lines
        if sent.care is care and not draft.broken
    ]
    if len(found) != 1:
        return None
    draft, sent = found[0]
    if sent.role != "regular" or sent.rejected or draft.date > latest:
        return None
    return draft, sent


def _care_of(stream: Stream | None, episode: Episode) -> list[CareLine]:
    if stream is None:
        return []
    return [care for care in stream.lines if care.episode is episode]


def _bill_to_two(case: Case, streams, latest: date) -> None:
    """A is invoiced, under the allocation that runs on, a full month B is invoiced for too."""
    old, new = case.old, case.new
    b_stream = streams.get((new.provider.agb, new.municipality))
    a_stream = streams.get((old.provider.agb, old.municipality))
    if a_stream is None:
        return
    for care in _care_of(b_stream, new):
        if care.month <= month_index(case.move) or care.period_start.day != 1:
            continue
        in_b = _sent_once(b_stream, care, latest)
        if in_b is None:
            continue
        later = [
            d
            for d in a_stream.drafts
            if d.period >= care.month and d.date <= latest and not d.broken
        ]
        if not later:
            continue
        draft = later[0]
        reference = f"{in_b[1].line.reference_number}A"
        line = dataclasses.replace(
            in_b[1].line, reference_number=reference, allocation_number=old.allocation_number
        )
        draft.lines.append(SentLine(line, "regular", None))
        case.lines = [
            _line_truth(in_b[1].line, new.municipality, in_b[0]),
            _line_truth(line, old.municipality, draft),
        ]
        case.placed = True
        return


def _invoice_other(case: Case, streams, latest: date) -> None:
    """One month of the care in B invoiced under A's old allocation number."""
    new = case.new
    b_stream = streams.get((new.provider.agb, new.municipality))
    for care in _care_of(b_stream, new):
        if care.month < month_index(case.move) + 2:
            continue
        found = _sent_once(b_stream, care, latest)
        if found is None:
            continue
        draft, sent = found
        sent.line = dataclasses.replace(sent.line, allocation_number=case.old.allocation_number)
        case.lines = [_line_truth(sent.line, new.municipality, draft)]
        case.placed = True
        return


def _line_truth(line, municipality: str, draft) -> dict:
    return {
        "municipality_code": f"GM{municipality}",
        "provider_agb": draft.stream.provider.agb,
        "reference": line.reference_number,
        "allocation_number": line.allocation_number,
        "month": month_label(month_index(line.period_start)),
        "period": [line.period_start.isoformat(), line.period_end.isoformat()],
        "amount_eur": _euros(line.amount_cents),
        "declaration_number": draft.number,
    }


def _euros(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _expected(case: Case) -> list[dict]:
    """The residence findings of the case: rule, municipality, month (YYYY-MM), provider and, where
    the message names one, the amount."""
    old, new = case.old, case.new
    a, b = f"GM{old.municipality}", f"GM{new.municipality}"
    agb = old.provider.agb
    if case.kind == "overlapping_allocations":
        month = month_label(month_index(old.allocation_start))
        rule = RULES["overlapping_allocations"]
        return [
            {"rule_id": rule, "municipality_code": a, "month": month, "provider_agb": agb},
            {
                "rule_id": rule,
                "municipality_code": b,
                "month": month,
                "provider_agb": new.provider.agb,
            },
        ]
    move_month = month_label(month_index(case.move))
    running = {
        "rule_id": RULES["move_with_running_allocation"],
        "municipality_code": a,
        "month": move_month,
        "provider_agb": agb,
        "amount_eur": "0.00",
    }
    if case.kind == "move_running_allocation":
        return [running]
    if case.kind == "billed_to_two":
        in_b, in_a = case.lines
        running["amount_eur"] = in_a["amount_eur"]
        rule = RULES["months_billed_to_two"]
        return [
            running,
            {
                "rule_id": rule,
                "municipality_code": a,
                "month": in_a["month"],
                "provider_agb": agb,
                "amount_eur": in_a["amount_eur"],
            },
            {
                "rule_id": rule,
                "municipality_code": b,
                "month": in_b["month"],
                "provider_agb": agb,
                "amount_eur": in_b["amount_eur"],
            },
        ]
    (line,) = case.lines
    return [
        {
            "rule_id": RULES["invoice_other_than_allocation"],
            "municipality_code": b,
            "month": line["month"],
            "provider_agb": agb,
            "amount_eur": line["amount_eur"],
        }
    ]

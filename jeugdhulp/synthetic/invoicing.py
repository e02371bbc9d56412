"""How providers invoice the care they delivered: monthly declarations with lags, gaps, corrections and rejections.

Care is first turned into true monthly care lines (what was delivered). Each provider x municipality
stream then sends them as JW323 declarations, one per calendar month (DeclaratiePeriode), on the
provider's own rhythm: most lines in the month after the care, some months late, some after the
year's accounts; skipping providers send nothing for some months and catch up later. Some lines
are sent with too much volume, rejected in the JW325 (9321) and re-sent; some are credited and
re-debited later. Defects are injected by `defects.py` through the hook `DefectInjector`.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from jeugdhulp.ijw.records import InvoiceLine
from jeugdhulp.synthetic.months import (
    add_days,
    day_in_month,
    days_in_month,
    month_end,
    month_index,
    month_start,
)
from jeugdhulp.synthetic.providers import Provider
from jeugdhulp.synthetic.trajectories import Episode

_REALISED = (0.75, 1.05)  # delivered share of the allocated volume in a month


@dataclass(slots=True, eq=False)
class CareLine:
    """The care one episode delivered in one month: what a correct invoice line says."""

    episode: Episode
    month: int
    period_start: date
    period_end: date
    volume: int
    tariff_cents: int | None
    amount_cents: int
    allocated_volume: int  # what the allocation allows in this month (for over-volume lines)

    def as_line(
        self, reference: str, *, volume: int | None = None, bsn: str | None = None
    ) -> InvoiceLine:
        """The invoice line for this care; `volume` overrides the delivered volume (wrong lines)."""
        episode = self.episode
        product = episode.product
        sent_volume = self.volume if volume is None else volume
        amount = (
            self.amount_cents
            if volume is None or self.tariff_cents is None
            else sent_volume * self.tariff_cents
        )
        return InvoiceLine(
            bsn=bsn or episode.youth.bsn,
            reference_number=reference,
            previous_reference_number=None,
            allocation_number=episode.allocation_number,
            product_category=product.category,
            product_code=product.code,
            period_start=self.period_start,
            period_end=self.period_end,
            volume=sent_volume,
            unit=product.unit,
            tariff_cents=self.tariff_cents,
            amount_cents=amount,
        )


def care_lines(
    episode: Episode, first_month: int, last_month: int, rng: random.Random
) -> list[CareLine]:
    """True monthly care of an episode from `first_month` to `last_month` (month indexes)."""
    if not episode.has_care:
        return []
    start, end = episode.care_start, episode.care_end
    pause = episode.pause
    product = episode.product
    lines = []
    for month in range(max(month_index(start), first_month), min(month_index(end), last_month) + 1):
        first_day = max(month_start(month), start)
        last_day = min(month_end(month), end)
        days = (last_day - first_day).days + 1
        if pause is not None:
            paused_from, paused_to = add_days(pause[0], 1), add_days(pause[1], -1)
            overlap_first, overlap_last = max(first_day, paused_from), min(last_day, paused_to)
            if overlap_first <= overlap_last:
                days -= (overlap_last - overlap_first).days + 1
                if days <= 0:
                    continue
                if overlap_first == first_day:
                    first_day = pause[1]
                if overlap_last == last_day:
                    last_day = pause[0]
        lines.append(_care_line(episode, product, month, first_day, last_day, days, rng))
    return lines


def _care_line(episode, product, month, first_day, last_day, days, rng) -> CareLine:
    year = month // 12
    tariff = product.tariff_cents(year)
    share = days / days_in_month(month)
    realised = rng.uniform(*_REALISED)
    frequency = episode.frequency
    if product.unit == "83":
        amount = max(100, round(episode.monthly_budget_cents * share * realised))
        volume = max(1, round(amount / 100))
        return CareLine(episode, month, first_day, last_day, volume, None, amount, volume)
    if frequency == "1":
        allocated = days * episode.volume
        volume = allocated
    elif frequency == "2":
        allocated = math.ceil(episode.volume * days / 7)
        volume = round(episode.volume * days / 7 * realised)
    elif frequency == "4":
        allocated = episode.volume
        volume = round(episode.volume * share * realised)
    else:  # 6: a total for the whole allocation, spread over its months
        months = max(
            1, month_index(episode.allocation_end) - month_index(episode.allocation_start) + 1
        )
        allocated = episode.volume
        volume = round(episode.volume / months * share * realised)
    volume = max(1, volume)
    return CareLine(
        episode, month, first_day, last_day, volume, tariff, volume * tariff, max(allocated, volume)
    )


# --- streams and declarations -------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class SentLine:
    """A line as it goes out in a JW323, and what the municipality answers about it."""

    line: InvoiceLine
    role: str  # regular | over_volume | wrong_volume | resend | credit | redebit | defect
    care: CareLine | None  # the true care behind it (None for lines that match no care)
    reject_codes: tuple[str, ...] = ()  # listed in the JW325 with these codes; () = accepted

    @property
    def rejected(self) -> bool:
        return bool(self.reject_codes)


@dataclass(slots=True, eq=False)
class Draft:
    """One JW323 declaration of a stream before it is written."""

    stream: Stream
    period: int  # DeclaratiePeriode month index
    number: str  # DeclaratieNummer
    date: date  # DeclaratieDagtekening (and message date)
    answer_date: date  # JW325 date
    lines: list[SentLine] = field(default_factory=list)
    broken: str | None = None  # malformed_xml | wrong_version: written broken, re-sent valid
    resend_date: date | None = None  # when the valid copy of a broken file is sent
    declaration_codes: tuple[str, ...] = ("0200",)

    @property
    def valid_date(self) -> date:
        """When the ingestible copy of this declaration was sent."""
        return self.resend_date or self.date


@dataclass(slots=True, eq=False)
class Stream:
    """All invoicing of one provider to one municipality within one partition."""

    provider: Provider
    municipality: str
    lines: list[CareLine] = field(default_factory=list)
    episodes: list[Episode] = field(default_factory=list)
    drafts: list[Draft] = field(default_factory=list)
    _scheduled: dict[int, list[tuple]] = field(default_factory=dict)
    _dates: dict[int, tuple[date, date]] = field(default_factory=dict)

    def deliverable_period(self, period: int) -> int:
        """The first period from `period` on that the provider does not skip."""
        skipped = self.provider.behaviour.skipped_months
        while period in skipped:
            period += 1
        return period

    def schedule(self, period: int, item: tuple) -> None:
        self._scheduled.setdefault(self.deliverable_period(period), []).append(item)


class DefectInjector(Protocol):
    def inject(self, draft: Draft, builder: DeclarationBuilder) -> None: ...


class DeclarationBuilder:
    """Turns one partition's care lines into declaration drafts, stream by stream, period by period."""

    def __init__(
        self, *, partition_no: int, rng: random.Random, as_of: date, first_month: int
    ) -> None:
        self.partition_no = partition_no
        self.rng = rng
        self.as_of = as_of
        self.first_month = first_month
        self.last_period = month_index(as_of) - 1  # later periods cannot be declared by as_of
        self._reference_seq = 0
        self._declaration_seq = 0

    def next_reference(self) -> str:
        self._reference_seq += 1
        return f"R{self.partition_no:04d}{self._reference_seq:09d}"

    def next_declaration_number(self) -> str:
        self._declaration_seq += 1
        return f"D{self.partition_no:04d}{self._declaration_seq:07d}"

    # --- per stream -----------------------------------------------------------------------------

    def assign_periods(self, stream: Stream) -> dict[int, list[CareLine]]:
        """Which declaration period each true care line is first sent in (lags and skipped months)."""
        behaviour = stream.provider.behaviour
        rng = self.rng
        by_period: dict[int, list[CareLine]] = {}
        for care in stream.lines:
            lag = 0
            if not behaviour.clean:
                if rng.random() < behaviour.very_late_share:
                    lag = rng.randint(4, 15)
                elif rng.random() < behaviour.late_line_share:
                    lag = min(6, 1 + int(rng.expovariate(1.2)))
            period = stream.deliverable_period(care.month + lag)
            # nobody can invoice care before the allocation exists (retroactive allocations)
            while (
                period <= self.last_period
                and self.declaration_dates(stream, period)[0] <= care.episode.allocation_date
            ):
                period = stream.deliverable_period(period + 1)
            if period <= self.last_period:
                by_period.setdefault(period, []).append(care)
        return by_period

    def declaration_dates(self, stream: Stream, period: int) -> tuple[date, date]:
        """(DeclaratieDagtekening, JW325 date) of the stream's declaration for `period`."""
        found = stream._dates.get(period)
        if found is None:
            behaviour = stream.provider.behaviour
            rng = self.rng
            send_month = period + 1
            if behaviour.late_declaration_share and rng.random() < behaviour.late_declaration_share:
                send_month += 1
            sent = day_in_month(send_month, behaviour.declaration_day + rng.randint(-2, 4))
            found = stream._dates[period] = (sent, add_days(sent, rng.randint(2, 8)))
        return found

    def build(self, stream: Stream, injector: DefectInjector | None) -> None:
        """All drafts of a stream, in period order; rejections and corrections schedule later lines."""
        behaviour = stream.provider.behaviour
        by_period = self.assign_periods(stream)
        rng = self.rng
        periods = sorted(by_period)
        if not periods:
            return
        for period in range(periods[0], self.last_period + 1):
            base = by_period.get(period, [])
            scheduled = stream._scheduled.pop(period, [])
            if not base and not scheduled:
                continue
            sent, answered = self.declaration_dates(stream, period)
            draft = Draft(stream, period, self.next_declaration_number(), sent, answered)
            for care in base:
                draft.lines.append(self._first_send(stream, draft, care, behaviour, rng))
            for item in scheduled:
                draft.lines.extend(self._scheduled_lines(item))
            if injector is not None:
                injector.inject(draft, self)
            stream.drafts.append(draft)

    def period_after_answer(self, stream: Stream, draft: Draft) -> int:
        """The first period whose declaration goes out after this draft's JW325 came back."""
        period = stream.deliverable_period(draft.period + 1)
        while self.declaration_dates(stream, period)[0] <= draft.answer_date:
            period = stream.deliverable_period(period + 1)
        return period

    def _first_send(self, stream: Stream, draft: Draft, care: CareLine, behaviour, rng) -> SentLine:
        reference = self.next_reference()
        if behaviour.clean:
            return SentLine(care.as_line(reference), "regular", care)
        draw = rng.random()
        product = care.episode.product
        if (
            draw < behaviour.rejection_share
            and product.unit in ("01", "04", "16")
            and care.episode.frequency in ("2", "4")
        ):
            over = math.ceil(care.allocated_volume * 1.3) + 1
            stream.schedule(self.period_after_answer(stream, draft), ("resend", care))
            return SentLine(care.as_line(reference, volume=over), "over_volume", care, ("9321",))
        if (
            draw < behaviour.rejection_share + behaviour.correction_share
            and care.tariff_cents is not None
        ):
            wrong = (
                care.volume + rng.choice((1, 2))
                if care.volume < 3 or rng.random() < 0.5
                else care.volume - 1
            )
            line = care.as_line(reference, volume=wrong)
            stream.schedule(draft.period + rng.randint(1, 3), ("correct", care, line))
            return SentLine(line, "wrong_volume", care)
        return SentLine(care.as_line(reference), "regular", care)

    def _scheduled_lines(self, item: tuple) -> list[SentLine]:
        kind = item[0]
        if kind == "resend":
            care = item[1]
            return [SentLine(care.as_line(self.next_reference()), "resend", care)]
        if kind == "correct":
            care, original = item[1], item[2]
            credit = InvoiceLine(
                bsn=original.bsn,
                reference_number=self.next_reference(),
                previous_reference_number=original.reference_number,
                allocation_number=original.allocation_number,
                product_category=original.product_category,
                product_code=original.product_code,
                period_start=original.period_start,
                period_end=original.period_end,
                volume=original.volume,
                unit=original.unit,
                tariff_cents=original.tariff_cents,
                amount_cents=original.amount_cents,
                debit_credit="C",
            )
            return [
                SentLine(credit, "credit", care),
                SentLine(care.as_line(self.next_reference()), "redebit", care),
            ]
        raise ValueError(f"unknown scheduled item {kind!r}")

"""Deliberate defects in the invoice traffic, injected at recorded places so the pipeline's checks can be verified.

Line-level defects carry the iJw return code (rule id) a municipality would answer with; about half
are caught (the JW325 rejects the line with that code, and a wrong amount or a rejected
declaration is re-sent correctly later), the rest slip through and count in accepted cost. File
defects (`malformed_xml`, `wrong_version`) make one JW323 unreadable; the provider re-sends it valid
a few days later. `invalid_bsn` changes a client's check digit: the file stays valid and counts.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from datetime import date, timedelta

from jeugdhulp.ijw.records import InvoiceLine
from jeugdhulp.synthetic.invoicing import CareLine, DeclarationBuilder, Draft, SentLine, Stream
from jeugdhulp.synthetic.months import month_end, month_index, month_start
from jeugdhulp.synthetic.youths import typo_bsn

LINE_DEFECTS = ("9346", "9338", "8017", "9333", "9389", "9307", "9308", "invalid_bsn")
FILE_DEFECTS = ("malformed_xml", "wrong_version")
IJW_DEFECTS = LINE_DEFECTS + FILE_DEFECTS
DESCRIPTIONS = {
    "9346": "amount_not_volume_times_tariff",
    "9338": "no_matching_allocation",
    "8017": "credit_without_debit",
    "9333": "duplicate_declaration_number",
    "9389": "second_debit_same_period",
    "9307": "care_before_allocation_start",
    "9308": "care_after_allocation_end",
    "invalid_bsn": "invalid_bsn",
    "malformed_xml": "malformed_xml",
    "wrong_version": "wrong_version",
}
# The data-quality rule that must find each kind: the iJw return code, or the file-level rule of
# marts.dq_findings for the two kinds that make a file unreadable.
RULE_IDS = {kind: kind for kind in LINE_DEFECTS} | {
    "malformed_xml": "file_malformed",
    "wrong_version": "file_wrong_version",
}
# a defect must land with room to spare: its JW325 and any re-sent copy land before as_of too
_MARGIN = timedelta(days=30)


@dataclass(slots=True)
class DefectNote:
    kind: str  # rule id: an iJw return code, or a file-level name
    draft: Draft
    reference: str  # ReferentieNummer of the line, or a DeclaratieNummer description
    caught: bool  # listed as rejected in the JW325


@dataclass(slots=True)
class _Pending:
    kind: str
    from_period: int


class Injector:
    """Places the planned defects of one partition into the first suitable declarations."""

    def __init__(self, *, rng: random.Random, as_of: date, partition_no: int) -> None:
        self.rng = rng
        self.latest = as_of - _MARGIN
        self.partition_no = partition_no
        self.pending: dict[int, list[_Pending]] = {}  # id(stream) -> planned defects
        self.notes: list[DefectNote] = []
        self._fake_allocations = 0
        self._fake_references = 0

    def plan(self, stream: Stream, kind: str, from_period: int) -> None:
        self.pending.setdefault(id(stream), []).append(_Pending(kind, from_period))

    @property
    def unplaced(self) -> list[str]:
        return [p.kind for items in self.pending.values() for p in items]

    def inject(self, draft: Draft, builder: DeclarationBuilder) -> None:
        pending = self.pending.get(id(draft.stream))
        if not pending or draft.date > self.latest or draft.broken:
            return
        for position, item in enumerate(pending):
            if draft.period < item.from_period:
                continue
            note = self._apply(item.kind, draft, builder)
            if note is not None:
                self.notes.append(note)
                del pending[position]
                return

    # --- the defects ----------------------------------------------------------------------------

    def _apply(self, kind: str, draft: Draft, builder: DeclarationBuilder) -> DefectNote | None:
        if kind in FILE_DEFECTS:
            draft.broken = kind
            draft.resend_date = draft.date + timedelta(days=self.rng.randint(4, 15))
            draft.answer_date = draft.resend_date + timedelta(days=self.rng.randint(2, 8))
            return DefectNote(kind, draft, f"DeclaratieNummer {draft.number}", False)
        handler = getattr(self, f"_defect_{kind}")
        return handler(draft, builder)

    def _caught(self) -> bool:
        return self.rng.random() < 0.5

    def _plain_regular(self, draft: Draft) -> list[SentLine]:
        return [s for s in draft.lines if s.role == "regular" and s.line.tariff_cents is not None]

    def _defect_9346(self, draft: Draft, builder: DeclarationBuilder) -> DefectNote | None:
        candidates = self._plain_regular(draft)
        if not candidates:
            return None
        sent = self.rng.choice(candidates)
        line = sent.line
        wrong = line.amount_cents + self.rng.choice((1000, 2500, line.tariff_cents // 2 or 100))
        sent.line = _replace(line, amount_cents=wrong)
        sent.role = "defect"
        caught = self._caught()
        if caught:
            sent.reject_codes = ("9346",)
            draft.stream.schedule(
                builder.period_after_answer(draft.stream, draft), ("resend", sent.care)
            )
        return DefectNote("9346", draft, line.reference_number, caught)

    def _defect_9338(self, draft: Draft, builder: DeclarationBuilder) -> DefectNote | None:
        candidates = self._plain_regular(draft)
        if not candidates:
            return None
        template = self.rng.choice(candidates).line
        self._fake_allocations += 1
        number = str(self.partition_no * 1_000_000 + 900_000 + self._fake_allocations)
        line = _replace(
            template, reference_number=builder.next_reference(), allocation_number=number
        )
        return self._add(draft, line, "9338")

    def _defect_8017(self, draft: Draft, builder: DeclarationBuilder) -> DefectNote | None:
        candidates = self._plain_regular(draft)
        if not candidates:
            return None
        template = self.rng.choice(candidates).line
        self._fake_references += 1
        # a reference this provider never sent: the credit has no debit to cancel
        missing = f"Q{self.partition_no:04d}{self._fake_references:09d}"
        line = _replace(
            template,
            reference_number=builder.next_reference(),
            previous_reference_number=missing,
            debit_credit="C",
        )
        return self._add(draft, line, "8017")

    def _defect_9333(self, draft: Draft, builder: DeclarationBuilder) -> DefectNote | None:
        earlier = [d for d in draft.stream.drafts if not d.broken and d.number != draft.number]
        if not earlier or any(
            s.role not in ("regular", "resend") or s.rejected for s in draft.lines
        ):
            return None
        draft.number = earlier[0].number
        caught = self._caught()
        if caught:
            draft.declaration_codes = ("9333",)
            resend_period = builder.period_after_answer(draft.stream, draft)
            for sent in draft.lines:
                sent.reject_codes = ("9333",)
                draft.stream.schedule(resend_period, ("resend", sent.care))
        return DefectNote("9333", draft, f"DeclaratieNummer {draft.number}", caught)

    def _defect_9389(self, draft: Draft, builder: DeclarationBuilder) -> DefectNote | None:
        # a debit sent and accepted before, sent again without crediting the first
        earlier = [
            s
            for d in draft.stream.drafts
            if not d.broken and d.period < draft.period and d.date < draft.date
            for s in d.lines
            if s.role == "regular" and s.line.debit_credit == "D" and not s.rejected
        ]
        if not earlier:
            return None
        original = self.rng.choice(earlier).line
        line = _replace(original, reference_number=builder.next_reference())
        return self._add(draft, line, "9389")

    def _defect_9307(self, draft: Draft, builder: DeclarationBuilder) -> DefectNote | None:
        # care invoiced for the month before the allocation starts
        candidates = [
            e
            for e in draft.stream.episodes
            if builder.first_month <= month_index(e.allocation_start) - 1
            and month_index(e.allocation_start) <= draft.period
            and e.allocation_date <= draft.date
            and e.has_care
        ]
        if not candidates:
            return None
        episode = self.rng.choice(candidates)
        month = month_index(episode.allocation_start) - 1
        return self._add(draft, self._outside_line(episode, month, builder), "9307")

    def _defect_9308(self, draft: Draft, builder: DeclarationBuilder) -> DefectNote | None:
        # care invoiced for the month after the allocation ended
        candidates = []
        for episode in draft.stream.episodes:
            end = episode.allocation_end_effective
            last_change = max(
                [episode.allocation_date]
                + [sent for sent, _ in episode.extensions]
                + ([episode.shortened[0]] if episode.shortened else [])
            )
            if (
                episode.has_care
                and month_index(end) + 1 <= draft.period
                and last_change <= draft.date
            ):
                candidates.append(episode)
        if not candidates:
            return None
        episode = self.rng.choice(candidates)
        month = month_index(episode.allocation_end_effective) + 1
        return self._add(draft, self._outside_line(episode, month, builder), "9308")

    def _defect_invalid_bsn(self, draft: Draft, builder: DeclarationBuilder) -> DefectNote | None:
        candidates = self._plain_regular(draft)
        if not candidates:
            return None
        sent = self.rng.choice(candidates)
        sent.line = _replace(sent.line, bsn=typo_bsn(sent.line.bsn))
        sent.role = "defect"
        return DefectNote("invalid_bsn", draft, sent.line.reference_number, False)

    # --- helpers --------------------------------------------------------------------------------

    def _outside_line(self, episode, month: int, builder: DeclarationBuilder) -> InvoiceLine:
        product = episode.product
        tariff = product.tariff_cents(month // 12)
        volume = 10 if product.unit == "14" else max(1, min(episode.volume or 4, 12))
        care = CareLine(
            episode,
            month,
            month_start(month),
            month_end(month),
            volume,
            tariff,
            volume * (tariff or 100),
            volume,
        )
        return care.as_line(builder.next_reference())

    def _add(self, draft: Draft, line: InvoiceLine, kind: str) -> DefectNote:
        caught = self._caught()
        draft.lines.append(SentLine(line, "defect", None, (kind,) if caught else ()))
        return DefectNote(kind, draft, line.reference_number, caught)


def _replace(line: InvoiceLine, **changes) -> InvoiceLine:
    return dataclasses.replace(line, **changes)

"""Turns episodes and declaration drafts into dated iJw messages (records.py types), in a fixed order."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from jeugdhulp.ijw.records import (
    Allocation,
    CareStart,
    CareStop,
    Client,
    Declaration,
    DeclarationAnswer,
    Header,
    Message,
    ReferralRequest,
    RejectedLine,
)
from jeugdhulp.synthetic.invoicing import Draft
from jeugdhulp.synthetic.months import month_end, month_start
from jeugdhulp.synthetic.trajectories import Episode

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message to write: when it is sent, and the header fields the writer needs besides the id."""

    message_type: str
    sent: date
    provider_agb: str
    municipality: str
    records: tuple
    declaration: Declaration | None = None
    answer: DeclarationAnswer | None = None

    def message(self, message_id: str) -> Message:
        municipality_sends = self.message_type in ("JW301", "JW325")
        sender, receiver = (
            (self.municipality, self.provider_agb)
            if municipality_sends
            else (self.provider_agb, self.municipality)
        )
        return Message(
            header=Header(self.message_type, sender, receiver, message_id, self.sent),
            records=self.records,
            declaration=self.declaration,
            answer=self.answer,
        )


def episode_messages(episode: Episode) -> Iterator[Outgoing]:
    """JW315, JW301 (+ extensions, shortening or deletion), JW305 (+ corrections), JW307 of an episode."""
    youth = episode.youth
    client = Client(bsn=youth.bsn, birth_date=youth.birth_date, gender=youth.gender)
    product = episode.product
    agb, municipality = episode.provider.agb, episode.municipality
    budget = product.unit == "83"
    omvang = (None, None, None) if budget else (episode.volume, product.unit, episode.frequency)

    def out(message_type: str, sent: date, record) -> Outgoing:
        return Outgoing(message_type, sent, agb, municipality, (record,))

    yield out(
        "JW315",
        episode.request_date,
        ReferralRequest(
            client=client,
            provider_reference=episode.provider_reference,
            product_category=product.category,
            product_code=product.code,
            requested_start_date=episode.allocation_start,
            requested_end_date=episode.allocation_end,
            referrer_type=episode.referrer_type,
            volume=omvang[0],
            unit=omvang[1],
            frequency=omvang[2],
            referrer_name=episode.referrer_name,
            referrer_agb=episode.referrer_agb,
        ),
    )

    def allocation(sent: date, end: date, reason: str | None) -> Outgoing:
        return out(
            "JW301",
            sent,
            Allocation(
                client=client,
                allocation_number=episode.allocation_number,
                provider_reference=episode.provider_reference,
                product_category=product.category,
                product_code=product.code,
                allocation_date=sent,
                start_date=episode.allocation_start,
                end_date=end,
                change_reason=reason,
                volume=omvang[0],
                unit=omvang[1],
                frequency=omvang[2],
                budget_cents=episode.budget_cents_until(end),
                allocation_time=episode.allocation_time,
            ),
        )

    yield allocation(episode.allocation_date, episode.allocation_end, None)
    for sent, end in episode.extensions:
        yield allocation(max(sent, episode.allocation_date + ONE_DAY), end, "04")
    if episode.deleted_on is not None:
        yield allocation(episode.deleted_on, episode.allocation_end, "13")
        return
    if episode.shortened is not None:
        sent, end = episode.shortened
        yield allocation(max(sent, episode.allocation_date + ONE_DAY), end, "07")

    def start(begin: date, status: str) -> CareStart:
        return CareStart(
            client,
            episode.allocation_number,
            product.category,
            product.code,
            episode.allocation_start,
            begin,
            status,
        )

    # a start is never reported before the allocation it belongs to
    first_start = max(episode.start_message_date, episode.allocation_date + ONE_DAY)
    if episode.wrong_start is not None:
        wrong, sent, corrected = episode.wrong_start
        sent = max(sent, episode.allocation_date + ONE_DAY)
        first_start = max(corrected, sent + ONE_DAY)
        yield out("JW305", sent, start(wrong, "1"))
        yield Outgoing(
            "JW305",
            first_start,
            agb,
            municipality,
            (start(wrong, "3"), start(episode.care_start, "1")),
        )
    else:
        yield out("JW305", first_start, start(episode.care_start, "1"))
    last_message = first_start
    current_start = episode.care_start
    if episode.pause is not None:
        stopped, resumed = episode.pause
        stop_sent, restart_sent = episode.pause_messages
        stop_sent = max(stop_sent, last_message + ONE_DAY)
        restart_sent = max(restart_sent, stop_sent + ONE_DAY)
        yield out(
            "JW307",
            stop_sent,
            CareStop(
                client,
                episode.allocation_number,
                product.category,
                product.code,
                episode.allocation_start,
                current_start,
                "20",
                stopped,
            ),
        )
        yield out("JW305", restart_sent, start(resumed, "1"))
        last_message, current_start = restart_sent, resumed
    yield out(
        "JW307",
        max(episode.stop_message_date, last_message + ONE_DAY),
        CareStop(
            client,
            episode.allocation_number,
            product.category,
            product.code,
            episode.allocation_start,
            current_start,
            episode.end_reason,
            episode.care_end,
        ),
    )


def declaration_message(draft: Draft, sent: date) -> Outgoing:
    """The JW323 of a draft, as sent on `sent` (the broken copy and its valid re-send share content)."""
    stream = draft.stream
    declaration = Declaration(
        draft.number, month_start(draft.period), month_end(draft.period), draft.date
    )
    return Outgoing(
        "JW323",
        sent,
        stream.provider.agb,
        stream.municipality,
        tuple(s.line for s in draft.lines),
        declaration=declaration,
    )


def answer_message(draft: Draft) -> Outgoing:
    """The JW325: totals of the JW323 and only its rejected lines, with their return codes."""
    submitted = granted = 0
    rejected = []
    for sent in draft.lines:
        signed = (
            -sent.line.amount_cents if sent.line.debit_credit == "C" else sent.line.amount_cents
        )
        submitted += signed
        if sent.rejected:
            rejected.append(RejectedLine(sent.line, sent.reject_codes))
        else:
            granted += signed
    answer = DeclarationAnswer(
        declaration_number=draft.number,
        submitted_cents=abs(submitted),
        submitted_debit_credit="C" if submitted < 0 else "D",
        granted_cents=abs(granted),
        granted_debit_credit="C" if granted < 0 else "D",
        return_codes=draft.declaration_codes,
    )
    stream = draft.stream
    return Outgoing(
        "JW325",
        draft.answer_date,
        stream.provider.agb,
        stream.municipality,
        tuple(rejected),
        answer=answer,
    )

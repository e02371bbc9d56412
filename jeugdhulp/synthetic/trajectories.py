"""Care trajectories of one municipality: who enters care when, at which provider, for which product, and how it runs.

An episode is one allocation (ToewijzingNummer) with the care delivered under it: request (JW315),
allocation (JW301) and its extensions or deletion, start (JW305) and stop (JW307). Youths may hold
several episodes (another product, a second provider, a return months after their care ended:
docs/synthetic_data.md), move to another municipality (the allocation ends and a new one starts
under the new municipality: woonplaatsbeginsel), pause care (stop reason 20, then a new start) or
die (reason 02).
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from jeugdhulp.synthetic.care_patterns import (
    ARRIVAL_CHOICE,
    DAY_TREATMENT,
    END_REASON_CHOICE,
    PATTERNS,
    REFERRER_CHOICES,
    TRANSPORT_PRODUCT,
    TRANSPORT_SHARE,
    CarePattern,
    draw_volume,
)
from jeugdhulp.synthetic.catalogue import PRODUCTS_BY_CODE, Product
from jeugdhulp.synthetic.months import add_days, add_months, day_in_month, month_index
from jeugdhulp.synthetic.municipalities import Municipality
from jeugdhulp.synthetic.providers import Provider
from jeugdhulp.synthetic.randomness import WeightedChoice, poisson
from jeugdhulp.synthetic.youths import BsnPool, Youth

# new episodes per youth in care per year: calibrated so a municipality has about
# `youths_in_care` distinct youths with care in a year (the region profile, with its returning
# youths, uses profiles.REGION_ARRIVALS_PER_YOUTH_IN_CARE)
ARRIVALS_PER_YOUTH_IN_CARE = 0.595
EXISTING_ACTIVE_SHARE = 0.20  # a new episode for a youth already in care (second product/provider)
# without scheduled returns (tiny, national): a new episode for a youth who had care before
RETURNING_SHARE = 0.10
# Returning youths (region profile: profiles.REGION_RETURN_PROBABILITY; docs/synthetic_data.md).
# CBS Beleidsinformatie Jeugd: roughly half of the trajectories started in a year are by youths
# who had jeugdhulp in the five years before. When the care of an arrival ends, the youth comes
# back for new care with the profile's return probability (a product drawn like any arrival's,
# fitting the youth's age), after a lognormal delay from the end of that care: median
# RETURN_MEDIAN_MONTHS, sigma RETURN_SPREAD, at least RETURN_MIN_DAYS (a gap of a few days is a
# transfer, not a return), only before the youth turns 18 and only if the youth is out of care
# by then (else the care running is the youth's care). A return schedules no further return.
RETURN_MEDIAN_MONTHS = 6.0
RETURN_SPREAD = 0.8
RETURN_MIN_DAYS = 30
DELETED_SHARE = 0.02  # allocations withdrawn before care started (RedenWijziging 13)
PAUSE_SHARE = 0.04  # longer episodes with a temporary stop (JW307 reason 20) and restart
WRONG_START_SHARE = 0.03  # a JW305 with a wrong date, deleted (StatusAanlevering 3) and re-sent
MOVE_SHARE = 0.03  # youths moving to another municipality of the profile during care
DEATH_SHARE = 0.0003
PGB_PER_YOUTH_IN_CARE = 0.035  # new personal budgets per youth in care per year
# Complex cases (region profile, docs/synthetic_data.md, docs/purchasing_marts.md): the few
# youths whose care costs several times a heavy residential placement (secure or intensive
# treatment, three-milieu arrangements: EUR 100,000-300,000 a year), bought as a
# maatwerkarrangement (50A01, budget per month) from a provider of heavy residential care (they
# serve the whole region). Their monthly budget is lognormal around EUR 22,000 (about EUR 720 a
# day, the order of JeugdzorgPlus tariffs), their duration lognormal around 20 months: the heavy
# tail that makes the ten most expensive clients a third of a small municipality's cost.
COMPLEX_PRODUCT = "50A01"
COMPLEX_PROVIDER_PRODUCT = "44A27"  # the providers that offer this deliver complex cases
COMPLEX_MEDIAN_MONTHS = 20.0
COMPLEX_MONTHLY_EUR = 22_000
COMPLEX_MIN_AGE = 12
COMPLEX_MAX_AGE = 16  # a placement of a 17-year-old would end at 18 within months
# caps that keep an allocation's Budget (all its months) within the iJw maximum of EUR 999,999.99
COMPLEX_MAX_MONTHLY_EUR = 25_000
COMPLEX_MAX_DAYS = 730
# municipal team names referrers give; the GP and youth doctor carry an AGB instead
_TEAM_NAME = "Jeugd- en gezinsteam"


@dataclass(slots=True, eq=False)
class Episode:
    seq: int
    youth: Youth
    provider: Provider
    product: Product
    municipality: str  # CBS code of the financially responsible municipality
    referrer_type: str
    referrer_name: str | None
    referrer_agb: str | None
    provider_reference: str  # ReferentieAanbieder in JW315 and JW301
    allocation_number: str
    request_date: date
    allocation_date: date
    allocation_time: str
    allocation_start: date
    allocation_end: date  # Einddatum as first allocated
    volume: int | None
    frequency: str | None
    monthly_budget_cents: int | None  # unit 83 products: allocated by budget, not Omvang
    care_start: date | None  # None: the allocation was deleted before care began
    care_end: date
    end_reason: str
    start_message_date: date
    stop_message_date: date
    extensions: list[tuple[date, date]] = field(default_factory=list)  # (sent, new Einddatum)
    deleted_on: date | None = None
    shortened: tuple[date, date] | None = None  # (sent, new Einddatum): RedenWijziging 07, moved
    wrong_start: tuple[date, date, date] | None = None  # (wrong Begindatum, sent, deleted on)
    pause: tuple[date, date] | None = None  # (last day before the pause, first day after)
    pause_messages: tuple[date, date] | None = None  # (JW307 reason 20 sent, JW305 restart sent)
    moved_from: Episode | None = None
    returning: bool = False  # new care of a youth returning after earlier care ended

    @property
    def allocation_end_effective(self) -> date:
        if self.shortened is not None:
            return self.shortened[1]
        return self.extensions[-1][1] if self.extensions else self.allocation_end

    @property
    def last_day(self) -> date:
        """The last day this episode means anything: deletion, or the end of care and allocation."""
        if self.deleted_on is not None:
            return self.deleted_on
        return max(self.care_end, self.allocation_end_effective)

    @property
    def has_care(self) -> bool:
        return self.care_start is not None

    def budget_cents_until(self, end: date) -> int | None:
        """The Budget of an allocation running from its start to `end` (unit 83 products)."""
        if self.monthly_budget_cents is None:
            return None
        months = max(1, month_index(end) - month_index(self.allocation_start) + 1)
        return self.monthly_budget_cents * months


@dataclass(slots=True)
class PersonalBudget:
    """An SVB personal budget (PGB): monthly payments for a youth outside the iJw traffic."""

    youth: Youth
    municipality: str
    category: str
    first_month: int
    last_month: int
    monthly_cents: int
    with_zin: bool = False  # given to a youth in ZIN care here at the time (PGB and ZIN)


@dataclass(frozen=True, slots=True)
class Script:
    """A forced episode for small profiles, so that every behaviour appears at least once."""

    product: str
    archetype: str
    month_offset: int  # months after the first invoiced month
    duration_days: int
    behaviour: str = ""  # deleted | pause | wrong_start | move | death | early_end


TINY_SCRIPTS: tuple[Script, ...] = (
    Script("44A27", "multi", -3, 640),
    Script("54D01", "ggz", 1, 420),
    Script("50A01", "ggz", 0, 300),
    Script("41A00", "multi", 1, 330),
    Script("45A48", "multi", 2, 300, "pause"),
    Script("45A48", "multi", 1, 200, "wrong_start"),
    Script("54002", "ggz", 3, 200, "deleted"),
    Script("45A48", "multi", 0, 420, "move"),
    Script("54003", "multi", 1, 240, "death"),
    Script("45A48", "ambulant", 0, 150, "early_end"),
    Script("54002", "ambulant", 2, 240),
)


class MunicipalityWorld:
    """Simulates one municipality's youths and episodes, month by month, in a fixed order."""

    def __init__(
        self,
        *,
        municipality: Municipality,
        partition_no: int,
        others: list[Municipality],
        providers: list[Provider],
        pool: BsnPool,
        rng: random.Random,
        first_month: int,
        warmup_months: int,
        last_month: int,
        scripts: tuple[Script, ...] = (),
        pgb_with_zin_share: float = 0.0,
        complex_cases_per_1000: float = 0.0,
        arrivals_per_youth_in_care: float = ARRIVALS_PER_YOUTH_IN_CARE,
        return_probability: float = 0.0,
    ) -> None:
        self.municipality = municipality
        self.partition_no = partition_no
        self.others = others
        self.pool = pool
        self.rng = rng
        self.first_month = first_month
        self.warmup_start = first_month - warmup_months
        self.last_month = last_month
        self.horizon_end = day_in_month(last_month, 31)
        self.scripts = scripts
        self.youths: list[Youth] = []
        self.episodes: list[Episode] = []
        self.budgets: list[PersonalBudget] = []
        # share of new personal budgets that go to a youth already in ZIN care here (PGB and ZIN)
        self.pgb_with_zin_share = pgb_with_zin_share
        # new complex cases per year per 1,000 youths aged 0-17 (0: none, as before)
        self.complex_cases_per_1000 = complex_cases_per_1000
        self.arrivals_per_youth_in_care = arrivals_per_youth_in_care
        # returns scheduled when care ends (0: none; then RETURNING_SHARE of new care goes to a
        # youth who had care before, picked at random)
        self.return_probability = return_probability
        self._returning_share = 0.0 if return_probability else RETURNING_SHARE
        self.complex_cases: list[Episode] = []
        self._allocation_seq = 0
        self._reference_seq = 0
        self._providers_by_product = self._provider_choices(providers)
        self._by_archetype = {}
        for provider in providers:
            if provider.serves(municipality.code):
                self._by_archetype.setdefault(provider.archetype, provider)
        self._other_choice = (
            WeightedChoice(others, [m.youths_in_care for m in others]) if others else None
        )
        self._forced: dict[int, str] = {}  # youth id -> move | death
        self._returns: list[tuple[date, int, Youth]] = []  # (due, order, youth): returns scheduled
        self.returns = 0  # episodes of returning youths
        self._return_seq = 0

    # --- setup --------------------------------------------------------------------------------

    def _provider_choices(self, providers: list[Provider]) -> dict[str, WeightedChoice]:
        choices = {}
        code = self.municipality.code
        for product in PATTERNS:
            offering = [p for p in providers if p.serves(code) and p.weight_for(product) > 0]
            if offering:
                choices[product] = WeightedChoice(
                    offering, [p.weight_for(product) for p in offering]
                )
        return choices

    # --- the simulation -------------------------------------------------------------------------

    def simulate(self) -> None:
        monthly = self.municipality.youths_in_care * self.arrivals_per_youth_in_care / 12
        monthly_pgb = self.municipality.youths_in_care * PGB_PER_YOUTH_IN_CARE / 12
        monthly_complex = self.municipality.youth_0_17 * self.complex_cases_per_1000 / 1000 / 12
        scripts_by_month: dict[int, list[Script]] = {}
        for script in self.scripts:
            scripts_by_month.setdefault(self.first_month + script.month_offset, []).append(script)
        rng = self.rng
        for month in range(self.warmup_start, self.last_month + 1):
            for script in scripts_by_month.get(month, ()):
                self._scripted(script, month)
            arrivals = poisson(rng, monthly)
            for _ in range(arrivals):
                self._arrival(day_in_month(month, rng.randint(1, 28)))
            month_last = day_in_month(month, 31)
            while self._returns and self._returns[0][0] <= month_last:
                due, _, youth = heapq.heappop(self._returns)
                self._return(youth, due)
            if month >= self.first_month - 6:
                for _ in range(poisson(rng, monthly_pgb)):
                    self._personal_budget(day_in_month(month, rng.randint(1, 28)))
            if monthly_complex:
                for _ in range(poisson(rng, monthly_complex)):
                    self._complex_case(day_in_month(month, rng.randint(1, 28)))
        self._apply_deaths()
        self._apply_moves()

    def _arrival(self, day: date, youth: Youth | None = None) -> None:
        """New care from `day`: for `youth` (a returning youth) or for a youth picked or created."""
        rng = self.rng
        product_code = ARRIVAL_CHOICE.draw(rng)
        if youth is not None:
            age = youth.age_on(day)
            for _ in range(4):  # a product for the returning youth's age
                if PATTERNS[product_code].min_age <= age <= PATTERNS[product_code].max_age:
                    break
                product_code = ARRIVAL_CHOICE.draw(rng)
            else:
                return
        choice = self._providers_by_product.get(product_code)
        if choice is None:
            return
        provider = choice.draw(rng)
        pattern = PATTERNS[product_code]
        returning = youth is not None
        if youth is None:
            youth = self._pick_youth(day, pattern)
        else:
            self.returns += 1
        episode = self._new_episode(youth, provider, product_code, day, pattern.duration_days(rng))
        episode.returning = returning
        self._vary(episode, pattern)
        if product_code in DAY_TREATMENT and rng.random() < TRANSPORT_SHARE:
            self._transport_for(episode)
        if not returning:
            self._schedule_return(episode)

    def _schedule_return(self, episode: Episode) -> None:
        """With the return probability, the youth comes back for new care months after this ends."""
        rng = self.rng
        if not self.return_probability or not episode.has_care:
            return
        if rng.random() >= self.return_probability:
            return
        months = RETURN_MEDIAN_MONTHS * math.exp(rng.gauss(0.0, RETURN_SPREAD))
        due = add_days(episode.care_end, max(RETURN_MIN_DAYS, round(months * 30.44)))
        youth = episode.youth
        if due > self.horizon_end or youth.age_on(due) > 17 or youth.retired:
            return
        self._return_seq += 1
        heapq.heappush(self._returns, (due, self._return_seq, youth))
        youth.expected_back = max(due, youth.expected_back or due)

    def _return(self, youth: Youth, day: date) -> None:
        """A scheduled return: new care, unless the youth's number went to another youth, the youth
        is in care again (or turned 18) by then."""
        if youth.expected_back is not None and youth.expected_back <= day:
            youth.expected_back = None
        if youth.retired or youth.age_on(day) > 17:
            return
        last_care = max((e.care_end for e in youth.episodes if e.has_care), default=None)
        if last_care is not None and last_care >= add_days(day, -2):
            return
        self._arrival(day, youth)

    def _complex_case(self, day: date) -> None:
        """A complex case: a maatwerkarrangement with a monthly budget far above the usual."""
        rng = self.rng
        # delivered by the region-wide providers of heavy residential care
        choice = self._providers_by_product.get(COMPLEX_PROVIDER_PRODUCT)
        if choice is None:
            return
        provider = choice.draw(rng)
        pattern = replace(
            PATTERNS[COMPLEX_PRODUCT], min_age=COMPLEX_MIN_AGE, max_age=COMPLEX_MAX_AGE
        )
        # a youth in care whose care escalates (none found: no case this time)
        youth = self._escalating_youth(day, pattern)
        if youth is None:
            return
        months = COMPLEX_MEDIAN_MONTHS * math.exp(rng.gauss(0.0, 0.5))
        # its own duration: the placement keeps the youth (and the youth's test BSN) busy for as
        # long as it runs (youths.py hands the number to nobody else meanwhile)
        duration = min(round(months * 30.44), COMPLEX_MAX_DAYS)
        episode = self._new_episode(youth, provider, COMPLEX_PRODUCT, day, duration)
        monthly = min(COMPLEX_MAX_MONTHLY_EUR, COMPLEX_MONTHLY_EUR * rng.lognormvariate(0.0, 0.35))
        episode.monthly_budget_cents = round(monthly) * 100
        self.complex_cases.append(episode)

    def _escalating_youth(self, day: date, pattern: CarePattern) -> Youth | None:
        """A recent youth of the pattern's ages still in care (or allocated) on `day`."""
        rng = self.rng
        youths = self.youths
        if not youths:
            return None
        window = min(len(youths), 4000)
        for _ in range(12):
            youth = youths[len(youths) - 1 - int(rng.random() * window)]
            if youth.retired or not pattern.min_age <= youth.age_on(day) <= pattern.max_age:
                continue
            if youth.busy_until >= day:
                return youth
        return None

    def _scripted(self, script: Script, month: int) -> None:
        provider = self._by_archetype.get(script.archetype)
        if provider is None:
            return
        rng = self.rng
        day = day_in_month(month, rng.randint(2, 12))
        pattern = PATTERNS[script.product]
        youth = self._new_youth(day, pattern)
        episode = self._new_episode(youth, provider, script.product, day, script.duration_days)
        behaviour = script.behaviour
        if behaviour == "deleted":
            self._delete(episode)
        elif behaviour == "pause":
            self._add_pause(episode, force=True)
        elif behaviour == "wrong_start":
            self._add_wrong_start(episode)
        elif behaviour in ("move", "death"):
            self._forced[id(youth)] = behaviour
            # keep the youth to this one episode: nobody else picks it as an existing client
            youth.retired = behaviour == "death"
        elif behaviour == "early_end":
            episode.end_reason = "34"
        if script.product in DAY_TREATMENT:
            self._transport_for(episode)

    # --- youths ---------------------------------------------------------------------------------

    def _pick_youth(self, day: date, pattern: CarePattern) -> Youth:
        """A youth already in care (second product or provider), without scheduled returns a youth
        who had care before, else a new youth."""
        rng = self.rng
        draw = rng.random()
        youths = self.youths
        if youths and draw < EXISTING_ACTIVE_SHARE + self._returning_share:
            returning = draw >= EXISTING_ACTIVE_SHARE
            window = min(len(youths), 4000)
            for _ in range(6):
                youth = youths[len(youths) - 1 - int(rng.random() * window)]
                if youth.retired or not pattern.min_age <= youth.age_on(day) <= pattern.max_age:
                    continue
                active = youth.busy_until >= day
                if active != returning and (not returning or (day - youth.busy_until).days > 2):
                    return youth
        return self._new_youth(day, pattern)

    def _new_youth(self, day: date, pattern: CarePattern) -> Youth:
        rng = self.rng
        age = rng.randint(pattern.min_age, pattern.max_age)
        birth = add_days(day, -(age * 365 + age // 4 + rng.randint(0, 364)))
        gender = "1" if rng.random() < 0.55 else "2"

        def make(bsn: str) -> Youth:
            return Youth(bsn=bsn, birth_date=birth, gender=gender, busy_until=day)

        youth = self.pool.assign(rng, day, make)
        self.youths.append(youth)
        return youth

    # --- episodes -------------------------------------------------------------------------------

    def _next_allocation_number(self) -> str:
        self._allocation_seq += 1
        if self._allocation_seq >= 900_000:
            raise RuntimeError(
                "more than 900,000 allocations in one municipality: raise the number range"
            )
        return str(self.partition_no * 1_000_000 + self._allocation_seq)

    def _next_reference(self, provider: Provider) -> str:
        self._reference_seq += 1
        return f"{provider.agb}-{self.partition_no:04d}-{self._reference_seq:07d}"

    def _referrer(self, segment: str) -> tuple[str, str | None, str | None]:
        rng = self.rng
        kind = REFERRER_CHOICES[segment].draw(rng)
        if kind == "01":
            return kind, f"{_TEAM_NAME} {self.municipality.name}"[:64], None
        if kind in ("02", "03", "05"):
            prefix = {"02": "01", "03": "11", "05": "03"}[kind]
            return kind, None, f"{prefix}{rng.randrange(10**6):06d}"
        if kind == "04":
            return kind, "Gecertificeerde instelling jeugdbescherming", None
        return kind, None, None

    def _new_episode(
        self, youth: Youth, provider: Provider, product_code: str, day: date, duration_days: int
    ) -> Episode:
        rng = self.rng
        product = PRODUCTS_BY_CODE[product_code]
        pattern = PATTERNS[product_code]
        allocation_date = add_days(day, rng.randint(1, 10))
        retroactive = rng.random() < 0.12 and not provider.behaviour.clean
        if retroactive:  # allocated with a start date in the past
            allocation_start = add_days(day, rng.randint(0, 5))
        else:
            allocation_start = add_days(allocation_date, rng.randint(0, 14))
        care_start = (
            allocation_start
            if rng.random() < 0.3
            else add_days(allocation_start, rng.randint(1, 21))
        )
        care_end = add_days(care_start, duration_days - 1)
        end_reason = END_REASON_CHOICE.draw(rng)
        adult = _eighteenth_birthday(youth.birth_date)
        if care_end >= adult:
            care_end = max(care_start, adult - timedelta(days=1))
            end_reason = "39"  # outflow to another domain (adult care) at 18
        allocation_end = add_days(
            add_months(allocation_start, rng.choice(pattern.allocation_months)), -1
        )
        referrer_type, referrer_name, referrer_agb = self._referrer(product.segment)
        volume, frequency, monthly_budget = self._allocated_volume(
            product, pattern, provider, allocation_start
        )
        episode = Episode(
            seq=len(self.episodes),
            youth=youth,
            provider=provider,
            product=product,
            municipality=self.municipality.code,
            referrer_type=referrer_type,
            referrer_name=referrer_name,
            referrer_agb=referrer_agb,
            provider_reference=self._next_reference(provider),
            allocation_number=self._next_allocation_number(),
            request_date=day,
            allocation_date=allocation_date,
            allocation_time=f"{rng.randint(8, 16):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
            allocation_start=allocation_start,
            allocation_end=allocation_end,
            volume=volume,
            frequency=frequency,
            monthly_budget_cents=monthly_budget,
            care_start=care_start,
            care_end=care_end,
            end_reason=end_reason,
            start_message_date=add_days(care_start, rng.randint(1, 10)),
            stop_message_date=add_days(care_end, rng.randint(1, 14)),
        )
        self._extend_to_cover(episode, pattern)
        self.episodes.append(episode)
        youth.episodes.append(episode)
        youth.busy_until = max(youth.busy_until, care_end, episode.allocation_end_effective)
        return episode

    def _allocated_volume(
        self, product: Product, pattern: CarePattern, provider: Provider, start: date
    ) -> tuple[int | None, str | None, int | None]:
        rng = self.rng
        volume = draw_volume(pattern, rng)
        # the purchasing-office cases (providers.mark_purchasing_cases): no extra random draws
        years_after_first = max(0, start.year - self.first_month // 12)
        factor = provider.volume_factor * (1 + provider.volume_growth) ** years_after_first
        if factor != 1.0:
            volume = max(1, round(volume * factor))
        if product.unit == "83":
            return None, None, volume * 100  # a monthly budget in euros, allocated as Budget
        frequency = product.frequency
        if product.code == "45A48" and rng.random() < 0.3:
            return volume * 4, "4", None  # hours per month instead of per week
        return volume, frequency, None

    def _extend_to_cover(self, episode: Episode, pattern: CarePattern) -> None:
        """Extensions (same ToewijzingNummer, later Einddatum) until the allocation covers the care."""
        rng = self.rng
        episode.extensions.clear()
        end = episode.allocation_end
        while end < episode.care_end:
            sent = max(add_days(episode.allocation_date, 1), add_days(end, -rng.randint(10, 45)))
            end = add_days(add_months(add_days(end, 1), rng.choice(pattern.extension_months)), -1)
            episode.extensions.append((sent, end))

    def _vary(self, episode: Episode, pattern: CarePattern) -> None:
        """The irregularities of real traffic; punctual providers' clients run by the book."""
        if episode.provider.behaviour.clean:
            return
        rng = self.rng
        if rng.random() < DELETED_SHARE:
            self._delete(episode)
            return
        if rng.random() < PAUSE_SHARE:
            self._add_pause(episode, force=False)
        if rng.random() < WRONG_START_SHARE:
            self._add_wrong_start(episode)

    def _delete(self, episode: Episode) -> None:
        rng = self.rng
        episode.deleted_on = add_days(episode.allocation_date, rng.randint(3, 30))
        episode.care_start = None
        episode.extensions.clear()

    def _add_pause(self, episode: Episode, *, force: bool) -> None:
        rng = self.rng
        start, end = episode.care_start, episode.care_end
        length = (end - start).days
        if length < 150:
            if not force:
                return
            episode.care_end = end = add_days(start, 150)
            length = 150
            self._extend_to_cover(episode, PATTERNS.get(episode.product.code, PATTERNS["45A48"]))
        stop = add_days(start, int(length * rng.uniform(0.3, 0.5)))
        resume = add_days(stop, rng.randint(35, 70))
        if resume >= add_days(end, -20):
            return
        episode.pause = (stop, resume)
        episode.pause_messages = (
            add_days(stop, rng.randint(1, 10)),
            add_days(resume, rng.randint(1, 10)),
        )

    def _add_wrong_start(self, episode: Episode) -> None:
        rng = self.rng
        wrong = add_days(episode.care_start, rng.randint(2, 9))
        if wrong > episode.care_end:
            return
        sent = add_days(wrong, rng.randint(0, 3))
        corrected = add_days(sent, rng.randint(3, 20))
        episode.wrong_start = (wrong, sent, corrected)
        episode.start_message_date = corrected

    def _transport_for(self, main: Episode) -> None:
        """Transport to day treatment: its own allocation, same youth and dates."""
        if not main.has_care:
            return
        provider = main.provider
        if provider.weight_for(TRANSPORT_PRODUCT) <= 0:
            choice = self._providers_by_product.get(TRANSPORT_PRODUCT)
            if choice is None:
                return
            provider = choice.draw(self.rng)
        days = (main.care_end - main.care_start).days + 1
        episode = self._new_episode(
            main.youth, provider, TRANSPORT_PRODUCT, main.request_date, days
        )
        # the same dates as the care it belongs to
        episode.allocation_date = main.allocation_date
        episode.allocation_start = main.allocation_start
        episode.allocation_end = main.allocation_end
        episode.care_start = main.care_start
        episode.care_end = main.care_end
        episode.end_reason = main.end_reason
        episode.start_message_date = main.start_message_date
        episode.stop_message_date = main.stop_message_date
        episode.extensions = list(main.extensions)
        episode.volume = min(5, max(1, (main.volume or 2) // 2))
        episode.referrer_type = main.referrer_type
        episode.referrer_name = main.referrer_name
        episode.referrer_agb = main.referrer_agb
        if main.pause is not None:
            episode.pause = main.pause
            episode.pause_messages = main.pause_messages

    # --- personal budgets -----------------------------------------------------------------------

    def _personal_budget(self, day: date) -> None:
        rng = self.rng
        youth = None
        if self.pgb_with_zin_share and rng.random() < self.pgb_with_zin_share:
            youth = self._youth_in_zin_care(day)
        with_zin = youth is not None
        if youth is None:
            youth = self._new_youth(day, PATTERNS["45A48"])
        months = max(2, round(rng.lognormvariate(2.4, 0.5)))
        first = month_index(day)
        youth.busy_until = max(youth.busy_until, day_in_month(first + months - 1, 31))
        self.budgets.append(
            PersonalBudget(
                youth=youth,
                municipality=self.municipality.code,
                category=rng.choices(("45", "40", "41", "43"), weights=(60, 20, 12, 8))[0],
                first_month=first,
                last_month=first + months - 1,
                monthly_cents=round(rng.lognormvariate(6.6, 0.6) * 100),
                with_zin=with_zin,
            )
        )

    def _youth_in_zin_care(self, day: date) -> Youth | None:
        """A recent youth in ZIN care of this municipality on `day`, under 18 (None if none found)."""
        rng = self.rng
        youths = self.youths
        if not youths:
            return None
        window = min(len(youths), 4000)
        for _ in range(6):
            youth = youths[len(youths) - 1 - int(rng.random() * window)]
            if youth.retired or youth.age_on(day) > 16:
                continue
            if any(
                e.has_care
                and e.municipality == self.municipality.code
                and e.care_start <= day <= e.care_end
                for e in youth.episodes
            ):
                return youth
        return None

    # --- youth-level events ---------------------------------------------------------------------

    def _apply_deaths(self) -> None:
        rng = self.rng
        for youth in self.youths:
            forced = self._forced.get(id(youth)) == "death"
            cared = [e for e in youth.episodes if e.has_care]
            if len(cared) != 1 or not (forced or rng.random() < DEATH_SHARE):
                continue
            episode = cared[0]
            length = (episode.care_end - episode.care_start).days
            if length < 30:
                continue
            death = add_days(episode.care_start, int(length * rng.uniform(0.4, 0.8)))
            episode.care_end = death
            episode.end_reason = "02"
            episode.stop_message_date = add_days(death, rng.randint(3, 14))
            episode.extensions = [x for x in episode.extensions if x[0] < death]
            episode.pause = episode.pause_messages = None
            youth.retired = True

    def _apply_moves(self) -> None:
        if self._other_choice is None:
            return
        rng = self.rng
        for youth in list(self.youths):
            forced = self._forced.get(id(youth)) == "move"
            if not (forced or rng.random() < MOVE_SHARE):
                continue
            if youth.bsn in self.pool.shared_numbers and not forced:
                # the test range is too small for every youth (a number two youths in care
                # share, youths.py): two persons under one BSN in two municipalities would look
                # like a woonplaatsbeginsel signal the data cannot really have
                continue
            cared = [e for e in youth.episodes if e.has_care and e.end_reason != "02"]
            if not cared:
                continue
            first = min(e.care_start for e in cared)
            last = min(max(e.care_end for e in cared), self.horizon_end)
            if (last - first).days < 90:
                continue
            move = add_days(first, rng.randint(45, (last - first).days - 30))
            destination = self._other_choice.draw(rng).code
            for episode in list(youth.episodes):
                if episode.municipality != self.municipality.code:
                    continue
                if episode.has_care and episode.care_start < move <= add_days(
                    episode.care_end, -14
                ):
                    self._split(episode, move, destination)
                elif episode.allocation_start >= move:
                    episode.municipality = destination
                else:
                    _end_for_move(episode, move, destination)

    def _split(self, episode: Episode, move: date, destination: str) -> None:
        """End the allocation the day before the move; the new municipality allocates from the move."""
        rng = self.rng
        pattern = PATTERNS.get(episode.product.code, PATTERNS["45A48"])
        original_end, original_reason = episode.care_end, episode.end_reason
        # the new allocation ends no later than the old one would have: the youth's BSN is free
        # again after its busy_until (set from the old allocation), and another youth given the
        # number must not meet an allocation of this one (a woonplaatsbeginsel overlap)
        original_allocation_end = episode.allocation_end_effective
        last_day = add_days(move, -1)
        episode.care_end = last_day
        episode.end_reason = "35"  # ended for an external reason: the family moved
        episode.stop_message_date = add_days(move, rng.randint(1, 14))
        episode.extensions = [x for x in episode.extensions if x[0] < move]
        episode.shortened = (add_days(move, rng.randint(0, 20)), last_day)
        if episode.pause is not None and episode.pause[1] >= last_day:
            episode.pause = episode.pause_messages = None
        successor = Episode(
            seq=len(self.episodes),
            youth=episode.youth,
            provider=episode.provider,
            product=episode.product,
            municipality=destination,
            referrer_type=episode.referrer_type,
            referrer_name=episode.referrer_name,
            referrer_agb=episode.referrer_agb,
            provider_reference=self._next_reference(episode.provider),
            allocation_number=self._next_allocation_number(),
            request_date=add_days(move, -rng.randint(0, 10)),
            # a punctual provider's new allocation is in place before the move; others wait for it
            allocation_date=add_days(
                move,
                -rng.randint(1, 10) if episode.provider.behaviour.clean else rng.randint(1, 20),
            ),
            allocation_time=episode.allocation_time,
            allocation_start=move,
            allocation_end=min(
                add_days(add_months(move, rng.choice(pattern.allocation_months)), -1),
                original_allocation_end,
            ),
            volume=episode.volume,
            frequency=episode.frequency,
            monthly_budget_cents=episode.monthly_budget_cents,
            care_start=move,
            care_end=original_end,
            end_reason=original_reason,
            start_message_date=add_days(move, rng.randint(21, 30)),
            stop_message_date=add_days(original_end, rng.randint(1, 14)),
            moved_from=episode,
        )
        self._extend_to_cover(successor, pattern)
        if successor.extensions and successor.extensions[-1][1] > original_allocation_end:
            # an extension that would outrun the old allocation ends with it (see above)
            sent, _ = successor.extensions[-1]
            successor.extensions[-1] = (sent, max(original_allocation_end, successor.care_end))
        self.episodes.append(successor)
        episode.youth.episodes.append(successor)


def _end_for_move(episode: Episode, move: date, destination: str) -> None:
    """The old municipality's part of a move for an allocation that is not split: it ends every
    allocation still valid on the day of the move per the day before (RedenWijziging 07), a week
    after the move; care ending within two weeks after the move ends the day before it. An
    allocation whose care only starts after the move is the new municipality's, from the move on.
    Woonplaatsbeginsel: from the move on the new municipality pays (docs/contract.md §3,
    mart_residence_signals); without this the old allocation would run on."""
    if episode.deleted_on is not None or episode.allocation_end_effective < move:
        return
    if episode.has_care and episode.care_start >= move:
        episode.municipality = destination
        episode.allocation_start = move
        return
    last_day = add_days(move, -1)
    if episode.has_care and episode.care_end >= move:
        episode.care_end = last_day
        episode.end_reason = "35"  # ended for an external reason: the family moved
        episode.stop_message_date = add_days(move, 7)
        if episode.pause is not None and episode.pause[1] >= last_day:
            episode.pause = episode.pause_messages = None
    episode.extensions = [x for x in episode.extensions if x[0] < move]
    episode.shortened = (add_days(move, 7), last_day)


def _eighteenth_birthday(birth: date) -> date:
    try:
        return birth.replace(year=birth.year + 18)
    except ValueError:  # born on 29 February
        return date(birth.year + 18, 3, 1)

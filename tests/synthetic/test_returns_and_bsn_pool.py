"""Returning youths and the test-BSN pool (docs/synthetic_data.md): a youth whose care ended may
come back for new care; a test number goes to another youth only when its holder is out of care,
least recently used first, and a holder only expected back gives way before one in care.

The pool is checked on hand-made youths; the returns on one municipality of the region profile
simulated directly (seconds), not on a region generation."""

from __future__ import annotations

from datetime import date, timedelta

from jeugdhulp.synthetic.months import month_index
from jeugdhulp.synthetic.profiles import resolve
from jeugdhulp.synthetic.randomness import rng_for
from jeugdhulp.synthetic.trajectories import RETURN_MIN_DAYS, MunicipalityWorld
from jeugdhulp.synthetic.youths import BsnPool, Youth, pool_slices, valid_test_bsns

AS_OF = date(2026, 10, 15)
DAY = date(2025, 1, 1)


def _assign(pool: BsnPool, on: date, busy_days: int, expected_back: date | None = None) -> Youth:
    def make(bsn: str) -> Youth:
        youth = Youth(bsn=bsn, birth_date=date(2015, 1, 1), gender="1", busy_until=on)
        youth.busy_until = on + timedelta(days=busy_days)
        youth.expected_back = expected_back
        return youth

    return pool.assign(None, on, make)


def test_a_number_goes_to_another_youth_only_after_its_holder_left_care_least_recent_first():
    pool = BsnPool(0, 2, shared=False)
    first = _assign(pool, DAY, 300)  # in care until day 300: free from day 420
    second = _assign(pool, DAY, 10)  # free from day 130
    assert first.bsn != second.bsn
    third = _assign(pool, DAY + timedelta(days=200), 10)
    assert third.bsn == second.bsn and second.retired and not first.retired
    assert pool.reuses == {2025: 1} and pool.collisions == 0
    # later both are free: the number freed longest ago (third's, from day 330, before first's
    # from day 420) goes first
    fourth = _assign(pool, DAY + timedelta(days=900), 10)
    assert fourth.bsn == third.bsn and third.retired and not first.retired
    fifth = _assign(pool, DAY + timedelta(days=900), 10)
    assert fifth.bsn == first.bsn and first.retired
    assert pool.collisions == 0 and pool.returns_cancelled == 0


def test_a_holder_expected_back_keeps_the_number_and_gives_way_before_a_youth_in_care():
    pool = BsnPool(0, 2, shared=False)
    returning = _assign(pool, DAY, 10, expected_back=DAY + timedelta(days=600))
    in_care = _assign(pool, DAY, 1000)
    # day 300: the first holder is out of care but expected back; the second is in care
    newcomer = _assign(pool, DAY + timedelta(days=300), 10)
    assert newcomer.bsn == returning.bsn and returning.retired and not in_care.retired
    assert pool.returns_cancelled == 1 and pool.collisions == 0
    # the same with a free number besides: the free one goes, the return stays possible
    pool = BsnPool(0, 3, shared=False)
    returning = _assign(pool, DAY, 10, expected_back=DAY + timedelta(days=600))
    free = _assign(pool, DAY, 10)
    _assign(pool, DAY, 1000)
    newcomer = _assign(pool, DAY + timedelta(days=300), 10)
    assert newcomer.bsn == free.bsn and not returning.retired
    # only when every holder is in care is a number shared (a collision)
    pool = BsnPool(0, 1, shared=False)
    _assign(pool, DAY, 1000)
    _assign(pool, DAY + timedelta(days=10), 10)
    assert pool.collisions == 1


def test_youths_return_after_their_care_ended_and_take_no_number_of_a_youth_in_care():
    world = resolve("region", 7, AS_OF, None)
    municipality = next(m for m in world.municipalities if m.code == "0546")
    start, size = pool_slices([m.youths_in_care for m in world.municipalities])[municipality.index]
    pool = BsnPool(start, size, False)
    simulation = MunicipalityWorld(
        municipality=municipality,
        partition_no=municipality.index + 1,
        others=[m for m in world.municipalities if m.code != "0546"],
        providers=[p for p in world.providers if p.serves("0546")],
        pool=pool,
        rng=rng_for(7, "world", "0546"),
        first_month=world.years[0] * 12,
        warmup_months=world.warmup_months,
        last_month=month_index(AS_OF),
        return_probability=world.return_probability,
        arrivals_per_youth_in_care=world.arrivals_per_youth_in_care,
    )
    simulation.simulate()
    returns = [e for e in simulation.episodes if e.returning]
    assert len(returns) == simulation.returns
    arrivals = [
        e for e in simulation.episodes if e.product.code != "42A01" and e.moved_from is None
    ]
    # a youth whose care ends comes back with probability 0.75 (less those turning 18 first, in
    # care again or without a fitting product): about a third of all new care
    assert 0.2 < len(returns) / len(arrivals) < 0.5, (len(returns), len(arrivals))
    for episode in returns:
        youth = episode.youth
        assert youth.age_on(episode.request_date) <= 17
        earlier = [
            e for e in youth.episodes if e.has_care and e.request_date < episode.request_date
        ]
        assert earlier, "a return follows earlier care"
        # all earlier care ended before the return, the scheduling one at least a month before
        assert max(e.care_end for e in earlier) < episode.request_date - timedelta(days=2)
        assert (
            min((episode.request_date - e.care_end).days for e in earlier) >= RETURN_MIN_DAYS
            or len(earlier) > 1
        )
    # the slice is smaller than the youths it serves, so numbers are reused, but never while the
    # previous holder is in care
    assert len(simulation.youths) > size and sum(pool.reuses.values()) > 0
    assert pool.collisions == 0
    # every reuse counted: the youths beyond the first holder of each number
    holders_per_number = len({youth.bsn for youth in simulation.youths})
    assert sum(pool.reuses.values()) == len(simulation.youths) - holders_per_number
    holders: dict[str, list[Youth]] = {}
    for youth in simulation.youths:
        holders.setdefault(youth.bsn, []).append(youth)
    for bsn, youths in holders.items():
        assert bsn in valid_test_bsns()
        spans = sorted(
            (min(e.request_date for e in y.episodes), max(e.last_day for e in y.episodes))
            for y in youths
            if y.episodes
        )
        for (_, end), (next_start, _) in zip(spans, spans[1:]):
            assert next_start > end, bsn

"""Youths and their test BSNs: a pool of the 9,091 valid test numbers, handed out least-recently-used first.

Only 9,091 numbers in 999900006-999999990 pass the 11-proef, fewer than the youths a region sees
over a few years (docs/synthetic_data.md). A number therefore goes to a new youth once its
previous holder has been out of care for a while and is not expected back (a return the
trajectories scheduled, trajectories.py); the holder is then retired: never picked again. The
number freed longest ago goes first, so a number is reused as late as the range allows. When no
number is free, a number whose holder is only expected back goes first (the return is cancelled);
only when every holder is in care is a number shared by two youths in care (a collision); the
national profile, with far more youths than numbers, shares numbers this way all the time.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

from jeugdhulp.privacy.bsn import TEST_BSN_FIRST, TEST_BSN_LAST, is_valid_bsn

# a number is not handed out again within this many days after its holder's last care
_COOL_OFF = timedelta(days=120)


@cache
def valid_test_bsns() -> tuple[str, ...]:
    """All valid test BSNs in ascending order, found per 8-digit prefix (one check digit fits at most)."""
    found = []
    for prefix in range(TEST_BSN_FIRST // 10, TEST_BSN_LAST // 10 + 1):
        digits = str(prefix)
        check = sum(weight * (ord(char) - 48) for weight, char in zip(range(9, 1, -1), digits)) % 11
        number = prefix * 10 + check
        if check < 10 and TEST_BSN_FIRST <= number <= TEST_BSN_LAST:
            found.append(str(number))
    return tuple(found)


@dataclass(slots=True, eq=False)
class Youth:
    bsn: str
    birth_date: date
    gender: str  # iJw Geslacht: 1 male, 2 female
    busy_until: date  # last day of known care (or allocation) of this youth
    retired: bool = False  # its BSN went to another youth: no new care for this one
    episodes: list = field(default_factory=list)
    expected_back: date | None = None  # a return the trajectories scheduled (trajectories.py)

    @property
    def free_from(self) -> date:
        """From when the youth's number may go to another youth without cancelling a return."""
        return max(self.busy_until, self.expected_back or self.busy_until) + _COOL_OFF

    def age_on(self, day: date) -> int:
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


def pool_slices(weights: list[float]) -> list[tuple[int, int]]:
    """Split the test-BSN pool into consecutive (start, size) slices proportional to `weights`."""
    total_numbers = len(valid_test_bsns())
    total = sum(weights)
    slices, start = [], 0
    for position, weight in enumerate(weights):
        remaining = total_numbers - start
        if position == len(weights) - 1:
            size = remaining
        else:
            size = max(
                1,
                min(
                    remaining - (len(weights) - position - 1), round(total_numbers * weight / total)
                ),
            )
        slices.append((start, size))
        start += size
    return slices


class BsnPool:
    """Hands out BSNs of one slice of the test range to new youths, least recently used first."""

    def __init__(self, start: int, size: int, shared: bool) -> None:
        if size < 1:
            raise ValueError("a BSN pool slice needs at least one number")
        self._start = start
        self._numbers = valid_test_bsns()
        self._size = size
        # shared: the national profile draws from the whole range, so numbers are used at random
        self._shared = shared
        self._heap: list[tuple[date, int]] = (
            [] if shared else [(date.min, position) for position in range(size)]
        )
        self._holders: dict[int, Youth] = {}
        self.collisions = 0  # a number given to a youth while its previous holder is in care
        self.shared_numbers: set[str] = set()  # numbers two youths in care hold at once
        self.reuses: dict[int, int] = {}  # year -> numbers given to a youth after another youth
        self.returns_cancelled = 0  # reuses that retired a holder expected back

    def assign(self, rng: random.Random, on: date, youth_factory) -> Youth:
        """Create a youth with a BSN from this slice; retire the number's previous holder."""
        if self._shared:
            position = rng.randrange(self._size)
        else:
            position = self._next_position(on)
        youth = youth_factory(self._numbers[self._start + position])
        previous = self._holders.get(position)
        if previous is not None:
            self.reuses[on.year] = self.reuses.get(on.year, 0) + 1
            if previous.busy_until + _COOL_OFF > on:
                self.collisions += 1  # two youths in care share this number
                self.shared_numbers.add(youth.bsn)
            if not self._shared:
                if previous.expected_back is not None and previous.free_from > on:
                    self.returns_cancelled += 1
                previous.retired = True
        self._holders[position] = youth
        if not self._shared:
            heapq.heappush(self._heap, (youth.free_from, position))
        return youth

    def _next_position(self, on: date) -> int:
        """The number free for longest; when none is free, the one whose holder leaves care first."""
        while True:
            free_from, position = heapq.heappop(self._heap)
            holder = self._holders.get(position)
            if holder is None:
                return position
            due = holder.free_from
            if due > free_from:
                # the holder got more care since this entry was pushed: requeue at the real date
                heapq.heappush(self._heap, (due, position))
                continue
            if due <= on:
                return position
            heapq.heappush(self._heap, (due, position))
            return self._least_busy()

    def _least_busy(self) -> int:
        """No number is free: the one whose holder's care ends first (the holder's return, if
        any, is cancelled). Its stale heap entry is requeued when it comes up (_next_position)."""
        return min(
            self._holders,
            key=lambda position: (self._holders[position].busy_until, position),
        )


def typo_bsn(bsn: str) -> str:
    """The BSN with its check digit changed: a plausible typing error that fails the 11-proef."""
    last = int(bsn[-1])
    for step in range(1, 10):
        candidate = bsn[:-1] + str((last + step) % 10)
        if not is_valid_bsn(candidate):
            return candidate
    raise ValueError(f"cannot make an invalid variant of {bsn}")

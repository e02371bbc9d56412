"""The BSN 11-proef, and the test BSNs synthetic data may use (999900006–999999990)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

TEST_BSN_FIRST = 999_900_006
TEST_BSN_LAST = 999_999_990

# the weights of the 11-proef: 9..2 for the first eight digits, -1 for the check digit
_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)
_ASCII_DIGITS = frozenset("0123456789")


def is_valid_bsn(value: str) -> bool:
    """True when `value` is nine ASCII digits that pass the 11-proef (and are not all zeros)."""
    if not isinstance(value, str) or len(value) != 9 or not _ASCII_DIGITS.issuperset(value):
        return False
    if value == "000000000":
        return False
    total = sum(weight * (ord(char) - 48) for weight, char in zip(_WEIGHTS, value))
    return total % 11 == 0


@cache
def _test_bsns() -> tuple[str, ...]:
    return tuple(
        candidate
        for number in range(TEST_BSN_FIRST, TEST_BSN_LAST + 1)
        if is_valid_bsn(candidate := str(number))
    )


def count_test_bsns() -> int:
    """How many valid test BSNs exist in 999900006–999999990 (9,091: about 1 in 11 numbers)."""
    return len(_test_bsns())


def nth_test_bsn(index: int) -> str:
    """The `index`-th (0-based) valid test BSN in ascending order; IndexError past the last one."""
    bsns = _test_bsns()
    if not 0 <= index < len(bsns):
        raise IndexError(
            f"test BSN index {index} out of range: only {len(bsns)} valid test BSNs exist "
            f"between {TEST_BSN_FIRST} and {TEST_BSN_LAST}"
        )
    return bsns[index]


def iter_test_bsns(start_index: int = 0) -> Iterator[str]:
    """Valid test BSNs in ascending order, starting at the `start_index`-th one."""
    if start_index < 0:
        raise ValueError(f"start_index must be >= 0, got {start_index}")
    return iter(_test_bsns()[start_index:])

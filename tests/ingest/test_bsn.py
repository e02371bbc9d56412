"""BSN 11-proef and the test-BSN range synthetic data draws from."""

from __future__ import annotations

import pytest

from jeugdhulp.privacy.bsn import count_test_bsns, is_valid_bsn, iter_test_bsns, nth_test_bsn


@pytest.mark.parametrize(
    "value",
    ["999900006", "999900018", "999999990", "999999989", "111222333", "123456782"],
)
def test_valid_bsns_pass(value: str) -> None:
    assert is_valid_bsn(value)


@pytest.mark.parametrize(
    "value",
    [
        "999900005",  # one below the first test BSN
        "999900007",  # one above it
        "999999991",  # one above the last test BSN
        "123456789",
        "000000000",  # passes the arithmetic, but is not a number anyone has
        "99990006",  # 8 digits
        "0999900006",  # 10 digits
        "",
        "99990000a",
        " 99990006",
        "999900006 ",
        "９９９９００００６",  # full-width digits are digits to str.isdigit, not to us
        "99990000-6",
    ],
)
def test_invalid_bsns_fail(value: str) -> None:
    assert not is_valid_bsn(value)


def test_non_strings_are_invalid() -> None:
    assert not is_valid_bsn(999900006)  # type: ignore[arg-type]
    assert not is_valid_bsn(None)  # type: ignore[arg-type]


def test_check_digit_weights() -> None:
    # 9*9+9*8+9*7+9*6+0*5+0*4+0*3+0*2 = 270 = 24*11 + 6, so only check digit 6 makes it divisible
    valid = [d for d in "0123456789" if is_valid_bsn("99990000" + d)]
    assert valid == ["6"]


def test_there_are_9091_test_bsns() -> None:
    expected = [
        n
        for n in range(999_900_006, 999_999_991)
        if (sum(int(c) * w for c, w in zip(str(n)[:8], range(9, 1, -1))) - n % 10) % 11 == 0
    ]
    assert len(expected) == 9091
    assert count_test_bsns() == 9091
    assert list(iter_test_bsns()) == [str(n) for n in expected]


def test_test_bsns_are_ordered_and_bounded() -> None:
    bsns = list(iter_test_bsns())
    assert bsns[:3] == ["999900006", "999900018", "999900031"]
    assert bsns[-1] == "999999990"
    assert bsns == sorted(set(bsns))
    assert all(is_valid_bsn(b) for b in bsns)


def test_iter_from_a_start_index() -> None:
    assert list(iter_test_bsns(9089)) == ["999999989", "999999990"]
    assert list(iter_test_bsns(9091)) == []
    with pytest.raises(ValueError, match="start_index"):
        iter_test_bsns(-1)


def test_nth_test_bsn() -> None:
    assert nth_test_bsn(0) == "999900006"
    assert nth_test_bsn(1) == "999900018"
    assert nth_test_bsn(9090) == "999999990"
    with pytest.raises(IndexError, match="only 9091 valid test BSNs"):
        nth_test_bsn(9091)
    with pytest.raises(IndexError):
        nth_test_bsn(-1)

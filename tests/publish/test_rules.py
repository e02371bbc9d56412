"""Publishing rules in isolation: Dutch formatting, chart scales and the suppression catalogue."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jeugdhulp.publish import dutch
from jeugdhulp.publish.catalogue import DUTCH_LABELS, MARTS, is_forbidden_column
from jeugdhulp.publish.charts import nice_ticks
from jeugdhulp.publish.postgres import check_role_prefix, municipality_role
from jeugdhulp.publish.warehouse import PublishError

NBSP = "\u00a0"


def test_dutch_numbers_amounts_and_percentages():
    assert dutch.number(1234567.891, 2) == "1.234.567,89"
    assert dutch.number(Decimal("-1234.5"), 2) == "\u22121.234,50"
    assert dutch.number(-0.004, 2) == "0,00"
    assert dutch.number(None) == "\u2013"
    assert dutch.euro(Decimal("458963.4")) == f"€{NBSP}458.963"
    assert dutch.euro(-10850, 0) == f"\u2212€{NBSP}10.850"
    assert dutch.euro_compact(1_500_000) == f"€{NBSP}1,5{NBSP}mln"
    assert dutch.euro_compact(250_000) == f"€{NBSP}250.000"
    assert dutch.percent(12.345) == "12,3%"


def test_year_on_year_change_matches_the_municipal_kpi_table():
    # docs/contract.md §3 (mart_kpi_annual): 331 → 339 unique youths is +2.4 %; 2,398 → 2,313 care months is −3.5 %
    assert dutch.change_percent(339, 331) == "+2,4"
    assert dutch.change_percent(2313, 2398) == "\u22123,5"
    assert dutch.change_percent(Decimal("711.08"), Decimal("522.25")) == "+36,2"
    assert dutch.change_percent(5, 0) == "\u2013"
    assert dutch.change_percent(None, 3) == "\u2013"


def test_dates_and_periods_in_dutch():
    assert dutch.long_date(date(2018, 11, 1)) == "1 november 2018"
    assert dutch.half_year_label("2025-H1") == "1e halfjaar 2025"
    assert dutch.half_year_label("2025") == "2025"


def test_csv_numbers_use_a_decimal_comma_and_no_thousands_separator():
    assert dutch.csv_decimal(Decimal("-1234.50")) == "-1234,50"
    assert dutch.csv_float(0.1 + 0.2) == "0,3"
    assert dutch.csv_float(-0.0000001) == "0"
    assert dutch.csv_float(float("nan")) == ""


def test_chart_ticks_are_round_and_cover_the_data():
    assert nice_ticks(0, 1_043_400) == [0, 250_000, 500_000, 750_000, 1_000_000, 1_250_000]
    assert nice_ticks(0, 2, integer=True) == [0, 1, 2]
    assert nice_ticks(-30, 70) == [-40, -20, 0, 20, 40, 60, 80]
    assert nice_ticks(0, 0) == [0.0, 1.0]


def test_identifying_columns_are_recognised():
    assert is_forbidden_column("client_key") and is_forbidden_column("Client_BSN")
    assert not is_forbidden_column("clients")


def test_catalogue_is_consistent():
    for spec in MARTS:
        assert not any(is_forbidden_column(column) for column in spec.columns), spec.name
        for column in spec.columns:
            assert column in DUTCH_LABELS, (spec.name, column)
        for cell in spec.cells:
            assert cell.count in spec.columns
            assert set(cell.with_columns) <= set(spec.columns), spec.name
        assert set(spec.amounts_by_population) <= set(spec.columns)
        assert set(spec.grain) <= set(spec.columns)
        assert spec.scope_column is None or spec.scope_column in spec.columns
        assert (spec.scope_column is None) == (spec.scope == "region"), spec.name
    assert len(set(DUTCH_LABELS.values())) == len(DUTCH_LABELS), "two columns share a Dutch header"


def test_role_names_are_checked_and_lower_case():
    assert municipality_role("jeugdhulp", "GM0546") == "jeugdhulp_gm0546"
    assert check_role_prefix("jht_1a2b") == "jht_1a2b"
    for bad in ("Jeugdhulp", "1abc", "a-b", "x" * 41, 'a"; drop role x; --'):
        with pytest.raises(PublishError):
            check_role_prefix(bad)

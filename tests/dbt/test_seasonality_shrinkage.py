"""The month-of-year profile of the forecast (docs/forecast.md, step 1b) on a hand-made region:
residential care that is flat all year keeps its own flat profile, although it has few invoice
lines and the region (mostly ambulant care with a summer dip) does not."""

from __future__ import annotations

import calendar
from datetime import date

import duckdb
import pytest

from tests.support.dbt import run_dbt

AS_OF = "2025-12-31"  # every month of 2023 and 2024 is mature (365 days)
AMBULANT_AUGUST = 0.6  # ambulant care delivers 60% of a plain month's care in August


def _lines() -> list[tuple]:
    rows = []
    for year in (2023, 2024):
        for month in range(1, 13):
            days = calendar.monthrange(year, month)[1]
            first = date(year, month, 1)
            declared = date(year + 1, 1, 15)
            season = AMBULANT_AUGUST if month == 8 else 1.0
            # ambulant: 40 lines a month at € 100 a day in all, less in August
            amount = round(100 * days * season / 40, 2)
            rows += [("11111111", "45", first, "D", amount, declared)] * 40
            # residential: two clients at € 25 a day each, every day of every month
            rows += [("22222222", "44", first, "D", 25.0 * days, declared)] * 2
    return rows


@pytest.fixture(scope="module")
def seasonality(tmp_path_factory) -> dict[tuple[str, int], float]:
    work = tmp_path_factory.mktemp("seasonality")
    warehouse = work / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.fct_invoice_lines (provider_agb varchar, product_category varchar,"
            " service_month date, debit_credit varchar, amount_eur decimal(18, 2),"
            " declaration_date date, is_rejected boolean default false)"
        )
        con.executemany(
            "insert into marts.fct_invoice_lines (provider_agb, product_category, service_month,"
            " debit_credit, amount_eur, declaration_date) values (?, ?, ?, ?, ?, ?)",
            _lines(),
        )
    result = run_dbt(warehouse, work, AS_OF, "run", "--select", "int_forecast_seasonality")
    assert result.returncode == 0, result.stdout[-4000:]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select provider_agb, month_of_year, season_index"
            " from intermediate.int_forecast_seasonality"
        ).fetchall()
    return {(agb, moy): index for agb, moy, index in rows}


def test_flat_residential_care_keeps_its_flat_profile_on_few_lines(seasonality: dict) -> None:
    # two lines a month against the region's forty: weighed by its lines alone (the rule before)
    # its August was read as nearly the region's dip (0.754) and every other month 2-4% high
    for moy in range(1, 13):
        assert seasonality[("22222222", moy)] == pytest.approx(1.0, abs=1e-9), moy


def test_seasonal_ambulant_care_keeps_its_summer_dip(seasonality: dict) -> None:
    august = seasonality[("11111111", 8)]
    plain = seasonality[("11111111", 3)]
    assert august / plain == pytest.approx(AMBULANT_AUGUST, abs=0.05)
    # day-weighted mean 1 over the year
    days = [calendar.monthrange(2023, m)[1] for m in range(1, 13)]
    mean = sum(seasonality[("11111111", m)] * d for m, d in zip(range(1, 13), days, strict=True))
    assert mean / sum(days) == pytest.approx(1.0, abs=1e-9)

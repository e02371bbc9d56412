"""`jeugdhulp backtest --year Y` on a copy of the tiny run: replays two reporting dates on scratch
copies, records the forecast's and the naive annualisation's errors in the live warehouse, and
never builds on the live warehouse. The recorded figures are recomputed here from the live
warehouse's fact table, independently of the forecast models.

The tiny region has care from 2025 on and was run as of 2026-10-15, when 2025 is not yet mature
(its December is 365 days old on 2026-12-31): the backtest runs with JEUGDHULP_AS_OF 2026-12-31,
the final cost being what the warehouse holds (everything generated up to 2026-10-15)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.support.pipeline import run_cli

YEAR = 2025
DATES = (date(2025, 6, 30), date(2025, 9, 30))
AS_OF = "2026-12-31"
CENT = Decimal("0.01")


@pytest.fixture(scope="module")
def backtested(tiny_run):
    before = tiny_run.dicts("select * from marts.mart_budget_utilisation order by all")
    refused = run_cli(["backtest", "--year", str(YEAR)], tiny_run.env)
    env = {**tiny_run.env, "JEUGDHULP_AS_OF": AS_OF}
    result = run_cli(
        ["backtest", "--year", str(YEAR), "--dates", ",".join(d.isoformat() for d in DATES)], env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return tiny_run, before, refused, result


def test_an_immature_year_is_refused_with_the_reason(backtested):
    _, _, refused, _ = backtested
    assert refused.returncode == 1
    assert "year 2025 is not mature as of 2026-10-15" in refused.stderr
    assert "on 2026-12-31" in refused.stderr and "latest mature year is 2024" in refused.stderr


def test_progress_per_date_and_a_summary(backtested):
    run, _, _, result = backtested
    assert "[1/2] 2025-06-30" in result.stderr and "[2/2] 2025-09-30" in result.stderr
    assert "forecast error" in result.stdout and "2025-09-30" in result.stdout
    assert not list(run.data_dir.glob(".backtest-*")), "the scratch copies are removed"


def test_the_live_warehouse_is_not_rebuilt(backtested):
    run, before, _, _ = backtested
    assert run.dicts("select * from marts.mart_budget_utilisation order by all") == before


def accepted_by(run, day: date | None, *, months: int = 12) -> dict[str, Decimal]:
    """Accepted net amount per provider of YEAR's care months (the first `months` of them)
    declared by `day` (None: all), a line counting as rejected only once its JW325 had arrived
    by then."""
    cutoff = f"date '{(day or date.fromisoformat(AS_OF)).isoformat()}'"
    rows = run.dicts(f"""
        select f.provider_agb, sum(f.amount_eur) as amount
        from marts.fct_invoice_lines as f
        where year(f.service_month) = {YEAR} and month(f.service_month) <= {months}
            and f.declaration_date <= {cutoff} and f.service_month <= {cutoff}
            and not exists (
                select 1 from staging.stg_ijw__rejected_lines as r
                where r.provider_agb = f.provider_agb
                    and r.declaration_number = f.declaration_number
                    and r.reference_number = f.reference_number
                    and r.message_date <= {cutoff}
            )
        group by f.provider_agb""")
    return {row["provider_agb"]: row["amount"] for row in rows}


def test_recorded_errors_equal_an_independent_recomputation(backtested):
    run, _, _, _ = backtested
    rows = run.dicts(f"select * from marts.mart_forecast_backtest where year = {YEAR} order by all")
    assert {row["reporting_date"] for row in rows} == set(DATES)
    replayed = run.dicts(f"select count(*) as n from backtest.forecast_replays where year = {YEAR}")
    assert replayed[0]["n"] == len(rows) > 0
    final = accepted_by(run, None)
    for row in rows:
        agb, day = row["provider_agb"], row["reporting_date"]
        expected_final = final.get(agb, Decimal(0))
        assert row["final_actual_eur"] == expected_final, agb
        assert row["invoiced_eur"] == accepted_by(run, day).get(agb, Decimal(0)), (agb, day)
        # mart_forecast_history's naive rule: invoiced on the months whose invoice deadline
        # passed (late term 1 month: January-April on 30 June, January-July on 30 September)
        # × 12 / their number
        months = day.month - 2
        observed = accepted_by(run, day, months=months).get(agb, Decimal(0))
        assert row["naive_annualised_eur"] == (observed * 12 / months).quantize(CENT), agb
        assert row["forecast_error_eur"] == row["forecast_eur"] - expected_final
        assert row["naive_error_eur"] == row["naive_annualised_eur"] - expected_final
        if expected_final:
            assert row["forecast_error_pct"] == (
                100 * (row["forecast_eur"] - expected_final) / expected_final
            ).quantize(CENT)
        ceiling = row["budget_ceiling_eur"]
        assert row["final_over_ceiling"] == (
            bool(ceiling) and expected_final > ceiling if ceiling is not None else None
        )


def test_summary_recomputed_from_the_rows(backtested):
    run, _, _, _ = backtested
    rows = run.dicts(f"select * from marts.mart_forecast_backtest where year = {YEAR}")
    summary = {
        row["reporting_date"]: row
        for row in run.dicts(
            f"select * from marts.mart_forecast_backtest_summary where year = {YEAR}"
        )
    }
    assert set(summary) == set(DATES)
    for day in DATES:
        costed = [r for r in rows if r["reporting_date"] == day and r["final_actual_eur"] > 0]
        total = sum(r["final_actual_eur"] for r in costed)
        forecast_miss = sum(abs(r["forecast_eur"] - r["final_actual_eur"]) for r in costed)
        naive_miss = sum(abs(r["naive_annualised_eur"] - r["final_actual_eur"]) for r in costed)
        got = summary[day]
        assert got["providers"] == len(costed)
        assert got["forecast_wape_pct"] == (100 * forecast_miss / total).quantize(CENT)
        assert got["naive_wape_pct"] == (100 * naive_miss / total).quantize(CENT)
        on_date = [r for r in rows if r["reporting_date"] == day]
        over = [r for r in on_date if r["final_over_ceiling"]]
        assert got["over_ceiling"] == len(over)
        assert got["over_ceiling_signalled"] == sum(
            1 for r in over if r["signal"] in ("overschrijding", "dreigende_overschrijding")
        )
        assert got["false_overschrijding"] == sum(
            1 for r in on_date if r["signal"] == "overschrijding" and not r["final_over_ceiling"]
        )


def test_the_region_report_shows_the_track_record(backtested):
    from jeugdhulp.publish.run import publish
    from jeugdhulp.settings import load_settings

    run, _, _, _ = backtested
    publish(load_settings(run.env))
    # the region report (one per publication tier, where the publisher has tiers)
    reports = sorted((run.data_dir / "published").glob("**/regio/index.html"))
    assert reports
    region = reports[0].read_text()
    start = region.index('id="trefzekerheid"')
    section = region[start : region.index("</section>", start)]
    summary = run.dicts(
        f"select * from marts.mart_forecast_backtest_summary where year = {YEAR} "
        "order by reporting_date"
    )
    assert "30 september 2025" in section
    # the table shows the mart's figures, Dutch style
    september = summary[-1]
    shown = f"{september['forecast_wape_pct']:.1f}%".replace(".", ",")
    assert shown in section
    for page in (run.data_dir / "published").glob("**/GM*/index.html"):
        assert 'id="trefzekerheid"' not in page.read_text()

"""Backtests the year-end budget forecast (mart_budget_utilisation) against what providers really cost.

One synthetic region is generated with a late as_of (default 2026-10-31) and ingested once: that
warehouse knows the final accepted cost of the backtest year. For every backtest date the raw
schema is cut back to what had arrived by then (iJw messages by message date, accountability by
delivery date, PGB by its delivery on the 10th of the next month; reference files stay: ceilings are
known in advance) and the real dbt project is built with JEUGDHULP_AS_OF set to that date.

Why cut back instead of generating with an earlier as_of: the generator simulates its world up to
as_of, so two generations with different as_of dates are different worlds (other ceilings, other
care), and the "final actual" would belong to another world than the forecast.

Per provider the forecast is compared with the final accepted cost of the year, next to two naive
baselines (see docs/forecast.md): the annualisation municipalities use today (invoiced to date ×
12 / months observed) and the run rate of complete months; and, as a yardstick only, "hindsight":
the final cost of every month before the reporting month, the rest projected flat; and
"clairvoyant" (clairvoyant()): the final cost of all care under way on the date, the clients
still to come as the year before brought them. Reported: cost-weighted mean absolute
percentage error (Σ|forecast − actual| / Σ actual over providers with cost), and how many providers
that really crossed their ceiling were signalled, from which month-end on.

    .venv/bin/python -m benchmarks.forecast_backtest [--seed 11] [--year 2025] [--work DIR]
    .venv/bin/python -m benchmarks.forecast_backtest --world backtest --seed 1

`--world backtest` runs on the independent world of benchmarks/backtest_world.py instead of the
region profile. After the tables the issue 16 measures are printed (and in `--json`): error at 30
June and 30 September against naive annualisation, over-ceiling providers signalled on 30
September, false `overschrijding` on every reporting date (also for hindsight and clairvoyant),
the error of the months up to the reporting month (invoiced + still to come against their final
cost), P10–P90 coverage when the mart has an interval. The cutting back and the dbt call are the product's (jeugdhulp/forecasting/backtest.py).
"""

from __future__ import annotations

import argparse
import calendar
import json
import random
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb

from jeugdhulp.forecasting.backtest import cut_back, dbt_run

OUT = Path(__file__).resolve().parent / "out"
BACKTEST_KEY = "forecast-backtest-key-synthetic-data-only"
SIGNALLED = ("overschrijding", "dreigende_overschrijding")
WORLDS = ("region", "backtest")  # jeugdhulp.synthetic's region profile, benchmarks/backtest_world


@dataclass
class ProviderResult:
    provider_agb: str
    ceiling: Decimal | None
    actual: Decimal
    forecast: Decimal
    annualised: Decimal | None
    run_rate: Decimal | None
    signal: str | None
    hindsight: Decimal | None = None
    p10: Decimal | None = None  # the forecast's interval, when the mart has one (issue 16)
    p90: Decimal | None = None
    clairvoyant: Decimal | None = None  # see clairvoyant(): a yardstick, not a forecast
    not_under_way: Decimal | None = None  # final cost of care not under way on as_of (split_known)
    # the year's months up to the reporting month: the forecast's estimate (invoiced + still to
    # come) and their final cost; how well the method fills in the invoices not yet received
    to_date_estimate: Decimal | None = None
    to_date_actual: Decimal | None = None


@dataclass
class AsOfResult:
    as_of: date
    providers: list[ProviderResult] = field(default_factory=list)

    def wmape(self, attribute: str) -> float:
        """Cost-weighted MAPE: Σ |estimate − actual| / Σ actual, over providers with actual cost."""
        rows = [p for p in self.providers if p.actual > 0]
        total = sum(p.actual for p in rows)
        error = sum(abs((getattr(p, attribute) or Decimal(0)) - p.actual) for p in rows)
        return float(error / total) * 100 if total else float("nan")

    def wmape_to_date(self) -> float:
        """Σ |estimate − final| ÷ Σ final of the months up to the reporting month, per provider."""
        rows = [p for p in self.providers if p.to_date_actual is not None]
        total = sum(p.to_date_actual for p in rows)
        error = sum(abs((p.to_date_estimate or Decimal(0)) - p.to_date_actual) for p in rows)
        return float(error / total) * 100 if total else float("nan")

    def signalled(self) -> set[str]:
        return {p.provider_agb for p in self.providers if p.signal in SIGNALLED}

    def has_interval(self) -> bool:
        return any(p.p10 is not None and p.p90 is not None for p in self.providers)


# ------------------------------------------------------------------------------ data preparation


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def prepare_late_warehouse(work: Path, seed: int, late_as_of: date, world: str = "region") -> Path:
    """Generate and ingest once; returns the raw-only warehouse copy every snapshot starts from.
    `world`: "region" (jeugdhulp.synthetic's region profile) or "backtest" (the independent
    world of benchmarks/backtest_world.py)."""
    base = work / "raw_base.duckdb"
    if base.exists():
        ensure_seeds(base, late_as_of, work)
        return base
    from jeugdhulp.ingest import ingest_all
    from jeugdhulp.settings import load_settings

    data_dir = work / "late"
    if data_dir.exists():
        shutil.rmtree(data_dir)
    started = time.perf_counter()
    if world == "backtest":
        from benchmarks.backtest_world import TRUTH_FILE, write_world

        write_world(data_dir, seed, late_as_of)
        truth_file = data_dir / TRUTH_FILE
    else:
        from jeugdhulp.synthetic import generate

        generate(data_dir, profile="region", seed=seed, as_of=late_as_of, progress=False)
        truth_file = data_dir / "ground_truth.json"
    print(
        f"generated {world} seed {seed} as of {late_as_of} in "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )
    settings = load_settings(
        {
            "JEUGDHULP_DATA_DIR": str(data_dir),
            "JEUGDHULP_AS_OF": late_as_of.isoformat(),
            "JEUGDHULP_PSEUDONYM_KEY": BACKTEST_KEY,
            "JEUGDHULP_SETTLE_SECONDS": "0",
        }
    )
    started = time.perf_counter()
    reports = ingest_all(settings)
    quarantined = sum(len(r.files_quarantined) for r in reports.values())
    print(
        f"ingested in {time.perf_counter() - started:.0f} s ({quarantined} files quarantined)",
        flush=True,
    )
    shutil.copyfile(settings.warehouse_path, base)
    ensure_seeds(base, late_as_of, work)
    (work / "truth.json").write_text(truth_file.read_text())
    return base


def ensure_seeds(base: Path, late_as_of: date, work: Path) -> None:
    """The models read seeds (municipalities, code lists, calibration tables): load them into the
    base warehouse once (ingestion creates the raw schema only)."""
    with duckdb.connect(str(base), read_only=True) as con:
        seeded = con.execute(
            "select count(*) from information_schema.schemata where schema_name = 'seeds'"
        ).fetchone()[0]
    if not seeded:
        dbt_run(base, late_as_of, work, [], command="seed")


def snapshot(base: Path, work: Path, as_of: date, steering_only: bool) -> Path:
    """The warehouse as of `as_of`, with the forecast built; `steering_only` rebuilds the models on
    an existing snapshot without cutting it back again (for tuning the method)."""
    target = work / f"asof_{as_of.isoformat()}.duckdb"
    if steering_only and target.exists():
        dbt_run(target, as_of, work, ["+mart_budget_utilisation"])
        return target
    cut_back(base, target, as_of)
    dbt_run(target, as_of, work, ["+mart_budget_utilisation"])
    return target


# ------------------------------------------------------------------------------ measurement


def final_actuals(warehouse: Path, year: int) -> dict[str, Decimal]:
    """Accepted net cost per provider of the year's care months, as the late run knows it."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            """
            select provider_agb, sum(amount_eur) from intermediate.int_invoice_lags_summed
            where extract(year from service_month) = ? group by provider_agb""",
            [year],
        ).fetchall()
    return {agb: amount for agb, amount in rows}


def final_monthly(warehouse: Path, year: int) -> dict[tuple[str, date], Decimal]:
    """Final accepted net cost per provider and care month, of the year and the year before."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            """
            select provider_agb, service_month, sum(amount_eur) from intermediate.int_invoice_lags_summed
            where extract(year from service_month) in (?, ?) group by provider_agb, service_month""",
            [year - 1, year],
        ).fetchall()
    return {(agb, month): amount for agb, month, amount in rows}


def hindsight(final: dict[tuple[str, date], Decimal], agb: str, as_of: date, year: int) -> Decimal:
    """Not a forecast: every month before the reporting month as it finally turned out, the rest
    projected flat from the six months before (per day). The error left is the unknown future."""
    reporting = as_of.replace(day=1)
    month_starts = [date(y, m, 1) for y in (year - 1, year) for m in range(1, 13)]
    window = [m for m in month_starts if m < reporting][-6:]
    days = {m: calendar.monthrange(m.year, m.month)[1] for m in month_starts}
    per_day = sum((final.get((agb, m), Decimal(0)) for m in window), Decimal(0)) / sum(
        days[m] for m in window
    )
    known = sum(
        (final.get((agb, m), Decimal(0)) for m in month_starts if m.year == year and m < reporting),
        Decimal(0),
    )
    return known + per_day * sum(days[m] for m in month_starts if m.year == year and m >= reporting)


@dataclass(frozen=True)
class CareCost:
    """Final accepted cost of one client's care month with a provider, under one allocation."""

    provider_agb: str
    client_key: str | None
    service_month: date
    allocation_start: date | None  # the allocation's first start (JW305), None without one
    amount: Decimal


def care_costs(warehouse: Path, year: int) -> list[CareCost]:
    """The late run's accepted net cost per provider, client, care month and allocation, of the
    year and the two before (the year before's January looks back at its December), with the
    first start of the allocation invoiced for."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            """
            with starts as (
                select municipality_code, provider_agb, allocation_number,
                    min(start_date) as first_start
                from intermediate.int_starts_resolved
                group by municipality_code, provider_agb, allocation_number
            )
            select lines.provider_agb, lines.client_key, lines.service_month,
                starts.first_start, sum(lines.amount_eur)
            from marts.fct_invoice_lines as lines
            left join starts
                on starts.municipality_code = lines.municipality_code
                and starts.provider_agb = lines.provider_agb
                and starts.allocation_number = lines.allocation_number
            where not lines.is_rejected
                and extract(year from lines.service_month) between ? and ?
            group by lines.provider_agb, lines.client_key, lines.service_month, starts.first_start""",
            [year - 2, year],
        ).fetchall()
    return [CareCost(*row) for row in rows]


def split_known(
    costs: list[CareCost], year: int, as_of: date
) -> dict[str, tuple[Decimal, Decimal]]:
    """Per provider, the year's final cost split in two: (care under way on as_of, the rest).
    Under way: every month up to the reporting month (the past), care under an allocation that
    had started by as_of, and all care of a client who had care with the provider in the
    reporting month or the month before (a continuing client, also under a later allocation).
    The rest is care of clients who came (or came back) after as_of: no one could know it then."""
    reporting = as_of.replace(day=1)
    previous = (
        date(as_of.year - 1, 12, 1) if as_of.month == 1 else date(as_of.year, as_of.month - 1, 1)
    )
    in_care = {
        (c.provider_agb, c.client_key)
        for c in costs
        if c.client_key is not None and c.service_month in (previous, reporting) and c.amount > 0
    }
    split: dict[str, tuple[Decimal, Decimal]] = {}
    for c in costs:
        if c.service_month.year != year:
            continue
        known = (
            c.service_month <= reporting
            or (c.allocation_start is not None and c.allocation_start <= as_of)
            or (c.provider_agb, c.client_key) in in_care
        )
        under_way, rest = split.get(c.provider_agb, (Decimal(0), Decimal(0)))
        split[c.provider_agb] = (
            (under_way + c.amount, rest) if known else (under_way, rest + c.amount)
        )
    return split


def clairvoyant(costs: list[CareCost], year: int, as_of: date) -> dict[str, Decimal]:
    """Not a forecast, a yardstick for the false alarms: it knows the final cost of all care under
    way on as_of (every client in care, exactly when each stops and what each costs), and takes
    the care of clients who have not yet come at what the same part of the year brought the
    provider the year before (split_known a year earlier). What it gets wrong is only the year's
    new clients against last year's."""
    now = split_known(costs, year, as_of)
    before = split_known(costs, year - 1, month_end(year - 1, as_of.month))
    return {
        agb: now.get(agb, (Decimal(0), Decimal(0)))[0]
        + before.get(agb, (Decimal(0), Decimal(0)))[1]
        for agb in set(now) | set(before)
    }


def measure(
    warehouse: Path,
    as_of: date,
    year: int,
    actuals: dict[str, Decimal],
    final: dict[tuple[str, date], Decimal] | None = None,
    costs: list[CareCost] | None = None,
) -> AsOfResult:
    months_observed = 12 if as_of.year > year else as_of.month - 1
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = {
            name
            for (name,) in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'marts' and table_name = 'mart_budget_utilisation'"
            ).fetchall()
        }
        interval = (
            "forecast_p10_eur, forecast_p90_eur"
            if {"forecast_p10_eur", "forecast_p90_eur"} <= columns
            else "null, null"
        )
        mart = {
            row[0]: row[1:]
            for row in con.execute(
                f"""
            select provider_agb, budget_ceiling_eur, forecast_eur, signal, {interval}
            from marts.mart_budget_utilisation where year = ?""",
                [year],
            ).fetchall()
        }
        estimated_to_date = dict(
            con.execute(
                """
            select provider_agb, sum(forecast_eur) from intermediate.int_provider_months_projected
            where year = ? and month_status <> 'projected' group by provider_agb""",
                [year],
            ).fetchall()
        )
        monthly = con.execute(
            """
            select provider_agb, service_month, sum(amount_eur)
            from intermediate.int_invoice_lags_summed
            where extract(year from service_month) = ?
            group by provider_agb, service_month""",
            [year],
        ).fetchall()
    by_provider: dict[str, dict[int, Decimal]] = {}
    for agb, month, amount in monthly:
        by_provider.setdefault(agb, {})[month.month] = amount
    # complete months: their invoice deadline (last day of the next month) lies before as_of
    complete = [m for m in range(1, 13) if month_end(*next_month(year, m)) < as_of]
    result = AsOfResult(as_of)
    reporting = min(as_of, date(year, 12, 31)).replace(day=1)
    seer, split = {}, {}
    if costs is not None and as_of.year == year:
        seer, split = clairvoyant(costs, year, as_of), split_known(costs, year, as_of)
    for agb in sorted(set(actuals) | set(mart)):
        ceiling, forecast, signal, p10, p90 = mart.get(agb, (None, Decimal(0), None, None, None))
        amounts = by_provider.get(agb, {})
        to_date = sum(amounts.values(), Decimal(0))
        annualised = to_date * 12 / months_observed if months_observed else None
        run_rate = None
        if complete:
            recent = complete[-3:]
            mean_recent = sum((amounts.get(m, Decimal(0)) for m in recent), Decimal(0)) / len(
                recent
            )
            run_rate = sum(
                (amounts.get(m, Decimal(0)) for m in complete), Decimal(0)
            ) + mean_recent * (12 - len(complete))
        result.providers.append(
            ProviderResult(
                agb,
                ceiling,
                actuals.get(agb, Decimal(0)),
                forecast or Decimal(0),
                annualised,
                run_rate,
                signal,
                hindsight(final, agb, as_of, year) if final is not None else None,
                p10,
                p90,
                seer.get(agb, Decimal(0)) if seer else None,
                split.get(agb, (Decimal(0), Decimal(0)))[1] if seer else None,
                estimated_to_date.get(agb, Decimal(0)),
                None
                if final is None or as_of.year < year
                else sum(
                    (
                        a
                        for (p, m), a in final.items()
                        if p == agb and m.year == year and m <= reporting
                    ),
                    Decimal(0),
                ),
            )
        )
    return result


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


# ------------------------------------------------------------------------------ report


def signal_of(value: Decimal | None, ceiling: Decimal | None) -> str | None:
    """The mart's signal rule (mart_budget_utilisation), applied to a baseline's estimate."""
    if value is None or not ceiling:
        return None
    pct = (100 * value / ceiling).quantize(Decimal("0.01"))
    return (
        "overschrijding"
        if pct > 100
        else "dreigende_overschrijding"
        if pct > 95
        else "onderbesteding"
        if pct < 80
        else "op_koers"
    )


def report(
    results: list[AsOfResult],
    actuals: dict[str, Decimal],
    ceilings: dict[str, Decimal],
    headline: list[date],
    year: int,
) -> dict:
    crossed = sorted(
        agb
        for agb, ceiling in ceilings.items()
        if ceiling and actuals.get(agb, Decimal(0)) > ceiling
    )
    by_date = {r.as_of: r for r in results}
    summary: dict = {"year": year, "crossed": crossed, "providers_with_cost": 0, "as_of": {}}
    for as_of in headline:
        r = by_date[as_of]
        summary["providers_with_cost"] = sum(1 for p in r.providers if p.actual > 0)
        row = {
            "wmape_forecast_pct": round(r.wmape("forecast"), 2),
            "wmape_annualised_pct": round(r.wmape("annualised"), 2),
            "wmape_run_rate_pct": round(r.wmape("run_rate"), 2),
            "wmape_hindsight_pct": round(r.wmape("hindsight"), 2),
            "wmape_to_date_pct": round(r.wmape_to_date(), 2),
        }
        for name, signal in (
            ("forecast", lambda p: p.signal),
            ("annualised", lambda p: signal_of(p.annualised, p.ceiling)),
            ("run_rate", lambda p: signal_of(p.run_rate, p.ceiling)),
        ):
            flagged = {p.provider_agb: signal(p) for p in r.providers if signal(p) in SIGNALLED}
            false_alarms = [
                p
                for p in r.providers
                if p.provider_agb in flagged and p.provider_agb not in crossed
            ]
            row[name] = {
                "crossed_signalled": len(set(flagged) & set(crossed)),
                "crossed_as_overschrijding": sum(
                    1 for a in crossed if flagged.get(a) == "overschrijding"
                ),
                "false_overschrijding": sum(
                    1 for p in false_alarms if flagged[p.provider_agb] == "overschrijding"
                ),
                "false_dreigend": sum(
                    1 for p in false_alarms if flagged[p.provider_agb] != "overschrijding"
                ),
                "false_alarm_ceiling_eur": float(sum(p.ceiling for p in false_alarms)),
            }
        summary["as_of"][as_of.isoformat()] = row
    first_signal = {}
    for agb in crossed:
        # the first month-end from which the forecast's signal stayed on until the year's end
        on_since = None
        for r in sorted(results, key=lambda r: r.as_of):
            if agb in r.signalled():
                on_since = on_since or r.as_of
            else:
                on_since = None
        first_signal[agb] = {
            "utilisation_pct": round(float(100 * actuals.get(agb, 0) / ceilings[agb]), 1),
            "ceiling_eur": float(ceilings[agb]),
            "signalled_from": on_since.isoformat() if on_since else None,
        }
    summary["first_signal"] = first_signal
    summary["done_when"] = done_when(results, crossed, ceilings, year)
    return summary


def holds_final(p: ProviderResult) -> bool:
    """The forecast's P10–P90 interval holds the provider's final cost."""
    return p.p10 is not None and p.p90 is not None and p.p10 <= p.actual <= p.p90


def interval_coverage(results: list[AsOfResult]) -> float | None:
    """Cost-weighted share of the final cost inside the forecast's P10–P90 interval, over every
    provider with cost on every reporting date; None when the mart has no interval."""
    rows = [p for r in results if r.has_interval() for p in r.providers if p.actual > 0]
    if not rows:
        return None
    total = sum(p.actual for p in rows)
    inside = sum(p.actual for p in rows if holds_final(p))
    return round(float(100 * inside / total), 1)


def interval_coverage_range(
    results: list[AsOfResult], draws: int = 2000, seed: int = 16
) -> tuple[float, float] | None:
    """How far the coverage of one world is from chance: the 5th and 95th percentile of
    `interval_coverage` over `draws` resamples of the providers (with replacement; a provider's
    rows on every reporting date move together, as its errors are correlated from date to date).
    The cost-weighted coverage leans on the few large providers of a world, so even an interval
    that holds 80% of the cost in the long run lands some points off it on a single world; this
    range says how many. None when the mart has no interval."""
    clusters: dict[str, list[float]] = {}  # provider: [final cost, final cost inside]
    for r in results:
        if not r.has_interval():
            continue
        for p in r.providers:
            if p.actual > 0:
                cell = clusters.setdefault(p.provider_agb, [0.0, 0.0])
                cell[0] += float(p.actual)
                cell[1] += float(p.actual) if holds_final(p) else 0.0
    if not clusters:
        return None
    cells = list(clusters.values())
    rng = random.Random(seed)
    shares = []
    for _ in range(draws):
        drawn = [cells[rng.randrange(len(cells))] for _ in cells]
        shares.append(100 * sum(i for _, i in drawn) / sum(c for c, _ in drawn))
    shares.sort()
    low = shares[int(0.05 * (draws - 1))]
    high = shares[int(round(0.95 * (draws - 1)))]
    return round(low, 1), round(high, 1)


def done_when(
    results: list[AsOfResult], crossed: list[str], ceilings: dict[str, Decimal], year: int
) -> dict:
    """The measures of issue 16's "Done when": errors at 30 June and 30 September against naive
    annualisation, over-ceiling providers signalled by 30 September, false `overschrijding` on
    every reporting date (per provider with a ceiling), P10–P90 coverage over all dates."""
    by_date = {r.as_of: r for r in results}
    out: dict = {}
    for as_of in (date(year, 6, 30), date(year, 9, 30)):
        r = by_date.get(as_of)
        if r is None:
            continue
        forecast, naive = r.wmape("forecast"), r.wmape("annualised")
        out[as_of.isoformat()] = {
            "forecast_pct": round(forecast, 2),
            "naive_pct": round(naive, 2),
            "naive_to_forecast": round(naive / forecast, 2) if forecast else None,
        }
    september = by_date.get(date(year, 9, 30))
    if september is not None and crossed:
        signalled = len(september.signalled() & set(crossed))
        out["crossed_signalled_30_september"] = f"{signalled}/{len(crossed)}"
        out["crossed_signalled_share_pct"] = round(100 * signalled / len(crossed), 1)
    with_ceiling = sum(1 for c in ceilings.values() if c)
    false_over = {
        r.as_of.isoformat(): sum(
            1 for p in r.providers if p.signal == "overschrijding" and p.provider_agb not in crossed
        )
        for r in sorted(results, key=lambda r: r.as_of)
        if r.as_of.year == year
    }
    # The same count for the hindsight baseline, which knows every past month's final cost: what
    # is left is the unknown rest of the year, against ceilings set close to the final cost.
    hindsight_over = {
        r.as_of.isoformat(): sum(
            1
            for p in r.providers
            if p.provider_agb not in crossed
            and p.ceiling
            and p.hindsight is not None
            and signal_of(p.hindsight, p.ceiling) == "overschrijding"
        )
        for r in sorted(results, key=lambda r: r.as_of)
        if r.as_of.year == year
    }
    # And for the clairvoyant yardstick, which knows the whole future of every client in care
    # and misses only the clients still to come: what no forecast on that date can know.
    in_year = [r for r in sorted(results, key=lambda r: r.as_of) if r.as_of.year == year]
    if any(p.clairvoyant is not None for r in in_year for p in r.providers):
        out["false_overschrijding_clairvoyant_by_date"] = {
            r.as_of.isoformat(): sum(
                1
                for p in r.providers
                if p.provider_agb not in crossed
                and signal_of(p.clairvoyant, p.ceiling) == "overschrijding"
            )
            for r in in_year
        }
        if september is not None and crossed:
            seen = sum(
                1
                for p in september.providers
                if p.provider_agb in crossed and signal_of(p.clairvoyant, p.ceiling) in SIGNALLED
            )
            out["crossed_signalled_clairvoyant_30_september"] = f"{seen}/{len(crossed)}"
        # the share of the year's final cost (providers with a ceiling) that is care of clients
        # who had not yet come on the date
        out["cost_not_under_way_pct_by_date"] = {
            r.as_of.isoformat(): round(
                float(
                    100
                    * sum(p.not_under_way or 0 for p in r.providers if p.ceiling)
                    / (sum(p.actual for p in r.providers if p.ceiling) or 1)
                ),
                1,
            )
            for r in in_year
        }
    out["providers_with_ceiling"] = with_ceiling
    out["false_overschrijding_by_date"] = false_over
    # the estimate of the months already past (invoiced + still to come) against their final cost
    out["wmape_to_date_pct_by_date"] = {
        r.as_of.isoformat(): round(r.wmape_to_date(), 2)
        for r in sorted(results, key=lambda r: r.as_of)
        if r.as_of.year == year and any(p.to_date_actual is not None for p in r.providers)
    }
    out["false_overschrijding_hindsight_by_date"] = hindsight_over
    out["false_overschrijding_max_per_provider"] = (
        round(max(false_over.values()) / with_ceiling, 3) if false_over and with_ceiling else None
    )
    out["p10_p90_coverage_pct"] = interval_coverage(in_year)
    spread = interval_coverage_range(in_year)
    out["p10_p90_coverage_range_pct"] = list(spread) if spread else None
    return out


def print_done_when(summary: dict) -> None:
    done = summary.get("done_when") or {}
    print("\nissue 16 measures (done when: ≤ 8% / ≤ 3.5%, naive ÷ forecast ≥ 2.5 at 30/9,")
    print("  ≥ 90% of over-ceiling providers signalled, false overschrijding ≤ 1 per 20,")
    print("  P10–P90 coverage 75–85%):")
    for key in (f"{summary['year']}-06-30", f"{summary['year']}-09-30"):
        if key in done:
            row = done[key]
            print(
                f"  {key}: forecast {row['forecast_pct']:.2f}%, naive {row['naive_pct']:.2f}%, "
                f"naive ÷ forecast {row['naive_to_forecast']}"
            )
    if "crossed_signalled_30_september" in done:
        print(
            f"  over ceiling signalled on 30 September: {done['crossed_signalled_30_september']}"
            f" ({done['crossed_signalled_share_pct']}%)"
        )
    false_over = done.get("false_overschrijding_by_date", {})
    print(
        f"  false overschrijding per reporting date (of {done.get('providers_with_ceiling')} "
        f"providers with a ceiling): " + ", ".join(f"{d[5:]} {n}" for d, n in false_over.items())
    )
    print(f"  worst date: {done.get('false_overschrijding_max_per_provider')} per provider")
    hindsight_over = done.get("false_overschrijding_hindsight_by_date", {})
    if hindsight_over:
        print(
            "  the same for hindsight (past months at their final cost, the rest flat): "
            + ", ".join(f"{d[5:]} {n}" for d, n in hindsight_over.items())
        )
    to_date = done.get("wmape_to_date_pct_by_date", {})
    if to_date:
        print(
            "  error of the months up to the reporting month (invoiced + still to come against "
            "their final cost): " + ", ".join(f"{d[5:]} {v:.2f}%" for d, v in to_date.items())
        )
    seer_over = done.get("false_overschrijding_clairvoyant_by_date", {})
    if seer_over:
        print(
            "  the same for the clairvoyant yardstick (knows every client in care to the end, "
            "takes last year's newcomers): "
            + ", ".join(f"{d[5:]} {n}" for d, n in seer_over.items())
        )
        print(
            "  over ceiling signalled by the clairvoyant yardstick on 30 September: "
            f"{done.get('crossed_signalled_clairvoyant_30_september')}"
        )
        print(
            "  share of the year's cost (providers with a ceiling) from clients not yet in care: "
            + ", ".join(
                f"{d[5:]} {v}%" for d, v in done.get("cost_not_under_way_pct_by_date", {}).items()
            )
        )
    coverage = done.get("p10_p90_coverage_pct")
    spread = done.get("p10_p90_coverage_range_pct")
    print(
        "  P10–P90 coverage (cost-weighted, all dates): "
        + ("no interval in the mart yet" if coverage is None else f"{coverage}%")
        + (f" (5–95% over resampled providers: {spread[0]}–{spread[1]}%)" if spread else "")
    )


def print_summary(summary: dict) -> None:
    crossed = len(summary["crossed"])
    print(
        f"\nBacktest year {summary['year']} (seed {summary.get('seed')}): "
        f"{summary['providers_with_cost']} providers with cost, {crossed} crossed their ceiling"
    )
    print(
        f"{'as of':<12}{'estimate':<12}{'wMAPE':>7}  crossed signalled (as overschrijding)"
        f"  false alarms: overschrijding / dreigend"
    )
    for as_of, row in summary["as_of"].items():
        for name, label in (
            ("forecast", "forecast"),
            ("annualised", "×12/n"),
            ("run_rate", "run rate"),
        ):
            signals = row[name]
            print(
                f"{as_of:<12}{label:<12}{row[f'wmape_{name}_pct']:>6.2f}%  "
                f"{signals['crossed_signalled']:>2}/{crossed} ({signals['crossed_as_overschrijding']})"
                f"{signals['false_overschrijding']:>28} / {signals['false_dreigend']}"
            )
        print(
            f"{as_of:<12}{'hindsight':<12}{row['wmape_hindsight_pct']:>6.2f}%  (final invoices before the"
            f" reporting month, the rest flat: not a forecast)"
        )
    print(
        "forecast signal (overschrijding or dreigende_overschrijding) on from month-end, per provider that crossed:"
    )
    for agb, info in summary["first_signal"].items():
        print(
            f"  {agb}  actual {info['utilisation_pct']:6.1f}% of € {info['ceiling_eur']:>12,.0f}"
            f"  signalled from {info['signalled_from']}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--world",
        choices=WORLDS,
        default="region",
        help="region: the generator's region profile; backtest: benchmarks/backtest_world.py",
    )
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--late-as-of", type=date.fromisoformat, default=date(2026, 10, 31))
    parser.add_argument(
        "--work",
        type=Path,
        default=None,
        help="cache dir (default benchmarks/out/forecast-<seed>, forecast-world-<seed>)",
    )
    parser.add_argument(
        "--headline",
        type=date.fromisoformat,
        nargs="*",
        default=None,
        help="dates to report the error for (default 30 June and 30 September)",
    )
    parser.add_argument(
        "--measure-only", action="store_true", help="measure existing snapshots without running dbt"
    )
    parser.add_argument(
        "--steering-only",
        action="store_true",
        help="reuse existing snapshots, rebuild only the steering models",
    )
    parser.add_argument("--json", type=Path, default=None, help="write the summary here too")
    args = parser.parse_args(argv)

    default_work = (
        f"forecast-{args.seed}" if args.world == "region" else f"forecast-world-{args.seed}"
    )
    work = args.work or OUT / default_work
    work.mkdir(parents=True, exist_ok=True)
    headline = args.headline or [date(args.year, 6, 30), date(args.year, 9, 30)]
    month_ends = [month_end(args.year, m) for m in range(1, 13)]
    dates = sorted(set(month_ends) | set(headline))

    base = prepare_late_warehouse(work, args.seed, args.late_as_of, args.world)

    def built(as_of: date) -> Path:
        existing = work / f"asof_{as_of.isoformat()}.duckdb"
        if args.measure_only and existing.exists():
            return existing
        return snapshot(base, work, as_of, args.steering_only)

    late = built(args.late_as_of)
    actuals = final_actuals(late, args.year)
    final = final_monthly(late, args.year)
    costs = care_costs(late, args.year)
    with duckdb.connect(str(late), read_only=True) as con:
        ceilings = dict(
            con.execute(
                "select provider_agb, sum(budget_ceiling_eur) from staging.stg_reference__budget_ceilings "
                "where year = ? group by provider_agb",
                [args.year],
            ).fetchall()
        )

    results = []
    for as_of in dates:
        started = time.perf_counter()
        warehouse = built(as_of)
        results.append(measure(warehouse, as_of, args.year, actuals, final, costs))
        print(
            f"as of {as_of}: built and measured in {time.perf_counter() - started:.0f} s",
            flush=True,
        )

    summary = report(results, actuals, ceilings, headline, args.year)
    summary["seed"] = args.seed
    summary["world"] = args.world
    print_summary(summary)
    print_done_when(summary)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

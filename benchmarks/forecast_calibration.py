"""Derives the forecast's error calibration (dbt_project/seeds/forecast_error_calibration.csv) from
backtests: the P10–P90 interval and probability_over_ceiling of mart_budget_utilisation.

Input: one or more backtest work directories of `benchmarks/forecast_backtest.py` (each holds
`asof_<date>.duckdb` snapshots with the forecast built as of that date, and the late warehouse
`asof_<late>.duckdb` that knows the final cost). For every snapshot of the backtest year and every
provider with a forecast > 0 and a final cost, the relative error r = final / forecast − 1 is
taken, with its months ahead (months of the year after the reporting month: 12 − month) and the
provider's size class (by the forecast: small < € 100,000 ≤ medium < € 1,000,000 ≤ large).

Per months ahead (0–11) × size class, the cost-weighted quantiles (weight: the final cost, as the
issue's coverage measure, scaled so that every backtest directory weighs the same in total) 5,
10, 25, 50, 75, 90 and 95% of r are written, pooled over the months
ahead m − 1 … m + 1 (a cell holds only one reporting date per world otherwise). q10 ≤ 0 ≤ q90 is
enforced (the forecast is the interval's median by definition).

    .venv/bin/python -m benchmarks.forecast_calibration benchmarks/out/forecast-11 \\
        benchmarks/out/forecast-23 [--year 2025] [--late 2026-10-31] \\
        [--out dbt_project/seeds/forecast_error_calibration.csv]

Run it after the backtests (which must run on the current method: rerun them after a change of the
forecast, then this, then `dbt seed`).
"""

from __future__ import annotations

import argparse
import csv
import sys
from datetime import date
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
QUANTILES = (0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95)
SIZE_CLASSES = (("small", 0.0), ("medium", 100_000.0), ("large", 1_000_000.0))


def size_class(forecast: float) -> str:
    name = SIZE_CLASSES[0][0]
    for candidate, lower in SIZE_CLASSES:
        if forecast >= lower:
            name = candidate
    return name


def weighted_quantile(pairs: list[tuple[float, float]], q: float) -> float:
    """The smallest value whose cumulative weight reaches q of the total (pairs: value, weight)."""
    ordered = sorted(pairs)
    total = sum(w for _, w in ordered)
    running = 0.0
    for value, weight in ordered:
        running += weight
        if running >= q * total:
            return value
    return ordered[-1][0]


def observations(work: Path, year: int, late: date) -> list[tuple[int, str, float, float]]:
    """(months ahead, size class, relative error, final cost) per provider and snapshot."""
    with duckdb.connect(str(work / f"asof_{late.isoformat()}.duckdb"), read_only=True) as con:
        finals = dict(
            con.execute(
                "select provider_agb, sum(amount_eur) from intermediate.int_invoice_lags_summed"
                " where extract(year from service_month) = ? group by provider_agb",
                [year],
            ).fetchall()
        )
    out = []
    for path in sorted(work.glob(f"asof_{year}-*.duckdb")):
        as_of = date.fromisoformat(path.stem.removeprefix("asof_"))
        with duckdb.connect(str(path), read_only=True) as con:
            rows = con.execute(
                "select provider_agb, forecast_eur from marts.mart_budget_utilisation where year = ?",
                [year],
            ).fetchall()
        for agb, forecast in rows:
            final = float(finals.get(agb, 0))
            if forecast is None or forecast <= 0 or final <= 0:
                continue
            out.append(
                (12 - as_of.month, size_class(float(forecast)), final / float(forecast) - 1, final)
            )
    return out


def calibrate(obs: list[tuple[int, str, float, float]]) -> list[dict]:
    rows = []
    for months_ahead in range(12):
        for name, _ in SIZE_CLASSES:
            pool = [(r, w) for m, c, r, w in obs if c == name and abs(m - months_ahead) <= 1]
            if len(pool) < 5:  # too few: the class pooled over all sizes
                pool = [(r, w) for m, _, r, w in obs if abs(m - months_ahead) <= 1]
            values = {q: weighted_quantile(pool, q) for q in QUANTILES}
            values[0.10] = min(values[0.10], 0.0)
            values[0.05] = min(values[0.05], values[0.10])
            values[0.90] = max(values[0.90], 0.0)
            values[0.95] = max(values[0.95], values[0.90])
            rows.append(
                {
                    "months_ahead": months_ahead,
                    "size_class": name,
                    **{f"q{round(q * 100):02d}": f"{values[q]:.4f}" for q in QUANTILES},
                    "observations": len(pool),
                }
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work", type=Path, nargs="+", help="backtest work directories")
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--late", type=date.fromisoformat, default=date(2026, 10, 31))
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO / "dbt_project" / "seeds" / "forecast_error_calibration.csv",
    )
    args = parser.parse_args(argv)
    obs = []
    for work in args.work:
        # every backtest (world × seed) weighs the same in total: a world with ten times the
        # cost does not set the quantiles alone
        own = observations(work, args.year, args.late)
        total = sum(w for *_, w in own)
        obs += [(m, c, r, w / total) for m, c, r, w in own]
    rows = calibrate(obs)
    with args.out.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(obs)} observations from {len(args.work)} backtests -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

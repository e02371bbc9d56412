"""What a sceptical municipal controller checks, recomputed from the landed files (xml.etree and
csv only: no product code, no dbt SQL), on the independent backtest world
(benchmarks/backtest_world.py, seed 5, as of 2026-10-31) run through `jeugdhulp run`.

Each failed before its fix:
1. `rpt_report_budget` (intern): the municipalities' budget shares (`ceiling_budget_eur`) did not
   sum to the region's row (2026: 13,178,386.82 against 13,178,400.00): each was the key rounded
   to 4 decimals × the ceilings. Now the T-2 key as `mart_settlement` applies it, divided by
   largest remainder, so each share is within a cent of key × ceilings and they add up exactly.
2. The year-end forecast was 1 cent apart between the municipalities and the region in the same
   intern publication (2026: Σ municipalities 11,952,557.22; region 11,952,557.21).
3. The openbaar CSV column `Geheimhouding` is text but was not quoted (docs/publishing.md: every
   text field in double quotes).
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.support.pipeline import pipeline_env, run_cli

pytestmark = pytest.mark.slow

AS_OF = "2026-10-31"
CENT = Decimal("0.01")


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    from benchmarks.backtest_world import write_world

    data_dir = tmp_path_factory.mktemp("controller") / "data"
    write_world(data_dir, seed=5, as_of=date.fromisoformat(AS_OF))
    result = run_cli(["run"], pipeline_env(data_dir, AS_OF), timeout=1200)
    assert result.returncode == 0, result.stdout + result.stderr
    return data_dir


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(el, *names):
    for name in names:
        el = next((c for c in el if _local(c.tag) == name), None) if el is not None else None
    return el


def _text(el, *names):
    found = _find(el, *names)
    return None if found is None or found.text is None else found.text.strip()


def _accepted_cost(ijw_root: Path) -> dict[tuple[str, int], Decimal]:
    """Accepted net cost per (GM code, year of service month), from the iJw files themselves."""
    lines, rejected = [], set()
    for path in sorted(p for p in ijw_root.rglob("*") if p.is_file()):
        root = ET.parse(path).getroot()
        header = _find(root, "Header")
        code = _text(header, "BerichtCode")
        if code == "490":
            provider, muni = _text(header, "Afzender"), _text(header, "Ontvanger")
            decl = _find(root, "Declaratie")
            number = _text(decl, "DeclaratieNummer")
            for client in _find(decl, "Clienten"):
                for line in _find(client, "Prestaties"):
                    cents = Decimal(_text(line, "IngediendBedrag", "Bedrag")) / 100
                    sign = -1 if _text(line, "IngediendBedrag", "DebetCredit") == "C" else 1
                    year = int(_text(line, "ProductPeriode", "Begindatum")[:4])
                    ref = _text(line, "ProductReferentie", "ReferentieNummer")
                    lines.append((provider, number, ref, "GM" + muni, year, sign * cents))
        elif code == "491":
            provider = _text(header, "Ontvanger")
            answer = _find(root, "DeclaratieAntwoord")
            number = _text(answer, "DeclaratieNummer")
            for client in _find(answer, "Clienten") or []:
                for line in _find(client, "Prestaties") or []:
                    rejected.add(
                        (provider, number, _text(line, "ProductReferentie", "ReferentieNummer"))
                    )
    cost: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    for provider, number, ref, muni, year, amount in lines:
        if (provider, number, ref) not in rejected:
            cost[(muni, year)] += amount
    return cost


def _parquet(world: Path, table: str):
    import pandas as pd

    return pd.read_parquet(world / "published" / "intern" / "regio" / f"{table}.parquet")


def _dec(value) -> Decimal:
    return Decimal(str(value))


def test_budget_shares_of_the_municipalities_add_up_to_the_region(world):
    """Intern figures 'reconcile with each other' (CONTRACT §4): the municipalities' budget shares
    in rpt_report_budget must sum to the region's budget of the same table and year."""
    budget = _parquet(world, "rpt_report_budget")
    gaps = {}
    for year, rows in budget.groupby("year"):
        municipal = rows[rows.municipality_code != "regio"]
        region = rows[rows.municipality_code == "regio"]
        if municipal.ceiling_budget_eur.isna().any() or region.empty:
            continue
        total = sum(_dec(v) for v in municipal.ceiling_budget_eur)
        if total != _dec(region.ceiling_budget_eur.iloc[0]):
            gaps[int(year)] = (str(total), str(region.ceiling_budget_eur.iloc[0]))
    assert gaps == {}, f"year: (Σ municipalities, region) {gaps}"


def test_budget_share_uses_the_t2_key_not_its_rounded_display(world):
    """Budget share = T-2 key × Σ ceilings; the key is the municipality's share of the region's
    accepted cost in year − 2 (CONTRACT §3 mart_settlement), recomputed from the iJw files."""
    cost = _accepted_cost(world / "archive" / "ijw")
    ceilings: dict[int, Decimal] = defaultdict(Decimal)
    for path in (world / "archive" / "reference").rglob("budget_ceilings*.csv"):
        text = path.read_bytes().decode("utf-8-sig")
        for row in csv.DictReader(io.StringIO(text)):
            ceilings[int(row["year"])] += Decimal(row["budget_ceiling_eur"])
    budget = _parquet(world, "rpt_report_budget")
    wrong = {}
    for row in budget.itertuples():
        if row.municipality_code == "regio" or row.ceiling_budget_eur is None:
            continue
        year = int(row.year)
        region_t2 = sum(v for (m, y), v in cost.items() if y == year - 2)
        key = cost[(row.municipality_code, year - 2)] / region_t2
        exact = key * ceilings[year]
        # largest remainder: the floor of key × ceilings in cents, or one cent more
        if abs(_dec(row.ceiling_budget_eur) - exact) >= CENT:
            wrong[(row.municipality_code, year)] = (str(exact), str(row.ceiling_budget_eur))
    assert budget.ceiling_budget_eur.notna().sum() > 1  # the world has T-2 keys to check
    assert wrong == {}, f"(municipality, year): (key × Σ ceilings, published) {wrong}"


def test_year_end_forecast_of_the_municipalities_adds_up_to_the_region(world):
    """One year-end forecast, one figure: Σ municipalities = region, to the cent."""
    budget = _parquet(world, "rpt_report_budget")
    kpi = _parquet(world, "mart_kpi_annual")
    utilisation = _parquet(world, "mart_budget_utilisation")
    gaps = {}
    for year, rows in budget.groupby("year"):
        municipal = sum(_dec(v) for v in rows[rows.municipality_code != "regio"].forecast_eur)
        region = _dec(rows[rows.municipality_code == "regio"].forecast_eur.iloc[0])
        kpi_sum = sum(_dec(v) for v in kpi[kpi.year == year].forecast_cost_eur)
        providers = sum(_dec(v) for v in utilisation[utilisation.year == year].forecast_eur)
        if not (municipal == region == kpi_sum == providers):
            gaps[int(year)] = tuple(map(str, (municipal, region, kpi_sum, providers)))
    assert gaps == {}, (
        "year: (Σ rpt_report_budget municipalities, rpt_report_budget regio, "
        f"Σ mart_kpi_annual.forecast_cost_eur, Σ mart_budget_utilisation.forecast_eur) {gaps}"
    )


def test_openbaar_csv_text_fields_are_quoted(world):
    """docs/publishing.md: every text field of a published CSV in double quotes."""
    import pandas as pd

    unquoted = set()
    for parquet in (world / "published" / "openbaar").rglob("*.parquet"):
        frame = pd.read_parquet(parquet)
        body = parquet.with_suffix(".csv").read_bytes().decode("utf-8-sig")
        rows = [line for line in body.split("\r\n")[1:] if line]
        for line, (_, values) in zip(rows, frame.iterrows()):
            fields = next(csv.reader([line], delimiter=";", quoting=csv.QUOTE_NONE))
            for column, field in zip(frame.columns, fields):
                if isinstance(values[column], str) and not field.startswith('"'):
                    unquoted.add((parquet.name, column, field))
    assert unquoted == set(), sorted(unquoted)[:5]

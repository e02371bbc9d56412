"""The finance section of the intern report on the tiny run (issue 14): every provider's ceiling
with its forecast, interval, probability and signal (the highest utilisation first), and the
accountability reconciliation of the latest accounting year due (1 April), its totals recomputed
here from the published mart_accountability_reconciliation rows, not from rpt_report_accountability.
"""

from __future__ import annotations

import html as html_module
import re
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pyarrow.parquet as pq
import pytest

from jeugdhulp.publish.dutch import euro

pytestmark = pytest.mark.slow

AS_OF = date(2026, 10, 15)  # the tiny run's reporting date (tests/support/pipeline.py)


def _page(tiny_run, code: str) -> str:
    return (tiny_run.data_dir / "published" / "intern" / code / "index.html").read_text("utf-8")


def _table(page: str, caption_start: str) -> list[list[str]]:
    """The body rows of the table whose caption starts so, as cell texts."""
    found = re.search(
        r"<caption>" + re.escape(caption_start) + r".*?</caption>(.*?)</table>", page, re.S
    )
    assert found, caption_start
    rows = re.findall(r"<tr>(.*?)</tr>", found.group(1), re.S)
    cells = [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S) for row in rows]
    return [[html_module.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in row] for row in cells]


@pytest.mark.parametrize("code", ["regio", "GM0546"])
def test_the_accountability_reconciliation_is_on_the_intern_page(tiny_run, code):
    folder = tiny_run.data_dir / "published" / "intern" / code
    rows = pq.read_table(folder / "mart_accountability_reconciliation.parquet").to_pylist()
    due = [y for y in {r["year"] for r in rows} if date(y + 1, 4, 1) <= AS_OF]
    assert due, "the tiny run has an accounting year due by its reporting date"
    year = max(due)
    # a side missing on a product row is null there (SQL's sum skips it: null only when all are)
    per_provider: dict[str, list[Decimal | None]] = defaultdict(lambda: [None] * 3)
    for row in (r for r in rows if r["year"] == year):
        sums = per_provider[row["provider_agb"]]
        values = (
            row["accountability_amount_eur"],
            row["invoiced_amount_eur"],
            abs(row["difference_eur"]),
        )
        for i, value in enumerate(values):
            if value is not None:
                sums[i] = (sums[i] or Decimal(0)) + value
    total = [
        sum((s[i] for s in per_provider.values() if s[i] is not None), Decimal(0)) for i in range(3)
    ]

    table = _table(_page(tiny_run, code), f"Productieverantwoording {year} per aanbieder")
    header, body = table[0], table[1:]
    assert header[:5] == [
        "Aanbieder",
        "Verantwoord",
        "Gedeclareerd",
        "Verschil",
        "Absoluut verschil",
    ]
    assert len(body) == len(per_provider) + 1 and body[-1][0] == "Totaal"
    assert body[-1][1:5] == [
        euro(total[0], 2),
        euro(total[1], 2),
        euro(total[0] - total[1], 2),
        euro(total[2], 2),
    ]
    # the largest absolute difference first
    shown = sorted(per_provider.values(), key=lambda s: -s[2])
    assert [row[4] for row in body[:-1]] == [euro(s[2], 2) for s in shown]


def test_every_provider_with_a_ceiling_is_in_the_budget_table_worst_first(tiny_run):
    folder = tiny_run.data_dir / "published" / "intern" / "regio"
    budget = pq.read_table(folder / "mart_budget_utilisation.parquet").to_pylist()
    year = max(r["year"] for r in budget)
    with_ceiling = [
        r
        for r in budget
        if r["year"] == year and r["budget_ceiling_eur"] and not r["outside_ceilings"]
    ]
    assert with_ceiling
    table = _table(_page(tiny_run, "regio"), f"Budgetplafonds per aanbieder, {year}")
    header, body = table[0], table[1:]
    assert header == [
        "Aanbieder",
        "Plafond",
        "Gedeclareerd",
        "Prognose",
        "Prognose-interval (P10–P90)",
        "Benutting",
        "Kans boven plafond",
        "Signaal",
        "Plafond bereikt op",
    ]
    assert len(body) == len(with_ceiling)
    ordered = sorted(with_ceiling, key=lambda r: (-(r["utilisation_pct"] or -1), r["provider_agb"]))
    assert [row[1] for row in body] == [euro(r["budget_ceiling_eur"]) for r in ordered]
    assert [row[3] for row in body] == [euro(r["forecast_eur"]) for r in ordered]
    signals = {"op_koers": "op koers", "dreigende_overschrijding": "dreigende overschrijding"}
    assert [row[7] for row in body] == [signals.get(r["signal"], r["signal"]) for r in ordered]

"""The two tiers: openbaar survives the differencing audit (and a weakened rule does not), intern
reconciles with the warehouse to the cent, and hostile provider names come out inert.

On a fabricated warehouse whose every number is known (tests/support/publish_warehouse.py); the
same audit and reconciliation on the region profile are in tests/e2e/test_region_profile.py."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from jeugdhulp.publish import publish, sdc
from jeugdhulp.publish.catalogue import LABELLED
from jeugdhulp.settings import Settings
from tests.support.disclosure_audit import audit_published, openbaar_tables
from tests.support.publish_warehouse import AS_OF, NAMES, build_warehouse

MUNICIPALITIES = sorted(NAMES)
RPT = ["rpt_costs_product_year", "rpt_costs_provider_year", "rpt_costs_segment_month"]
RPT_ORDER = ["rpt_costs_provider_year", "rpt_costs_segment_month", "rpt_costs_product_year"]


def settings_for(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, as_of=AS_OF, pseudonym_key=None, postgres_dsn=None)


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("audit")
    build_warehouse(data_dir / "warehouse" / "warehouse.duckdb")
    publish(settings_for(data_dir))
    return data_dir


def test_the_openbaar_tier_holds_only_the_publication_tables(published):
    out = published / "published"
    assert openbaar_tables(out) == RPT
    for folder in ["regio", *MUNICIPALITIES]:
        names = sorted(p.name for p in (out / "openbaar" / folder).iterdir())
        assert names == sorted(
            [f"{t}.{ext}" for t in RPT for ext in ("csv", "parquet")] + ["index.html"]
        )


def test_an_intern_only_mart_never_reaches_openbaar():
    from jeugdhulp.publish.catalogue import MARTS, MartSpec, Shape

    assert [spec.name for spec in MARTS if spec.openbaar] == sorted(RPT, key=RPT_ORDER.index)
    assert all(not spec.openbaar for spec in MARTS if spec.intern_only)
    shaped = MartSpec("x", "municipality", (), (), shape=Shape(dims=(("a", "t"),)))
    assert shaped.openbaar
    assert not MartSpec(
        "x", "municipality", (), (), shape=Shape(dims=(("a", "t"),)), intern_only=True
    ).openbaar


def test_openbaar_folders_are_subsets_of_the_region_set(published):
    """So auditing openbaar/regio covers everything the public can combine."""
    out = published / "published" / "openbaar"
    for table in RPT:
        region = pq.read_table(out / "regio" / f"{table}.parquet").to_pylist()
        keyed = {tuple(sorted(row.items(), key=str)) for row in region}
        for code in MUNICIPALITIES:
            own = pq.read_table(out / code / f"{table}.parquet").to_pylist()
            assert own and {row["municipality_code"] for row in own} == {code}
            assert all(tuple(sorted(row.items(), key=str)) in keyed for row in own)


def test_no_count_of_1_to_4_and_suppressed_cells_carry_a_marker(published):
    out = published / "published" / "openbaar"
    primaries = secondaries = 0
    for path in out.rglob("*.parquet"):
        for row in pq.read_table(path).to_pylist():
            assert row["persons"] is None or row["persons"] >= 5, (path, row)
            if row["suppressed"]:
                assert row["persons"] is None and row["amount_eur"] is None
    text = (out / "GM0638" / "rpt_costs_provider_year.csv").read_text(encoding="utf-8-sig")
    records = list(csv.reader(io.StringIO(text), delimiter=";"))
    header = records[0]
    for record in records[1:]:
        row = dict(zip(header, record))
        status = row["Geheimhouding"]
        if status.startswith("primair"):
            assert (row["Aantal personen (uniek)"], row["Bedrag (€)"]) == ("<5", "x")
            primaries += 1
        elif status == "secundair":
            assert (row["Aantal personen (uniek)"], row["Bedrag (€)"]) == ("x", "x")
            secondaries += 1
        else:
            assert row["Aantal personen (uniek)"] and row["Bedrag (€)"]
    # Kind & GGZ Holland: 4 persons a year in Zoeterwoude (primary); Jeugdzorg Rijnland's
    # 7 persons go with it (else total − 7-person cell = the 4 persons' amount), and so does
    # Zoeterwoude's total: Kaag en Braassem's total (2 persons) needs a partner among the
    # municipalities' totals, whose sum is the region's
    assert primaries == 2 and secondaries == 4


def test_the_differencing_audit_passes(published):
    found, audited = audit_published(published / "published")
    assert audited > 100
    assert found == [], "\n".join(str(leak) for leak in found[:20])


def test_the_audit_finds_the_leak_without_complementary_suppression(tmp_path, monkeypatch):
    """The weakened rule: primary suppression only. A municipality's total minus its visible
    providers gives the one hidden provider's amount exactly; the audit must say so."""
    build_warehouse(tmp_path / "warehouse" / "warehouse.duckdb")

    def primary_only(problem, margin=sdc.PROTECTION_MARGIN, audit_rounds=0):
        primary = sdc.primary_cells(problem)
        return primary, set(primary)

    monkeypatch.setattr("jeugdhulp.publish.openbaar.suppress", primary_only)
    publish(settings_for(tmp_path))
    found, _ = audit_published(tmp_path / "published")
    exact = [leak for leak in found if leak.measure == "amount" and leak.high - leak.low < 0.01]
    assert exact, found
    # Zoeterwoude 2025, Kind & GGZ Holland: 4 persons, € 28.382,40 = total − Jeugdzorg Rijnland
    assert any(
        leak.table == "rpt_costs_provider_year"
        and leak.key == ("GM0638", "22222222")
        and leak.fixed == (2025,)
        and abs(leak.low - 28382.40) < 0.01
        for leak in exact
    )


def test_the_heuristic_alone_is_checked_by_the_same_audit(tmp_path):
    """Without the LP refinement the line heuristic may leave narrow intervals; the audit is what
    decides (this pins how many the heuristic leaves on the fabricated warehouse)."""
    build_warehouse(tmp_path / "warehouse" / "warehouse.duckdb")
    publish(settings_for(tmp_path), audit=False)
    found, audited = audit_published(tmp_path / "published")
    assert audited > 100
    assert all(leak.high - leak.low > 0 for leak in found)  # nothing exact, at worst narrow


def _reconcile(out: Path, warehouse: Path) -> int:
    """Every intern rpt total equals the warehouse's marts.mart_costs_monthly to the cent, and
    every intern table equals its warehouse table row for row. Returns the totals compared."""
    con = duckdb.connect(str(warehouse), read_only=True)
    compared = 0
    try:
        truth = {
            (m, y): a
            for m, y, a in con.execute(
                "SELECT coalesce(municipality_code, 'regio'), year(service_month), "
                "sum(amount_eur) FROM marts.mart_costs_monthly "
                "GROUP BY GROUPING SETS ((municipality_code, year(service_month)), "
                "(year(service_month)))"
            ).fetchall()
        }
        folders = sorted(p.name for p in (out / "intern").iterdir())
        for folder in folders:
            for table, where in (
                ("rpt_costs_provider_year", "provider_agb = 'totaal'"),
                ("rpt_costs_product_year", "product_category = 'totaal'"),
                ("rpt_costs_segment_month", "segment = 'totaal' AND month = 'jaar'"),
            ):
                path = out / "intern" / folder / f"{table}.parquet"
                rows = con.execute(
                    f"SELECT municipality_code, year, amount_eur FROM read_parquet('{path}') "
                    f"WHERE {where}"
                ).fetchall()
                assert rows, (folder, table)
                for municipality, year, amount in rows:
                    assert amount == truth[(municipality, year)], (folder, table, municipality)
                    compared += 1
                # the folder's rows are the warehouse's rows, to the cent
                scope = "" if folder == "regio" else f"WHERE municipality_code = '{folder}'"
                differ = con.execute(
                    f"SELECT count(*) FROM ((SELECT * FROM publication.{table} {scope}) "
                    f"EXCEPT ALL (SELECT * FROM read_parquet('{path}')))"
                ).fetchone()[0]
                assert differ == 0, (folder, table)
        # the intern mart files too: every row as in the warehouse
        for folder in folders:
            path = out / "intern" / folder / "mart_costs_monthly.parquet"
            scope = "" if folder == "regio" else f"WHERE municipality_code = '{folder}'"
            names = pq.read_schema(path).names
            in_mart = {
                row[0]
                for row in con.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = 'marts' AND table_name = 'mart_costs_monthly'"
                ).fetchall()
            }
            columns = ", ".join(column for column in names if column in in_mart)
            differ = con.execute(
                f"SELECT count(*) FROM ((SELECT {columns} FROM marts.mart_costs_monthly {scope}) "
                f"EXCEPT ALL (SELECT {columns} FROM read_parquet('{path}')))"
            ).fetchone()[0]
            assert differ == 0, folder
            # the added names are publication.rpt_labels' names of the codes beside them
            for code, (kind, name) in LABELLED.items():
                if name in names and name not in in_mart:
                    wrong = con.execute(
                        f"SELECT count(*) FROM read_parquet('{path}') AS p "
                        "LEFT JOIN publication.rpt_labels AS l "
                        f"ON l.kind = '{kind}' AND l.code = p.{code} "
                        f"WHERE p.{name} IS DISTINCT FROM l.label"
                    ).fetchone()[0]
                    assert wrong == 0, (folder, name)
    finally:
        con.close()
    return compared


def test_intern_totals_equal_the_warehouse_to_the_cent(published):
    compared = _reconcile(published / "published", published / "warehouse" / "warehouse.duckdb")
    assert compared == (1 + len(MUNICIPALITIES)) * 3 * 2 + len(MUNICIPALITIES) * 3 * 2
    # no suppression in intern: Kaag en Braassem's 2 persons are there, with their amount
    rows = pq.read_table(
        published / "published" / "intern" / "GM1884" / "rpt_costs_provider_year.parquet"
    ).to_pylist()
    assert {
        (r["year"], r["persons"], r["amount_eur"]) for r in rows if r["provider_agb"] == "totaal"
    }
    assert all(r["persons"] == 2 and r["amount_eur"] > Decimal("0") for r in rows)


HOSTILE_HTML = "<img src=x onerror=alert(1)>"
HOSTILE_FORMULA = '=HYPERLINK("http://x","y")'


def test_hostile_provider_names_come_out_inert_in_html_and_csv(tmp_path):
    warehouse = build_warehouse(tmp_path / "warehouse" / "warehouse.duckdb")
    con = duckdb.connect(str(warehouse))
    for agb, name in (("11111111", HOSTILE_HTML), ("22222222", HOSTILE_FORMULA)):
        con.execute(
            "UPDATE staging.stg_reference__providers SET name = ? WHERE agb_code = ?", [name, agb]
        )
        con.execute(
            "UPDATE publication.rpt_costs_provider_year SET provider_name = ? "
            "WHERE provider_agb = ?",
            [name, agb],
        )
    con.close()
    publish(settings_for(tmp_path))
    out = tmp_path / "published"
    pages = list(out.rglob("index.html"))
    assert len(pages) == 2 * (1 + len(MUNICIPALITIES))
    shown = 0
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "<img" not in html.lower()  # escaped everywhere: tables, charts, titles
        shown += html.count("&lt;img src=x onerror=alert(1)&gt;")
    assert shown > 0
    cells = []
    for path in out.rglob("*.csv"):
        raw = path.read_text(encoding="utf-8-sig")
        for record in csv.reader(io.StringIO(raw), delimiter=";"):
            cells += record
            for cell in record:
                assert not cell.startswith(("=", "+", "@", "\t", "\r")), (path, cell)
        # text fields are quoted in the file itself
        if "rpt_costs_provider_year" in path.name:
            assert '"\'=HYPERLINK(""http://x"",""y"")"' in raw
    assert "'" + HOSTILE_FORMULA in cells
    assert HOSTILE_HTML in cells  # text in CSV, harmless there


def test_the_lp_of_the_audit_gives_each_extreme_unbounded_or_an_error():
    from jeugdhulp.publish.sdc import _ExtremeValues

    # x0 + x1 = 10, x0 - x2 = 4, all ≥ 0: x0 in [4, 10]; x2 in [0, 6]; x1 ≤ 6
    lp = _ExtremeValues(
        3,
        equal=[({0: 1.0, 1: 1.0}, 10.0), ({0: 1.0, 2: -1.0}, 4.0)],
        bounds=[(0.0, None)] * 3,
    )
    assert (lp.extreme(0, 1.0), lp.extreme(0, -1.0)) == (4.0, 10.0)
    assert (lp.extreme(2, 1.0), lp.extreme(2, -1.0)) == (0.0, 6.0)
    assert (lp.extreme(1, 1.0), lp.extreme(1, -1.0)) == (0.0, 6.0)
    # a part ≤ its total and the total free above: the part's maximum is unbounded
    free = _ExtremeValues(2, equal=[], at_most=[({0: 1.0, 1: -1.0}, 0.0)], bounds=[(1.0, None)] * 2)
    assert (free.extreme(0, 1.0), free.extreme(0, -1.0)) == (1.0, float("inf"))
    # published figures that contradict each other: no feasible value at all
    contradiction = _ExtremeValues(1, equal=[({0: 1.0}, -5.0)], bounds=[(0.0, None)])
    with pytest.raises(RuntimeError, match="LP failed"):
        contradiction.extreme(0, 1.0)


def test_the_lp_solver_prints_nothing_to_standard_output():
    """HiGHS greets on the process's file descriptor 1 the first time; the publisher's output
    (and a CLI's) must not carry it."""
    import subprocess
    import sys

    script = (
        "from jeugdhulp.publish.sdc import _ExtremeValues\n"
        "lp = _ExtremeValues(1, equal=[({0: 1.0}, 5.0)], bounds=[(0.0, None)])\n"
        "print(lp.extreme(0, 1.0), lp.extreme(0, -1.0))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout == "5.0 5.0\n"
    assert "HiGHS" not in done.stderr

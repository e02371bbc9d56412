"""The region profile as of 4 December, run through the whole pipeline once: the KPI table
compares like with like (issue 15), and the two publication tiers hold on a region's worth of
data (issue 14): intern equals the warehouse to the cent in every published table, openbaar shows
no count of 1-4 and passes the differencing audit, which a weakened rule fails; and the repeat
share of started trajectories is near CBS's half although the generator reuses test BSNs
(issue 17).

Two years of the region profile (seed 7): ingest, dbt build of every model, publish (the data
tests, unit tests, GX and Dagster run with the tiny profile).

On 4 December the running year's November is barely invoiced. The KPI change of the running year
must then have the sign of the change of the months both years have complete (their invoice
deadline passed: January-October), recomputed here from the archived iJw messages, not the
sign of year to date x 12/11 against the whole year before.

Measured (5 December 2026, generator of issue 17): the region's cost January-October 2026
EUR 107,810,160.07 against EUR 104,092,601.22 in January-October 2025, +3.57 % in the KPI table and
in the archive, where year to date x 12/11 against 2025 would say -6.08 %; Leiden +10.94 % (naive
-0.98 %). 429 intern files equal the warehouse (848 totals rows among them); the audit checks 648
primary cells, and primary suppression alone leaves 74 hidden amounts recoverable exactly.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import duckdb
import pyarrow.parquet as pq
import pytest

from tests.support.dbt import build_ok
from tests.support.independent import read_archive
from tests.support.pipeline import pipeline_env

pytestmark = pytest.mark.slow

AS_OF = date(2026, 12, 4)
SEED = 7
OBSERVED = 10  # January-October: October's deadline (30 November) has passed, November's not
PCT = Decimal("0.01")


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    """generate → ingest → dbt build of every model → publish, as `jeugdhulp run` does them, less
    what the tiny profile's run already covers: dbt's data and unit tests, GX and Dagster."""
    from jeugdhulp.ingest import ingest_all
    from jeugdhulp.publish import publish
    from jeugdhulp.settings import load_settings
    from jeugdhulp.synthetic import generate

    data_dir = tmp_path_factory.mktemp("region_profile")
    generate(data_dir, profile="region", seed=SEED, as_of=AS_OF, progress=False, years=2)
    settings = load_settings(pipeline_env(data_dir, AS_OF.isoformat()))
    ingest_all(settings)
    build_ok(
        settings.warehouse_path,
        data_dir,
        AS_OF.isoformat(),
        "--exclude-resource-type",
        "test",
        "--exclude-resource-type",
        "unit_test",
        timeout=1800,
    )
    publish(settings)
    warehouse = data_dir / "warehouse" / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        kpi = con.execute(
            """select municipality_code, year, months_observed, total_cost_eur,
                      total_cost_observed_eur, previous_total_cost_observed_eur,
                      total_cost_change_pct, total_cost_annualised_eur, forecast_cost_eur
               from marts.mart_kpi_annual"""
        ).fetchall()
    landed = read_archive(data_dir / "archive" / "ijw")
    monthly: dict[tuple[str, int, int], Decimal] = defaultdict(Decimal)
    for line in landed.accepted():
        month = line.service_month
        monthly[(line.municipality, month.year, month.month)] += line.amount
    return {
        "kpi": {(r[0], r[1]): r[2:] for r in kpi},
        "monthly": monthly,
        "published": data_dir / "published",
        "warehouse": warehouse,
    }


def _sum(monthly, municipality: str | None, year: int, months: range) -> Decimal:
    return sum(
        (
            v
            for (m, y, mo), v in monthly.items()
            if y == year and mo in months and (municipality is None or m == municipality)
        ),
        Decimal(0),
    )


def _figures(region, municipality: str | None) -> dict:
    monthly, kpi = region["monthly"], region["kpi"]
    rows = [v for (m, y), v in kpi.items() if y == 2026 and municipality in (None, m)]
    assert rows and all(r[0] == OBSERVED for r in rows)
    observed_2026 = _sum(monthly, municipality, 2026, range(1, OBSERVED + 1))
    observed_2025 = _sum(monthly, municipality, 2025, range(1, OBSERVED + 1))
    ytd_2026 = _sum(monthly, municipality, 2026, range(1, 13))
    full_2025 = _sum(monthly, municipality, 2025, range(1, 13))
    kpi_observed = sum(r[2] for r in rows)
    kpi_previous = sum(r[3] for r in rows)
    return {
        "like_for_like_pct": (100 * observed_2026 / observed_2025 - 100).quantize(PCT),
        "kpi_pct": (100 * kpi_observed / kpi_previous - 100).quantize(PCT),
        "kpi_row_pct": rows[0][4] if municipality else None,
        "naive_pct": (100 * (ytd_2026 * 12 / 11) / full_2025 - 100).quantize(PCT),
        "observed": (kpi_observed, kpi_previous, observed_2026, observed_2025),
        "forecast_2026": sum(r[6] or 0 for r in rows),
    }


@pytest.mark.parametrize("municipality", [None, "GM0546"], ids=["region", "leiden"])
def test_running_year_change_has_the_sign_of_the_like_for_like_change(region, municipality):
    figures = _figures(region, municipality)
    kpi_observed, kpi_previous, observed_2026, observed_2025 = figures["observed"]
    # the KPI compares exactly January-October of both years, as the archive holds them
    assert (kpi_observed, kpi_previous) == (observed_2026, observed_2025)
    assert figures["kpi_pct"] == figures["like_for_like_pct"]
    if municipality:
        assert figures["kpi_row_pct"] == figures["like_for_like_pct"]
    assert (figures["kpi_pct"] > 0) == (figures["like_for_like_pct"] > 0)
    print(municipality or "region", figures)


# ---- issue 14: the two tiers on the region profile ------------------------------------------


def _warehouse_relation(con, table: str) -> str:
    schemas = [
        s
        for (s,) in con.execute(
            "select table_schema from information_schema.tables where table_name = ? "
            "and table_schema in ('marts', 'publication')",
            [table],
        ).fetchall()
    ]
    assert len(schemas) == 1, (table, schemas)
    return f"{schemas[0]}.{table}"


def _differ(con, left: str, right: str) -> int:
    return con.execute(f"select count(*) from (({left}) except all ({right}))").fetchone()[0]


def test_every_intern_table_is_the_warehouse_to_the_cent(region):
    """Every intern file of every folder holds rows of the warehouse exactly as they are there
    (amounts in cents, EXCEPT ALL both ways where the folder has the whole scope): the region
    folder the whole table, a municipality's folder all of that municipality's rows. The names
    the publisher puts beside the codes are publication.rpt_labels' names of those codes."""
    from jeugdhulp.publish.catalogue import SPECS, name_columns_to_add

    intern = region["published"] / "intern"
    folders = sorted(p.name for p in intern.iterdir() if p.is_dir())
    assert folders[-1] == "regio" and len(folders) == 13  # 12 municipalities and the region
    compared = totals = named = 0
    with duckdb.connect(str(region["warehouse"]), read_only=True) as con:
        for folder in folders:
            files = sorted((intern / folder).glob("*.parquet"))
            assert len(files) >= 20, folder
            for path in files:
                relation = _warehouse_relation(con, path.stem)
                columns = [
                    c
                    for (c,) in con.execute(
                        f"select column_name from (describe select * from read_parquet('{path}'))"
                    ).fetchall()
                ]
                added = name_columns_to_add(tuple(SPECS[path.stem].columns))
                names = {name: (code, kind) for code, (kind, name) in added.items()}
                in_warehouse = {
                    c
                    for (c,) in con.execute(
                        f"select column_name from (describe select * from {relation})"
                    ).fetchall()
                }
                # every column is the warehouse's, or a name the publisher added beside a code
                assert set(columns) <= in_warehouse | set(names), (folder, path.name)
                figures = [c for c in columns if c not in names]
                listed = ", ".join(f'"{c}"' for c in figures)
                published = f"select {listed} from read_parquet('{path}')"
                if folder == "regio":
                    scope = ""
                elif "municipality_code" in columns:
                    scope = f"where municipality_code = '{folder}'"
                else:
                    scope = None  # provider-scoped: the providers that invoiced the municipality
                warehouse = f"select {listed} from {relation} {scope or ''}"
                assert _differ(con, published, warehouse) == 0, (folder, path.name)
                if scope is not None:
                    assert _differ(con, warehouse, published) == 0, (folder, path.name)
                compared += 1
                for name, (code, kind) in names.items():
                    assert columns[columns.index(code) + 1] == name, (path.name, name)
                    named += con.execute(
                        f"select count(*) from read_parquet('{path}') as p "
                        f"left join publication.rpt_labels as l on l.kind = '{kind}' "
                        f'and l.code = p."{code}" where p."{name}" is not distinct from l.label'
                    ).fetchone()[0]
                    wrong = con.execute(
                        f"select count(*) from read_parquet('{path}') as p "
                        f"left join publication.rpt_labels as l on l.kind = '{kind}' "
                        f'and l.code = p."{code}" where p."{name}" is distinct from l.label'
                    ).fetchone()[0]
                    assert wrong == 0, (folder, path.name, name)
                margins = [f"{c} = 'totaal'" for c in columns if c in _TOTAL_COLUMNS]
                if margins:  # totals rows: equal to the warehouse's like every other row
                    totals += con.execute(
                        f"select count(*) from read_parquet('{path}') where {' or '.join(margins)}"
                    ).fetchone()[0]
    assert compared >= 13 * 20 and totals > 0 and named > 0
    print(
        f"{compared} intern files equal to the warehouse, {totals} totals rows among them, "
        f"{named} names beside codes as publication.rpt_labels gives them"
    )


_TOTAL_COLUMNS = {"provider_agb", "product_category", "segment"}


def test_no_count_of_1_to_4_is_published_openbaar(region):
    from jeugdhulp.publish.catalogue import SPECS

    openbaar = region["published"] / "openbaar"
    primaries = cells = 0
    for path in sorted(openbaar.rglob("*.parquet")):
        spec = SPECS[path.stem]
        for row in pq.read_table(path).to_pylist():
            persons = row[spec.shape.persons]
            assert persons is None or persons >= 5, (path, row)
            cells += 1
            primaries += persons is None
    assert cells > 1000 and primaries > 0
    for page in openbaar.rglob("index.html"):
        assert page.stat().st_size > 10_000, page


def test_the_differencing_audit_passes_and_a_weakened_rule_fails(region):
    """The audit (tests/support/disclosure_audit.py) over the region's openbaar set finds no
    interval narrower than the protection margin. The same audit over the same tables with the
    weakened rule, primary suppression only, finds hidden amounts recoverable exactly."""
    from jeugdhulp.publish import sdc
    from tests.support.disclosure_audit import audit_published, intern_problems

    found, audited = audit_published(region["published"])
    assert audited > 50
    assert found == [], "\n".join(str(leak) for leak in found[:20])
    exact = []
    for problem in intern_problems(region["published"]).values():
        primary = sdc.primary_cells(problem)
        exact += [
            leak
            for leak in sdc.leaks(problem, set(primary), primary)
            if leak.measure == "amount" and leak.high - leak.low < 0.01
        ]
    assert exact, "primary suppression alone should leave amounts recoverable by differencing"
    print(f"audited {audited} primary cells; primary-only leaves {len(exact)} exact amounts")


def test_the_repeat_share_of_starts_is_that_of_returning_youths(region):
    """Issue 17: CBS finds roughly half of the started trajectories by youths with youth care in the
    five years before. The region needs more persons than the test-BSN range holds, so the
    generator hands numbers to new youths again (docs/synthetic_data.md); with the client key
    alone nearly every new youth's first start read as a repeat (85 % and 91 % in 2026's two
    half-years). A new holder has their own birth year, which the mart uses to tell the youths
    apart. 2025 is the landing zone's first year: its look-back reaches only its own start."""
    with duckdb.connect(str(region["warehouse"]), read_only=True) as con:
        shares = dict(
            con.execute(
                """select half_year, sum(started_repeat) / sum(started)
                   from marts.mart_throughput
                   where dimension = 'hulpvorm' and half_year in ('2026-H1', '2026-H2')
                   group by half_year"""
            ).fetchall()
        )
    assert set(shares) == {"2026-H1", "2026-H2"}
    for half_year, share in shares.items():
        assert 0.30 <= share <= 0.65, (half_year, share)


def test_the_ten_most_expensive_clients_of_a_small_municipality_carry_about_a_third(region):
    """Issue 17: a municipal plan found the ten most expensive clients of a municipality of
    ~20,000 inhabitants at 35 % of its youth-care cost. Hillegom and Lisse are the region's two of
    that size; the generator's complex cases (docs/synthetic_data.md) give the tail."""
    with duckdb.connect(str(region["warehouse"]), read_only=True) as con:
        shares = con.execute(
            """select municipality_code, year, top10_share_pct, clients
               from marts.mart_cost_concentration
               where municipality_code in ('GM0534', 'GM0553') and year in (2025, 2026)"""
        ).fetchall()
    assert len(shares) == 4
    for municipality, year, share, clients in shares:
        assert clients > 100, (municipality, year)
        assert 25 <= share <= 50, (municipality, year, share)

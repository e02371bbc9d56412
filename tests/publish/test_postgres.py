"""PostgreSQL publishing on a real server: one database per municipality, no leak between them.

Every test publishes hand-made Arrow tables into its own uniquely named databases and roles
(prefix `jht_<random>`), dropped afterwards. The probes of the leaks (pg_class.reltuples, pg_stats,
pg_stat_*, relation sizes, EXPLAIN's row estimates) are first shown to catch the leak under the
row-level security of earlier versions (`test_row_level_security_leaked_what_the_probes_catch`).
"""

from __future__ import annotations

import os
import threading
import uuid
from datetime import date
from decimal import Decimal

import psycopg
import pyarrow as pa
import pytest
from psycopg import errors, sql

from jeugdhulp.publish import postgres as publishing_postgres
from jeugdhulp.publish.catalogue import MARTS, SPECS
from jeugdhulp.publish.postgres import publish_postgres, rows_for
from jeugdhulp.publish.selection import municipality_providers, receives, select_rows, targets
from jeugdhulp.publish.warehouse import PublishError, open_work_copy
from tests.support.publish_warehouse import build_warehouse

pytestmark = pytest.mark.postgres

ADMIN_DSN = os.environ.get(
    "JEUGDHULP_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
COSTS, BUDGET, SEGMENTS = "mart_costs_monthly", "mart_budget_utilisation", "mart_segment_budget"
assert SPECS[COSTS].scope == "municipality" and SPECS[BUDGET].scope == "provider"
assert SPECS[SEGMENTS].scope == "region"

# GM0638 has 85 cost rows, GM0546 153 (238 together, as measured in issue 14); product 'ONLY46'
# occurs in GM0546's rows only, 'NOBODY' nowhere. A provider that invoiced nobody: 55555555.
ROWS_PER_MUNICIPALITY = {"GM0546": 153, "GM0638": 85, "GM0534": 20}
PROVIDERS_OF = {
    "GM0546": ("11111111", "22222222"),
    "GM0638": ("22222222", "33333333"),
    "GM0534": ("44444444",),
}
MUNICIPALITIES = sorted(ROWS_PER_MUNICIPALITY)
OWN, OTHER = "GM0638", "GM0546"


def cost_rows(rows_per_municipality: dict[str, int], cents: int = 0) -> list[dict]:
    rows = []
    for code, count in rows_per_municipality.items():
        providers = PROVIDERS_OF[code]
        for i in range(count):
            rows.append(
                {
                    "municipality_code": code,
                    "provider_agb": providers[i % len(providers)],
                    "product_code": "ONLY46" if code == "GM0546" and i % 3 == 0 else "45A48",
                    "service_month": date(2025, 1 + i % 12, 1),
                    "amount_eur": Decimal(100 + i) + Decimal(cents) / 100,
                    "clients": 5 + i % 4,
                }
            )
    return rows


COST_TYPES = pa.schema(
    [
        ("municipality_code", pa.string()),
        ("provider_agb", pa.string()),
        ("product_code", pa.string()),
        ("service_month", pa.date32()),
        ("amount_eur", pa.decimal128(18, 2)),
        ("clients", pa.int64()),
    ]
)


def tables(
    rows_per_municipality: dict[str, int] | None = None, cents: int = 0
) -> tuple[dict[str, pa.Table], pa.Table, dict[str, pa.Table]]:
    """(region tables, access list, openbaar tables), all hand-made."""
    counts = rows_per_municipality or ROWS_PER_MUNICIPALITY
    costs = pa.Table.from_pylist(cost_rows(counts, cents), schema=COST_TYPES)
    pairs = sorted({(code, agb) for code in counts for agb in PROVIDERS_OF[code]})
    access = pa.table(
        {
            "municipality_code": pa.array([code for code, _ in pairs], pa.string()),
            "provider_agb": pa.array([agb for _, agb in pairs], pa.string()),
        }
    )
    budget = pa.table(
        {
            "provider_agb": ["11111111", "22222222", "33333333", "44444444", "55555555"],
            "year": pa.array([2025] * 5, pa.int32()),
            "invoiced_eur": pa.array(
                [Decimal("1000.10"), None, Decimal("30.00"), Decimal("4.44"), Decimal("0.00")],
                pa.decimal128(18, 2),
            ),
        }
    )
    segments = pa.table({"segment": ["ambulant", "verblijf"], "budget_eur": [1.5e6, 2.5e6]})
    openbaar = {
        "rpt_costs_year": pa.table(
            {
                "municipality_code": list(counts),
                "cost_eur": pa.array([Decimal(n) for n in counts.values()], pa.decimal128(18, 2)),
            }
        )
    }
    return {COSTS: costs, BUDGET: budget, SEGMENTS: segments}, access, openbaar


def dsn_for(database: str, user: str = "postgres") -> str:
    info = psycopg.conninfo.conninfo_to_dict(ADMIN_DSN)
    info.update(dbname=database, user=user)
    return psycopg.conninfo.make_conninfo(**info)


@pytest.fixture(scope="module")
def server():
    try:
        with psycopg.connect(ADMIN_DSN, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        pytest.skip(
            f"no PostgreSQL server answers at {ADMIN_DSN} ({exc}); start it with "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`"
        )
    return ADMIN_DSN


class Publication:
    """A base database and role prefix of one test; `publish()` loads hand-made tables."""

    def __init__(self, server: str) -> None:
        token = uuid.uuid4().hex[:10]
        self.server = server
        self.base, self.prefix = f"jeugdhulp_test_{token}", f"jht_{token}"
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.base)))

    def publish(self, counts: dict[str, int] | None = None, cents: int = 0, **kwargs):
        region, access, openbaar = tables(counts, cents)
        municipalities = sorted(counts or ROWS_PER_MUNICIPALITY)
        kwargs.setdefault("openbaar_tables", openbaar)
        return publish_postgres(
            dsn_for(self.base), region, municipalities, access, role_prefix=self.prefix, **kwargs
        )

    def role(self, who: str) -> str:
        return f"{self.prefix}_{who.lower()}"

    def database(self, who: str) -> str:
        return f"{self.base}_{who.lower()}"

    def connect(self, database: str, who: str | None = None, **kwargs) -> psycopg.Connection:
        user = self.role(who) if who else "postgres"
        return psycopg.connect(dsn_for(database, user), autocommit=True, **kwargs)

    def rows(self, who: str, database: str, schema: str, table: str) -> list[tuple]:
        with self.connect(database, who) as conn:
            return sorted(
                conn.execute(
                    sql.SQL("SELECT * FROM {}").format(sql.Identifier(schema, table))
                ).fetchall(),
                key=repr,
            )

    def drop(self) -> None:
        with psycopg.connect(self.server, autocommit=True) as conn:
            for (name,) in conn.execute(
                "SELECT datname FROM pg_database WHERE datname = %s OR datname LIKE %s",
                [self.base, self.base + "\\_%"],
            ).fetchall():
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
            for (role,) in conn.execute(
                "SELECT rolname FROM pg_roles WHERE rolname LIKE %s", [self.prefix + "\\_%"]
            ).fetchall():
                conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@pytest.fixture(scope="module")
def published(server):
    """One publication shared by the tests that only read (creating databases takes seconds)."""
    made = Publication(server)
    try:
        made.result = made.publish()
        yield made
    finally:
        made.drop()


@pytest.fixture
def fresh(server):
    """A publication of the test's own, for the tests that publish again."""
    made = Publication(server)
    try:
        made.result = made.publish()
        yield made
    finally:
        made.drop()


def expected_costs(code: str | None) -> list[tuple]:
    rows = [
        tuple(row.values())
        for row in cost_rows(ROWS_PER_MUNICIPALITY)
        if code is None or row["municipality_code"] == code
    ]
    return sorted(rows, key=repr)


# --------------------------------------------------------------------------- what each role reads


def assert_no_connect(publication: Publication, database: str, who: str) -> None:
    with pytest.raises(psycopg.OperationalError, match="does not have CONNECT privilege"):
        publication.connect(database, who).close()


def test_each_municipality_reads_exactly_its_own_rows(published):
    assert published.result.databases == {
        "regio": published.database("regio"),
        **{code: published.database(code) for code in MUNICIPALITIES},
    }
    for code in MUNICIPALITIES:
        database, schema = published.database(code), f"intern_{code.lower()}"
        costs = published.rows(code, database, schema, COSTS)
        assert costs == expected_costs(code)
        assert len(costs) == ROWS_PER_MUNICIPALITY[code]
        # provider-level: only the providers that invoiced it; never 55555555
        budget = published.rows(code, database, schema, BUDGET)
        assert [row[0] for row in budget] == sorted(PROVIDERS_OF[code])
        access = published.rows(code, database, schema, "municipality_providers")
        assert access == [(code, agb) for agb in sorted(PROVIDERS_OF[code])]
        # region-level: everyone gets the whole table
        assert len(published.rows(code, database, schema, SEGMENTS)) == 2
        # and the openbaar tables, in the base database
        assert len(published.rows(code, published.base, "openbaar", "rpt_costs_year")) == 3


def test_the_region_role_reads_every_row_and_openbaar(published):
    database = published.database("regio")
    assert published.rows("regio", database, "intern_regio", COSTS) == expected_costs(None)
    assert len(published.rows("regio", database, "intern_regio", BUDGET)) == 5
    assert published.result.rows[COSTS] == 258
    assert len(published.rows("regio", published.base, "openbaar", "rpt_costs_year")) == 3
    # documented choice: the region reads all rows in its own database, not the municipalities'
    assert_no_connect(published, published.database(OWN), "regio")


def test_the_public_role_reads_openbaar_only(published):
    rows = published.rows("openbaar", published.base, "openbaar", "rpt_costs_year")
    assert rows == sorted(
        [(code, Decimal(f"{n}.00")) for code, n in ROWS_PER_MUNICIPALITY.items()], key=repr
    )
    for target in ["regio", *MUNICIPALITIES]:
        assert_no_connect(published, published.database(target), "openbaar")
    with published.connect(published.base, "openbaar") as conn:
        visible = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
    assert visible == [("openbaar", "rpt_costs_year")]


def test_a_municipality_cannot_connect_to_another_or_to_the_region(published):
    for target in [OTHER, "GM0534", "regio"]:
        assert_no_connect(published, published.database(target), OWN)


# ----------------------------------------------------------------------------------- the leaks


def reachable(publication: Publication, who: str) -> list[str]:
    """Every database the role may connect to (ours, and any that grants PUBLIC CONNECT)."""
    with publication.connect(publication.base, who) as conn:
        return [
            row[0]
            for row in conn.execute(
                "SELECT datname FROM pg_database WHERE datallowconn "
                "AND has_database_privilege(oid, 'CONNECT') ORDER BY 1"
            ).fetchall()
        ]


def catalog_probe(conn: psycopg.Connection, table: str) -> dict[str, list]:
    """What a role reads about every table named `table` without reading the table."""
    return {
        "pg_class": conn.execute(
            "SELECT n.nspname, c.reltuples, c.relpages, pg_relation_size(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = %s ORDER BY 1",
            [table],
        ).fetchall(),
        "pg_stat": conn.execute(
            "SELECT schemaname, n_live_tup, n_tup_ins FROM pg_stat_all_tables "
            "WHERE relname = %s ORDER BY 1",
            [table],
        ).fetchall(),
        "pg_stats": conn.execute(
            "SELECT DISTINCT schemaname FROM pg_stats WHERE tablename = %s ORDER BY 1", [table]
        ).fetchall(),
    }


def estimate(conn: psycopg.Connection, table: sql.Composable, product: str) -> float:
    plan = conn.execute(
        sql.SQL("EXPLAIN (FORMAT JSON) SELECT * FROM {} WHERE product_code = {}").format(
            table, sql.Literal(product)
        )
    ).fetchone()[0]
    return plan[0]["Plan"]["Plan Rows"]


def test_row_level_security_leaked_what_the_probes_catch(published):
    """The design of earlier versions: one shared table, a policy per municipality role."""
    region, _, _ = tables()
    role, database = published.role("rlsdemo"), published.database("rlsdemo")
    with published.connect(published.base) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    try:
        with published.connect(database) as conn:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
            conn.execute("CREATE SCHEMA published")
            conn.execute(
                "CREATE TABLE published.mart_costs_monthly (municipality_code text, "
                "provider_agb text, product_code text, service_month date, amount_eur numeric, "
                "clients bigint)"
            )
            with conn.cursor().copy("COPY published.mart_costs_monthly FROM STDIN") as copy:
                for row in region[COSTS].to_pylist():
                    copy.write_row(tuple(row.values()))
            conn.execute("ALTER TABLE published.mart_costs_monthly ENABLE ROW LEVEL SECURITY")
            for grant in [
                "GRANT USAGE ON SCHEMA published TO {}",
                "GRANT SELECT ON published.mart_costs_monthly TO {}",
                "CREATE POLICY own ON published.mart_costs_monthly FOR SELECT TO {} "
                "USING (municipality_code = 'GM0638')",
            ]:
                conn.execute(sql.SQL(grant).format(sql.Identifier(role)))
            conn.execute("VACUUM ANALYZE published.mart_costs_monthly")
            conn.execute("SELECT pg_stat_force_next_flush()")
            conn.execute("SELECT 1")  # the counters are flushed before this runs
        with published.connect(database, "rlsdemo") as conn:
            own = conn.execute("SELECT count(*) FROM published.mart_costs_monthly").fetchone()
            probe = catalog_probe(conn, COSTS)
            table = sql.Identifier("published", COSTS)
            only_other, nobody = estimate(conn, table, "ONLY46"), estimate(conn, table, "NOBODY")
    finally:
        with published.connect(published.base) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )
    assert own == (85,)
    assert probe["pg_class"][0][:2] == ("published", 258.0)  # every municipality's rows
    assert [(row[0], row[2]) for row in probe["pg_stat"]] == [("published", 258)]  # n_tup_ins
    assert only_other > 5 * nobody  # 'ONLY46' exists (in GM0546's rows), 'NOBODY' does not


def test_no_catalog_statistic_or_plan_tells_a_municipality_of_another(published):
    # make the other databases' statistics as informative as they get
    for target in [OTHER, "regio"]:
        with published.connect(published.database(target)) as conn:
            conn.execute(
                sql.SQL("VACUUM ANALYZE {}").format(
                    sql.Identifier(f"intern_{target.lower()}", COSTS)
                )
            )
    databases = reachable(published, OWN)
    assert published.base in databases and published.database(OWN) in databases
    assert not {published.database(t) for t in [OTHER, "GM0534", "regio"]} & set(databases)
    own_schema = f"intern_{OWN.lower()}"
    for database in databases:
        with published.connect(database, OWN) as conn:
            probe = catalog_probe(conn, COSTS)
            assert {row[0] for row in probe["pg_class"]} <= {own_schema}, database
            assert {row[0] for row in probe["pg_stat"]} <= {own_schema}, database
            assert {row[0] for row in probe["pg_stats"]} <= {own_schema}, database
            with pytest.raises(errors.UndefinedTable):
                conn.execute(f"EXPLAIN SELECT * FROM intern_{OTHER.lower()}.{COSTS}")
    with published.connect(published.database(OWN), OWN) as conn:
        probe = catalog_probe(conn, COSTS)
        assert probe["pg_class"][0][:2] == (own_schema, 85.0)  # its own count, no more
        table = sql.Identifier(own_schema, COSTS)
        assert estimate(conn, table, "ONLY46") == estimate(conn, table, "NOBODY")


def test_no_database_wide_counter_or_size_tells_a_municipality_of_another(published):
    other = published.database(OTHER)
    for database in [published.base, published.database(OWN)]:
        with published.connect(database, OWN) as conn:
            for query in [
                "SELECT tup_inserted FROM pg_stat_database",
                "SELECT pg_stat_get_db_tuples_inserted(oid) FROM pg_database",
                f"SELECT pg_database_size('{other}')",
                "SELECT pg_tablespace_size('pg_default')",
            ]:
                with pytest.raises(errors.InsufficientPrivilege, match="permission denied"):
                    conn.execute(query)
    # a database outside the publication that still grants PUBLIC CONNECT (the server's own
    # `postgres`) shows pg_stat_database: publishing reset the counters after loading, so the
    # tuples inserted no longer count the other municipality's rows; publishing warns about it
    elsewhere = [d for d in reachable(published, OWN) if not d.startswith(published.base)]
    if elsewhere:
        assert any("REVOKE CONNECT" in w for w in published.result.warnings)
        with published.connect(elsewhere[0], OWN) as conn:
            (inserted,) = conn.execute(
                "SELECT tup_inserted FROM pg_stat_database WHERE datname = %s", [other]
            ).fetchone()
        assert inserted < ROWS_PER_MUNICIPALITY[OTHER]


# ------------------------------------------------------------------------------ write and create

WRITES = [
    "INSERT INTO {schema}.mart_costs_monthly (municipality_code) VALUES ('GM0546')",
    "UPDATE {schema}.mart_costs_monthly SET amount_eur = 0",
    "DELETE FROM {schema}.mart_segment_budget",
    "TRUNCATE {schema}.mart_budget_utilisation",
    "CREATE TABLE {schema}.mine (x int)",
    "CREATE TABLE public.mine (x int)",
    "CREATE TEMPORARY TABLE mine (x int)",
    "CREATE SCHEMA mine",
    "DROP TABLE {schema}.mart_costs_monthly",
]


@pytest.mark.parametrize("who", ["regio", OWN])
def test_no_role_can_write_or_create(published, who):
    schema = f"intern_{who.lower()}"
    with published.connect(published.database(who), who) as conn:
        for statement in (write.format(schema=schema) for write in WRITES):
            with pytest.raises(
                errors.InsufficientPrivilege, match="permission denied|must be owner"
            ):
                conn.execute(statement)
        assert conn.execute(f"SELECT count(*) FROM {schema}.mart_costs_monthly").fetchone()[0] > 0
    with published.connect(published.base, who) as conn:
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("DELETE FROM openbaar.rpt_costs_year")


# ------------------------------------------------------------------------------------- reruns


def snapshot(publication: Publication) -> dict:
    """Every intern and openbaar table's rows and grants, as the administrator sees them."""
    seen = {}
    with psycopg.connect(publication.server) as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT datname FROM pg_database WHERE datname = %s OR datname LIKE %s ORDER BY 1",
                [publication.base, publication.base + "\\_%"],
            ).fetchall()
        ]
    for database in names:
        with publication.connect(database) as conn:
            for schema, table in conn.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
            ).fetchall():
                rows = conn.execute(
                    sql.SQL("SELECT * FROM {}").format(sql.Identifier(schema, table))
                ).fetchall()
                grants = conn.execute(
                    "SELECT grantee, privilege_type FROM information_schema.table_privileges "
                    "WHERE table_schema = %s AND table_name = %s AND grantee <> 'postgres' "
                    "ORDER BY 1, 2",
                    [schema, table],
                ).fetchall()
                seen[(database, schema, table)] = (sorted(rows, key=repr), grants)
    return seen


def test_a_rerun_is_idempotent_and_replaces_what_changed(fresh):
    before = snapshot(fresh)
    assert len(before) == 1 + 4 * 4  # openbaar + (3 municipalities + region) × 4 tables
    assert fresh.publish().removed_databases == []
    assert snapshot(fresh) == before

    with fresh.connect(fresh.base) as conn:  # leftover of the row-level-security design
        conn.execute("CREATE SCHEMA published")
        conn.execute("CREATE TABLE published.mart_costs_monthly (x int)")
    result = fresh.publish({"GM0546": 153, "GM0638": 90}, cents=7)
    assert result.removed_databases == [fresh.database("GM0534")]
    after = snapshot(fresh)
    assert {key[0] for key in after} == {
        fresh.base,
        *(fresh.database(t) for t in ["regio", "GM0546", "GM0638"]),
    }
    assert (fresh.base, "published", COSTS) not in after
    costs = fresh.rows(OWN, fresh.database(OWN), "intern_gm0638", COSTS)
    assert len(costs) == 90 and {row[4] % 1 for row in costs} == {Decimal("0.07")}
    assert_no_connect(fresh, fresh.base, "GM0534")  # the dropped municipality's role

    # a table no longer given is gone: here every openbaar table
    fresh.publish({"GM0546": 153, "GM0638": 90}, openbaar_tables=None)
    with fresh.connect(fresh.base, OWN) as conn:
        assert conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'openbaar'"
        ).fetchone() == (0,)


def test_a_rerun_is_atomic(fresh, monkeypatch):
    # 1. a load failing halfway (third database) leaves every database as it was
    before = snapshot(fresh)
    stage, swap = publishing_postgres._stage, publishing_postgres._swap
    calls = []

    def fail_at_the_third(*args, **kwargs):
        calls.append(args[1])
        if len(calls) == 3:
            raise RuntimeError("disk full halfway")
        return stage(*args, **kwargs)

    monkeypatch.setattr(publishing_postgres, "_stage", fail_at_the_third)
    with pytest.raises(RuntimeError, match="disk full halfway"):
        fresh.publish({"GM0546": 153, "GM0638": 90}, cents=7)
    assert snapshot(fresh) == before
    monkeypatch.setattr(publishing_postgres, "_stage", stage)

    # 2. while every database is staged and none committed, readers see the old publication
    seen = []

    def look_then_swap(cur, schema, **kwargs):
        if not seen:
            rows = fresh.rows(OWN, fresh.database(OWN), "intern_gm0638", COSTS)
            with fresh.connect(fresh.database(OWN)) as conn:
                staged = conn.execute(
                    "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'intern%next'"
                ).fetchone()[0]
            seen.append((len(rows), staged))
        swap(cur, schema, **kwargs)

    monkeypatch.setattr(publishing_postgres, "_swap", look_then_swap)
    fresh.publish({"GM0546": 153, "GM0638": 90, "GM0534": 20})
    assert seen == [(85, 0)]  # the old rows, and no trace of the uncommitted new schema
    assert len(fresh.rows(OWN, fresh.database(OWN), "intern_gm0638", COSTS)) == 90
    monkeypatch.setattr(publishing_postgres, "_swap", swap)

    # 3. a reader's open transaction keeps its rows; the swap waits for it to end
    reader = fresh.connect(fresh.database(OWN), OWN)
    reader.autocommit = False
    count = "SELECT count(*) FROM intern_gm0638.mart_costs_monthly"
    assert reader.execute(count).fetchone() == (90,)
    done = threading.Event()
    worker = threading.Thread(
        target=lambda: (fresh.publish({"GM0546": 153, "GM0638": 95, "GM0534": 20}), done.set())
    )
    worker.start()
    worker.join(timeout=3)
    assert not done.is_set()
    assert reader.execute(count).fetchone() == (90,)
    reader.commit()
    reader.close()
    worker.join(timeout=60)
    assert done.is_set()
    assert len(fresh.rows(OWN, fresh.database(OWN), "intern_gm0638", COSTS)) == 95


# ------------------------------------------------------------------------------ without a server


def test_a_table_without_a_catalogue_scope_is_refused():
    region, access, _ = tables()
    region["rpt_unknown"] = pa.table({"municipality_code": ["GM0546"]})
    with pytest.raises(PublishError, match="rpt_unknown has no entry in catalogue.MARTS"):
        publish_postgres("postgresql://nowhere.invalid/x", region, MUNICIPALITIES, access)


def test_rows_for_chooses_what_the_files_choose(tmp_path):
    """The same rows as selection.select_rows gives the municipality folders (test warehouse).
    The intern tier publishes the warehouse's figures as they are (pub.<mart> = src.<mart>)."""
    path = build_warehouse(tmp_path / "warehouse.duckdb")
    with open_work_copy(path) as work:
        specs = [spec for spec in MARTS if work.has(spec.name)]
        everyone = targets(work, specs)
        access = municipality_providers(work)
        region = everyone[0]
        assert region.is_region and len(everyone) == 5
        compared = 0
        for spec in specs:
            whole = select_rows(work, spec, region, schema="src")
            for target in everyone[1:]:
                if not receives(work, spec, target):
                    continue
                providers = publishing_postgres._providers(access, target.code)
                mine = rows_for(spec, whole, target.code, providers)
                own = select_rows(work, spec, target, schema="src")
                assert mine.equals(own), (spec.name, target.code)
                compared += mine.num_rows
        assert compared > 0

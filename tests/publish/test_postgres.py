"""PostgreSQL publishing on a real server: row-level security per municipality, read-only roles, idempotence."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import psycopg
import pyarrow.parquet as pq
import pytest
from psycopg import errors, sql

from jeugdhulp.publish import postgres as publishing_postgres
from jeugdhulp.publish import publish
from jeugdhulp.settings import Settings
from tests.support.publish_warehouse import AS_OF, NAMES, build_warehouse

pytestmark = pytest.mark.postgres

ADMIN_DSN = os.environ.get(
    "JEUGDHULP_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
MUNICIPALITIES = sorted(NAMES)
TABLES = [
    "mart_costs_monthly",
    "mart_kpi_annual",
    "mart_invoice_timeliness",
    "mart_invoicing_completeness",
    "mart_budget_utilisation",
    "mart_throughput",
    "mart_accountability_reconciliation",
    "mart_settlement",
    "mart_cost_concentration",
    "mart_referrers",
    "dq_findings_summary",
]


def _dsn(database: str, user: str = "postgres") -> str:
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


@pytest.fixture(scope="module")
def database(server, tmp_path_factory):
    """A fresh database, a unique role prefix, and one publication; all dropped afterwards."""
    token = uuid.uuid4().hex[:10]
    name, prefix = f"jeugdhulp_test_{token}", f"jht_{token}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    data_dir = tmp_path_factory.mktemp("publish_pg")
    build_warehouse(data_dir / "warehouse" / "warehouse.duckdb")
    settings = Settings(data_dir=data_dir, as_of=AS_OF, pseudonym_key=None, postgres_dsn=_dsn(name))
    try:
        report = publish(settings, role_prefix=prefix)
        yield {
            "name": name,
            "prefix": prefix,
            "settings": settings,
            "report": report,
            "published": data_dir / "published",
        }
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            roles = [
                row[0]
                for row in conn.execute("SELECT rolname FROM pg_roles").fetchall()
                if row[0].startswith(prefix + "_")
            ]
            for role in roles:
                conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def _rows_as(database: dict, role: str, table: str) -> list[tuple]:
    with psycopg.connect(_dsn(database["name"], role)) as conn:
        return conn.execute(
            sql.SQL("SELECT * FROM {}").format(sql.Identifier("published", table))
        ).fetchall()


def _file_rows(folder: Path, table: str) -> list[tuple]:
    data = pq.read_table(folder / f"{table}.parquet").to_pylist()
    return sorted((tuple(row.values()) for row in data), key=lambda row: tuple(map(str, row[:4])))


def _sorted(rows: list[tuple]) -> list[tuple]:
    return sorted(rows, key=lambda row: tuple(map(str, row[:4])))


def test_each_municipality_role_sees_exactly_its_own_rows(database):
    assert database["report"].postgres
    for code in MUNICIPALITIES:
        role = f"{database['prefix']}_{code.lower()}"
        for table in TABLES:
            seen = _sorted(_rows_as(database, role, table))
            assert seen == _file_rows(database["published"] / code, table), (code, table)
        providers = {row[1] for row in _rows_as(database, role, "municipality_providers")}
        assert {row[0] for row in _rows_as(database, role, "mart_budget_utilisation")} == providers


def test_the_region_role_sees_all_rows(database):
    role = f"{database['prefix']}_regio"
    for table in TABLES:
        assert _sorted(_rows_as(database, role, table)) == _file_rows(
            database["published"] / "regio", table
        )
    assert len(_rows_as(database, role, "mart_costs_monthly")) == 210


WRITES = [
    "INSERT INTO published.mart_settlement (municipality_code, year) VALUES ('GM0546', 2030)",
    "UPDATE published.mart_costs_monthly SET amount_eur = 0",
    "DELETE FROM published.mart_kpi_annual",
    "TRUNCATE published.mart_referrers",
    "CREATE TABLE published.mine (x int)",
    "CREATE TABLE public.mine (x int)",
    "CREATE SCHEMA mine",
    "ALTER TABLE published.mart_settlement DISABLE ROW LEVEL SECURITY",
    "DROP POLICY {prefix}_regio ON published.mart_settlement",
]


@pytest.mark.parametrize("who", ["regio", "gm0546"])
def test_no_role_can_write_or_create(database, who):
    role = f"{database['prefix']}_{who}"
    with psycopg.connect(_dsn(database["name"], role), autocommit=True) as conn:
        for statement in (write.format(prefix=database["prefix"]) for write in WRITES):
            with pytest.raises(
                errors.InsufficientPrivilege, match="permission denied|must be owner"
            ):
                conn.execute(statement)
        assert conn.execute("SELECT count(*) FROM published.mart_settlement").fetchone()[0] > 0


def _snapshot(database: dict) -> dict:
    with psycopg.connect(_dsn(database["name"])) as conn:
        contents = {
            table: _sorted(
                conn.execute(
                    sql.SQL("SELECT * FROM {}").format(sql.Identifier("published", table))
                ).fetchall()
            )
            for table in TABLES
        }
        policies = conn.execute(
            "SELECT tablename, policyname, roles::text, qual FROM pg_policies "
            "WHERE schemaname = 'published' ORDER BY 1, 2"
        ).fetchall()
        grants = conn.execute(
            "SELECT table_name, grantee, privilege_type FROM "
            "information_schema.table_privileges WHERE table_schema = 'published' "
            "ORDER BY 1, 2, 3"
        ).fetchall()
    return {"contents": contents, "policies": policies, "grants": grants}


def test_republishing_is_idempotent(database):
    before = _snapshot(database)
    assert len(before["policies"]) == 16 * 5  # 16 tables × (4 municipalities + region)
    again = publish(database["settings"], role_prefix=database["prefix"])
    assert again.postgres
    assert _snapshot(database) == before


def test_a_failed_load_leaves_the_previous_publication_intact(database, monkeypatch):
    before = _snapshot(database)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full halfway")

    monkeypatch.setattr(publishing_postgres, "_secure", broken)
    with pytest.raises(RuntimeError, match="disk full halfway"):
        publish(database["settings"], role_prefix=database["prefix"])
    assert _snapshot(database) == before

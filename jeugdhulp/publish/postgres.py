"""Load the published marts into PostgreSQL with one read-only, row-level-secured role per municipality."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import psycopg
import pyarrow as pa
from psycopg import sql

from jeugdhulp.publish.catalogue import DUTCH_LABELS, SPECS, MartSpec
from jeugdhulp.publish.warehouse import MUNICIPALITY_CODE, PublishError

DEFAULT_ROLE_PREFIX = "jeugdhulp"
SCHEMA = "published"
ACCESS_TABLE = "municipality_providers"  # which providers' rows a municipality may see
_ROLE_PREFIX = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_LOCK_KEY = 0x6A657567  # serialises publishers on one database ("jeug")

ACCESS_SPEC = MartSpec(
    name=ACCESS_TABLE,
    scope="municipality",
    columns=("municipality_code", "provider_agb"),
    grain=("municipality_code", "provider_agb"),
    title="Aanbieders die aan de gemeente declareerden",
)


@dataclass(frozen=True)
class PostgresResult:
    database: str
    rows: dict[str, int]
    roles: list[str]


def region_role(prefix: str) -> str:
    return f"{prefix}_regio"


def municipality_role(prefix: str, code: str) -> str:
    return f"{prefix}_{code.lower()}"


def check_role_prefix(prefix: str) -> str:
    if not _ROLE_PREFIX.match(prefix):
        raise PublishError(
            f"role prefix {prefix!r} must be lower-case letters, digits and _ "
            "(starting with a letter, at most 40 characters)"
        )
    return prefix


def pg_type(data_type: pa.DataType) -> str:
    """PostgreSQL type for an Arrow type, spelled as format_type() spells it."""
    if pa.types.is_decimal(data_type):
        return f"numeric({data_type.precision},{data_type.scale})"
    if pa.types.is_boolean(data_type):
        return "boolean"
    if pa.types.is_int8(data_type) or pa.types.is_int16(data_type) or pa.types.is_uint8(data_type):
        return "smallint"
    if pa.types.is_int32(data_type) or pa.types.is_uint16(data_type):
        return "integer"
    if pa.types.is_int64(data_type) or pa.types.is_uint32(data_type):
        return "bigint"
    if pa.types.is_uint64(data_type):
        return "numeric(20,0)"
    if pa.types.is_float32(data_type):
        return "real"
    if pa.types.is_floating(data_type):
        return "double precision"
    if pa.types.is_date(data_type):
        return "date"
    if pa.types.is_timestamp(data_type):
        return "timestamp with time zone" if data_type.tz else "timestamp without time zone"
    return "text"


def _ensure_roles(cur: psycopg.Cursor, roles: Iterable[str]) -> None:
    """Roles are cluster-wide: create each once, and refuse one that could bypass row security."""
    for role in roles:
        found = cur.execute(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [role]
        ).fetchone()
        if found is None:
            cur.execute(
                sql.SQL(
                    "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
                    "NOREPLICATION NOBYPASSRLS NOINHERIT"
                ).format(sql.Identifier(role))
            )
        elif found[0] or found[1]:
            raise PublishError(
                f"role {role} already exists as superuser or with BYPASSRLS: it would "
                "see every municipality's rows; drop it or choose another role prefix"
            )


def _current_columns(cur: psycopg.Cursor, table: str) -> list[tuple[str, str]]:
    return [
        tuple(row)
        for row in cur.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped "
            "ORDER BY a.attnum",
            [SCHEMA, table],
        ).fetchall()
    ]


def _load(cur: psycopg.Cursor, name: str, table: pa.Table) -> None:
    """Same columns: replace the rows (readers keep the old ones until commit); else recreate."""
    target = sql.Identifier(SCHEMA, name)
    wanted = [(field.name, pg_type(field.type)) for field in table.schema]
    if _current_columns(cur, name) == wanted:
        cur.execute(sql.SQL("DELETE FROM {}").format(target))
    else:
        cur.execute(sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(target))
        columns = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(column), sql.SQL(kind))
            for column, kind in wanted
        )
        cur.execute(sql.SQL("CREATE TABLE {} ({})").format(target, columns))
    names = sql.SQL(", ").join(sql.Identifier(column) for column, _ in wanted)
    values = [column.to_pylist() for column in table.columns]
    with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(target, names)) as copy:
        for row in zip(*values):
            copy.write_row(row)
    spec = SPECS.get(name, ACCESS_SPEC if name == ACCESS_TABLE else None)
    if spec is not None and spec.title:
        cur.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(target, sql.Literal(spec.title)))
    for column, _ in wanted:
        if column in DUTCH_LABELS:
            cur.execute(
                sql.SQL("COMMENT ON COLUMN {}.{} IS {}").format(
                    target, sql.Identifier(column), sql.Literal(DUTCH_LABELS[column])
                )
            )


def _row_filter(spec: MartSpec, code: str) -> sql.Composable:
    if spec.scope == "municipality":
        return sql.SQL("municipality_code = {}").format(sql.Literal(code))
    if spec.scope == "region":  # the region's own figures: the same for every reader
        return sql.SQL("TRUE")
    return sql.SQL(
        "provider_agb IN (SELECT provider_agb FROM {} WHERE municipality_code = {})"
    ).format(sql.Identifier(SCHEMA, ACCESS_TABLE), sql.Literal(code))


def _secure(
    cur: psycopg.Cursor, name: str, spec: MartSpec, prefix: str, municipalities: list[str]
) -> None:
    """SELECT only, for our roles; each municipality role sees its rows, the region role all rows."""
    target = sql.Identifier(SCHEMA, name)
    region = region_role(prefix)
    roles = [region] + [municipality_role(prefix, code) for code in municipalities]
    cur.execute(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(target))
    cur.execute(sql.SQL("REVOKE ALL ON {} FROM PUBLIC").format(target))
    granted = {
        row[0]
        for row in cur.execute(
            "SELECT DISTINCT grantee FROM information_schema.table_privileges "
            "WHERE table_schema = %s AND table_name = %s",
            [SCHEMA, name],
        ).fetchall()
    }
    for grantee in sorted(granted):
        if grantee.startswith(prefix + "_"):
            cur.execute(sql.SQL("REVOKE ALL ON {} FROM {}").format(target, sql.Identifier(grantee)))
    for role in roles:
        cur.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(target, sql.Identifier(role)))
    for (policy,) in cur.execute(
        "SELECT policyname FROM pg_policies WHERE schemaname = %s AND tablename = %s",
        [SCHEMA, name],
    ).fetchall():
        if policy.startswith(prefix + "_"):
            cur.execute(sql.SQL("DROP POLICY {} ON {}").format(sql.Identifier(policy), target))
    cur.execute(
        sql.SQL("CREATE POLICY {} ON {} FOR SELECT TO {} USING (true)").format(
            sql.Identifier(region), target, sql.Identifier(region)
        )
    )
    for code in municipalities:
        role = municipality_role(prefix, code)
        cur.execute(
            sql.SQL("CREATE POLICY {} ON {} FOR SELECT TO {} USING ({})").format(
                sql.Identifier(role), target, sql.Identifier(role), _row_filter(spec, code)
            )
        )


def publish_postgres(
    dsn: str,
    tables: dict[str, pa.Table],
    municipalities: list[str],
    access: pa.Table,
    *,
    role_prefix: str = DEFAULT_ROLE_PREFIX,
) -> PostgresResult:
    """Replace schema `published` in one transaction: readers see the old or the new marts, never a mix."""
    prefix = check_role_prefix(role_prefix)
    bad = [code for code in municipalities if not MUNICIPALITY_CODE.match(code)]
    if bad:
        raise PublishError(f"not municipality codes (GM + 4 digits): {bad}")
    roles = [region_role(prefix)] + [municipality_role(prefix, code) for code in municipalities]
    everything = dict(tables) | {ACCESS_TABLE: access}
    try:
        conn = psycopg.connect(dsn, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise PublishError(f"cannot connect to PostgreSQL (JEUGDHULP_POSTGRES_DSN): {exc}") from exc
    with conn:
        with conn.transaction(), conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
            database = cur.execute("SELECT current_database()").fetchone()[0]
            _ensure_roles(cur, roles)
            cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(SCHEMA)))
            cur.execute(
                sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(sql.Identifier(SCHEMA))
            )
            # Readers must not create objects anywhere (PostgreSQL 15 already has this default).
            if cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = 'public'").fetchone():
                cur.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
            for role in roles:
                cur.execute(
                    sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                        sql.Identifier(database), sql.Identifier(role)
                    )
                )
                cur.execute(
                    sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(
                        sql.Identifier(SCHEMA), sql.Identifier(role)
                    )
                )
            existing = {
                row[0]
                for row in cur.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = %s", [SCHEMA]
                ).fetchall()
            }
            for stale in sorted(existing - set(everything)):
                cur.execute(sql.SQL("DROP TABLE {} CASCADE").format(sql.Identifier(SCHEMA, stale)))
            # the access list first: the provider-level policies read it
            for name in [ACCESS_TABLE] + sorted(tables):
                spec = ACCESS_SPEC if name == ACCESS_TABLE else SPECS[name]
                _load(cur, name, everything[name])
                _secure(cur, name, spec, prefix, municipalities)
    return PostgresResult(
        database=database, rows={name: t.num_rows for name, t in everything.items()}, roles=roles
    )

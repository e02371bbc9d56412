"""Load the published tables into PostgreSQL: one database per municipality, read by its role only.

Layout (base = the DSN's database, e.g. `jeugdhulp`):

- `<base>_gm0546` … one database per municipality, schema `intern_gm0546`: the intern tables with
  only that municipality's rows; CONNECT for role `<prefix>_gm0546` only.
- `<base>_regio`: schema `intern_regio`, every row; CONNECT for role `<prefix>_regio` only.
- `<base>` itself: schema `openbaar`, the openbaar tables; CONNECT for every role above and for
  the public read-only role `<prefix>_openbaar`.

Why databases and not schemas: `pg_class` (reltuples, relpages), `pg_relation_size()` and
`pg_stat_all_tables` (n_live_tup, n_tup_ins) show every table of a database to every role that
can connect to it, privileges or not; they are per database. See docs/publishing.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
from psycopg import sql

from jeugdhulp.publish.catalogue import DUTCH_LABELS, SPECS, MartSpec
from jeugdhulp.publish.warehouse import MUNICIPALITY_CODE, PublishError

DEFAULT_ROLE_PREFIX = "jeugdhulp"
OPENBAAR = "openbaar"
REGION = "regio"
LEGACY_SCHEMA = "published"  # the single row-level-secured schema of earlier versions: dropped
ACCESS_TABLE = "municipality_providers"  # which providers' rows a municipality may see
_ROLE_PREFIX = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_LOCK_KEY = 0x6A657567  # serialises publishers on one database ("jeug")
_MARKER = "jeugdhulp intern"  # COMMENT ON DATABASE of the databases publishing owns
_MAX_IDENTIFIER = 63
# Database-wide activity counters and sizes: readable by PUBLIC by default and, unlike pg_class,
# about every database of the cluster. Revoked from PUBLIC in each database publishing owns
# (kept for pg_read_all_stats, i.e. monitoring).
_STATS_VIEWS = ("pg_stat_database", "pg_stat_database_conflicts")
_STATS_FUNCTIONS = (
    "SELECT p.oid::regprocedure::text FROM pg_proc p "
    "WHERE p.pronamespace = 'pg_catalog'::regnamespace "
    "AND (p.proname LIKE 'pg\\_stat\\_get\\_db\\_%' "
    "OR p.proname IN ('pg_database_size', 'pg_tablespace_size')) ORDER BY 1"
)

ACCESS_SPEC = MartSpec(
    name=ACCESS_TABLE,
    scope="municipality",
    columns=("municipality_code", "provider_agb"),
    grain=("municipality_code", "provider_agb"),
    title="Aanbieders die aan de gemeente declareerden",
)


@dataclass(frozen=True)
class PostgresResult:
    database: str  # the DSN's database: schema openbaar
    rows: dict[str, int]  # rows per intern table of the region (all rows)
    roles: list[str]
    databases: dict[str, str] = field(default_factory=dict)  # "regio"/code → intern database
    openbaar_rows: dict[str, int] = field(default_factory=dict)
    removed_databases: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def region_role(prefix: str) -> str:
    return f"{prefix}_{REGION}"


def municipality_role(prefix: str, code: str) -> str:
    return f"{prefix}_{code.lower()}"


def public_role(prefix: str) -> str:
    return f"{prefix}_{OPENBAAR}"


def intern_schema(code: str) -> str:
    """`intern_regio` or `intern_gm0546`."""
    return f"intern_{code.lower()}"


def intern_database(base: str, code: str) -> str:
    return f"{base}_{code.lower()}"


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


def spec_of(name: str) -> MartSpec:
    if name == ACCESS_TABLE:
        return ACCESS_SPEC
    if name not in SPECS:
        raise PublishError(
            f"{name} has no entry in catalogue.MARTS: without its scope publishing cannot tell "
            "which rows a municipality may read"
        )
    return SPECS[name]


def rows_for(spec: MartSpec, table: pa.Table, code: str, providers: pa.Array) -> pa.Table:
    """A municipality's rows of a region table, by the catalogue's scope (as the files).

    municipality scope: its `municipality_code`; provider scope: the providers that invoiced it
    (`providers`, from the access list); region scope: every row.
    """
    column = spec.scope_column
    if column is None:
        return table
    if column not in table.column_names:
        raise PublishError(f"{spec.name} lacks {column}: cannot choose a municipality's rows")
    values = table[column]
    if spec.scope == "municipality":
        mask = pc.equal(values, pa.scalar(code, values.type))
    else:
        mask = pc.is_in(values, value_set=providers.cast(values.type))
    return table.filter(mask)  # NULL (no municipality/provider) is dropped: region only


def _providers(access: pa.Table, code: str) -> pa.Array:
    chosen = access.filter(pc.equal(access["municipality_code"], code))["provider_agb"]
    return pc.unique(chosen.combine_chunks().drop_null())


def _ensure_roles(cur: psycopg.Cursor, roles: Iterable[str]) -> None:
    """Roles are cluster-wide: create each once; refuse one that could read beyond its grants."""
    for role in roles:
        found = cur.execute(
            "SELECT r.rolsuper OR r.rolcreaterole OR r.rolbypassrls OR r.rolreplication, "
            "EXISTS (SELECT 1 FROM pg_auth_members m WHERE m.member = r.oid) "
            "FROM pg_roles r WHERE r.rolname = %s",
            [role],
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
                f"role {role} already exists as superuser, with CREATEROLE, BYPASSRLS or "
                "REPLICATION, or as a member of another role: it could read other "
                "municipalities' figures; drop it or choose another role prefix"
            )


def _dsn_for(dsn: str, database: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    info["dbname"] = database
    return psycopg.conninfo.make_conninfo(**info)


def _set_database_access(
    cur: psycopg.Cursor, database: str, readers: list[str], prefix: str
) -> None:
    """CONNECT for `readers` only: not for PUBLIC, nor for roles of ours an earlier run named
    (e.g. a municipality no longer published); other roles' grants are the DBA's."""
    target = sql.Identifier(database)
    cur.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(target))
    grantees = cur.execute(
        "SELECT DISTINCT a.grantee::regrole::text FROM pg_database d, "
        "aclexplode(d.datacl) a WHERE d.datname = %s AND a.grantee <> 0 "
        "AND a.grantee <> d.datdba",
        [database],
    ).fetchall()
    ours = re.compile(rf"^{re.escape(prefix)}_(gm\d{{4}}|{REGION}|{OPENBAAR})$")
    for (grantee,) in grantees:
        name = grantee.strip('"')
        if ours.match(name) and name not in readers:
            cur.execute(
                sql.SQL("REVOKE ALL ON DATABASE {} FROM {}").format(target, sql.Identifier(name))
            )
    for role in readers:
        cur.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(target, sql.Identifier(role))
        )


def _harden(cur: psycopg.Cursor, warnings: list[str]) -> None:
    """In the database at hand: no objects of PUBLIC's, no cluster-wide counters for PUBLIC."""
    try:
        with cur.connection.transaction():  # a savepoint: without superuser, warn and go on
            _revoke_counters(cur)
    except psycopg.errors.InsufficientPrivilege:
        warnings.append(
            f"could not revoke pg_stat_database from PUBLIC in {cur.connection.info.dbname} "
            "(needs superuser): roles that connect there see every database's counters"
        )
    if cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = 'public'").fetchone():
        cur.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")


def _revoke_counters(cur: psycopg.Cursor) -> None:
    for view in _STATS_VIEWS:
        target = sql.Identifier("pg_catalog", view)
        cur.execute(sql.SQL("REVOKE ALL ON {} FROM PUBLIC").format(target))
        cur.execute(sql.SQL("GRANT SELECT ON {} TO pg_read_all_stats").format(target))
    for (function,) in cur.execute(_STATS_FUNCTIONS).fetchall():
        cur.execute(sql.SQL("REVOKE EXECUTE ON FUNCTION {} FROM PUBLIC").format(sql.SQL(function)))
        cur.execute(
            sql.SQL("GRANT EXECUTE ON FUNCTION {} TO pg_read_all_stats").format(sql.SQL(function))
        )


def _load_table(cur: psycopg.Cursor, schema: str, name: str, table: pa.Table) -> None:
    target = sql.Identifier(schema, name)
    wanted = [(f.name, pg_type(f.type)) for f in table.schema]
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(column), sql.SQL(kind)) for column, kind in wanted
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


def _staging_name(schema: str) -> str:
    return f"{schema}_next"


def _stage(
    cur: psycopg.Cursor, schema: str, tables: dict[str, pa.Table], readers: list[str]
) -> None:
    """Build `<schema>_next` complete: tables, statistics, SELECT for the readers only."""
    staging = sql.Identifier(_staging_name(schema))
    cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(staging))
    cur.execute(sql.SQL("CREATE SCHEMA {}").format(staging))
    for name in sorted(tables):
        _load_table(cur, _staging_name(schema), name, tables[name])
        cur.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(_staging_name(schema), name)))
    for role in readers:
        cur.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(staging, sql.Identifier(role)))
        cur.execute(
            sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(
                staging, sql.Identifier(role)
            )
        )


def _swap(cur: psycopg.Cursor, schema: str, drop: Iterable[str] = ()) -> None:
    """Replace the live schema by the staged one (takes effect at commit, all at once)."""
    for old in (schema, *drop):
        cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(old)))
    cur.execute(
        sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
            sql.Identifier(_staging_name(schema)), sql.Identifier(schema)
        )
    )


def _commit_all(connections: list[psycopg.Connection]) -> None:
    """Every database is staged and swapped: commit them one after the other."""
    for conn in connections:
        conn.commit()


def _forget_load_counters(conn: psycopg.Connection, warnings: list[str]) -> None:
    """Reset the database's activity counters, so its tuples inserted do not count its rows.

    The backend flushes its pending counters when it goes idle; force that after the commit,
    then reset.
    """
    conn.autocommit = True
    try:
        try:
            conn.execute("SELECT pg_stat_force_next_flush()")
        except psycopg.errors.UndefinedFunction:  # before PostgreSQL 15: flushed at commit
            pass
        conn.execute("SELECT pg_stat_reset()")
    except psycopg.errors.InsufficientPrivilege:
        warnings.append(
            f"could not reset the activity counters of database {conn.info.dbname} "
            "(pg_stat_reset needs superuser): its tuples inserted count the rows loaded"
        )


def _reachable_elsewhere(cur: psycopg.Cursor, roles: list[str], ours: set[str]) -> list[str]:
    """Other databases our roles may connect to (through PUBLIC): there pg_stat_database shows
    every database's activity counters unless the DBA revoked it."""
    rows = cur.execute(
        "SELECT DISTINCT d.datname FROM pg_database d, unnest(%s::text[]) r(name) "
        "WHERE d.datallowconn AND has_database_privilege(r.name, d.oid, 'CONNECT') ORDER BY 1",
        [roles],
    ).fetchall()
    return [name for (name,) in rows if name not in ours]


def publish_postgres(
    dsn: str,
    region_tables: dict[str, pa.Table],
    municipalities: list[str],
    municipality_providers: pa.Table,
    *,
    role_prefix: str = DEFAULT_ROLE_PREFIX,
    openbaar_tables: dict[str, pa.Table] | None = None,
) -> PostgresResult:
    """Replace the intern databases and schema openbaar; all are committed only once all are built.

    `region_tables`: the intern tables with every row (the region's set); each municipality's
    database gets its rows of them (`rows_for`). `municipality_providers`: (municipality_code,
    provider_agb) pairs, the access list of the provider-level tables. `openbaar_tables`: the
    openbaar region set, loaded as given into schema `openbaar` (None: the schema is emptied).
    """
    prefix = check_role_prefix(role_prefix)
    codes = sorted(set(municipalities))
    bad = [code for code in codes if not MUNICIPALITY_CODE.match(code)]
    if bad:
        raise PublishError(f"not municipality codes (GM + 4 digits): {bad}")
    intern = dict(region_tables) | {ACCESS_TABLE: municipality_providers}
    specs = {name: spec_of(name) for name in intern}
    openbaar = dict(openbaar_tables or {})
    region, public = region_role(prefix), public_role(prefix)
    roles = [region, public] + [municipality_role(prefix, code) for code in codes]

    # per target: its intern tables (a municipality's own rows only) and its reader
    contents: dict[str, dict[str, pa.Table]] = {REGION: intern}
    readers: dict[str, str] = {REGION: region}
    for code in codes:
        providers = _providers(municipality_providers, code)
        contents[code] = {
            name: rows_for(specs[name], table, code, providers) for name, table in intern.items()
        }
        readers[code] = municipality_role(prefix, code)

    try:
        admin = psycopg.connect(dsn, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise PublishError(f"cannot connect to PostgreSQL (JEUGDHULP_POSTGRES_DSN): {exc}") from exc
    warnings: list[str] = []
    with admin, admin.cursor() as cur:
        base = cur.execute("SELECT current_database()").fetchone()[0]
        databases = {target: intern_database(base, target) for target in contents}
        too_long = [name for name in databases.values() if len(name.encode()) > _MAX_IDENTIFIER]
        if too_long:
            raise PublishError(f"database names longer than 63 bytes: {too_long}; shorten {base}")
        cur.execute("SELECT pg_advisory_lock(%s)", [_LOCK_KEY])
        try:
            _ensure_roles(cur, roles)
            existing = {
                name: comment
                for name, comment in cur.execute(
                    "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database"
                ).fetchall()
            }
            for target, database in databases.items():
                if database not in existing:
                    cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
                elif not (existing[database] or "").startswith(f"{_MARKER} {base}/"):
                    raise PublishError(
                        f"database {database} exists but was not made by publishing "
                        f"(no comment '{_MARKER} {base}/…'); drop or rename it"
                    )
                cur.execute(
                    sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                        sql.Identifier(database), sql.Literal(f"{_MARKER} {base}/{target}")
                    )
                )
                _set_database_access(cur, database, [readers[target]], prefix)
            _set_database_access(cur, base, roles, prefix)

            # Phase 1: build every schema in its own open transaction; phase 2: swap, commit all.
            with ExitStack() as stack:
                connections = []
                for target, database in databases.items():
                    conn = stack.enter_context(psycopg.connect(_dsn_for(dsn, database)))
                    with conn.cursor() as work:
                        _harden(work, warnings)
                        _stage(work, intern_schema(target), contents[target], [readers[target]])
                    connections.append(conn)
                conn = stack.enter_context(psycopg.connect(dsn))
                with conn.cursor() as work:
                    _harden(work, warnings)
                    _stage(work, OPENBAAR, openbaar, roles)
                connections.append(conn)
                for conn, target in zip(connections, [*databases, None]):
                    with conn.cursor() as work:
                        if target is None:
                            _swap(work, OPENBAAR, drop=[LEGACY_SCHEMA])
                        else:
                            _swap(work, intern_schema(target))
                _commit_all(connections)
                for conn in connections:
                    _forget_load_counters(conn, warnings)

            removed = sorted(
                name
                for name, comment in existing.items()
                if (comment or "").startswith(f"{_MARKER} {base}/")
                and name not in databases.values()
            )
            for name in removed:
                cur.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
            elsewhere = _reachable_elsewhere(cur, roles, {base, *databases.values()})
            if elsewhere:
                warnings.append(
                    "the publishing roles may connect to other databases through PUBLIC ("
                    + ", ".join(elsewhere)
                    + "): there pg_stat_database shows every database's activity counters; "
                    "REVOKE CONNECT ON DATABASE … FROM PUBLIC (see docs/publishing.md)"
                )
        finally:
            cur.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_KEY])
    return PostgresResult(
        database=base,
        rows={name: table.num_rows for name, table in intern.items()},
        roles=roles,
        databases=databases,
        openbaar_rows={name: table.num_rows for name, table in openbaar.items()},
        removed_databases=removed,
        warnings=warnings,
    )

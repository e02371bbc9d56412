"""Copy the publishable marts and name lookups out of the warehouse into an in-memory work database."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from jeugdhulp.publish.catalogue import (
    LABELS_RELATION,
    MARTS,
    is_forbidden_column,
    name_columns_to_add,
    with_name_columns,
)

MUNICIPALITY_CODE = re.compile(r"^GM\d{4}$")

# Optional name lookups: the first relation found (schema order) with a code and a name column.
_LOOKUP_SCHEMAS = ("marts", "main", "seeds", "staging")
_MUNICIPALITY_CODE_COLUMNS = ("municipality_code", "cbs_code", "gemeente_code", "code")
_MUNICIPALITY_NAME_COLUMNS = ("municipality_name", "gemeente_naam", "gemeentenaam", "name", "naam")
_PROVIDER_CODE_COLUMNS = ("provider_agb", "agb_code", "agb")
_PROVIDER_NAME_COLUMNS = ("provider_name", "name", "naam")


class PublishError(RuntimeError):
    """Publishing cannot start or finish; the message says why and what to do."""


@dataclass
class WorkCopy:
    """In-memory DuckDB with `src.<published name>` (unsuppressed, contract columns only)."""

    con: duckdb.DuckDBPyConnection
    present: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    municipality_names: dict[str, str] = field(default_factory=dict)
    provider_names: dict[str, str] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        return name in self.present

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> WorkCopy:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


BACKTEST_SUMMARY = "mart_forecast_backtest_summary"


def _relation_columns(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], list[str]]:
    rows = con.execute(
        "SELECT table_schema, table_name, column_name FROM information_schema.columns "
        "WHERE table_catalog = 'wh' ORDER BY table_schema, table_name, ordinal_position"
    ).fetchall()
    found: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in rows:
        found.setdefault((schema, table), []).append(column)
    return found


def open_work_copy(warehouse_path: Path) -> WorkCopy:
    """Read the marts once, through a short read-only attach, then let go of the warehouse file."""
    if not warehouse_path.is_file():
        raise PublishError(
            f"no warehouse at {warehouse_path}: run ingestion and dbt first "
            "(`jeugdhulp run`), or check JEUGDHULP_DATA_DIR"
        )
    con = duckdb.connect()
    try:
        con.execute("ATTACH ? AS wh (READ_ONLY)", [str(warehouse_path)])
    except duckdb.Error as exc:
        con.close()
        raise PublishError(
            f"cannot open the warehouse {warehouse_path} read-only ({exc}); "
            "another process may be writing to it"
        ) from exc
    work = WorkCopy(con=con)
    try:
        con.execute("CREATE SCHEMA src")
        relations = _relation_columns(con)
        labels = _has_labels(relations)
        if not labels:
            work.notes.append(
                f"{'.'.join(LABELS_RELATION)} does not exist (an older warehouse): the files show "
                "codes without their names; run dbt to add them"
            )
        for spec in MARTS:
            _copy_mart(
                work,
                relations,
                spec.name,
                spec.columns,
                spec.required_columns(),
                spec.schema,
                labels=labels,
            )
        # the forecast's track record (`jeugdhulp backtest`): for the region report only, never
        # published as a file (a region-level table without persons or providers)
        if ("marts", BACKTEST_SUMMARY) in relations:
            con.execute(
                f"CREATE TABLE src.{BACKTEST_SUMMARY} AS SELECT * FROM wh.marts.{BACKTEST_SUMMARY}"
            )
            work.present.append(BACKTEST_SUMMARY)
            work.columns[BACKTEST_SUMMARY] = tuple(relations[("marts", BACKTEST_SUMMARY)])
        work.municipality_names = _lookup(
            con,
            relations,
            "municipalit",
            _MUNICIPALITY_CODE_COLUMNS,
            _MUNICIPALITY_NAME_COLUMNS,
            _municipality_code,
        )
        work.provider_names = _lookup(
            con,
            relations,
            "provider",
            _PROVIDER_CODE_COLUMNS,
            _PROVIDER_NAME_COLUMNS,
            _provider_code,
        )
    except BaseException:
        con.close()
        raise
    con.execute("DETACH wh")
    return work


def _copy_mart(
    work: WorkCopy,
    relations: dict[tuple[str, str], list[str]],
    name: str,
    columns: tuple[str, ...],
    required: tuple[str, ...],
    schema: str = "marts",
    *,
    labels: bool = False,
) -> None:
    available = relations.get((schema, name))
    if available is None:
        work.skipped[name] = f"{schema}.{name} does not exist (yet)"
        return
    missing = [column for column in required if column not in available]
    if missing:
        work.skipped[name] = (
            f"{schema}.{name} lacks column(s) {', '.join(missing)} needed to "
            "split or suppress it safely"
        )
        return
    chosen = tuple(column for column in columns if column in available)
    absent = [column for column in columns if column not in available]
    # a name the warehouse's mart carries itself is published from rpt_labels (one source)
    named = with_name_columns(chosen) if labels else chosen
    extra = [column for column in available if column not in columns and column not in named]
    if absent:
        work.notes.append(f"{name}: columns absent in the warehouse: {', '.join(absent)}")
    if extra:
        work.notes.append(f"{name}: columns not in the contract, not published: {', '.join(extra)}")
    assert not any(is_forbidden_column(column) for column in chosen), chosen
    select = ", ".join(f'"{column}"' for column in chosen)
    work.con.execute(f"CREATE TABLE src.{name} AS SELECT {select} FROM wh.{schema}.{name}")
    if labels:
        chosen = _add_names(work.con, name, chosen)
    work.present.append(name)
    work.columns[name] = chosen


def _has_labels(relations: dict[tuple[str, str], list[str]]) -> bool:
    return {"kind", "code", "label"} <= set(relations.get(LABELS_RELATION, ()))


def _add_names(
    con: duckdb.DuckDBPyConnection, name: str, columns: tuple[str, ...]
) -> tuple[str, ...]:
    """Put the Dutch name (publication.rpt_labels) right after each coded column of src.<name>
    that has no name column yet: reference data selected beside the code, no figure changes. A
    code without a label gets NULL. The rows keep their number and order (asserted)."""
    added = name_columns_to_add(columns)
    if not added:
        return columns
    labels = "wh.{}.{}".format(*LABELS_RELATION)
    joins = []
    select = []
    for column in columns:
        select.append(f't."{column}"')
        if column in added:
            kind, label_column = added[column]
            alias = f"l_{len(joins)}"
            select.append(f'{alias}.label AS "{label_column}"')
            joins.append(
                f"LEFT JOIN (SELECT code, label FROM {labels} WHERE kind = '{kind}') AS {alias} "
                f'ON {alias}.code = CAST(t."{column}" AS VARCHAR)'
            )
    con.execute(
        f"CREATE TABLE src._labelled AS SELECT {', '.join(select)} "
        f"FROM (SELECT *, rowid AS _row FROM src.{name}) AS t {' '.join(joins)} ORDER BY t._row"
    )
    # the join selects one name per code: the same rows, in the same order, the same values
    before = con.execute(f"SELECT count(*) FROM src.{name}").fetchone()[0]
    after = con.execute("SELECT count(*) FROM src._labelled").fetchone()[0]
    differ = " OR ".join(f'a."{column}" IS DISTINCT FROM b."{column}"' for column in columns)
    changed = con.execute(
        f"SELECT count(*) FROM src.{name} AS a JOIN src._labelled AS b ON a.rowid = b.rowid "
        f"WHERE {differ}"
    ).fetchone()[0]
    if before != after or changed:
        con.execute("DROP TABLE src._labelled")
        raise PublishError(
            f"naming the codes of {name} changed its rows ({before} → {after} rows, {changed} "
            f"changed): {'.'.join(LABELS_RELATION)} must have one label per kind and code"
        )
    con.execute(f"DROP TABLE src.{name}")
    con.execute(f"ALTER TABLE src._labelled RENAME TO {name}")
    labelled = with_name_columns(columns)
    assert labelled == tuple(row[0] for row in con.execute(f"DESCRIBE src.{name}").fetchall()), (
        labelled
    )
    return labelled


def _municipality_code(value: object) -> str | None:
    text = str(value).strip().upper()
    if text.isdigit() and len(text) <= 4:
        text = "GM" + text.zfill(4)
    return text if MUNICIPALITY_CODE.match(text) else None


def _provider_code(value: object) -> str | None:
    text = str(value).strip()
    return text if text.isdigit() and len(text) == 8 else None


def _lookup(
    con: duckdb.DuckDBPyConnection,
    relations: dict[tuple[str, str], list[str]],
    name_part: str,
    code_columns: tuple[str, ...],
    name_columns: tuple[str, ...],
    normalise,
) -> dict[str, str]:
    candidates = sorted(
        (key for key in relations if name_part in key[1].lower() and key[0] in _LOOKUP_SCHEMAS),
        key=lambda key: (_LOOKUP_SCHEMAS.index(key[0]), len(key[1]), key[1]),
    )
    for schema, table in candidates:
        available = relations[(schema, table)]
        code = next((column for column in code_columns if column in available), None)
        label = next((column for column in name_columns if column in available), None)
        if code is None or label is None:
            continue
        try:
            rows = con.execute(
                f'SELECT DISTINCT "{code}", "{label}" FROM wh."{schema}"."{table}" '
                f'WHERE "{label}" IS NOT NULL ORDER BY 1, 2'
            ).fetchall()
        except duckdb.Error:
            continue  # a broken view (e.g. staging over a missing raw table) is no lookup
        names: dict[str, str] = {}
        for raw_code, raw_name in rows:
            key = normalise(raw_code)
            if key is not None:
                names.setdefault(key, str(raw_name).strip())
        if names:
            return names
    return {}

"""The iJw field table (jeugdhulp/ijw/fields.py) is the one place a raw iJw column is declared.

The readers' element mapping, the rows' layout (`ijw_rows.COLUMNS`), the raw DDL and the dbt
source definitions all follow from it: these tests check that each artefact agrees with the table,
that the committed dbt YAML is the one the table writes, and that a field added to the table
reaches every artefact and is read by both readers.
"""

from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass, replace

import duckdb
import pytest
import yaml

from jeugdhulp.ijw import fields, reader
from jeugdhulp.ijw.fields import SOURCE_LINE, TABLES, Field, MessageTable, dbt_sources_yaml
from jeugdhulp.ijw.records import (
    RECORD_TYPES,
    Allocation,
    Client,
    Declaration,
    DeclarationAnswer,
    Header,
    InvoiceLine,
    ReadItem,
)
from jeugdhulp.ingest import ijw_rows, raw_tables
from jeugdhulp.ingest.parsed import ClientKeys
from jeugdhulp.synthetic.ijw_writer import write_message
from tests.ijw.test_codec import BUILDERS, jw301

KEYS = ClientKeys("test-key-not-secret")
PYTHON_TYPES = {"date": "date", "integer": "int", "cents": "int", "codes": "tuple[str, ...]"}


def test_the_committed_dbt_sources_are_the_ones_the_table_writes():
    committed = fields.DBT_SOURCES_PATH.read_text(encoding="utf-8")
    assert committed == dbt_sources_yaml(), (
        "dbt_project/models/staging/ijw/_ijw__sources.yml differs from jeugdhulp/ijw/fields.py: "
        "run `python -m jeugdhulp.ijw.fields --write-dbt-sources`"
    )


def test_the_dbt_sources_read_back_as_the_table():
    [source] = yaml.safe_load(dbt_sources_yaml())["sources"]
    assert (source["name"], source["schema"]) == ("ijw", "raw")
    assert source["description"].strip() == fields.SOURCE_DESCRIPTION
    assert [t["identifier"] for t in source["tables"]] == [t.table for t in TABLES.values()]
    for table, declared in zip(TABLES.values(), source["tables"]):
        assert declared["description"].strip() == table.description
        assert [
            (c["name"], c["data_type"], c["description"].strip()) for c in declared["columns"]
        ] == [(c.name, c.duckdb_type.lower(), c.description) for c in table.columns]


def test_the_raw_ddl_is_the_tables():
    con = duckdb.connect()
    con.execute(raw_tables.create_raw_schema_sql())
    for table in TABLES.values():
        assert raw_tables.table_columns(table.table) == [
            (c.name, c.duckdb_type) for c in table.columns
        ]
        nullable = con.execute(
            "SELECT column_name, is_nullable FROM information_schema.columns"
            " WHERE table_schema = 'raw' AND table_name = ? ORDER BY ordinal_position",
            [table.table],
        ).fetchall()
        assert nullable == [(c.name, "NO" if c.not_null else "YES") for c in table.columns]


def test_the_rows_are_laid_out_as_the_tables():
    for message_type, table in TABLES.items():
        assert ijw_rows.TABLE_OF_MESSAGE[message_type] == table.table
        assert ijw_rows.COLUMNS[table.table] == tuple(
            c.name for c in table.columns if c.name != "file_id"
        )
        assert reader.FLAT_FIELDS[message_type] == tuple(r.label for r in table.flat_reads)
    assert list(ijw_rows.TABLE_OF_MESSAGE) == ["JW315", "JW301", "JW305", "JW307", "JW323", "JW325"]


@pytest.mark.parametrize("message_type", sorted(TABLES))
def test_a_row_has_a_value_per_column_from_either_reader(message_type):
    data = write_message(BUILDERS[message_type]())
    table = TABLES[message_type]
    streamed = [ijw_rows._row(item, KEYS) for item in reader.read_messages(io.BytesIO(data))]
    flat = reader.read_flat(data)
    assert flat is not None and ijw_rows._flat_rows(flat, KEYS).tables[table.table].rows == streamed
    for row in streamed:
        assert len(row) == len(ijw_rows.COLUMNS[table.table])


def test_every_column_is_declared_once_per_table():
    for table in TABLES.values():
        names = [f.name for f in table.fields]
        assert len(names) == len(set(names)), table.message_type
        for column in table.columns:
            assert column.description, column.name
            assert column.duckdb_type in ("VARCHAR", "DATE", "BIGINT", "INTEGER", "BOOLEAN")
    # the fields the tables share are one declaration each, not copies that could drift
    assert TABLES["JW323"].fields[-1] is SOURCE_LINE is TABLES["JW301"].fields[-1]
    client_key = {f for t in TABLES.values() for f in t.fields if f.name == "client_key"}
    assert len(client_key) == 1


def _record_type(message_type: str, field: Field) -> type:
    """The records.py type whose attribute a field fills."""
    if field.part == "header":
        return Header
    if field.part == "declaration":
        return Declaration
    if field.part == "answer":
        return DeclarationAnswer
    if field.part == "reader":
        return ReadItem
    if field.part == "client":
        return Client if message_type in ("JW301", "JW305", "JW307", "JW315") else InvoiceLine
    record = RECORD_TYPES[message_type]
    if message_type == "JW325" and field.read != "codes":
        return InvoiceLine  # RejectedLine.line
    return record


def test_every_field_fills_a_records_attribute_of_its_type():
    for message_type, table in TABLES.items():
        for field in table.fields:
            if field.part == "file":
                continue
            record = _record_type(message_type, field)
            types = {f.name: f.type for f in dataclasses.fields(record)}
            assert field.record_attribute in types, (message_type, field.name, record.__name__)
            expected = PYTHON_TYPES.get(field.read, "str" if field.part != "reader" else "int")
            assert types[field.record_attribute].startswith(expected), (message_type, field.name)


@pytest.mark.parametrize(
    "change",
    [
        lambda f: f[:2] + f[6:9] + f[2:6] + f[9:],  # the client before the header
        lambda f: f + (replace(f[-1], name="line_again"),),  # source_line not last
        lambda f: f[:-1] + (replace(f[-2], name="unit2"), f[-1]),  # two fields, one element
        lambda f: f[:-1] + (replace(f[-2], path="Omvang/Frequentie", read="date"), f[-1]),
        lambda f: f[:-1] + (Field("new", "record", "Nieuw", "text"), f[-1]),  # no description
        lambda f: f[:-1] + (Field("new", "record", "Nieuw", "dollars", "x"), f[-1]),  # no read
        lambda f: f[:-1] + (Field("start_date", "record", "Nieuw", "text", "x"), f[-1]),
        lambda f: f[:-1] + (Field("new", "record", "", "text", "x"), f[-1]),  # no path
        # found by tag inside a record, so Budget/Volume would be taken for Omvang/Volume
        lambda f: f[:-1] + (Field("new", "record", "Budget/Volume", "integer", "x"), f[-1]),
        # a JW301 has no Declaratie
        lambda f: f[:6] + (Field("new", "declaration", "DeclaratieNummer", "text", "x"),) + f[6:],
    ],
)
def test_a_table_the_readers_cannot_follow_is_refused_at_import(change):
    with pytest.raises(ValueError):
        replace(TABLES["JW301"], fields=change(TABLES["JW301"].fields))


# --- a field added to the table ------------------------------------------------------------------

COMMENT = Field(
    "commentary",
    "record",
    "Commentaar",
    "text",
    "Commentaar: the municipality's note on the allocation.",
)


@dataclass(frozen=True, slots=True)
class CommentedAllocation(Allocation):
    commentary: str | None = None


def _with_comment() -> MessageTable:
    table = TABLES["JW301"]
    return replace(table, fields=table.fields[:-1] + (COMMENT, table.fields[-1]))


def test_a_field_added_to_the_table_reaches_every_artefact(monkeypatch):
    table = _with_comment()
    monkeypatch.setitem(RECORD_TYPES, "JW301", CommentedAllocation)  # records.py would grow too
    ddl = raw_tables._ijw_columns(table)
    assert "    budget_cents BIGINT,\n    commentary VARCHAR,\n    source_line INTEGER\n" in ddl
    assert table.row_columns[-2:] == ("commentary", "source_line")
    assert "          - name: commentary\n            data_type: varchar\n" in dbt_sources_yaml(
        {"JW301": table}
    )
    m = "{http://www.istandaarden.nl/ijw/3_2/jw301/schema}"
    assert (m + "Commentaar", None, reader._text_optional) in reader._flat_plan(table).record
    plan = reader._plan(table)
    assert plan.record[-1] == (None, reader._Fields.optional_text, m + "Commentaar", "")
    assert plan.in_order(list(range(len(plan.record))))[-1] == len(plan.record) - 1
    assert ijw_rows._item_attribute("JW301", table.flat_reads[-2]) == "record.commentary"
    # and a records.py without the attribute is refused at import
    monkeypatch.setitem(RECORD_TYPES, "JW301", Allocation)
    with pytest.raises(AssertionError, match="differ in fields"):
        reader._plan(table)


def test_both_readers_read_a_field_added_to_the_table(monkeypatch):
    table = _with_comment()
    data = write_message(jw301()).replace(
        b"</ToegewezenProduct>", b"\t<Commentaar> Nieuw veld </Commentaar>\n</ToegewezenProduct>"
    )
    monkeypatch.setitem(RECORD_TYPES, "JW301", CommentedAllocation)  # records.py would grow too
    monkeypatch.setitem(reader._PLANS, "JW301", reader._plan(table))
    monkeypatch.setitem(reader._FLAT_PLANS, "JW301", reader._flat_plan(table))
    monkeypatch.setitem(ijw_rows._LAYOUT, "JW301", ijw_rows._layout(table))
    monkeypatch.setitem(
        ijw_rows._ITEM_VALUES,
        "JW301",
        ijw_rows.operator.attrgetter(
            *(ijw_rows._item_attribute("JW301", read) for read in table.flat_reads)
        ),
    )
    monkeypatch.setitem(ijw_rows.COLUMNS, table.table, table.row_columns)
    for variant in (data, data.replace(b"?>", b"?><!-- streaming -->", 1)):
        parsed = ijw_rows.parse_ijw(variant, KEYS).tables[table.table]
        assert parsed.columns == table.row_columns
        at = parsed.columns.index("commentary")
        assert parsed.rows and {row[at] for row in parsed.rows} == {"Nieuw veld"}
    assert reader.read_flat(data) is not None
    assert reader.read_flat(data.replace(b"?>", b"?><!-- streaming -->", 1)) is None


def test_the_command_writes_and_checks_the_dbt_sources(tmp_path, monkeypatch, capsys):
    target = tmp_path / "_ijw__sources.yml"
    monkeypatch.setattr(fields, "DBT_SOURCES_PATH", target)
    assert fields.main(["--write-dbt-sources"]) == 0
    assert target.read_text(encoding="utf-8") == dbt_sources_yaml()
    assert fields.main(["--check-dbt-sources"]) == 0
    target.write_text(target.read_text(encoding="utf-8").replace("Provider AGB", "AGB"))
    assert fields.main(["--check-dbt-sources"]) == 1
    assert fields.main([]) == 2

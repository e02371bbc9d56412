"""A delivery re-serialised compactly (every message on one line, some in another encoding) gives
the marts of the pretty-printed delivery, row for row.

The tiny region (seed 7, as of 2026-10-15) is generated twice; in the second, every
landing/ijw/*.xml that lxml can parse is rewritten without whitespace between elements (every
third one in UTF-16, every fifth in ISO-8859-1 where its text allows). Both are run with
`jeugdhulp run` and every marts table is compared. File ids differ (they hash the bytes): the
lineage columns of fct_invoice_lines are left out, and dq_findings' record_ref, which is the
file_id for a file finding (a quarantined file: the generator's iJw 3.0 file is re-serialised
too), is compared as "a file id". Which columns carry a file id is checked, so a mart that starts
to carry one elsewhere is noticed.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from lxml import etree

from tests.support.pipeline import (
    PipelineRun,
    generate,
    pristine_tiny_run,
    run_cli,
)

pytestmark = pytest.mark.slow

# mart columns that are file lineage by design (fct_invoice_lines: the line's file and its
# JW325's file, and invoice_line_id = file_id:record_position); nothing else may carry a file id
LINEAGE = {"fct_invoice_lines": {"file_id", "rejection_file_id", "invoice_line_id"}}
# columns that may hold a file id as a value (compared masked): dq_findings.record_ref of file
# findings (docs/data_quality.md)
MASKED = {"dq_findings": {"record_ref"}}


def _rewrite_compactly(landing: Path) -> int:
    rewritten = 0
    for number, path in enumerate(sorted((landing / "ijw").rglob("*.xml"))):
        try:
            root = etree.fromstring(
                path.read_bytes(), etree.XMLParser(remove_blank_text=True, resolve_entities=False)
            )
        except etree.XMLSyntaxError:
            continue  # the generator's deliberately malformed files stay as they are
        encoding = "UTF-16" if number % 3 == 0 else "UTF-8"
        if number % 5 == 0:
            encoding = "ISO-8859-1"
        try:
            data = etree.tostring(root, xml_declaration=True, encoding=encoding)
        except (UnicodeEncodeError, LookupError):
            data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        path.write_bytes(data)
        rewritten += 1
    return rewritten


def _marts(warehouse: Path) -> tuple[dict[str, list[tuple]], dict[str, set[str]]]:
    """Every marts table's rows without file-id columns, and which columns carried a file id."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        file_ids = {r[0] for r in con.execute("select file_id from raw.file_registry").fetchall()}
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        marts, carriers = {}, {}
        for table in tables:
            cursor = con.execute(f"select * from marts.{table}")
            columns = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
            carrying = {
                column
                for i, column in enumerate(columns)
                if any(
                    isinstance(row[i], str) and any(f in row[i] for f in file_ids) for row in rows
                )
            }
            if carrying:
                carriers[table] = carrying
            keep = [i for i, c in enumerate(columns) if c not in LINEAGE.get(table, set())]
            masked = {i for i, c in enumerate(columns) if c in MASKED.get(table, set())}
            marts[table] = sorted(
                (
                    tuple(
                        "<file_id>" if i in masked and row[i] in file_ids else row[i] for i in keep
                    )
                    for row in rows
                ),
                key=repr,
            )
        return marts, carriers


def test_a_compactly_reserialised_delivery_gives_the_same_marts(tmp_path, session_cache):
    pretty = pristine_tiny_run(session_cache, tmp_path / "pretty")  # seed 7, as of 2026-10-15
    assert pretty.result.returncode == 0, pretty.result.stdout + pretty.result.stderr[-3000:]

    data_dir = tmp_path / "compact"
    env = generate(data_dir)  # the tiny region, seed 7, as of 2026-10-15
    assert _rewrite_compactly(data_dir / "landing") > 20
    compact = PipelineRun(data_dir, env, {}, run_cli(["run"], env))
    assert compact.result.returncode == 0, compact.result.stdout + compact.result.stderr[-3000:]

    expected, expected_carriers = _marts(pretty.warehouse)
    got, got_carriers = _marts(compact.warehouse)
    assert expected_carriers == got_carriers
    allowed = {t: LINEAGE.get(t, set()) | MASKED.get(t, set()) for t in got_carriers}
    assert all(carrying <= allowed[t] for t, carrying in got_carriers.items()), got_carriers
    assert sorted(got) == sorted(expected) and len(expected) >= 10
    differing = [table for table in expected if got[table] != expected[table]]
    assert differing == []

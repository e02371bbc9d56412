"""A failing dbt test on a model with file lineage names the files its failing rows come from
(issue 13, point 9): the tests of staging and invoicing models keep their failing rows as views
(dbt_project.yml), and the dbt step adds the files to the check's metadata."""

from __future__ import annotations

import json
from datetime import datetime

import duckdb
import pytest
from dagster import AssetCheckResult, AssetKey

from jeugdhulp.ingest.raw_tables import create_raw_schema_sql
from jeugdhulp.quality.failing_files import files_of_failing_rows
from orchestration.assets.dbt import _failing_files_metadata
from tests.support.dbt import DBT, run_dbt

GOOD = "a" * 64
BAD = "b" * 64
TEST_ID = "not_null_stg_reference__providers_provider_agb"


class _Log:
    def warning(self, message: str) -> None:  # pragma: no cover - only on a failure
        raise AssertionError(message)


@pytest.fixture(scope="module")
def failed(tmp_path_factory):
    if not DBT.exists():
        pytest.skip(f"dbt executable not found beside the interpreter: {DBT}")
    work = tmp_path_factory.mktemp("dbt_failing_files")
    warehouse = work / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(create_raw_schema_sql())
        for seq, (file_id, rows) in enumerate(
            [
                (GOOD, [(1, "12345678", "Goed", "raamcontract")]),
                # the newest snapshot, with two rows without an AGB code
                (BAD, [(1, "12345678", "Goed", "raamcontract"), (2, None, "Zonder", "x"),
                       (3, None, "Leeg", "x")]),
            ],
            start=1,
        ):  # fmt: skip
            con.execute(
                "insert into raw.file_registry (file_id, source, landed_path, stored_path, "
                "size_bytes, status, content_type, rows_loaded, ingested_at, ingested_seq) "
                "values (?, 'reference', ?, ?, 1, 'ingested', 'providers', ?, ?, ?)",
                [file_id, f"reference/p{seq}.csv", f"archive/reference/p{seq}.csv", len(rows),
                 datetime(2026, 10, seq), seq],
            )  # fmt: skip
            con.executemany(
                "insert into raw.reference_providers values (?, ?, ?, ?, ?)",
                [(file_id, *row) for row in rows],
            )
    result = run_dbt(warehouse, work, "2026-10-15", "build", "--select", "stg_reference__providers")
    assert result.returncode == 1 and "FAIL" in result.stdout, result.stdout[-3000:]
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    nodes = manifest["nodes"]
    (unique_id,) = [k for k in nodes if k.startswith(f"test.jeugdhulp.{TEST_ID}")]
    return warehouse, nodes, unique_id


def test_the_failing_rows_are_kept_and_lead_to_their_file(failed):
    warehouse, nodes, unique_id = failed
    relation = nodes[unique_id]["relation_name"]
    assert "dbt_test__audit" in relation
    with duckdb.connect(str(warehouse), read_only=True) as con:
        files, total = files_of_failing_rows(con, relation)
    assert total == 1
    assert [(f.file_id, f.path, f.unexpected) for f in files] == [
        (BAD, "archive/reference/p2.csv", 2)
    ]


def test_the_check_names_the_file_and_the_takeout(failed):
    warehouse, nodes, unique_id = failed
    event = AssetCheckResult(
        passed=False,
        asset_key=AssetKey(["staging", "stg_reference__providers"]),
        check_name=TEST_ID,
        metadata={"unique_id": unique_id},
    )
    with duckdb.connect(str(warehouse), read_only=True) as con:
        metadata = _failing_files_metadata(con, event, nodes, _Log())
    assert metadata["failing_files_total"] == 1
    assert metadata["failing_files"].value == {
        "total": 1,
        "files": [{"file_id": BAD, "path": "archive/reference/p2.csv", "unexpected": 2}],
    }
    assert "jeugdhulp quarantine bbbbbbbbbbbb" in metadata["failing_files_table"].value


def test_a_test_whose_rows_carry_no_file_names_none(failed):
    """accepted_values returns the values, not the rows: no file to name."""
    warehouse, nodes, _ = failed
    (unique_id,) = [
        k for k in nodes if k.startswith("test.jeugdhulp.accepted_values_stg_reference__providers")
    ]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(f"select count(*) from {nodes[unique_id]['relation_name']}").fetchone()[
            0
        ]
        assert files_of_failing_rows(con, nodes[unique_id]["relation_name"]) == ((), 0)

"""A blocking raw check names the files whose rows fail it, and how to take one out."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from dagster import AssetCheckSeverity, AssetKey, MetadataValue, asset, materialize

from jeugdhulp.ingest.raw_tables import create_raw_schema_sql
from jeugdhulp.quality.failing_files import (
    FAILING_FILES_KEPT,
    files_markdown,
    summary_lines,
    takeout_command,
)
from jeugdhulp.quality.results import FailingFile, SuiteResult
from jeugdhulp.quality.validation import validate_table
from orchestration.assets.quality import GX_CHECK_NAME, build_quality_checks
from orchestration.pipeline_run import CheckVerdict, RunSummary
from orchestration.resources import JeugdhulpSettings
from tests.support.ingest_files import make_settings

INVOICES = "raw.ijw_invoice_lines"
PROVIDERS = "raw.reference_providers"
A, B, C = "a" * 64, "b" * 64, "c" * 64


def _file(letter: str, number: int) -> str:
    return f"{letter}{number:063d}"


def _registry(con, files: list[tuple[str, str, int]]) -> None:
    """Registry entries (file_id, stored_path, ingested_seq) of ingested iJw files."""
    for file_id, stored, seq in files:
        con.execute(
            "insert into raw.file_registry values (?, 'ijw', ?, ?, 100, 'ingested', null, "
            "'JW323', 1, timestamp '2026-03-01', ?)",
            [file_id, stored.removeprefix("archive/"), stored, seq],
        )


def _lines(con, rows: list[tuple[str, int, str, int, str]]) -> None:
    """JW323 lines (file_id, record_position, receiver, amount_cents, debit_credit)."""
    for file_id, position, receiver, amount, sign in rows:
        con.execute(
            "insert into raw.ijw_invoice_lines (file_id, record_position, message_id, "
            "message_date, sender, receiver, client_key, bsn_valid, declaration_number, "
            "declaration_date, reference_number, allocation_number, product_category, "
            "product_code, period_start, period_end, volume, unit, tariff_cents, amount_cents, "
            "debit_credit) values (?, ?, 'M', date '2026-03-05', '12345678', ?, "
            "'0123456789abcdef0123456789abcdef', true, 'D1', date '2026-03-05', 'R' || ?, 'T1', "
            "'45', '45A48', date '2026-02-01', date '2026-02-28', 1, '04', 100, ?, ?)",
            [file_id, position, receiver, f"{file_id[:1]}{position}", amount, sign],
        )


@pytest.fixture
def warehouse(tmp_path) -> Path:
    """A: two negative amounts and a debit_credit 'X' (critical), B: a 3-digit receiver
    (critical), C: an amount that is not volume × tariff (a warning only)."""
    path = tmp_path / "warehouse" / "warehouse.duckdb"
    path.parent.mkdir()
    with duckdb.connect(str(path)) as con:
        con.execute(create_raw_schema_sql())
        _registry(
            con,
            [
                (A, "archive/ijw/2026-03/JW323_BSN-masked.xml", 1),
                (B, "archive/ijw/2026-03/b.xml", 2),
                (C, "archive/ijw/2026-03/c.xml", 3),
            ],
        )
        _lines(
            con,
            [
                (A, 1, "0546", -100, "D"),
                (A, 2, "0546", 100, "D"),
                (A, 3, "0546", -100, "D"),
                (A, 4, "0546", 100, "X"),
                (B, 1, "546", 100, "D"),
                (B, 2, "0546", 100, "D"),
                (C, 1, "0546", 999, "D"),
            ],
        )
    return path


def test_the_files_whose_rows_fail_a_critical_expectation_are_named(warehouse):
    result = validate_table(warehouse, INVOICES, batch_rows=2)  # failures in several batches
    assert result.severity == "error" and result.batches == 4
    assert result.failing_files == (
        FailingFile(A, "archive/ijw/2026-03/JW323_BSN-masked.xml", 3),
        FailingFile(B, "archive/ijw/2026-03/b.xml", 1),
    )
    assert result.failing_files_total == 2
    # the counts are GX's unexpected counts of the failed critical expectations, per file
    critical = [o for o in result.failed if o.severity == "critical"]
    assert sum(o.unexpected_count for o in critical) == 4


def test_warnings_name_no_file(warehouse):
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"delete from raw.ijw_invoice_lines where file_id in ('{A}', '{B}')")
    result = validate_table(warehouse, INVOICES)
    assert result.severity == "warn"
    assert (result.failing_files, result.failing_files_total) == ((), 0)


def test_only_the_validated_rows_count(warehouse):
    """An incremental run validates files above the watermark: A and B lie below it."""
    with duckdb.connect(str(warehouse)) as con:
        _registry(con, [(_file("d", 1), "archive/ijw/2026-04/d.xml", 4)])
        _lines(con, [(_file("d", 1), 1, "0546", -5, "D")])
    result = validate_table(warehouse, INVOICES, after_seq=3)
    assert result.failing_files == (FailingFile(_file("d", 1), "archive/ijw/2026-04/d.xml", 1),)


def test_a_duplicate_record_names_its_file(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(create_raw_schema_sql())
        con.execute(
            "insert into raw.file_registry values (?, 'reference', 'reference/providers.csv', "
            "'archive/reference/providers.csv', 10, 'ingested', null, 'providers', 3, "
            "timestamp '2026-03-01', 1)",
            [A],
        )
        con.execute(
            "insert into raw.reference_providers values "
            f"('{A}', 2, '12345678', 'Zorg', 'raamcontract'), "
            f"('{A}', 2, '12345679', 'Zorg 2', 'raamcontract'), "
            f"('{A}', 3, '12345670', 'Zorg 3', 'raamcontract')"
        )
    result = validate_table(path, PROVIDERS)
    assert result.severity == "error"
    assert result.failing_files == (FailingFile(A, "archive/reference/providers.csv", 2),)


def test_at_most_twenty_files_are_kept_most_failures_first(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    files = [_file("e", n) for n in range(25)]
    with duckdb.connect(str(path)) as con:
        con.execute(create_raw_schema_sql())
        _registry(con, [(f, f"archive/ijw/{n}.xml", n + 1) for n, f in enumerate(files)])
        _lines(con, [(f, 1, "0546", -1, "D") for f in files])
        _lines(con, [(files[24], 2, "0546", -1, "D")])  # the last file fails twice
    result = validate_table(path, INVOICES, batch_rows=7)
    assert result.failing_files_total == 25
    assert len(result.failing_files) == FAILING_FILES_KEPT == 20
    assert result.failing_files[0] == FailingFile(files[24], "archive/ijw/24.xml", 2)
    assert [f.file_id for f in result.failing_files[1:]] == files[:19]


def test_a_file_missing_from_the_registry_is_named_by_its_id(warehouse):
    orphan = _file("f", 1)
    with duckdb.connect(str(warehouse)) as con:
        _lines(con, [(orphan, 1, "0546", -1, "D")])
    result = validate_table(warehouse, INVOICES)
    assert FailingFile(orphan, None, 1) in result.failing_files


def test_failing_files_survive_the_saved_results(warehouse):
    result = validate_table(warehouse, INVOICES)
    again = SuiteResult.from_dict(result.to_dict())
    assert again.failing_files == result.failing_files
    assert again.failing_files_total == 2
    older = {k: v for k, v in result.to_dict().items() if not k.startswith("failing_files")}
    assert SuiteResult.from_dict(older).failing_files == ()  # saved before this existed


# --- how they are shown ------------------------------------------------------------------------


FILES = [
    FailingFile(A, "archive/ijw/2026-03/JW323_BSN-masked.xml", 3),
    FailingFile(B, None, 1),
]


def test_the_command_to_take_a_file_out():
    assert takeout_command(A) == f'jeugdhulp quarantine {A[:12]} --reason "…"'


def test_the_markdown_table_for_the_check_metadata():
    table = files_markdown(FILES, total=7)
    assert table.splitlines() == [
        "| file | sha256 | unexpected |",
        "|---|---|---|",
        f"| `archive/ijw/2026-03/JW323_BSN-masked.xml` | `{A[:12]}` | 3 |",
        f"| (not in raw.file_registry) | `{B[:12]}` | 1 |",
        "| … and 5 more files | | |",
        "",
        f'Take one out: `jeugdhulp quarantine {A[:12]} --reason "…"` (docs/contract.md §1).',
    ]


def test_the_run_summary_lines():
    data = {"total": 7, "files": [f._asdict() for f in FILES]}
    assert summary_lines(data, limit=1) == [
        "rows failing it come from 7 files:",
        f"  archive/ijw/2026-03/JW323_BSN-masked.xml  (sha256 {A[:12]}, 3 unexpected)",
        "  … and 6 more (the check's metadata lists the first 20)",
        f'take one out: jeugdhulp quarantine {A[:12]} --reason "…"',
    ]
    assert summary_lines({"total": 1, "files": [FILES[0]._asdict()]})[0] == (
        "rows failing it come from 1 file:"
    )
    assert summary_lines(None) == [] and summary_lines({"total": 0, "files": []}) == []


def test_the_run_summary_names_the_files_under_the_blocking_check(tmp_path):
    verdict = CheckVerdict(
        name="raw/ijw_invoice_lines:great_expectations",
        description="1 of 21 expectations failed",
        metadata={"failing_files": MetadataValue.json({"total": 1, "files": [FILES[0]._asdict()]})},
    )
    summary = RunSummary(settings=make_settings(tmp_path), blocking=[verdict])
    lines = summary.render().splitlines()
    at = lines.index(
        "            ✗ raw/ijw_invoice_lines:great_expectations — 1 of 21 expectations failed"
    )
    assert lines[at + 1 : at + 4] == [
        "              rows failing it come from 1 file:",
        f"                archive/ijw/2026-03/JW323_BSN-masked.xml  (sha256 {A[:12]}, 3 unexpected)",
        f'              take one out: jeugdhulp quarantine {A[:12]} --reason "…"',
    ]


# --- on the Dagster check ------------------------------------------------------------------------


def test_the_blocking_check_carries_the_files(warehouse, monkeypatch):
    monkeypatch.setenv("JEUGDHULP_DATA_DIR", str(warehouse.parent.parent))
    monkeypatch.setenv("JEUGDHULP_AS_OF", "2026-03-15")
    key = AssetKey(["raw", "ijw_invoice_lines"])

    @asset(key=key)
    def invoices() -> None:
        return None

    checks = build_quality_checks([key])
    result = materialize(
        [invoices, *checks], resources={"settings": JeugdhulpSettings()}, raise_on_error=False
    )
    [evaluation] = result.get_asset_check_evaluations()
    assert (evaluation.passed, evaluation.severity) == (False, AssetCheckSeverity.ERROR)
    assert evaluation.check_name == GX_CHECK_NAME
    metadata = evaluation.metadata
    assert metadata["failing_files_total"].value == 2
    assert metadata["failing_files"].data == {
        "total": 2,
        "files": [
            {"file_id": A, "path": "archive/ijw/2026-03/JW323_BSN-masked.xml", "unexpected": 3},
            {"file_id": B, "path": "archive/ijw/2026-03/b.xml", "unexpected": 1},
        ],
    }
    assert f"jeugdhulp quarantine {A[:12]}" in metadata["failing_files_table"].value
    assert "jeugdhulp quarantine" in evaluation.description

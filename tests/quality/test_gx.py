"""Great Expectations suites and runner: every suite loads, verdicts and counts are exact."""

from __future__ import annotations

import json
import re
from datetime import date

import pandas as pd
import pytest

from jeugdhulp.ingest.raw_tables import RAW_TABLES
from jeugdhulp.quality.check_summary import summarise_check_results
from jeugdhulp.quality.gx_runner import batch_rows_setting, run_suite, validate_table
from jeugdhulp.quality.suites import SuiteError, list_suites, load_suite, parse_suite
from jeugdhulp.settings import Settings
from tests.support.quality_warehouse import FILE_OK, build_warehouse


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    return build_warehouse(tmp_path_factory.mktemp("wh") / "warehouse.duckdb")


def test_one_suite_per_raw_table_and_per_key_mart():
    names = set(list_suites())
    assert {f"raw.{table}" for table in RAW_TABLES} <= names
    for mart in (
        "fct_invoice_lines",
        "mart_costs_monthly",
        "mart_kpi_annual",
        "mart_invoice_timeliness",
        "mart_invoicing_completeness",
        "mart_budget_utilisation",
        "dq_findings",
    ):
        assert f"marts.{mart}" in names


@pytest.mark.parametrize("name", list_suites())
def test_every_suite_file_is_a_valid_gx_suite(name):
    from great_expectations.core import ExpectationSuite

    definition = load_suite(name)
    suite = ExpectationSuite(**definition.to_gx_dict())
    assert len(suite.expectations) == len(definition.expectations)
    assert {e.severity.value for e in suite.expectations} <= {"critical", "warning"}
    # raw suites check columns the raw DDL really has
    if definition.schema == "raw":
        ddl = RAW_TABLES[definition.table]
        for column in definition.columns:
            assert re.search(rf"^\s*{column}\s", ddl, re.MULTILINE), (
                f"{name}: {column} not in raw DDL"
            )


def test_suite_file_problems_are_named():
    with pytest.raises(SuiteError, match="asset_key"):
        parse_suite(
            {"name": "raw.x", "expectations": [{"type": "t", "kwargs": {}}]}, source="x.json"
        )
    with pytest.raises(SuiteError, match="severity 'fatal'"):
        parse_suite(
            {
                "name": "raw.x",
                "meta": {"asset_key": ["raw", "x"]},
                "expectations": [{"type": "t", "kwargs": {}, "severity": "fatal"}],
            },
            source="x.json",
        )
    with pytest.raises(SuiteError, match="no suite 'raw.nope'"):
        load_suite("raw.nope")
    with pytest.raises(SuiteError, match="lineage_columns must list column names, file_id first"):
        parse_suite(
            {
                "name": "marts.x",
                "meta": {"asset_key": ["marts", "x"], "lineage_columns": ["rejection_file_id"]},
                "expectations": [{"type": "t", "kwargs": {}}],
            },
            source="x.json",
        )


def test_suites_the_batched_runner_cannot_combine_are_refused():
    def suite(expectation):
        return {"name": "raw.x", "meta": {"asset_key": ["raw", "x"]}, "expectations": [expectation]}

    with pytest.raises(
        SuiteError, match="expect_column_mean_to_be_between.*statistic of the whole column"
    ):
        parse_suite(
            suite(
                {
                    "type": "expect_column_mean_to_be_between",
                    "kwargs": {"column": "a", "min_value": 0},
                }
            )
        )
    with pytest.raises(SuiteError, match="cannot take a row_condition"):
        parse_suite(
            suite(
                {
                    "type": "expect_column_values_to_be_unique",
                    "kwargs": {
                        "column": "a",
                        "row_condition": {
                            "type": "nullity",
                            "column": {"name": "b"},
                            "is_null": False,
                        },
                    },
                }
            )
        )
    definition = parse_suite(
        suite(
            {"type": "expect_compound_columns_to_be_unique", "kwargs": {"column_list": ["a", "b"]}}
        )
    )
    assert (definition.row_expectations, definition.frame_columns) == ((), [])
    assert len(definition.table_expectations) == 1 and definition.columns == ["a", "b"]


def test_every_suite_splits_into_row_wise_and_table_wide_expectations():
    for name in list_suites():
        definition = load_suite(name)
        table_wide = {e["type"] for e in definition.table_expectations}
        assert table_wide <= {
            "expect_compound_columns_to_be_unique",
            "expect_column_values_to_be_unique",
        }
        assert len(definition.row_expectations) + len(definition.table_expectations) == len(
            definition.expectations
        )


def test_batch_size_setting():
    assert batch_rows_setting({}) == 250_000
    assert batch_rows_setting({"JEUGDHULP_GX_BATCH_ROWS": " 5000 "}) == 5000
    for wrong in ("0", "-3", "veel"):
        with pytest.raises(ValueError, match="JEUGDHULP_GX_BATCH_ROWS must be a positive number"):
            batch_rows_setting({"JEUGDHULP_GX_BATCH_ROWS": wrong})


def test_invoice_lines_suite_finds_the_amount_defect_as_a_warning(warehouse):
    result = validate_table(warehouse, "raw.ijw_invoice_lines")
    assert result.row_count == 3
    assert result.severity == "warn"
    assert [(o.label, o.unexpected_count) for o in result.failed] == [
        ("expect_column_pair_values_to_be_equal(amount_cents, expected_amount_cents)", 1)
    ]
    assert result.failed[0].examples == ("(16000, 15600)",)


def test_file_registry_suite_reports_the_quarantined_file(warehouse):
    result = validate_table(warehouse, "raw.file_registry")
    assert result.severity == "warn"
    assert result.unexpected_counts == {"expect_column_values_to_be_in_set(status)": 1}


def test_critical_failure_makes_the_suite_an_error():
    frame = pd.DataFrame(
        {
            "file_id": [FILE_OK, FILE_OK],
            "record_position": pd.array([1, 1], dtype="int32"),
            "agb_code": ["12345678", None],
            "year": pd.array([2025, 1999], dtype="int32"),
            "budget_ceiling_eur": [1000.0, -5.0],
        }
    )
    result = run_suite("raw.reference_budget_ceilings", frame)
    assert result.severity == "error"
    failed = {o.label: (o.severity, o.unexpected_count) for o in result.failed}
    assert failed == {
        "expect_compound_columns_to_be_unique(file_id, record_position)": ("critical", 2),
        "expect_column_values_to_not_be_null(agb_code)": ("critical", 1),
        "expect_column_values_to_be_between(year)": ("critical", 1),
        "expect_column_values_to_be_between(budget_ceiling_eur)": ("warning", 1),
    }


def test_missing_table_and_missing_column_fail_with_a_reason(warehouse, tmp_path):
    missing = validate_table(warehouse, "marts.fct_invoice_lines")
    assert missing.severity == "error" and missing.row_count == 0
    assert "does not exist" in missing.failed[0].error

    import duckdb

    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema marts")
        connection.execute(
            "create table marts.dq_findings as select 'x' as rule_id, 'warn' as severity, "
            "'m' as message, '12345678' as provider_agb"
        )
    result = validate_table(path, "marts.dq_findings")
    assert [o.label for o in result.failed] == [
        "expect_column_values_to_match_regex(municipality_code)"
    ]
    assert result.failed[0].error


def test_data_docs_site_is_built_offline(warehouse, tmp_path):
    from jeugdhulp.quality.data_docs import build_data_docs, load_saved_results, save_results

    settings = Settings(
        data_dir=tmp_path, as_of=date(2025, 3, 15), pseudonym_key=None, postgres_dsn=None
    )
    results = [
        validate_table(warehouse, name) for name in ("raw.file_registry", "raw.ijw_invoice_lines")
    ]
    save_results(settings, results)
    index = build_data_docs(settings, load_saved_results(settings))
    assert index == tmp_path / "published" / "regio" / "kwaliteit" / "index.html"
    text = index.read_text(encoding="utf-8")
    assert "Peildatum 2025-03-15" in text and text.count("<tr><td>") == 2
    assert "raw.ijw_invoice_lines" in text and "waarschuwing" in text
    linked = re.findall(r'href="(validations/[^"]+)"', text)
    assert len(linked) == 2 and all((index.parent / link).exists() for link in linked)
    pages = list(index.parent.rglob("*.html"))
    assert len(pages) == 5  # index + 2 validation pages + 2 suite pages
    remote = re.compile(
        r'(src="https?:|<link[^>]*href="https?:|url\(\s*[\'"]?https?:)', re.IGNORECASE
    )
    for page in pages:
        assert not remote.search(page.read_text(encoding="utf-8")), f"{page} loads something remote"
    saved = json.loads((index.parent / "results" / "raw.ijw_invoice_lines.json").read_text())
    assert saved["row_count"] == 3 and saved["gx_result"]["success"] is False
    assert (saved["scope"], saved["seq_through"]) == (
        "table",
        2,
    )  # rows of files up to ingested_seq 2
    assert "alle rijen, bestanden t/m ingested_seq 2" in text
    reloaded = {r.suite_name: r for r in load_saved_results(settings)}
    assert reloaded["raw.ijw_invoice_lines"] == results[1]  # every field but GX's own result


class _Evaluation:
    def __init__(self, path, name, passed, severity="ERROR", blocking=False):
        self.asset_key = type("Key", (), {"path": path})()
        self.check_name, self.passed, self.blocking = name, passed, blocking
        self.severity = type("Severity", (), {"value": severity})()


def test_check_summary_sorts_passed_warned_failed():
    summary = summarise_check_results(
        [
            _Evaluation(["raw", "pgb"], "great_expectations", True),
            _Evaluation(
                ["raw", "ijw_invoice_lines"], "great_expectations", False, "WARN", blocking=True
            ),
            _Evaluation(
                ["marts", "dq_findings"], "findings_by_rule", False, "ERROR", blocking=False
            ),
            _Evaluation(
                ["marts", "fct_invoice_lines"], "great_expectations", False, "ERROR", blocking=True
            ),
            _Evaluation(["raw", "pgb"], "great_expectations", True),
        ]
    )
    assert summary.passed == ["raw/pgb:great_expectations"]
    assert summary.warned == ["raw/ijw_invoice_lines:great_expectations"]
    assert summary.failed == [
        "marts/dq_findings:findings_by_rule",
        "marts/fct_invoice_lines:great_expectations",
    ]
    assert summary.blocking_failed == ["marts/fct_invoice_lines:great_expectations"]
    assert summary.blocked and summary.line() == "1 passed, 1 warned, 2 failed"

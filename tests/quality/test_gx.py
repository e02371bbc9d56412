"""Great Expectations suites and runner: every suite loads, verdicts and counts are exact."""

from __future__ import annotations

import json
import re
from datetime import date

import pandas as pd
import pytest

from jeugdhulp.ingest.raw_tables import RAW_TABLES
from jeugdhulp.quality.check_summary import summarise_check_results
from jeugdhulp.quality.suites import SuiteError, list_suites, load_suite, parse_suite
from jeugdhulp.quality.validation import batch_rows_setting, run_suite, validate_table
from jeugdhulp.settings import Settings
from tests.support.quality_warehouse import FILE_OK, build_warehouse


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    return build_warehouse(tmp_path_factory.mktemp("wh") / "warehouse.duckdb")


def test_one_suite_per_raw_table_and_none_on_marts():
    # GX validates the raw input contract; dbt tests own the marts
    assert set(list_suites()) == {f"raw.{table}" for table in RAW_TABLES}
    # + local_team_registrations, waiting_times; provider_forecasts
    assert len(RAW_TABLES) == 14 + 2 + 1
    counts = {name: len(load_suite(name).expectations) for name in list_suites()}
    assert sum(counts.values()) == 143 + 8 + 10 + 8  # + the three suites above
    assert (counts["raw.ijw_invoice_lines"], counts["raw.file_registry"]) == (21, 6)


@pytest.mark.parametrize("name", list_suites())
def test_every_suite_file_is_a_valid_gx_suite(name):
    from great_expectations.core import ExpectationSuite

    definition = load_suite(name)
    suite = ExpectationSuite(**definition.to_gx_dict())
    assert len(suite.expectations) == len(definition.expectations)
    assert {e.severity.value for e in suite.expectations} <= {"critical", "warning"}
    # raw suites check columns the raw DDL really has, and nothing the DDL already guarantees
    ddl = RAW_TABLES[definition.table]
    for column in definition.columns:
        assert re.search(rf"^\s*{column}\s", ddl, re.MULTILINE), f"{name}: {column} not in raw DDL"
    constrained = {
        column
        for column, rest in re.findall(r"^\s*(\w+)\s+(.*)$", ddl, re.MULTILINE)
        if "NOT NULL" in rest.upper() or "PRIMARY KEY" in rest.upper()
    }
    for expectation in definition.expectations:
        kwargs = expectation["kwargs"]
        assert "type" not in expectation["type"].removeprefix("expect_"), expectation
        if expectation["type"] in (
            "expect_column_values_to_not_be_null",
            "expect_column_values_to_be_unique",
        ) and not kwargs.get("row_condition"):
            assert kwargs["column"] not in constrained, f"{name}: the DDL guarantees {kwargs}"


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
    with pytest.raises(SuiteError, match="raw input contract only, not 'marts' tables"):
        parse_suite(
            {
                "name": "marts.x",
                "meta": {"asset_key": ["marts", "x"]},
                "expectations": [{"type": "t", "kwargs": {}}],
            },
            source="x.json",
        )
    with pytest.raises(SuiteError, match="checks a column type, which the raw DDL already fixes"):
        parse_suite(
            {
                "name": "raw.x",
                "meta": {"asset_key": ["raw", "x"]},
                "expectations": [
                    {
                        "type": "expect_column_values_to_be_of_type",
                        "kwargs": {"column": "a", "type_": "int32"},
                    }
                ],
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
            "agb_code": ["12345678", "1234-567"],
            "year": pd.array([2025, 1999], dtype="int32"),
            "budget_ceiling_eur": [1000.0, -5.0],
        }
    )
    result = run_suite("raw.reference_budget_ceilings", frame)
    assert result.severity == "error"
    failed = {o.label: (o.severity, o.unexpected_count) for o in result.failed}
    assert failed == {
        "expect_compound_columns_to_be_unique(file_id, record_position)": ("critical", 2),
        "expect_column_values_to_match_regex(agb_code)": ("critical", 1),
        "expect_column_values_to_be_between(year)": ("critical", 1),
        "expect_column_values_to_be_between(budget_ceiling_eur)": ("warning", 1),
    }


def test_missing_table_and_missing_column_fail_with_a_reason(tmp_path):
    import duckdb

    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema raw")
        # an older warehouse: providers.csv without its AGB column
        connection.execute(
            f"create table raw.reference_providers as select '{FILE_OK}' as file_id, "
            "1 as record_position, 'Zorg BV' as name, 'maatwerk' as contract_type"
        )
    missing = validate_table(path, "raw.pgb")
    assert missing.severity == "error" and missing.row_count == 0
    assert "does not exist" in missing.failed[0].error

    result = validate_table(path, "raw.reference_providers")
    assert [o.label for o in result.failed] == ["expect_column_values_to_match_regex(agb_code)"]
    assert result.failed[0].error and result.severity == "error"


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

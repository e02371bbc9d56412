"""Incremental, batched Great Expectations validation: raw suites validate only the rows of files
ingested since their watermark, a critical failure keeps the watermark (and keeps blocking), and a
table validated in batches gets the verdicts GX gives it as one frame."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from datetime import date, timedelta

import duckdb
import pytest
from dagster import AssetCheckSeverity, AssetKey, asset, materialize

from jeugdhulp.ingest.raw_tables import create_raw_schema_sql
from jeugdhulp.quality.gx_runner import run_suites
from jeugdhulp.quality.results import SCOPE_NEW_ROWS, SCOPE_TABLE
from jeugdhulp.quality.suites import load_suite, suite_path
from jeugdhulp.quality.validation import read_suite_frame, run_suite_definition, validate_table
from jeugdhulp.quality.watermarks import read_watermarks
from jeugdhulp.settings import Settings
from tests.support.quality_warehouse import CLIENT, PROVIDER, build_warehouse

INVOICES = "raw.ijw_invoice_lines"
REGISTRY = "raw.file_registry"
AMOUNT_RULE = "expect_column_pair_values_to_be_equal(amount_cents, expected_amount_cents)"
NEGATIVE_RULE = "expect_column_values_to_be_between(amount_cents)"


def _file_id(n: int) -> str:
    return f"{n:064x}"


def _add_file(path, seq: int, file_id: str, lines: list[tuple[int, int, int, int]]) -> None:
    """Register an ingested JW323 file at `ingested_seq` = seq with lines (position, volume, tariff, amount)."""
    with duckdb.connect(str(path)) as connection:
        connection.execute(
            "insert into raw.file_registry (file_id, source, landed_path, stored_path, size_bytes, status, reason, "
            "content_type, rows_loaded, ingested_at, ingested_seq) values "
            "(?, 'ijw', ?, ?, 900, 'ingested', null, 'JW323', ?, timestamp '2025-03-02 06:00:00', ?)",
            [file_id, f"ijw/jw323_{seq}.xml", f"archive/ijw/jw323_{seq}.xml", len(lines), seq],
        )
        for position, volume, tariff, amount in lines:
            connection.execute(
                "insert into raw.ijw_invoice_lines (file_id, record_position, message_id, message_date, sender, "
                "receiver, client_key, bsn_valid, declaration_number, declaration_date, reference_number, "
                "allocation_number, product_category, product_code, period_start, period_end, volume, unit, "
                "tariff_cents, amount_cents, debit_credit) values (?, ?, ?, date '2025-03-01', ?, '0546', ?, "
                "true, ?, date '2025-03-01', ?, 'T1', '45', '45A48', date '2025-02-01', date '2025-02-28', ?, "
                "'04', ?, ?, 'D')",
                [
                    file_id,
                    position,
                    f"M{seq}",
                    PROVIDER,
                    CLIENT,
                    f"D-{seq}",
                    f"R{seq}-{position}",
                    volume,
                    tariff,
                    amount,
                ],
            )


@pytest.fixture
def settings(tmp_path) -> Settings:
    (tmp_path / "warehouse").mkdir()
    build_warehouse(tmp_path / "warehouse" / "warehouse.duckdb")
    return Settings(
        data_dir=tmp_path, as_of=date(2025, 3, 15), pseudonym_key=None, postgres_dsn=None
    )


def _stored_watermarks(settings) -> dict[str, tuple[int, int]]:
    return {
        name: (mark.seq, mark.rows)
        for name, mark in read_watermarks(settings.warehouse_path).items()
    }


def test_a_second_run_validates_only_the_new_rows(settings):
    # first run: no watermark yet, so every row (the hand-made warehouse: files 1 and 2)
    first = run_suites(settings, [INVOICES, REGISTRY], docs=False)
    invoices, registry = first.results
    assert (invoices.scope, invoices.row_count, invoices.seq_through) == (SCOPE_TABLE, 3, 2)
    assert invoices.unexpected_counts == {AMOUNT_RULE: 1}  # the 9346 line of file 1
    assert (registry.row_count, registry.severity) == (2, "warn")  # the quarantined file
    assert first.watermarks == {INVOICES: 2, REGISTRY: 2}
    assert _stored_watermarks(settings) == {INVOICES: (2, 3), REGISTRY: (2, 2)}

    # a new file (seq 3) with two correct lines: only its rows are validated
    _add_file(settings.warehouse_path, 3, _file_id(3), [(1, 2, 5000, 10000), (2, 1, 7800, 7800)])
    second = run_suites(settings, [INVOICES, REGISTRY], docs=False)
    invoices, registry = second.results
    assert (invoices.scope, invoices.row_count, invoices.seq_range) == (SCOPE_NEW_ROWS, 2, (3, 3))
    assert invoices.success  # the 9346 line of file 1 was reported on its own run, not again
    assert (registry.scope, registry.row_count, registry.success) == (SCOPE_NEW_ROWS, 1, True)
    assert {o.element_count for o in invoices.outcomes if o.element_count is not None} == {2}
    assert second.watermarks == {INVOICES: 3, REGISTRY: 3}
    assert _stored_watermarks(settings) == {INVOICES: (3, 2), REGISTRY: (3, 1)}
    assert (
        "2 new rows" in invoices.validated_rows() and "ingested_seq 3" in invoices.validated_rows()
    )

    # nothing new: nothing validated, the watermark stays
    third = run_suites(settings, [INVOICES, REGISTRY], docs=False)
    assert [(r.nothing_new, r.row_count, r.outcomes, r.success) for r in third.results] == [
        (True, 0, (), True)
    ] * 2
    assert third.watermarks == {INVOICES: 3, REGISTRY: 3}
    assert _stored_watermarks(settings) == {INVOICES: (3, 2), REGISTRY: (3, 1)}


def test_a_critical_failure_keeps_the_watermark_and_fails_again(settings):
    run_suites(settings, [INVOICES], docs=False)
    assert _stored_watermarks(settings) == {INVOICES: (2, 3)}

    bad = _file_id(
        3
    )  # a negative amount breaks the contract (critical), and 1 × 7800 ≠ −7800 (warning)
    _add_file(settings.warehouse_path, 3, bad, [(1, 1, 7800, -7800)])
    [failed] = run_suites(settings, [INVOICES], docs=False).results
    assert (failed.severity, failed.row_count, failed.seq_range) == ("error", 1, (3, 3))
    assert failed.unexpected_counts == {NEGATIVE_RULE: 1, AMOUNT_RULE: 1}
    assert _stored_watermarks(settings) == {INVOICES: (2, 3)}

    # the next run validates the failing rows again, with the new ones, and fails again
    _add_file(settings.warehouse_path, 4, _file_id(4), [(1, 3, 100, 300), (2, 4, 100, 400)])
    [again] = run_suites(settings, [INVOICES], docs=False).results
    assert (again.severity, again.row_count, again.seq_range) == ("error", 3, (3, 4))
    assert again.unexpected_counts == {NEGATIVE_RULE: 1, AMOUNT_RULE: 1}
    assert _stored_watermarks(settings) == {INVOICES: (2, 3)}

    # the operator removes the bad delivery: the rows after the watermark pass, the watermark moves
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        connection.execute("delete from raw.ijw_invoice_lines where file_id = ?", [bad])
    [fixed] = run_suites(settings, [INVOICES], docs=False).results
    assert (fixed.success, fixed.row_count, fixed.seq_range) == (True, 2, (3, 4))
    assert _stored_watermarks(settings) == {INVOICES: (4, 2)}


def test_a_changed_suite_validates_every_row_again(settings, tmp_path):
    run_suites(settings, [INVOICES], docs=False)
    _add_file(settings.warehouse_path, 3, _file_id(3), [(1, 1, 100, 100)])
    suites = tmp_path / "suites"
    suites.mkdir()
    document = json.loads(suite_path(INVOICES).read_text(encoding="utf-8"))
    document["expectations"] = document["expectations"][:-1]  # one expectation less
    (suites / f"{INVOICES}.json").write_text(json.dumps(document), encoding="utf-8")
    [result] = run_suites(settings, [INVOICES], suites_dir=suites, docs=False).results
    assert (result.scope, result.row_count) == (SCOPE_TABLE, 4)
    assert len(result.outcomes) == len(document["expectations"])
    # the unchanged suite's watermark (seq 2) is not the changed suite's: it is replaced
    assert _stored_watermarks(settings) == {INVOICES: (3, 4)}


def test_a_new_row_duplicating_an_old_one_is_found(settings):
    run_suites(settings, [INVOICES], docs=False)
    # file 1 holds reference numbers R10, R20, R30 from the same sender; seq 3 sends R20 again
    _add_file(settings.warehouse_path, 3, _file_id(3), [(1, 1, 100, 100), (2, 1, 100, 100)])
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        connection.execute(
            "update raw.ijw_invoice_lines set reference_number = 'R20' "
            "where file_id = ? and record_position = 2",
            [_file_id(3)],
        )
    [result] = run_suites(settings, [INVOICES], docs=False).results
    [duplicate] = [
        o for o in result.failed if o.expectation_type == "expect_compound_columns_to_be_unique"
    ]
    # counted among the validated (new) rows only: the new R20, not its older twin
    assert (duplicate.columns, duplicate.unexpected_count, duplicate.element_count) == (
        ("sender", "reference_number"),
        1,
        2,
    )
    assert duplicate.examples == (str({"sender": PROVIDER, "reference_number": "R20"}),)
    assert result.severity == "warn" and _stored_watermarks(settings)[INVOICES][0] == 3


# --- batches against one frame --------------------------------------------------------------------

ROWS = 1000
BATCH = 300


def _big_table_rows() -> list[tuple]:
    """1,000 generated invoice lines plus two copies, with defects spread over the batches of 300."""
    files = [_file_id(100 + k) for k in range(4)]
    rows = []
    for i in range(ROWS):
        volume = None if 350 <= i < 360 else 1 + i % 5  # NULLs only in the second batch
        tariff = 1000 + i
        amount = (volume or 0) * tariff + (1 if i % 97 == 0 else 0)  # 9346-like defects
        bsn_valid = None if 620 <= i < 626 else (i % 211 != 0)  # NULLs only in the third batch
        receiver = "05460" if i % 333 == 1 else "0546"  # five digits: a critical regex failure
        reference = "RDUP" if i in (150, 850) else f"R{i}"  # a duplicate across batches
        period_start = date(2025, 1, 1) + timedelta(days=i % 28)
        rows.append(
            (
                files[i // 250],
                i % 250 + 1,
                f"M{i}",
                date(2025, 3, 1),
                PROVIDER,
                receiver,
                CLIENT,
                bsn_valid,
                f"D{i // 50}",
                date(2025, 3, 1),
                reference,
                "T1",
                "45",
                "45A48",
                period_start,
                date(2025, 1, 31),
                volume,
                "04",
                tariff,
                amount,
                "D",
            )
        )
    rows += [rows[5], rows[305]]  # the same file and record position twice, in another batch
    return rows


_COLUMNS = (
    "file_id, record_position, message_id, message_date, sender, receiver, client_key, bsn_valid, "
    "declaration_number, declaration_date, reference_number, allocation_number, product_category, "
    "product_code, period_start, period_end, volume, unit, tariff_cents, amount_cents, debit_credit"
)


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    path = tmp_path_factory.mktemp("big") / "warehouse.duckdb"
    rows = _big_table_rows()
    with duckdb.connect(str(path)) as connection:
        connection.execute(create_raw_schema_sql())
        connection.executemany(
            f"insert into raw.ijw_invoice_lines ({_COLUMNS}) values ({', '.join(['?'] * 21)})", rows
        )
    return path, rows


def _duplicated(keys: list[tuple]) -> int:
    counts = Counter(keys)
    return sum(1 for key in keys if counts[key] > 1)


def _key(outcome):
    return (
        outcome.label,
        outcome.severity,
        outcome.success,
        outcome.element_count,
        outcome.unexpected_count,
        outcome.observed_value,
        outcome.examples,
        outcome.error,
    )


def test_batches_give_the_verdicts_of_one_frame(big):
    path, rows = big
    definition = load_suite(INVOICES)
    batched = validate_table(path, INVOICES, batch_rows=BATCH)
    assert batched.batches == math.ceil(len(rows) / BATCH) == 4
    one_frame = run_suite_definition(definition, read_suite_frame(path, definition))
    assert batched.row_count == one_frame.row_count == len(rows)
    assert sorted(map(_key, batched.outcomes)) == sorted(map(_key, one_frame.outcomes))

    # and the counts, computed here from the generated rows
    found = {o.label: o for o in batched.failed}
    amount = sum(1 for r in rows if r[16] is not None and r[19] != r[16] * r[18])
    duplicate_references = _duplicated([(r[4], r[10]) for r in rows])
    bad_receivers = sum(1 for r in rows if not re.fullmatch(r"[0-9]{4}", r[5]))
    invalid_bsn = sum(1 for r in rows if r[7] is False)
    assert (amount, duplicate_references, bad_receivers, invalid_bsn) == (11, 6, 3, 5)
    # the two copied lines repeat (file_id, record_position) too: dbt's unique test on
    # stg_ijw__invoice_lines.invoice_line_id owns that; the suite no longer repeats it
    assert {label: o.unexpected_count for label, o in found.items()} == {
        AMOUNT_RULE: amount,
        "expect_compound_columns_to_be_unique(sender, reference_number)": duplicate_references,
        "expect_column_values_to_match_regex(receiver)": bad_receivers,
        "expect_column_values_to_be_in_set(bsn_valid)": invalid_bsn,
    }
    # NULLs in one batch only (volume, bsn_valid): counted as missing, the rows still counted
    volume = next(
        o for o in batched.outcomes if o.label == "expect_column_values_to_be_between(volume)"
    )
    assert (volume.element_count, volume.unexpected_count) == (len(rows), 0)
    missing = next(
        r.result["missing_count"]
        for r in batched.gx_result.results
        if r.expectation_config.type == "expect_column_values_to_be_between"
        and r.expectation_config.kwargs["column"] == "volume"
    )
    assert missing == sum(1 for r in rows if r[16] is None) == 10

    # one GX result for the Data Docs, its statistics over the combined verdicts
    statistics = batched.gx_result.statistics
    assert statistics["evaluated_expectations"] == len(definition.expectations)
    assert statistics["unsuccessful_expectations"] == len(batched.failed) == 4
    assert batched.gx_result.meta["validated_rows"]["batches"] == 4
    examples = next(
        r
        for r in batched.gx_result.results
        if r.expectation_config.type == "expect_column_values_to_match_regex"
        and r.expectation_config.kwargs["column"] == "receiver"
    ).result
    assert examples["partial_unexpected_index_list"] == [
        1,
        334,
        667,
    ]  # row numbers, not batch positions


def test_the_batch_size_does_not_change_the_verdicts(big):
    path, rows = big
    whole = validate_table(path, INVOICES, batch_rows=10_000)
    small = validate_table(path, INVOICES, batch_rows=97)
    assert (whole.batches, small.batches) == (1, math.ceil(len(rows) / 97))
    assert sorted(map(_key, whole.outcomes)) == sorted(map(_key, small.outcomes))


# --- through Dagster: the blocking check, run after run --------------------------------------------

RAW_INVOICES = AssetKey(["raw", "ijw_invoice_lines"])
DOWNSTREAM = AssetKey(["staging", "toy"])


def test_the_dagster_check_keeps_blocking_until_the_rows_are_fixed(settings):
    from orchestration.assets.quality import GX_CHECK_NAME, build_quality_checks
    from orchestration.resources import JeugdhulpSettings

    run_settings = JeugdhulpSettings(data_dir=str(settings.data_dir), as_of="2025-03-15")

    @asset(key=RAW_INVOICES)
    def raw_invoices() -> None:
        return None

    @asset(key=DOWNSTREAM, deps=[RAW_INVOICES])
    def downstream() -> None:
        return None

    def run():
        result = materialize(
            [raw_invoices, downstream, *build_quality_checks([RAW_INVOICES, DOWNSTREAM])],
            resources={"settings": run_settings},
            raise_on_error=False,
        )
        [evaluation] = [
            e for e in result.get_asset_check_evaluations() if e.check_name == GX_CHECK_NAME
        ]
        built = {e.asset_key for e in result.get_asset_materialization_events()}
        return evaluation, DOWNSTREAM in built

    evaluation, built = run()  # every row: only the 9346 warning
    assert (evaluation.passed, evaluation.severity, built) == (False, AssetCheckSeverity.WARN, True)
    assert (evaluation.metadata["rows"].value, evaluation.metadata["watermark"].value) == (3, 2)

    _add_file(settings.warehouse_path, 3, _file_id(3), [(1, 1, 7800, -7800)])
    for seq, rows in ((3, 1), (4, 3)):
        if seq == 4:
            _add_file(settings.warehouse_path, 4, _file_id(4), [(1, 1, 100, 100), (2, 1, 100, 100)])
        evaluation, built = run()
        assert (evaluation.passed, evaluation.severity, built) == (
            False,
            AssetCheckSeverity.ERROR,
            False,
        )
        metadata = {k: v.value for k, v in evaluation.metadata.items()}
        assert (metadata["rows"], metadata["ingested_seq_from"], metadata["ingested_seq_to"]) == (
            rows,
            3,
            seq,
        )
        assert (metadata["watermark"], metadata["failed_critical"]) == (2, 1)
        assert "validated again next run" in evaluation.description


def test_columns_without_values_get_the_dtype_of_the_whole_range(tmp_path):
    """DuckDB hands pandas a VARCHAR column with no value at all as `object` (GX then checks it value
    by value), one with values as `str`; an integer column as nullable `Int32` only when it holds a
    NULL. A batch must get the dtype of the whole validated range, not of its own rows."""
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute(create_raw_schema_sql())
        connection.execute(f"""
            insert into raw.reference_providers (file_id, record_position, agb_code, name, contract_type)
            select '{_file_id(7)}', i::int, lpad((10000000 + i)::varchar, 8, '0'),
                   case when i >= 300 then 'Aanbieder ' || i end, null
            from range(700) as t(i)""")
    definition = load_suite("raw.reference_providers")
    batched = validate_table(path, "raw.reference_providers", batch_rows=250)
    one_frame = run_suite_definition(definition, read_suite_frame(path, definition))
    assert batched.batches == 3
    assert sorted(map(_key, batched.outcomes)) == sorted(map(_key, one_frame.outcomes))
    by_label = {o.label: o for o in batched.outcomes}
    assert by_label["expect_column_values_to_not_be_null(name)"].unexpected_count == 300
    # no value at all: every row missing, none unexpected, like the one frame
    contract_type = by_label["expect_column_values_to_be_in_set(contract_type)"]
    assert (contract_type.success, contract_type.unexpected_count, contract_type.element_count) == (
        True,
        0,
        700,
    )


def test_the_data_docs_show_which_rows_were_validated(settings):
    first = run_suites(settings, [INVOICES])
    index = settings.published_dir / "regio" / "kwaliteit" / "index.html"
    assert first.docs_path == index and first.docs_error is None
    assert "alle rijen, bestanden t/m ingested_seq 2" in index.read_text(encoding="utf-8")

    _add_file(settings.warehouse_path, 3, _file_id(3), [(1, 2, 5000, 10000), (2, 1, 7800, 7800)])
    run_suites(settings, [INVOICES])
    text = index.read_text(encoding="utf-8")
    [row] = [line for line in text.splitlines() if line.startswith("<tr><td>") and INVOICES in line]
    assert "nieuwe rijen, bestanden ingested_seq 3" in row and "<td>2</td>" in row
    saved = index.parent / "results" / f"{INVOICES}.json"
    assert json.loads(saved.read_text())["row_count"] == 2

    # nothing new: the site (and the page of the two rows) stays as it is, and so does the verdict
    before = (index.stat().st_mtime_ns, saved.stat().st_mtime_ns)
    third = run_suites(settings, [INVOICES])
    assert third.results[0].carried_over and third.docs_path == index
    assert third.results[0].row_count == 2
    assert (index.stat().st_mtime_ns, saved.stat().st_mtime_ns) == before


def test_a_suite_without_new_rows_keeps_its_last_verdict(settings):
    """A warning stays a warning on the quiet days after it: the check reflects the data, not
    only the day's new rows (until new rows are validated, which gives a fresh verdict)."""
    [first] = run_suites(settings, [INVOICES]).results
    assert (first.severity, first.unexpected_counts) == ("warn", {AMOUNT_RULE: 1})

    [quiet] = run_suites(settings, [INVOICES]).results
    assert quiet.carried_over and not quiet.nothing_new
    assert (quiet.severity, quiet.unexpected_counts) == ("warn", {AMOUNT_RULE: 1})
    assert (quiet.row_count, quiet.validated_at) == (first.row_count, first.validated_at)
    assert _stored_watermarks(settings) == {INVOICES: (2, 3)}  # the watermark did not move

    _add_file(settings.warehouse_path, 3, _file_id(3), [(1, 2, 5000, 10000)])
    [fresh] = run_suites(settings, [INVOICES]).results
    assert not fresh.carried_over and fresh.success and fresh.seq_range == (3, 3)

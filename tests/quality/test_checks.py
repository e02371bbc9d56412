"""The project's quality asset checks on a hand-made warehouse, run in-process with Dagster."""

from __future__ import annotations

import duckdb
import pytest
from dagster import AssetCheckKey, AssetCheckSeverity, AssetKey, asset, materialize

from orchestration.assets.quality import GX_CHECK_NAME, build_quality_checks
from orchestration.resources import JeugdhulpSettings
from tests.support.quality_warehouse import build_warehouse

RAW_INVOICES = AssetKey(["raw", "ijw_invoice_lines"])
RAW_REGISTRY = AssetKey(["raw", "file_registry"])
COMPLETENESS = AssetKey(["marts", "mart_invoicing_completeness"])
TIMELINESS = AssetKey(["marts", "mart_invoice_timeliness"])
FINDINGS = AssetKey(["marts", "dq_findings"])
FLAGS = AssetKey(["intermediate", "int_providers_invoicing_flagged"])
PUBLISHED = AssetKey(["published", "toy"])


def _toy_assets():
    """No-op stand-ins for ingestion, dbt and publishing: the warehouse is made beforehand."""

    def noop(key, deps=()):
        @asset(key=key, deps=list(deps))
        def _asset() -> None:
            return None

        return _asset

    return [
        noop(RAW_INVOICES),
        noop(RAW_REGISTRY),
        noop(COMPLETENESS, [RAW_INVOICES]),
        noop(TIMELINESS, [RAW_INVOICES]),
        noop(FLAGS, [COMPLETENESS, TIMELINESS]),
        noop(FINDINGS, [FLAGS]),
        noop(PUBLISHED, [COMPLETENESS, TIMELINESS, FINDINGS]),
    ]


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    (tmp_path / "warehouse").mkdir()
    build_warehouse(tmp_path / "warehouse" / "warehouse.duckdb")
    monkeypatch.setenv("JEUGDHULP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JEUGDHULP_AS_OF", "2025-03-15")
    return tmp_path


def _run(assets):
    checks = build_quality_checks([key for a in assets for key in a.keys])
    # the run's settings resource with empty fields: it reads JEUGDHULP_DATA_DIR and _AS_OF
    resources = {"settings": JeugdhulpSettings()}
    return checks, materialize([*assets, *checks], resources=resources, raise_on_error=False)


def test_checks_only_for_defined_assets_and_all_in_the_warehouse_pool():
    checks = build_quality_checks([RAW_INVOICES, COMPLETENESS])
    keys = {key for check in checks for key in check.check_keys}
    assert keys == {
        AssetCheckKey(RAW_INVOICES, GX_CHECK_NAME),
        AssetCheckKey(COMPLETENESS, "incomplete_invoicing"),
    }  # no GX suite on a mart: dbt tests own the marts
    for check in checks:
        assert {op.pool for op in check.node_def.iterate_op_defs()} == {"warehouse"}


def test_every_check_says_what_it_checks_and_what_to_do_when_it_fails():
    checks = build_quality_checks([RAW_INVOICES, RAW_REGISTRY, COMPLETENESS, TIMELINESS, FINDINGS])
    specs = {spec.key: spec.description for check in checks for spec in check.check_specs}
    assert len(specs) == 5
    for key, description in specs.items():
        if key.name == GX_CHECK_NAME:
            what = f"Raw input contract of {'.'.join(key.asset_key.path)}"
            todo = ("Critical failure (ERROR, blocks dbt)", "remove its rows", "Warning (WARN")
        else:
            what, todo = (
                ("Providers flagged", "findings per rule")[key.name == "findings_by_rule"],
                ("When it",),
            )
        assert what in description and all(t in description for t in todo), key


def test_quality_checks_on_the_hand_made_warehouse(data_dir):
    _, result = _run(_toy_assets())
    evaluations = {(e.asset_key, e.check_name): e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == {
        (RAW_INVOICES, GX_CHECK_NAME),
        (RAW_REGISTRY, GX_CHECK_NAME),
        (COMPLETENESS, "incomplete_invoicing"),
        (TIMELINESS, "late_invoicing"),
        (FINDINGS, "findings_by_rule"),
    }
    # the 9346 line is a warning: reported, not blocking
    invoices = evaluations[(RAW_INVOICES, GX_CHECK_NAME)]
    assert (invoices.passed, invoices.severity, invoices.blocking) == (
        False,
        AssetCheckSeverity.WARN,
        True,
    )
    assert invoices.metadata["failed_warning"].value == 1 and invoices.metadata["rows"].value == 3
    registry = evaluations[(RAW_REGISTRY, GX_CHECK_NAME)]  # the quarantined file: a warning
    assert (registry.passed, registry.severity) == (False, AssetCheckSeverity.WARN)

    incomplete = evaluations[(COMPLETENESS, "incomplete_invoicing")]
    assert (incomplete.passed, incomplete.severity) == (False, AssetCheckSeverity.WARN)
    table = incomplete.metadata["providers"].value
    assert "| warn | 12345678 | Zorg BV | 10 | 1 | 10.0 | 2 |" in table and "87654321" not in table

    late = evaluations[(TIMELINESS, "late_invoicing")]
    assert (late.passed, late.severity, late.blocking) == (False, AssetCheckSeverity.ERROR, False)
    assert "| error | 12345678 | Zorg BV | 10 | 2 | 20.0 |" in late.metadata["providers"].value

    findings = evaluations[(FINDINGS, "findings_by_rule")]
    assert (
        findings.metadata["findings"].value == 3 and findings.metadata["error_findings"].value == 2
    )

    # nothing blocked: the non-blocking ERROR of late_invoicing lets publishing run
    assert result.success
    assert PUBLISHED in {e.asset_key for e in result.get_asset_materialization_events()}
    index = data_dir / "published" / "regio" / "kwaliteit" / "index.html"
    assert index.read_text(encoding="utf-8").count("<tr><td>") == 2  # the two raw suites


def test_a_critical_expectation_failure_blocks_what_is_downstream(data_dir):
    with duckdb.connect(str(data_dir / "warehouse" / "warehouse.duckdb")) as connection:
        # an iJw amount is unsigned (DebetCredit carries the sign): a negative one breaks the contract
        connection.execute(
            "update raw.ijw_invoice_lines set amount_cents = -7800 where record_position = 20"
        )
    _, result = _run(_toy_assets())
    assert not result.success
    [evaluation] = [
        e
        for e in result.get_asset_check_evaluations()
        if e.asset_key == RAW_INVOICES and e.check_name == GX_CHECK_NAME
    ]
    assert (evaluation.passed, evaluation.severity) == (False, AssetCheckSeverity.ERROR)
    assert evaluation.metadata["failed_critical"].value == 1
    assert "validated again next run" in evaluation.description
    built = {e.asset_key for e in result.get_asset_materialization_events()}
    assert built.isdisjoint({COMPLETENESS, TIMELINESS, FLAGS, FINDINGS, PUBLISHED})


def test_invoicing_flags_are_read_worst_first_and_need_dbt(tmp_path):
    from jeugdhulp.quality.invoicing import FlagsUnavailable, read_invoicing_flags

    path = build_warehouse(tmp_path / "warehouse.duckdb")
    with duckdb.connect(str(path)) as connection:
        connection.execute("""insert into intermediate.int_providers_invoicing_flagged values
            ('11111111', null, 10, 5, 50.0, 0, 'error', 10, 3, 30.0, 'error'),
            ('22222222', null, 10, 0, 0.0, 1, 'warn', 10, 0, 0.0, null)""")
    incomplete = read_invoicing_flags(path, "incomplete")
    assert [(f.provider_agb, f.severity) for f in incomplete] == [
        ("11111111", "error"),
        ("12345678", "warn"),
        ("22222222", "warn"),
    ]
    assert [f.provider_agb for f in read_invoicing_flags(path, "late")] == ["11111111", "12345678"]
    with pytest.raises(ValueError, match="kind must be"):
        read_invoicing_flags(path, "slow")
    with duckdb.connect(str(path)) as connection:
        connection.execute("drop table intermediate.int_providers_invoicing_flagged")
    with pytest.raises(FlagsUnavailable, match="run dbt build first"):
        read_invoicing_flags(path, "late")

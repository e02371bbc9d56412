"""The freshness checks warn (never block) on a quiet landing zone and on marts older than a day."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
from dagster import (
    AssetSelection,
    DagsterInstance,
    Definitions,
    define_asset_job,
)

from orchestration.assets.freshness import (
    MART_AGE_CHECK,
    landing_received_recently,
    marts_updated_within_a_day,
)
from orchestration.resources import JeugdhulpSettings


def _evaluations(check, data_dir, instance=None):
    job = define_asset_job("only_checks", selection=AssetSelection.checks(check))
    defs = Definitions(
        asset_checks=[check],
        jobs=[job],
        resources={"settings": JeugdhulpSettings(data_dir=str(data_dir), landing_quiet_days=3)},
    )
    with instance or DagsterInstance.ephemeral() as dagster_instance:
        result = defs.resolve_job_def("only_checks").execute_in_process(instance=dagster_instance)
    assert result.success
    return result.get_asset_check_evaluations()


def _registry(data_dir, ingested_at):
    path = data_dir / "warehouse" / "warehouse.duckdb"
    path.parent.mkdir(parents=True)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw")
        con.execute("create table raw.file_registry (source varchar, ingested_at timestamp)")
        con.executemany(
            "insert into raw.file_registry values (?, ?)",
            [("ijw", ingested_at), ("reference", datetime.now())],
        )


def test_landing_quiet_for_days_warns(tmp_path):
    _registry(tmp_path, datetime.now() - timedelta(days=5))
    [evaluation] = _evaluations(landing_received_recently, tmp_path)
    assert not evaluation.passed and evaluation.severity.value == "WARN"
    assert "received nothing for 5.0 days (limit 3)" in evaluation.description


def test_landing_with_a_recent_file_passes(tmp_path):
    _registry(tmp_path, datetime.now() - timedelta(hours=20))
    [evaluation] = _evaluations(landing_received_recently, tmp_path)
    assert evaluation.passed


def test_marts_never_built_warn(tmp_path):
    evaluations = _evaluations(marts_updated_within_a_day, tmp_path)
    assert evaluations and all(e.check_name == MART_AGE_CHECK for e in evaluations)
    assert all(not e.passed and e.severity.value == "WARN" for e in evaluations)
    assert {e.description for e in evaluations} == {"never built"}

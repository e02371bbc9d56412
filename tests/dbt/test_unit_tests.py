"""Every dbt unit test of the project (the `unit_tests:` beside the models) passes.

The daily run leaves them out (`--exclude-resource-type unit_test`: they pin the SQL on fixed
inputs, not on the day's data). Here they all run once, on a copy of the session's tiny warehouse:
dbt reads the column types of a unit test's inputs from the relations they stand in for.
"""

from __future__ import annotations

import json
import shutil

from tests.support.dbt import run_dbt
from tests.support.pipeline import TINY_AS_OF


def test_every_unit_test_of_the_project_runs_and_passes(tiny_run, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(tiny_run.data_dir / "warehouse" / "warehouse.duckdb", warehouse)
    result = run_dbt(warehouse, tmp_path, TINY_AS_OF, "test", "--select", "test_type:unit")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]

    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    run_results = json.loads((tmp_path / "target" / "run_results.json").read_text())
    declared = set(manifest["unit_tests"])
    ran = {
        r["unique_id"]: r["status"]
        for r in run_results["results"]
        if r["unique_id"].startswith("unit_test.")  # not the on-run-start hook
    }
    assert len(declared) >= 50
    assert set(ran) == declared
    assert set(ran.values()) == {"pass"}

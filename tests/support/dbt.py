"""dbt as the tests run it: `jeugdhulp-dbt` (else `dbt`) beside this interpreter, on a given
warehouse and reporting date, with its target and logs in a scratch folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from jeugdhulp.dbt_cli import seed_partial_parse
from jeugdhulp.privacy.case_key import case_key_env
from tests.support.pipeline import REPO

# jeugdhulp-dbt, as the pipeline runs dbt (jeugdhulp/dbt_cli.py): parses the project without the
# run's parameters, so a build reuses the project's saved parse instead of parsing all of it again
_BIN = Path(sys.executable).parent
DBT = _BIN / "jeugdhulp-dbt" if (_BIN / "jeugdhulp-dbt").exists() else _BIN / "dbt"
DBT_PROJECT = REPO / "dbt_project"
# the pseudonym key whose case-key secret run_dbt hands to dbt (tests that check case keys use it)
TEST_CASE_KEY_PSEUDONYM_KEY = "test-key-not-secret"


def run_dbt(
    warehouse: Path, work: Path, as_of: str, *args: str, timeout: int = 600
) -> subprocess.CompletedProcess:
    """`dbt <args>` (e.g. "build", "--select", ...) on `warehouse` as of `as_of`; never raises on a
    failed build (the caller asserts what it expects)."""
    env = {
        **os.environ,
        "JEUGDHULP_WAREHOUSE_PATH": str(warehouse),
        "JEUGDHULP_AS_OF": as_of,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DO_NOT_TRACK": "1",
        # the case-key secret of mart_top_clients, as the pipeline derives it from its key
        **case_key_env(TEST_CASE_KEY_PSEUDONYM_KEY),
    }
    from orchestration.resources import ensure_dbt_manifest

    ensure_dbt_manifest()  # the project's saved parse, once per change of the project
    seed_partial_parse(work / "target")
    command = [str(DBT), "--no-use-colors", *args]
    command += ["--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT)]
    command += ["--target-path", str(work / "target"), "--log-path", str(work / "logs")]
    return subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
    )


def build_ok(warehouse: Path, work: Path, as_of: str, *args: str, timeout: int = 600) -> None:
    """`dbt build <args>` that must succeed; the assertion shows dbt's last output."""
    result = run_dbt(warehouse, work, as_of, "build", *args, timeout=timeout)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]

"""`jeugdhulp-dbt` (jeugdhulp/dbt_cli.py): a build reuses a parse made without the run's
parameters, which is the parse dbt makes with them, and still runs with the command's own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from jeugdhulp.dbt_cli import (
    CASE_KEY_ENV,
    PARAMETER_ENV,
    SHARED_TARGET,
    _warehouse_database,
    parse_env,
    seed_partial_parse,
)
from jeugdhulp.privacy.case_key import case_key_env
from tests.support.pipeline import REPO

BIN = Path(sys.executable).parent
DBT_PROJECT = REPO / "dbt_project"


@pytest.fixture(scope="module")
def shared_parse() -> Path:
    """The project's own parse (what every build starts from), made if missing or stale."""
    from orchestration.resources import ensure_dbt_manifest

    return ensure_dbt_manifest()


def _env(**extra: str) -> dict[str, str]:
    import os

    return {
        **parse_env(os.environ),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DO_NOT_TRACK": "1",
        **case_key_env("test-key-not-secret"),
        **extra,
    }


def _locations(target: Path) -> list[str]:
    return [
        *("--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT)),
        *("--target-path", str(target), "--log-path", str(target)),
    ]


def _run_vars(data_dir: Path, as_of: str, memory_limit: str = "2GB") -> list[str]:
    """--vars as the pipeline passes them (orchestration/resources.py dbt_vars_arg)."""
    variables = {
        "as_of": as_of,
        "warehouse_path": str(data_dir / "warehouse" / "warehouse.duckdb"),
        "memory_limit": memory_limit,
    }
    return ["--vars", json.dumps(variables, sort_keys=True)]


def test_the_parse_leaves_out_every_run_parameter():
    env = {name: "x" for name in PARAMETER_ENV} | {"JEUGDHULP_DATA_DIR": "/d", "PATH": "/bin"}
    assert parse_env(env) == {"JEUGDHULP_DATA_DIR": "/d", "PATH": "/bin"}
    assert CASE_KEY_ENV in PARAMETER_ENV


def test_the_database_of_the_commands_warehouse():
    """A warehouse with another file name names another database than the parse's: then the
    command is plain dbt (a backtest replay's asof_<date>.duckdb)."""
    replay = json.dumps({"warehouse_path": "/s/asof_2025-03-31.duckdb", "as_of": "2025-03-31"})
    assert _warehouse_database(["build", "--vars", replay], {}) == "asof_2025-03-31"
    assert _warehouse_database(["build", f"--vars={replay}"], {}) == "asof_2025-03-31"
    pipeline = json.dumps({"warehouse_path": "/d/warehouse/warehouse.duckdb"})
    assert _warehouse_database(["run", "--vars", pipeline], {}) == "warehouse"
    by_env = {"JEUGDHULP_WAREHOUSE_PATH": "/d/w/other.duckdb"}
    assert _warehouse_database(["build"], by_env) == "other"
    assert _warehouse_database(["build"], {}) is None


def test_a_new_target_gets_a_copy_of_the_saved_parse_once(shared_parse, tmp_path):
    target = tmp_path / "dbt_target"
    assert seed_partial_parse(target)
    saved = SHARED_TARGET / "partial_parse.msgpack"
    assert (target / "partial_parse.msgpack").read_bytes() == saved.read_bytes()
    (target / "partial_parse.msgpack").write_bytes(b"its own")
    assert not seed_partial_parse(target)  # a target's own parse is never replaced
    assert (target / "partial_parse.msgpack").read_bytes() == b"its own"


def _sort_dependencies(node: dict) -> None:
    """dbt lists a model's sources and refs in an order that changes with Python's hash seed
    (two `dbt parse` runs of one project disagree on a model reading two sources): compare
    them as sets."""
    for key in ("sources", "refs"):
        if isinstance(node.get(key), list):
            node[key] = sorted(node[key], key=json.dumps)
    depends_on = node.get("depends_on")
    if isinstance(depends_on, dict):
        for key, listed in depends_on.items():
            depends_on[key] = sorted(listed, key=json.dumps)


@pytest.mark.slow
def test_the_parse_without_parameters_is_dbts_parse_with_them(shared_parse, tmp_path):
    """What makes the reuse right: dbt's own full parse with a run's --vars and case-key secret
    is the shared parse (made without them), node for node. A model whose config, refs or
    tests came to depend on a run parameter would fail here."""
    target = tmp_path / "target"
    parsed = subprocess.run(
        [str(BIN / "dbt"), "parse", "--quiet", *_locations(target)]
        + _run_vars(tmp_path, "2024-02-29", "1GB"),
        env=_env(),
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert parsed.returncode == 0, parsed.stdout[-4000:] + parsed.stderr[-2000:]

    def content(path: Path) -> dict:
        manifest = json.loads(path.read_text())
        manifest.pop("metadata")
        for section in manifest.values():
            for item in section.values() if isinstance(section, dict) else ():
                if isinstance(item, dict):
                    item.pop("created_at", None)
                    _sort_dependencies(item)
        for edges in ("parent_map", "child_map"):
            manifest[edges] = {node: sorted(linked) for node, linked in manifest[edges].items()}
        return manifest

    assert content(target / "manifest.json") == content(shared_parse)


@pytest.mark.slow
def test_a_build_reusing_the_parse_runs_with_the_commands_reporting_date(shared_parse, tmp_path):
    """Two commands in one target, the second as of another date: each compiles with its own
    as_of, though the second reuses the parse the first saved, and neither parses in full."""
    target = tmp_path / "dbt_target"
    (tmp_path / "warehouse").mkdir()
    seed_partial_parse(target)
    seen = []
    for as_of in ("2025-06-30", "2026-01-31"):
        shown = subprocess.run(
            [
                str(BIN / "jeugdhulp-dbt"),
                "show",
                "--inline",
                "select {{ as_of_date() }} as as_of",
                "--output",
                "json",
                *_locations(target),
                *_run_vars(tmp_path, as_of),
            ],
            env=_env(),
            capture_output=True,
            text=True,
            cwd=REPO,
        )
        assert shown.returncode == 0, shown.stdout[-4000:] + shown.stderr[-2000:]
        seen.append(shown.stdout)
        perf = json.loads((target / "perf_info.json").read_text())
        assert perf["parsed_path_count"] == 0  # the saved parse was reused: nothing re-parsed
    assert '"as_of": "2025-06-30"' in seen[0] and "2026-01-31" not in seen[0]
    assert '"as_of": "2026-01-31"' in seen[1] and "2025-06-30" not in seen[1]
    log = (target / "dbt.log").read_text()
    assert "Unable to do partial parsing" not in log


def test_version_is_answered_without_looking_up_releases():
    """dagster-dbt runs `<dbt> --version` before every build and reads the first version number;
    dbt itself would ask PyPI for the latest release each time (no network at run time)."""
    import re
    from importlib.metadata import version

    out = subprocess.run(
        [str(BIN / "jeugdhulp-dbt"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert re.search(r"(\d+\.\d+\.\d+)", out).group(1) == version("dbt-core")
    assert "latest" not in out
    assert f"duckdb: {version('dbt-duckdb')}" in out

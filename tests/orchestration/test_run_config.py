"""Run parameters travel with the run: the settings resource, the schedule's date, dbt --vars;
automation on by default with a switch; the run summary separates blocking failures from signals."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dagster import build_schedule_context

from jeugdhulp.settings import Settings, automation_enabled
from orchestration.pipeline_run import CheckVerdict, RunSummary
from orchestration.resources import JeugdhulpSettings, dbt_vars_arg, run_config_for
from tests.support.pipeline import REPO


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("JEUGDHULP_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("JEUGDHULP_DATA_DIR", str(tmp_path))
    return tmp_path


def test_reporting_date_is_the_run_date_unless_given(clean_env, monkeypatch):
    run_date = date(2026, 3, 1)
    assert JeugdhulpSettings().resolve(run_date=run_date).as_of == run_date
    given = JeugdhulpSettings(as_of="2025-12-31").resolve(run_date=run_date)
    assert given.as_of == date(2025, 12, 31)
    assert given.data_dir == clean_env.resolve()
    monkeypatch.setenv("JEUGDHULP_AS_OF", "2026-01-15")  # the deployment's fixed date
    assert JeugdhulpSettings().resolve(run_date=run_date).as_of == date(2026, 1, 15)
    assert JeugdhulpSettings(as_of="2025-06-30").resolve().as_of == date(2025, 6, 30)


def test_run_config_round_trips_the_settings(clean_env):
    settings = Settings(
        data_dir=clean_env / "d",
        as_of=date(2026, 10, 15),
        pseudonym_key=None,
        postgres_dsn=None,
        ingest_memory_limit="512MB",
        dbt_memory_limit="3GB",
        landing_quiet_days=5,
    )
    config = run_config_for(settings, allow_development_key=True)["resources"]["settings"]
    resolved = JeugdhulpSettings(**config["config"]).resolve(run_date=date(2030, 1, 1))
    assert resolved.as_of == settings.as_of and resolved.data_dir == settings.data_dir.resolve()
    assert (resolved.ingest_memory_limit, resolved.dbt_memory_limit) == ("512MB", "3GB")
    assert resolved.landing_quiet_days == 5
    assert resolved.uses_development_key  # from run config, not from os.environ
    assert "pseudonym_key" not in config["config"]  # a real key never enters run config
    args = dbt_vars_arg(resolved)
    assert args[0] == "--vars" and '"as_of": "2026-10-15"' in args[1]
    assert '"warehouse_path": ' in args[1] and '"memory_limit": "3GB"' in args[1]


def test_schedule_passes_its_scheduled_date():
    from orchestration.schedules import daily_schedule

    scheduled = datetime(2026, 11, 2, 6, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
    request = daily_schedule.evaluate_tick(
        build_schedule_context(scheduled_execution_time=scheduled)
    ).run_requests[0]
    assert request.run_config == {"resources": {"settings": {"config": {"as_of": "2026-11-02"}}}}
    assert request.tags["jeugdhulp/as_of"] == "2026-11-02"


def test_automation_switch():
    assert automation_enabled({})
    assert automation_enabled({"JEUGDHULP_AUTOMATION": "on"})
    for off in ("off", "OFF", "0", "false", "no", "stopped"):
        assert not automation_enabled({"JEUGDHULP_AUTOMATION": off})


@pytest.mark.slow
def test_automation_off_loads_schedules_and_sensor_stopped():
    code = (
        "from orchestration.definitions import defs\n"
        "print(sorted({s.default_status.value for s in defs.schedules}"
        " | {s.default_status.value for s in defs.sensors}))"
    )
    env = {**os.environ, "JEUGDHULP_AUTOMATION": "off"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "['STOPPED']"


def _environ_mutations(path: Path) -> list[str]:
    """`os.environ[...] = ...`, `os.environ.update/setdefault/pop(...)`, `del os.environ[...]`."""
    found = []
    tree = ast.parse(path.read_text())
    allowed = {
        id(inner)
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef) and function.name in ENVIRON_MUTATION_ALLOWED_IN
        for inner in ast.walk(function)
    }
    for node in ast.walk(tree):
        if id(node) in allowed:
            continue
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.Delete):
            targets = node.targets
        for target in targets:
            if isinstance(target, ast.Subscript) and ast.unparse(target.value) == "os.environ":
                found.append(f"{path.name}:{node.lineno}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if ast.unparse(node.func.value) == "os.environ" and node.func.attr in {
                "update",
                "setdefault",
                "pop",
                "clear",
            }:
                found.append(f"{path.name}:{node.lineno}")
    return found


# The one exception: dagster-dbt gives dbt a copy of this process's environment and no other way
# in, and the case-key secret may travel neither as --vars (logged) nor as run config (stored);
# the function sets it only while the dbt process starts and restores the environment after.
ENVIRON_MUTATION_ALLOWED_IN = {"case_key_secret_env"}


def test_orchestration_never_mutates_the_process_environment():
    files = sorted((REPO / "orchestration").rglob("*.py"))
    mutations = [m for path in files for m in _environ_mutations(path)]
    assert not mutations, mutations


def test_the_case_key_secret_is_in_the_environment_only_while_dbt_starts(monkeypatch):
    from jeugdhulp.privacy.case_key import CASE_KEY_ENV
    from orchestration.resources import case_key_secret_env

    monkeypatch.delenv(CASE_KEY_ENV, raising=False)
    settings = Settings(
        data_dir=Path("/data"), as_of=date(2026, 10, 15), pseudonym_key="k", postgres_dsn=None
    )
    before = dict(os.environ)
    with case_key_secret_env(settings):
        assert os.environ[CASE_KEY_ENV]
    assert dict(os.environ) == before


def _summary(**kwargs) -> RunSummary:
    settings = Settings(
        data_dir=Path("/data"), as_of=date(2026, 10, 15), pseudonym_key=None, postgres_dsn=None
    )
    return RunSummary(settings=settings, success=True, **{"published": True, **kwargs})


def test_summary_lists_signals_apart_from_blocking_failures():
    summary = _summary(
        checks_passed=["raw/pgb:great_expectations"] * 3,
        signals=[
            CheckVerdict(
                "marts/mart_invoice_timeliness:late_invoicing",
                "2 providers flagged for late invoicing",
                {"flagged_providers": 2},
            ),
            CheckVerdict(
                "marts/mart_provider_deliveries:providers_delivering",
                "1 of 6 providers ...",
                {"silent_providers": 1},
            ),
            CheckVerdict(
                "marts/dq_findings:findings_by_rule", "12 findings, 3 with severity error"
            ),
        ],
    )
    text = summary.render()
    assert summary.ok and "— OK in" in text
    assert "failed" not in text
    assert "checks:   3 passed, 0 blocking failures, 3 signals" in text
    assert (
        "signals:  2 providers invoice late · 1 provider with clients in care stopped invoicing"
        " · 1 other check to look at  (not blocking: published anyway)"
    ) in text
    assert "! marts/dq_findings:findings_by_rule — 12 findings, 3 with severity error" in text


def test_summary_names_blocking_failures():
    summary = _summary(
        blocking=[CheckVerdict("marts/fct_invoice_lines:great_expectations", "2 of 9 failed")],
        published=False,
    )
    summary.published = False
    text = summary.render()
    assert not summary.ok and "— FAILED in" in text
    assert "checks:   0 passed, 1 blocking failure, 0 signals" in text
    assert "blocking: what depends on these was not built or published" in text
    assert "✗ marts/fct_invoice_lines:great_expectations — 2 of 9 failed" in text
    assert summary.blocking_failed == ["marts/fct_invoice_lines:great_expectations"]


def test_summary_counts_files_left_and_special_entries_only_when_there_are_some():
    quiet = _summary(files_ingested=4).render()
    assert "files:    4 ingested, 0 quarantined, 0 already known\n" in quiet
    busy = _summary(files_ingested=4, files_left=2, special_entries=1).render()
    assert (
        "files:    4 ingested, 0 quarantined, 0 already known; 2 left for the next run "
        "(still arriving); 1 links or special entries left untouched in landing/"
    ) in busy

"""Shared fixtures: a tiny synthetic region run through the whole pipeline once per session."""

from __future__ import annotations

import os

import pytest

from tests.support.pipeline import PipelineRun, pristine_tiny_run

# The modules that run a whole pipeline or region (`make test --durations`: 50-250 s each),
# heaviest first. `make test` hands test files to its workers in collection order
# (--no-loadscope-reorder), so these start first and no worker begins one near the end of the run.
# The first three need no shared tiny run; test_pipeline.py makes it for the many that do.
HEAVY_FIRST = (
    "tests/orchestration/test_cockpit.py",
    "tests/e2e/test_region_profile.py",
    "tests/e2e/test_pipeline.py",
    "tests/quality/test_region.py",
    "tests/dbt/test_incremental_models.py",
    "tests/e2e/test_takeout_recovery.py",
    "tests/orchestration/test_processes.py",
    "tests/e2e/test_absurd_values.py",
    "tests/orchestration/test_backtest_command.py",
    "tests/e2e/test_serialisation.py",
    "tests/publish/test_report_figures.py",
)


def pytest_collection_modifyitems(config, items):
    """The heavy modules first, in HEAVY_FIRST's order; every module stays in one piece."""
    rank = {path: position for position, path in enumerate(HEAVY_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory):
    """A folder all xdist workers of this session share (the parent of their base temps)."""
    base = tmp_path_factory.getbasetemp()
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "session-cache"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, session_cache) -> PipelineRun:
    """generate(tiny) → jeugdhulp run: made once per session, copied for each test module that
    asks for it (the module may change its copy)."""
    run = pristine_tiny_run(session_cache, tmp_path_factory.mktemp("tiny") / "data")
    assert run.result.returncode in (0, 1), run.result.stdout + run.result.stderr
    return run

"""Shared fixtures: a tiny synthetic region run through the whole pipeline once per session."""

from __future__ import annotations

import os

import pytest

from tests.support.pipeline import PipelineRun, pristine_tiny_run

# Modules with few tests behind one long fixture (a whole pipeline or region, 100-150 s). xdist
# hands out files by their number of tests, which would start these last and leave one worker
# busy alone at the end; `make test` (--no-loadscope-reorder) hands them out first, one per worker,
# the rest in collection order. None of them waits for the shared tiny run.
HEAVY_FIRST = (
    "tests/orchestration/test_cockpit.py",
    "tests/e2e/test_region_profile.py",
    "tests/quality/test_region.py",
)


def pytest_collection_modifyitems(config, items):
    """HEAVY_FIRST's modules first, in its order; every module stays in one piece."""
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

"""Shared fixtures: a tiny synthetic region run through the whole pipeline once per session."""

from __future__ import annotations

import os

import pytest

from tests.support.pipeline import PipelineRun, pristine_tiny_run


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

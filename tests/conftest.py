"""Shared fixtures: a tiny synthetic region run through the whole pipeline once per module."""

from __future__ import annotations

import pytest

from tests.support.pipeline import PipelineRun, generate_and_run


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> PipelineRun:
    """generate(tiny) → jeugdhulp run, once per test module that asks for it."""
    run = generate_and_run(tmp_path_factory.mktemp("tiny"))
    assert run.result.returncode in (0, 1), run.result.stdout + run.result.stderr
    return run

"""Fixtures of the generator's tests: one tiny region written once for the modules that only read
its files and ground truth."""

from __future__ import annotations

import json
from datetime import date

import pytest

from jeugdhulp.synthetic import generate

GENERATED_AS_OF = date(2026, 10, 15)


@pytest.fixture(scope="session")
def generated_tiny(tmp_path_factory):
    """(the folder, its ground truth) of the tiny profile, seed 7, as of 15 October 2026."""
    out = tmp_path_factory.mktemp("generated") / "tiny"
    generate(out, "tiny", seed=7, as_of=GENERATED_AS_OF, progress=False)
    return out, json.loads((out / "ground_truth.json").read_text(encoding="utf-8"))

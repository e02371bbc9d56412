"""The scheduling hint of tests/conftest.py names test files that exist: a renamed file would
silently lose its place at the front of `make test`."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import HEAVY_FIRST

REPO = Path(__file__).resolve().parents[2]


def test_every_heavy_first_module_exists_once():
    assert len(set(HEAVY_FIRST)) == len(HEAVY_FIRST)
    missing = [path for path in HEAVY_FIRST if not (REPO / path).is_file()]
    assert missing == []

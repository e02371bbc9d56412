"""The independent backtest world (benchmarks/backtest_world.py): deterministic, valid, ingestible."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path

import pytest

from benchmarks.backtest_world import TRUTH_FILE, World, write_world
from jeugdhulp.ingest import ingest_all
from jeugdhulp.privacy.bsn import TEST_BSN_FIRST, TEST_BSN_LAST, is_valid_bsn
from jeugdhulp.settings import load_settings
from tests.support.pipeline import IJW_SHARED

# an earlier as_of than the backtest's keeps the test fast; the dynamics of 2025 up to March are in
AS_OF = date(2025, 3, 31)
SHARED = IJW_SHARED  # the official iJw 3.2 schemas (tests/support/pipeline.py finds them)


def digest(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    out = tmp_path_factory.mktemp("world") / "data"
    truth = write_world(out, seed=3, as_of=AS_OF)
    return out, truth


def test_same_seed_same_bytes_other_seed_other_world(world, tmp_path):
    out, truth = world
    again = tmp_path / "again"
    assert write_world(again, seed=3, as_of=AS_OF) == truth
    assert digest(again) == digest(out)
    # another seed draws other providers (and so another world)
    assert sorted(p.agb for p in World(4, AS_OF).providers) != sorted(truth["providers"])


def test_world_has_the_dynamics_of_the_issue(world):
    out, truth = world
    providers = truth["providers"]
    assert len(providers) == 30
    roles = {p["role"] for p in providers.values()}
    assert {
        "groeiend",
        "krimpend",
        "stil_dan_achterstand",
        "altijd_twee_maanden_laat",
        "per_kwartaal",
        "nieuw_mei_2025",
        "grote_client_stopt",
    } <= roles
    assert set(truth["messages"]) == {"JW301", "JW305", "JW307", "JW315", "JW323", "JW325"}
    files = list((out / "landing" / "ijw").rglob("*.xml"))
    assert len(files) == truth["ijw_files"]
    # no message is dated after as_of
    assert max(f.parent.name for f in files) <= AS_OF.strftime("%Y-%m")
    names = {p.name for p in (out / "landing" / "reference").iterdir()}
    assert names == {
        "providers.csv",
        "budget_ceilings.csv",
        "products.csv",
        "population.csv",
        "programme_budget.csv",
    }
    assert (out / TRUTH_FILE).is_file()


def test_only_valid_test_bsns(world):
    out, _ = world
    seen = set()
    for path in list((out / "landing" / "ijw").rglob("JW323_*.xml"))[:200]:
        seen.update(re.findall(rb"<Bsn>([0-9]{9})</Bsn>", path.read_bytes()))
    assert seen
    for bsn in seen:
        assert is_valid_bsn(bsn.decode()) and TEST_BSN_FIRST <= int(bsn) <= TEST_BSN_LAST


@pytest.mark.skipif(not (SHARED / "xsd").is_dir(), reason="the iJw 3.2 XSDs are absent")
def test_one_message_of_each_type_is_schema_valid(world):
    xmlschema = pytest.importorskip("xmlschema")
    out, _ = world
    for kind in ("JW315", "JW301", "JW305", "JW307", "JW323", "JW325"):
        path = sorted((out / "landing" / "ijw").rglob(f"{kind}_*.xml"))[-1]
        xmlschema.XMLSchema(str(SHARED / "xsd" / f"{kind}.xsd")).validate(str(path))


def test_ingests_without_a_quarantined_file(world):
    out, _ = world
    settings = load_settings(
        {
            "JEUGDHULP_DATA_DIR": str(out),
            "JEUGDHULP_AS_OF": AS_OF.isoformat(),
            "JEUGDHULP_PSEUDONYM_KEY": "backtest-world-test-key-synthetic-only",
            "JEUGDHULP_SETTLE_SECONDS": "0",
        }
    )
    reports = ingest_all(settings)
    assert all(not r.files_quarantined for r in reports.values()), {
        s: r.files_quarantined[:3] for s, r in reports.items()
    }
    assert all(not r.notes for r in reports.values())
    assert reports["ijw"].files_ingested > 1000
    assert reports["reference"].files_ingested == 5

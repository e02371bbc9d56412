"""The public development key runs on generated data only (issue 13, point 6): ingestion under it
refuses any file `jeugdhulp generate` did not make, before anything of that file is stored."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb
import pytest

from jeugdhulp.ingest.runner import ingest_all, ingest_source
from jeugdhulp.privacy.development_key import MANIFEST_NAME, DevelopmentKeyRefused
from jeugdhulp.settings import DEVELOPMENT_PSEUDONYM_KEY, Settings
from jeugdhulp.synthetic import generate
from tests.support.ingest_files import invoice_message, land
from tests.support.pipeline import TINY_AS_OF, TINY_SEED, pipeline_env, run_cli

AS_OF = date.fromisoformat(TINY_AS_OF)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("generated")
    generate(out, profile="tiny", seed=TINY_SEED, as_of=AS_OF)
    return out


def _copy(generated: Path, tmp_path: Path) -> Settings:
    import shutil

    shutil.copytree(generated, tmp_path / "data")
    return Settings(
        data_dir=tmp_path / "data",
        as_of=AS_OF,
        pseudonym_key=DEVELOPMENT_PSEUDONYM_KEY,
        postgres_dsn=None,
    )


def _registered(settings: Settings) -> int:
    if not settings.warehouse_path.exists():
        return 0
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return con.execute("select count(*) from raw.file_registry").fetchone()[0]
    finally:
        con.close()


def test_the_manifest_lists_every_generated_file_by_its_bytes(generated):
    lines = (generated / MANIFEST_NAME).read_text().splitlines()
    listed = {path: digest for digest, path in (line.split("  ", 1) for line in lines)}
    on_disk = sorted(
        p.relative_to(generated).as_posix()
        for p in (generated / "landing").rglob("*")
        if p.is_file()
    )
    assert sorted(listed) == on_disk and len(on_disk) > 400
    for path in on_disk[:: max(1, len(on_disk) // 25)]:
        assert listed[path] == hashlib.sha256((generated / path).read_bytes()).hexdigest()


def test_generated_data_runs_under_the_development_key(generated, tmp_path):
    settings = _copy(generated, tmp_path)
    reports = ingest_all(settings)
    assert reports["ijw"].files_ingested > 400


@pytest.mark.parametrize("how", ["a file of its own", "a generated file changed"])
def test_anything_else_is_refused_before_it_is_stored(generated, tmp_path, how):
    settings = _copy(generated, tmp_path)
    if how == "a file of its own":
        foreign = land(settings, "ijw", "2026-10/zz_own_message.xml", invoice_message(1))
    else:
        foreign = sorted((settings.landing_dir / "ijw").rglob("*.xml"))[-1]
        foreign.write_bytes(foreign.read_bytes() + b"\n")
    with pytest.raises(DevelopmentKeyRefused, match="not on its list") as refused:
        ingest_source(settings, "ijw", workers=1)
    assert foreign.relative_to(settings.landing_dir).as_posix() in str(refused.value)
    assert foreign.exists()  # left in landing, nothing stored of it
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    digest = hashlib.sha256(foreign.read_bytes()).hexdigest()
    assert con.execute(
        "select count(*) from raw.file_registry where file_id = ?", [digest]
    ).fetchone() == (0,)
    con.close()


def test_without_the_list_nothing_runs(generated, tmp_path):
    settings = _copy(generated, tmp_path)
    (settings.data_dir / MANIFEST_NAME).unlink()
    with pytest.raises(DevelopmentKeyRefused, match="no list of generated files"):
        ingest_source(settings, "reference")
    assert _registered(settings) == 0
    # a real key does not need it
    ingest_source(replace(settings, pseudonym_key="a-real-secret"), "reference")
    # providers, budget_ceilings, products, population, programme_budget and its amendment
    assert _registered(settings) == 6


def test_jeugdhulp_run_refuses_it_as_it_refuses_a_missing_key(generated, tmp_path):
    settings = _copy(generated, tmp_path)
    land(settings, "reference", "zz_providers_extra.csv", "agb_code,name\n12345678,Eigen\n")
    env = pipeline_env(settings.data_dir)
    env.pop("JEUGDHULP_PSEUDONYM_KEY")  # a synthetic data dir: the development key is taken
    result = run_cli(["run"], env, timeout=300)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "not on its list" in output and "zz_providers_extra.csv" in output
    assert (settings.landing_dir / "reference" / "zz_providers_extra.csv").exists()

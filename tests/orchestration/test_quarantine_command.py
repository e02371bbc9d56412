"""`jeugdhulp quarantine FILE --reason TEXT`, and the dbt step's full refresh after a takeout."""

from __future__ import annotations

import hashlib

import duckdb
import pytest

from jeugdhulp.ingest import ingest_all
from orchestration.assets.dbt import incremental_models_rebuilt
from orchestration.cli import main
from tests.support.ingest_files import VALID_BSNS, allocation_message, land, make_settings

BSN = VALID_BSNS[0]
MESSAGE = allocation_message(1, records=2)
FILE_ID = hashlib.sha256(MESSAGE).hexdigest()


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    settings = make_settings(tmp_path)
    land(settings, "ijw", f"2026-01/JW301_{BSN}.xml", MESSAGE)
    ingest_all(settings, workers=1)
    monkeypatch.setenv("JEUGDHULP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("JEUGDHULP_PSEUDONYM_KEY", raising=False)  # not needed to take out
    return tmp_path


def test_it_takes_the_file_out_and_says_what_it_did(data_dir, capsys):
    code = main(["quarantine", FILE_ID[:12], "--reason", f"wrong client {BSN}"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.splitlines() == [
        f"taken out: ijw/2026-01/JW301_BSN-masked.xml (sha256 {FILE_ID})",
        "  raw.ijw_allocations: 2 rows removed",
        "  raw.ijw_message_identities: 1 row removed",
        "  moved: archive/ijw/2026-01/JW301_BSN-masked.xml -> "
        "quarantine/ijw/2026-01/JW301_BSN-masked.xml "
        "(reason in quarantine/ijw/2026-01/JW301_BSN-masked.xml.reason.txt)",
        '  registry: quarantined, reason "operator: wrong client BSN-masked"',
        "  next run: dbt builds every model from raw (--full-refresh); Great Expectations "
        "validates raw.file_registry, raw.ijw_allocations whole",
    ]
    assert BSN not in out + err
    assert (data_dir / "quarantine/ijw/2026-01/JW301_BSN-masked.xml").read_bytes() == MESSAGE


def test_a_refusal_is_one_line_on_stderr_with_exit_code_1(data_dir, capsys):
    assert main(["quarantine", f"ijw/{BSN}.xml", "--reason", "x"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "jeugdhulp quarantine: no file in raw.file_registry matches ijw/BSN-masked.xml\n"


def test_the_reason_is_required(data_dir, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["quarantine", FILE_ID])
    assert exited.value.code == 2 and "--reason" in capsys.readouterr().err
    assert main(["quarantine", FILE_ID, "--reason", " "]) == 1
    assert "give the reason" in capsys.readouterr().err


def test_a_malformed_setting_exits_2(data_dir, monkeypatch, capsys):
    monkeypatch.setenv("JEUGDHULP_AS_OF", "yesterday")
    assert main(["quarantine", FILE_ID, "--reason", "x"]) == 2
    assert "JEUGDHULP_AS_OF" in capsys.readouterr().err


def test_a_build_that_rebuilt_every_incremental_model_ends_the_full_refresh():
    manifest = {
        "nodes": {
            "model.j.fct": {"resource_type": "model", "config": {"materialized": "incremental"}},
            "model.j.int": {"resource_type": "model", "config": {"materialized": "incremental"}},
            "model.j.mart": {"resource_type": "model", "config": {"materialized": "table"}},
            "test.j.t": {"resource_type": "test", "config": {"materialized": "test"}},
        }
    }

    def results(**status):
        return {"results": [{"unique_id": f"model.j.{k}", "status": v} for k, v in status.items()]}

    assert incremental_models_rebuilt(manifest, results(fct="success", int="success", mart="error"))
    assert not incremental_models_rebuilt(manifest, results(fct="success", int="skipped"))
    assert not incremental_models_rebuilt(manifest, results(fct="success"))  # int not selected
    assert not incremental_models_rebuilt(manifest, None)


def test_the_warehouse_never_gets_a_raw_bsn(data_dir):
    main(["quarantine", FILE_ID, "--reason", f"client {BSN}"])
    with duckdb.connect(str(data_dir / "warehouse" / "warehouse.duckdb"), read_only=True) as con:
        for schema, table in con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall():
            dump = con.execute(
                f"select coalesce(string_agg(t::varchar, ''), '') from \"{schema}\".\"{table}\" t"
            ).fetchone()[0]
            assert BSN not in dump, (schema, table)


def test_not_while_a_run_holds_the_data_dir(data_dir, capsys):
    from jeugdhulp.processes import RunLock

    with RunLock(data_dir / "warehouse"):
        assert main(["quarantine", FILE_ID, "--reason", "wrong client"]) == 3
    assert "jeugdhulp:" in capsys.readouterr().err
    assert main(["quarantine", FILE_ID, "--reason", "wrong client"]) == 0

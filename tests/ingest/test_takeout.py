"""Taking an ingested file out again (`jeugdhulp quarantine`): which file, what leaves raw, where it
goes, what the registry and the next run are told, and what is refused."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys

import duckdb
import pytest

from jeugdhulp.ingest import ingest_all, takeout
from jeugdhulp.ingest.landing import REASON_SUFFIX
from jeugdhulp.ingest.takeout import TakeoutError, resolve, take_out
from jeugdhulp.quality.watermarks import read_watermarks
from tests.support.ingest_files import (
    VALID_BSNS,
    allocation_message,
    answer_message,
    invoice_line,
    invoice_message,
    land,
    make_settings,
    rows,
)

BSN = VALID_BSNS[0]  # 999900006
PROVIDERS = (
    "agb_code,name,contract_type\n12345678,Zorg BV,raamcontract\n87654321,Jeugd BV,maatwerk\n"
)
PROVIDERS_LATER = PROVIDERS + "11223344,Nieuw BV,raamcontract\n"
INVOICES = invoice_message(1)  # two lines
ALLOCATIONS = allocation_message(1, records=3)
ANSWER = answer_message(1, (invoice_line("R1-0"),))
REASON = "provider sent the wrong month; corrected file follows"


def _sha(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    """Five files ingested: a JW323 whose name holds a BSN, a JW301, a JW325 and two snapshots of
    providers.csv (same name, other bytes: the second landed after the first was archived).
    Made once per module; each test gets a copy (`settings`)."""
    data_dir = tmp_path_factory.mktemp("takeout-ingested")
    settings = make_settings(data_dir)
    land(settings, "reference", "providers.csv", PROVIDERS)
    land(settings, "ijw", f"2026-03/JW323_{BSN}.xml", INVOICES)
    land(settings, "ijw", "2026-01/JW301_1.xml", ALLOCATIONS)
    land(settings, "ijw", "2026-03/JW325_1.xml", ANSWER)
    ingest_all(settings, workers=1)
    land(settings, "reference", "providers.csv", PROVIDERS_LATER)
    ingest_all(settings, workers=1)
    _watermarks(settings, ["raw.file_registry", "raw.ijw_invoice_lines", "raw.ijw_allocations"])
    return data_dir


@pytest.fixture
def settings(ingested, tmp_path):
    """A copy, in this test's tmp_path, of the module's ingested data dir (`ingested`): the
    registry and the takeouts keep paths relative to the data dir, so the copy is that data dir
    as the ingestion left it, for this test alone to change."""
    shutil.copytree(ingested, tmp_path, symlinks=True, dirs_exist_ok=True)
    return make_settings(tmp_path)


def _watermarks(settings, suites: list[str]) -> None:
    """GX watermarks as the raw suites leave them after a passing run (gx_state.watermarks)."""
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("create schema if not exists gx_state")
        con.execute(
            "create table if not exists gx_state.watermarks (suite_name varchar primary key, "
            "suite_fingerprint varchar not null, validated_through_seq bigint not null, "
            "rows_validated bigint not null, updated_at timestamp not null)"
        )
        for suite in suites:
            con.execute(
                "insert into gx_state.watermarks values (?, 'f', 5, 1, timestamp '2026-10-15')",
                [suite],
            )


def _registry(settings) -> dict[str, tuple]:
    return {
        row[0]: row[1:]
        for row in rows(
            settings,
            "select file_id, status, reason, stored_path, rows_loaded, ingested_seq"
            " from raw.file_registry",
        )
    }


def _raw_rows(settings) -> dict[str, int]:
    tables = [
        "ijw_invoice_lines",
        "ijw_allocations",
        "ijw_rejected_lines",
        "reference_providers",
    ]
    return {t: rows(settings, f"select count(*) from raw.{t}")[0][0] for t in tables}


def _takeouts(settings) -> list[tuple]:
    return rows(
        settings,
        "select takeout_id, file_id, from_path, to_path, reason, rows_removed, rows_by_table,"
        " moved_at is not null, dbt_refreshed_at is not null from ingest_state.takeouts"
        " order by takeout_id",
    )


# --- what a takeout does ---------------------------------------------------------------------


def test_the_rows_leave_raw_the_file_moves_to_quarantine_and_the_registry_says_why(settings):
    file_id = _sha(INVOICES)
    before_registry, before_rows = _registry(settings), _raw_rows(settings)
    assert before_registry[file_id] == (
        "ingested",
        None,
        "archive/ijw/2026-03/JW323_BSN-masked.xml",
        2,
        3,
    )
    archived = settings.data_dir / "archive/ijw/2026-03/JW323_BSN-masked.xml"

    done = take_out(settings, file_id, REASON)

    assert done.file_id == file_id
    # its lines, and its message's entry in the identity index (message_identity.py)
    assert done.rows_removed == {"ijw_invoice_lines": 2, "ijw_message_identities": 1}
    assert done.from_path == "archive/ijw/2026-03/JW323_BSN-masked.xml"
    assert done.stored_path == "quarantine/ijw/2026-03/JW323_BSN-masked.xml"
    assert done.reason == f"operator: {REASON}"
    assert not done.finished_earlier
    # raw: only this file's rows are gone
    assert _raw_rows(settings) == before_rows | {"ijw_invoice_lines": 0}
    assert rows(settings, "select count(*) from raw.ijw_rejected_lines")[0][0] == 1
    # the registry: quarantined with the operator's reason, its place in the order kept
    after = _registry(settings)
    assert after[file_id] == (
        "quarantined",
        f"operator: {REASON}",
        "quarantine/ijw/2026-03/JW323_BSN-masked.xml",
        0,
        3,
    )
    assert {k: v for k, v in after.items() if k != file_id} == {
        k: v for k, v in before_registry.items() if k != file_id
    }
    # the file: the same bytes, in quarantine, with its reason beside it
    quarantined = settings.data_dir / "quarantine/ijw/2026-03/JW323_BSN-masked.xml"
    assert not archived.exists() and quarantined.read_bytes() == INVOICES
    reason_file = (settings.data_dir / (done.stored_path + REASON_SUFFIX)).read_text()
    assert reason_file.splitlines()[0] == "file: ijw/2026-03/JW323_BSN-masked.xml"
    assert f"sha256: {file_id}" in reason_file
    assert reason_file.splitlines()[-1] == f"reason: operator: {REASON}"
    # the next run: a full dbt build, the suites of the tables that lost rows validated whole
    assert _takeouts(settings) == [
        (
            1,
            file_id,
            "archive/ijw/2026-03/JW323_BSN-masked.xml",
            "quarantine/ijw/2026-03/JW323_BSN-masked.xml",
            f"operator: {REASON}",
            3,
            json.dumps({"ijw_invoice_lines": 2, "ijw_message_identities": 1}),
            True,
            False,
        )
    ]
    assert set(read_watermarks(settings.warehouse_path)) == {"raw.ijw_allocations"}
    assert done.revalidated == ("raw.file_registry", "raw.ijw_invoice_lines")
    assert takeout.pending_full_refresh(settings.warehouse_path) == 1


def test_the_full_refresh_request_is_cleared_only_up_to_the_takeouts_it_saw(settings):
    take_out(settings, _sha(INVOICES), REASON)
    assert takeout.pending_full_refresh(settings.warehouse_path) == 1
    take_out(settings, _sha(ALLOCATIONS), REASON)  # a second one while the build ran
    takeout.full_refresh_done(settings.warehouse_path, 1)
    assert takeout.pending_full_refresh(settings.warehouse_path) == 2
    takeout.full_refresh_done(settings.warehouse_path, 2)
    assert takeout.pending_full_refresh(settings.warehouse_path) is None
    assert [row[-1] for row in _takeouts(settings)] == [True, True]


def test_no_warehouse_or_no_takeout_means_no_full_refresh(tmp_path, settings):
    assert takeout.pending_full_refresh(tmp_path / "nothing.duckdb") is None
    assert takeout.pending_full_refresh(settings.warehouse_path) is None  # no takeout yet


def test_a_reference_snapshot_taken_out_leaves_the_earlier_one_current(settings):
    later = _sha(PROVIDERS_LATER)
    assert _registry(settings)[later][2] == (
        f"archive/reference/providers.{later[:12]}.csv"  # the name was taken by the first
    )
    done = take_out(settings, later[:12], "bad snapshot")
    assert done.rows_removed == {"reference_providers": 3}
    assert done.stored_path == "quarantine/reference/providers.csv"
    assert rows(settings, "select file_id, count(*) from raw.reference_providers group by 1") == [
        (_sha(PROVIDERS), 2)
    ]
    assert (settings.data_dir / "archive/reference/providers.csv").read_text() == PROVIDERS


def test_a_bsn_in_the_reason_is_masked_everywhere_it_is_kept(settings):
    done = take_out(settings, _sha(ALLOCATIONS), f"client {BSN} belongs to another region")
    expected = "operator: client BSN-masked belongs to another region"
    assert done.reason == expected
    assert _registry(settings)[_sha(ALLOCATIONS)][1] == expected
    assert _takeouts(settings)[0][4] == expected
    reason_file = settings.data_dir / (done.stored_path + REASON_SUFFIX)
    assert f"reason: {expected}" in reason_file.read_text()
    assert BSN not in "\n".join(done.describe())
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        dump = con.execute(
            "select string_agg(t::varchar, '') from ingest_state.takeouts as t"
        ).fetchone()[0]
    assert BSN not in dump


def test_the_reason_is_one_line(settings):
    done = take_out(settings, _sha(ALLOCATIONS), "  wrong\n  provider\t")
    assert done.reason == "operator: wrong provider"


# --- which file ------------------------------------------------------------------------------


def _resolve(settings, argument: str) -> str:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return resolve(con, settings, argument).file_id


def test_a_file_is_found_by_id_prefix_or_path(settings, monkeypatch, tmp_path):
    file_id = _sha(INVOICES)
    archived = settings.data_dir / "archive/ijw/2026-03/JW323_BSN-masked.xml"
    copy = tmp_path / "elsewhere" / "copy.xml"
    copy.parent.mkdir()
    shutil.copyfile(archived, copy)
    monkeypatch.chdir(settings.data_dir / "archive")
    for argument in (
        file_id,
        file_id.upper(),
        file_id[:12],
        f"ijw/2026-03/JW323_{BSN}.xml",  # the landed path, as delivered (the registry masks it)
        "ijw/2026-03/JW323_BSN-masked.xml",  # the landed path as the registry holds it
        f"landing/ijw/2026-03/JW323_{BSN}.xml",
        "archive/ijw/2026-03/JW323_BSN-masked.xml",  # the stored path
        str(archived),  # the archived file
        "./ijw/2026-03/JW323_BSN-masked.xml",  # ... relative to the working directory
        str(copy),  # any copy of its bytes
    ):
        assert _resolve(settings, argument) == file_id, argument


@pytest.mark.parametrize(
    "argument, message",
    [
        ("", "name the file"),
        ("0123456789ab", "no file in raw.file_registry matches 0123456789ab"),
        ("0123456789", "a SHA-256 prefix needs at least 12 characters"),
        ("ijw/2026-03/nothing.xml", "no file in raw.file_registry matches ijw/2026-03/nothing.xml"),
        (f"ijw/{BSN}.xml", "matches ijw/BSN-masked.xml"),
        ("reference/providers.csv", "matches 2 files"),
    ],
)
def test_nothing_or_more_than_one_match_is_refused(settings, argument, message):
    with pytest.raises(TakeoutError, match=message) as refused:
        _resolve(settings, argument)
    text = str(refused.value)
    assert "\n" not in text and BSN not in text
    if "2 files" in message:  # both candidates named, by id prefix, status and path
        assert _sha(PROVIDERS)[:12] in text and _sha(PROVIDERS_LATER)[:12] in text


def test_an_ambiguous_prefix_is_refused(settings):
    twin = _sha(INVOICES)[:12] + "0" * 52
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute(
            "insert into raw.file_registry select ? as file_id, * exclude (file_id, ingested_seq),"
            " 99 from raw.file_registry where file_id = ?",
            [twin, _sha(INVOICES)],
        )
    with pytest.raises(TakeoutError, match=f"{_sha(INVOICES)[:12]} matches 2 files"):
        _resolve(settings, _sha(INVOICES)[:12])
    assert _resolve(settings, _sha(INVOICES)[:13]) == _sha(INVOICES)


# --- refusals: nothing changes ---------------------------------------------------------------


def _state(settings) -> tuple:
    files = sorted(
        p.relative_to(settings.data_dir).as_posix()
        for p in settings.data_dir.rglob("*")
        if p.is_file() and "warehouse" not in p.parts
    )
    return _registry(settings), _raw_rows(settings), files


def test_an_empty_reason_is_refused(settings):
    before = _state(settings)
    for reason in ("", "   \n"):
        with pytest.raises(TakeoutError, match="--reason"):
            take_out(settings, _sha(INVOICES), reason)
    assert _state(settings) == before


def test_a_quarantined_file_is_refused(settings):
    land(settings, "ijw", "2026-04/broken.xml", b"<not xml")
    ingest_all(settings, workers=1)
    take_out(settings, _sha(INVOICES), REASON)
    before = _state(settings)
    with pytest.raises(TakeoutError, match="already quarantined.*operator: provider sent"):
        take_out(settings, _sha(INVOICES), "again")
    with pytest.raises(TakeoutError, match="already quarantined"):  # by its former path
        take_out(settings, "archive/ijw/2026-03/JW323_BSN-masked.xml", "again")
    with pytest.raises(TakeoutError, match="already quarantined.*malformed_xml"):
        take_out(settings, _sha(b"<not xml"), REASON)
    assert _state(settings) == before


def test_a_busy_warehouse_is_refused(settings):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
            " time.sleep(60)",
            str(settings.warehouse_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(TakeoutError, match="in use by another process") as refused:
            take_out(settings, _sha(INVOICES), REASON)
        assert "\n" not in str(refused.value)
    finally:
        holder.kill()
        holder.wait()
    assert _registry(settings)[_sha(INVOICES)][0] == "ingested"


def test_no_warehouse_is_refused(tmp_path):
    with pytest.raises(TakeoutError, match="no warehouse"):
        take_out(make_settings(tmp_path), "0" * 64, REASON)


def test_a_failure_inside_the_transaction_changes_nothing(settings, monkeypatch):
    before = _state(settings)

    def broken(*args, **kwargs):
        raise duckdb.ConstraintException("simulated")

    monkeypatch.setattr(takeout, "_record", broken)
    with pytest.raises(duckdb.ConstraintException):
        take_out(settings, _sha(INVOICES), REASON)
    assert _state(settings) == before
    assert set(read_watermarks(settings.warehouse_path)) == {
        "raw.file_registry",
        "raw.ijw_invoice_lines",
        "raw.ijw_allocations",
    }


# --- where the file is -----------------------------------------------------------------------


class _Crash(BaseException):
    """The process ending between the commit and the move (power cut, kill -9)."""


def _crash_before_move(monkeypatch):
    def crash(*args, **kwargs):
        raise _Crash()

    monkeypatch.setattr(takeout, "move_file", crash)


def test_a_takeout_cut_short_after_its_commit_is_finished_by_running_it_again(
    settings, monkeypatch
):
    file_id = _sha(INVOICES)
    archived = settings.data_dir / "archive/ijw/2026-03/JW323_BSN-masked.xml"
    quarantined = settings.data_dir / "quarantine/ijw/2026-03/JW323_BSN-masked.xml"
    _crash_before_move(monkeypatch)
    with pytest.raises(_Crash):
        take_out(settings, file_id, REASON)
    monkeypatch.undo()
    # committed: rows gone, registry quarantined; the file not moved yet
    assert _registry(settings)[file_id][0] == "quarantined"
    assert _raw_rows(settings)["ijw_invoice_lines"] == 0
    assert archived.exists() and not quarantined.exists()
    assert _takeouts(settings)[0][-2] is False  # moved_at not set
    # a run meanwhile leaves it be: nothing in landing, nothing loaded again
    ingest_all(settings, workers=1)
    assert _raw_rows(settings)["ijw_invoice_lines"] == 0

    done = take_out(settings, file_id[:12], "whatever the second time")
    assert done.finished_earlier
    assert done.reason == f"operator: {REASON}"  # the first command's
    assert done.rows_removed == {"ijw_invoice_lines": 2, "ijw_message_identities": 1}
    assert not archived.exists() and quarantined.read_bytes() == INVOICES
    assert (settings.data_dir / (done.stored_path + REASON_SUFFIX)).exists()
    assert _takeouts(settings)[0][-2] is True
    assert len(_takeouts(settings)) == 1


def test_any_later_takeout_first_finishes_one_cut_short(settings, monkeypatch):
    _crash_before_move(monkeypatch)
    with pytest.raises(_Crash):
        take_out(settings, _sha(INVOICES), REASON)
    monkeypatch.undo()
    take_out(settings, _sha(ALLOCATIONS), REASON)
    assert (settings.data_dir / "quarantine/ijw/2026-03/JW323_BSN-masked.xml").exists()
    assert (settings.data_dir / "quarantine/ijw/2026-01/JW301_1.xml").exists()
    assert [row[-2] for row in _takeouts(settings)] == [True, True]


def test_a_move_done_before_the_cut_gets_its_reason_file(settings, monkeypatch):
    def crash(*args, **kwargs):
        raise _Crash()

    monkeypatch.setattr(takeout, "write_reason", crash)
    with pytest.raises(_Crash):
        take_out(settings, _sha(INVOICES), REASON)
    monkeypatch.undo()
    quarantined = settings.data_dir / "quarantine/ijw/2026-03/JW323_BSN-masked.xml"
    assert (
        quarantined.exists()
        and not (quarantined.parent / (quarantined.name + REASON_SUFFIX)).exists()
    )
    assert take_out(settings, _sha(INVOICES), REASON).finished_earlier
    assert (quarantined.parent / (quarantined.name + REASON_SUFFIX)).exists()


def test_a_taken_name_in_quarantine_gets_the_id_prefix(settings):
    file_id = _sha(ALLOCATIONS)
    occupied = settings.data_dir / "quarantine/ijw/2026-01/JW301_1.xml"
    occupied.parent.mkdir(parents=True)
    occupied.write_bytes(b"someone else's")
    done = take_out(settings, file_id, REASON)
    assert done.stored_path == f"quarantine/ijw/2026-01/JW301_1.{file_id[:12]}.xml"
    assert occupied.read_bytes() == b"someone else's"
    assert _registry(settings)[file_id][2] == done.stored_path


def test_a_file_a_crash_left_in_landing_moves_from_there(settings):
    """Ingestion committed but did not move the file: it is still in landing/."""
    file_id = _sha(ALLOCATIONS)
    landed = settings.landing_dir / "ijw/2026-01/JW301_1.xml"
    landed.parent.mkdir(parents=True, exist_ok=True)
    os.replace(settings.data_dir / "archive/ijw/2026-01/JW301_1.xml", landed)
    done = take_out(settings, file_id, REASON)
    assert done.from_path == "landing/ijw/2026-01/JW301_1.xml"
    assert not landed.exists()
    assert (settings.data_dir / done.stored_path).read_bytes() == ALLOCATIONS


def test_without_a_copy_on_disk_the_rows_still_go_and_the_registry_says_so(settings):
    file_id = _sha(ALLOCATIONS)
    (settings.data_dir / "archive/ijw/2026-01/JW301_1.xml").unlink()
    done = take_out(settings, file_id, REASON)
    assert (done.from_path, done.stored_path) == (None, None)
    assert done.rows_removed == {"ijw_allocations": 3, "ijw_message_identities": 1}
    assert _registry(settings)[file_id][:3] == ("quarantined", f"operator: {REASON}", None)
    assert any("no copy" in line for line in done.describe())


def test_a_file_put_back_in_landing_is_loaded_again(settings):
    file_id = _sha(INVOICES)
    done = take_out(settings, file_id, REASON)
    back = settings.landing_dir / "ijw/2026-03/JW323_again.xml"
    back.parent.mkdir(parents=True, exist_ok=True)
    os.replace(settings.data_dir / done.stored_path, back)
    ingest_all(settings, workers=1)
    status, reason, stored, loaded, seq = _registry(settings)[file_id]
    assert (status, reason, stored, loaded) == (
        "ingested",
        None,
        "archive/ijw/2026-03/JW323_again.xml",
        2,
    )
    assert seq == 6 and _raw_rows(settings)["ijw_invoice_lines"] == 2


def test_a_corrected_message_under_the_same_identity_loads_once_the_wrong_one_is_out(settings):
    corrected = invoice_message(1, VALID_BSNS[2:4])  # message D1 again, other lines
    land(settings, "ijw", "2026-03/JW323_corrected.xml", corrected)
    ingest_all(settings, workers=1)
    assert _registry(settings)[_sha(corrected)][1].startswith("conflicting_redelivery")
    take_out(settings, _sha(INVOICES), REASON)
    land(settings, "ijw", "2026-03/JW323_corrected.xml", corrected)
    ingest_all(settings, workers=1)
    assert _registry(settings)[_sha(corrected)][:2] == ("ingested", None)
    assert rows(settings, "select file_id, count(*) from raw.ijw_invoice_lines group by 1") == [
        (_sha(corrected), 2)
    ]


def test_it_describes_what_it_did(settings):
    file_id = _sha(INVOICES)
    lines = take_out(settings, file_id, REASON).describe()
    assert lines[0] == f"taken out: ijw/2026-03/JW323_BSN-masked.xml (sha256 {file_id})"
    text = "\n".join(lines)
    assert "raw.ijw_invoice_lines: 2 rows removed" in text
    assert (
        "archive/ijw/2026-03/JW323_BSN-masked.xml -> quarantine/ijw/2026-03/JW323_BSN-masked.xml"
        in text
    )
    assert "--full-refresh" in text and "raw.file_registry, raw.ijw_invoice_lines" in text

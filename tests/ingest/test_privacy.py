"""No raw BSN, name or birth date reaches the warehouse, whatever the source."""

from __future__ import annotations

import re
from datetime import date

import duckdb

from jeugdhulp.ijw.records import CareStart, CareStop, Client, Header, Message, ReferralRequest
from jeugdhulp.ingest import ingest_all
from jeugdhulp.ingest.raw_tables import RAW_TABLES, table_columns
from jeugdhulp.privacy.bsn import is_valid_bsn
from jeugdhulp.synthetic.ijw_writer import write_message
from tests.support.ingest_files import (
    MUNICIPALITY,
    PROVIDER,
    VALID_BSNS,
    allocation_message,
    answer_message,
    invoice_line,
    invoice_message,
    land,
    make_settings,
    rows,
)

BIRTH_DATE = date(2012, 3, 4)
SURNAME = "Vermeulen-Achternaam"


def _client(bsn: str) -> Client:
    return Client(bsn=bsn, birth_date=BIRTH_DATE, surname=SURNAME)


def _client_messages() -> dict[str, bytes]:
    client = _client(VALID_BSNS[2])
    start = CareStart(client, "1000", "45", "45A48", date(2026, 1, 5), date(2026, 1, 7))
    stop = CareStop(
        client, "1000", "45", "45A48", date(2026, 1, 5), date(2026, 1, 7), "31", date(2026, 6, 30)
    )
    request = ReferralRequest(client, "REF1", "45", "45A48", date(2026, 1, 1), None, "02")
    return {
        "jw305.xml": write_message(
            Message(Header("JW305", PROVIDER, MUNICIPALITY, "S1", date(2026, 1, 8)), (start,))
        ),
        "jw307.xml": write_message(
            Message(Header("JW307", PROVIDER, MUNICIPALITY, "S2", date(2026, 7, 1)), (stop,))
        ),
        "jw315.xml": write_message(
            Message(Header("JW315", PROVIDER, MUNICIPALITY, "R1", date(2025, 12, 20)), (request,))
        ),
    }


def test_no_bsn_name_or_birth_date_in_any_raw_table(tmp_path):
    settings = make_settings(tmp_path)
    land(settings, "ijw", "jw301.xml", allocation_message(1, bsn=VALID_BSNS[0]))
    land(settings, "ijw", "jw323.xml", invoice_message(2, VALID_BSNS[:2]))
    land(settings, "ijw", "jw325.xml", answer_message(2, (invoice_line("R2-1", VALID_BSNS[1]),)))
    for name, data in _client_messages().items():
        land(settings, "ijw", name, data)
    land(
        settings,
        "pgb",
        "pgb.csv",
        f"bsn;gemeente_code;maand;productcategorie;bedrag_eur\n{VALID_BSNS[3]};0546;2025-01;45;10\n",
    )
    reports = ingest_all(settings, workers=1)
    assert sum(len(r.files_quarantined) for r in reports.values()) == 0
    loaded = {t for r in reports.values() for t in r.rows_loaded}
    assert loaded == {
        "ijw_allocations",
        "ijw_invoice_lines",
        "ijw_rejected_lines",
        "ijw_starts",
        "ijw_stops",
        "ijw_requests",
        "pgb",
    }

    nine_digits = re.compile(r"(?<!\d)\d{9}(?!\d)")
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    for table in RAW_TABLES:
        for column, column_type in table_columns(table):
            values = [
                v
                for (v,) in con.execute(f"SELECT DISTINCT {column} FROM raw.{table}").fetchall()
                if v is not None
            ]
            if column_type == "VARCHAR":
                for value in values:
                    found = [m for m in nine_digits.findall(value) if is_valid_bsn(m)]
                    assert not found, f"raw.{table}.{column} holds BSN-like {found}"
                    assert SURNAME not in value, f"raw.{table}.{column} holds a name"
            if column_type == "DATE":
                assert BIRTH_DATE not in values, f"raw.{table}.{column} holds the birth date"
    con.close()
    assert rows(settings, "SELECT DISTINCT birth_year FROM raw.ijw_starts") == [(2012,)]


def test_a_bsn_beside_an_escaped_byte_in_a_file_name_is_masked(tmp_path):
    """Windows-1252 names: curly quotes (0x93/0x94), an en dash (0x96) or a tab right before a BSN.
    Escaped as `\\x93`, the byte's hex digits must not hide the BSN from the mask."""
    import os

    from jeugdhulp.ingest.landing import path_text
    from jeugdhulp.ingest.runner import ingest_source

    for raw in (
        b"Dossier \x93999900006\x94.xml",
        b"Jansen\x96999900018.xml",
        b"tab\t999900031.xml",
    ):
        text = path_text(os.fsdecode(raw))
        assert not re.search(r"999900006|999900018|999900031", text), text
        assert "BSN-masked" in text
    settings = make_settings(tmp_path)
    folder = settings.landing_dir / "ijw"
    folder.mkdir(parents=True)
    (folder / os.fsdecode(b"Dossier \x93999900006\x94.xml")).write_bytes(b"<not xml")
    (folder / os.fsdecode(b"Jansen\x96999900018.xml")).write_bytes(allocation_message(1))
    report = ingest_source(settings, "ijw")
    assert report.files_ingested == 1 and len(report.files_quarantined) == 1
    stored = (
        duckdb.connect(str(settings.warehouse_path), read_only=True)
        .execute(
            "select landed_path || coalesce(stored_path, '') || coalesce(reason, '') "
            "from raw.file_registry"
        )
        .fetchall()
    )
    text = " ".join(s for (s,) in stored) + " ".join(p + r for p, r in report.files_quarantined)
    text += " " + next((settings.quarantine_dir / "ijw").rglob("*.reason.txt")).read_text()
    assert not re.search(r"999900006|999900018", text), text

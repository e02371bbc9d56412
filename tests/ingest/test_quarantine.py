"""Bad input never stops ingestion: each kind lands in quarantine/ with a reason, nothing of it in raw."""

from __future__ import annotations

from datetime import date

import pytest

from jeugdhulp.ijw.records import Header, Message
from jeugdhulp.ingest import ijw_rows, ingest_all, ingest_source
from jeugdhulp.privacy.pseudonym import Pseudonymiser
from jeugdhulp.synthetic.ijw_writer import write_message_v30
from tests.support.ingest_files import (
    INVALID_BSN,
    KEY,
    VALID_BSNS,
    allocation_message,
    count,
    files_under,
    invoice_message,
    land,
    make_settings,
    rows,
)

GOOD_XML = allocation_message(1)
DTD_XML = (
    b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e "boom">]>\n' + GOOD_XML.split(b"?>\n", 1)[1]
)
JW302_XML = GOOD_XML.replace(b"/jw301/schema", b"/jw302/schema")
BAD_DATE_XML = GOOD_XML.replace(b"<Ingangsdatum>2026-01-05<", b"<Ingangsdatum>2026-02-30<")


def _wrong_version() -> bytes:
    import io

    from jeugdhulp.ijw.reader import read_messages

    items = list(read_messages(io.BytesIO(GOOD_XML)))
    header = items[0].header
    return write_message_v30(
        Message(
            Header(header.message_type, header.sender, header.receiver, "V30", date(2026, 1, 2)),
            tuple(i.record for i in items),
        )
    )


IJW_CASES = {
    "malformed": (GOOD_XML[: len(GOOD_XML) // 2], "malformed_xml"),  # truncated delivery
    "not_xml": (b"this is a PDF, honestly", "malformed_xml"),
    "dtd": (DTD_XML, "forbidden_dtd"),
    "unknown_message": (JW302_XML, "unknown_message"),
    "wrong_version": (None, "wrong_version"),
    "invalid_date": (BAD_DATE_XML, "invalid"),
    "empty": (b"", "empty_file"),
}


@pytest.mark.parametrize("case", sorted(IJW_CASES))
def test_bad_ijw_file_is_quarantined_whole_and_the_run_goes_on(tmp_path, case):
    settings = make_settings(tmp_path)
    data, code = IJW_CASES[case]
    if data is None:
        data = _wrong_version()
    land(settings, "ijw", "a_good_before.xml", allocation_message(2))
    land(settings, "ijw", f"sub/{case}.xml", data)
    land(settings, "ijw", "z_good_after.xml", allocation_message(3))

    report = ingest_source(settings, "ijw", workers=1)

    assert (report.files_seen, report.files_ingested, len(report.files_quarantined)) == (3, 2, 1)
    [(path, reason)] = report.files_quarantined
    assert path == f"ijw/sub/{case}.xml"
    assert reason.startswith(code), reason
    quarantined = settings.quarantine_dir / "ijw" / "sub" / f"{case}.xml"
    assert quarantined.read_bytes() == data
    reason_text = (quarantined.parent / f"{case}.xml.reason.txt").read_text()
    assert f"reason: {reason}" in reason_text
    assert files_under(settings.landing_dir) == []
    assert count(settings, "ijw_allocations") == 2  # only the two good files
    assert rows(
        settings,
        "SELECT status, reason, rows_loaded, stored_path FROM raw.file_registry WHERE landed_path = ?".replace(
            "?", f"'ijw/sub/{case}.xml'"
        ),
    ) == [("quarantined", reason, 0, f"quarantine/ijw/sub/{case}.xml")]


def test_message_broken_after_its_first_records_loads_none_of_them(tmp_path):
    settings = make_settings(tmp_path)
    data = allocation_message(4, records=5)
    last = data.rfind(b"<Ingangsdatum>2026-01-05<")
    data = (
        data[:last]
        + b"<Ingangsdatum>2026-13-05<"
        + data[last + len(b"<Ingangsdatum>2026-01-05<") :]
    )
    land(settings, "ijw", "late_error.xml", data)
    report = ingest_source(settings, "ijw", workers=1)
    assert len(report.files_quarantined) == 1 and report.rows_loaded == {}
    assert count(settings, "ijw_allocations") == 0


CSV_CASES = {
    # source, file name, content, reason code, words the reason must contain
    "not_utf8": (
        "reference",
        "providers.csv",
        "agb_code;name;contract_type\n12345678;Zorg Café;maatwerk\n".encode("cp1252"),
        "not_utf8",
        "line 2",
    ),
    "utf16": (
        "reference",
        "providers.csv",
        "agb_code;name\n".encode("utf-16"),
        "not_utf8",
        "UTF-16",
    ),
    "missing_column": (
        "reference",
        "budget_ceilings.csv",
        "agb_code;year\n12345678;2025\n",
        "missing_columns",
        "budget_ceiling_eur",
    ),
    "tab_separated": (
        "reference",
        "population.csv",
        "municipality_code\tyear\tyouth_0_17\n0546\t2025\t24000\n",
        "missing_columns",
        "municipality_code",
    ),
    "bad_number": (
        "reference",
        "budget_ceilings.csv",
        "agb_code;year;budget_ceiling_eur\n12345678;2025;1.000.000\n12345678;2026;een miljoen\n",
        "bad_value",
        "line 3, column budget_ceiling_eur",
    ),
    "bad_date": (
        "reference",
        "products.csv",
        "product_category;product_code;description;unit;tariff_eur;valid_from;valid_to;segment\n45;45A48;x;04;78;2024-31-01;;a\n",
        "bad_value",
        "line 2, column valid_from",
    ),
    "bad_code": (
        "verantwoording",
        "v.csv",
        "boekjaar;agb_code;gemeente_code;productcategorie;productcode;volume;eenheid;bedrag_eur;aantal_clienten;accountantsverklaring;datum_aanlevering\n2025;12345678;Leiden;45;45A48;1;04;10;1;ja;2026-03-01\n",
        "bad_value",
        "column gemeente_code",
    ),
    "bad_yes_no": (
        "verantwoording",
        "v.csv",
        "boekjaar;agb_code;gemeente_code;productcategorie;productcode;volume;eenheid;bedrag_eur;aantal_clienten;accountantsverklaring;datum_aanlevering\n2025;12345678;0546;45;45A48;1;04;10;1;misschien;2026-03-01\n",
        "bad_value",
        "column accountantsverklaring",
    ),
    "ragged_row": (
        "pgb",
        "p.csv",
        "bsn;gemeente_code;maand;productcategorie;bedrag_eur\n999900006;0546;2025-01\n",
        "csv_syntax",
        "line 2",
    ),
    "bad_quote": (
        "pgb",
        "p.csv",
        'bsn;gemeente_code;maand;productcategorie;bedrag_eur\n999900006;0546;2025-01;"45"x;10\n',
        "csv_syntax",
        "line 2",
    ),
    "missing_key": (
        "pgb",
        "p.csv",
        "bsn;gemeente_code;maand;productcategorie;bedrag_eur\n;0546;2025-01;45;10\n",
        "missing_value",
        "line 2, column bsn",
    ),
    "bad_month": (
        "pgb",
        "p.csv",
        "bsn;gemeente_code;maand;productcategorie;bedrag_eur\n999900006;0546;2025-13;45;10\n",
        "bad_value",
        "column maand",
    ),
    "empty": ("verantwoording", "leeg.csv", b"", "empty_file", "empty"),
    "legacy_xls": (
        "verantwoording",
        "oud.xls",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64,
        "unsupported_format",
        ".xls",
    ),
    "broken_xlsx": (
        "verantwoording",
        "kapot.xlsx",
        b"PK\x03\x04 not really a zip",
        "unreadable_xlsx",
        "XLSX",
    ),
    "unknown_reference": (
        "reference",
        "tarieven.csv",
        "a;b\n1;2\n",
        "unknown_file",
        "tarieven.csv",
    ),
}


@pytest.mark.parametrize("case", sorted(CSV_CASES))
def test_bad_table_file_is_quarantined_with_a_reason_naming_where(tmp_path, case):
    settings = make_settings(tmp_path)
    source, name, content, code, words = CSV_CASES[case]
    data = content.encode("utf-8") if isinstance(content, str) else content
    land(settings, source, f"in/{name}", data)

    report = ingest_source(settings, source, workers=1)

    assert (report.files_ingested, len(report.files_quarantined)) == (0, 1)
    [(path, reason)] = report.files_quarantined
    assert path == f"{source}/in/{name}"
    assert reason.startswith(code + ":"), reason
    assert words in reason, reason
    assert (settings.quarantine_dir / source / "in" / name).read_bytes() == data
    assert (settings.quarantine_dir / source / "in" / f"{name}.reason.txt").exists()
    assert rows(settings, "SELECT status, reason FROM raw.file_registry") == [
        ("quarantined", reason)
    ]


def test_files_outside_known_sources_are_quarantined_by_ingest_all(tmp_path):
    settings = make_settings(tmp_path)
    (settings.landing_dir / "facturen").mkdir(parents=True)
    (settings.landing_dir / "facturen" / "x.xml").write_bytes(allocation_message(5))
    (settings.landing_dir / "readme.txt").write_text("hello")
    land(settings, "ijw", "ok.xml", allocation_message(6))

    reports = ingest_all(settings, workers=1)

    assert reports["ijw"].files_ingested == 1
    unknown = reports["_unknown"]
    assert [p for p, _ in unknown.files_quarantined] == ["facturen/x.xml", "readme.txt"]
    assert all(r.startswith("unknown_source:") for _, r in unknown.files_quarantined)
    assert files_under(settings.quarantine_dir) == [
        "_unknown/facturen/x.xml",
        "_unknown/facturen/x.xml.reason.txt",
        "_unknown/readme.txt",
        "_unknown/readme.txt.reason.txt",
    ]
    assert count(settings, "ijw_allocations") == 1  # the misplaced JW301 is not loaded


def test_invalid_bsn_is_loaded_with_its_pseudonym_and_flagged(tmp_path):
    settings = make_settings(tmp_path)
    land(settings, "ijw", "inv.xml", invoice_message(8, (VALID_BSNS[0], INVALID_BSN)))
    land(settings, "ijw", "alloc.xml", allocation_message(9, bsn=INVALID_BSN))
    report = ingest_source(settings, "ijw", workers=1)
    assert len(report.files_quarantined) == 0
    pseudonym = Pseudonymiser(KEY)
    assert rows(
        settings, "SELECT client_key, bsn_valid FROM raw.ijw_invoice_lines ORDER BY record_position"
    ) == [
        (pseudonym(VALID_BSNS[0]), True),
        (pseudonym(INVALID_BSN), False),
    ]
    assert rows(settings, "SELECT client_key, bsn_valid, birth_year FROM raw.ijw_allocations") == [
        (pseudonym(INVALID_BSN), False, 2012)
    ]


def test_a_file_the_warehouse_refuses_is_quarantined_alone(tmp_path, monkeypatch):
    """Rows that fail in DuckDB (here: a NULL in a NOT NULL column) roll back the chunk; it is
    retried file by file, and only the refusing file is quarantined."""
    settings = make_settings(tmp_path)
    for n in range(4):
        land(settings, "ijw", f"m{n}.xml", allocation_message(100 + n, records=2))
    real_row = ijw_rows._row

    def row_with_hole(item, keys):
        values = real_row(item, keys)
        if item.header.message_id == "M102":
            values = values[:1] + (None,) + values[2:]  # message_id NULL
        return values

    monkeypatch.setattr(ijw_rows, "_row", row_with_hole)
    report = ingest_source(settings, "ijw", workers=1)

    assert (report.files_ingested, len(report.files_quarantined)) == (3, 1)
    [(path, reason)] = report.files_quarantined
    assert path == "ijw/m2.xml" and reason.startswith("load_failed:") and "message_id" in reason
    assert count(settings, "ijw_allocations") == 6
    assert rows(
        settings, "SELECT landed_path, status FROM raw.file_registry ORDER BY ingested_seq"
    ) == [
        ("ijw/m0.xml", "ingested"),
        ("ijw/m1.xml", "ingested"),
        ("ijw/m2.xml", "quarantined"),
        ("ijw/m3.xml", "ingested"),
    ]


def test_a_parser_bug_quarantines_the_file_instead_of_stopping_the_run(tmp_path, monkeypatch):
    settings = make_settings(tmp_path)
    land(settings, "ijw", "a.xml", allocation_message(1))
    land(settings, "ijw", "b.xml", invoice_message(2))

    def broken(item, keys):
        raise KeyError("surprise")

    monkeypatch.setattr(ijw_rows, "_row", broken)
    report = ingest_source(settings, "ijw", workers=1)
    assert len(report.files_quarantined) == 2
    assert all(r.startswith("internal_error: KeyError") for _, r in report.files_quarantined)
    reason_file = (settings.quarantine_dir / "ijw" / "a.xml.reason.txt").read_text()
    assert "Traceback" in reason_file

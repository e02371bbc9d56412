"""The two optional delivery sources: lokaal_team (the municipal team's own clients) and
beschikbaarheid (providers' waiting times), docs/contract.md §2.6, §2.7.

Rows that read are loaded as delivered (dbt flags the ones that make no sense: unknown
municipality, invalid BSN, einddatum before startdatum, dates out of range, negative waiting
weeks); a value that cannot be read (a date that is not one, capacity neither ja nor nee, an
empty key column) quarantines the file naming line and column. Nothing is dropped.
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest

from jeugdhulp.ingest import ingest_source
from jeugdhulp.privacy.pseudonym import Pseudonymiser
from tests.support.ingest_files import count, land, make_settings, rows

KEY = "test-key-not-secret"
TEAM_HEADER = "bsn;gemeente_code;startdatum;einddatum;soort_ondersteuning\n"
WAIT_HEADER = (
    "peildatum,agb_code,productcategorie,wachttijd_weken,aantal_wachtend,capaciteit_beschikbaar\n"
)


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path)


def _xlsx(header: list[str], data: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in data:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _only_reason(report) -> str:
    assert report.files_ingested == 0, report
    assert len(report.files_quarantined) == 1, report.files_quarantined
    return report.files_quarantined[0][1]


def test_team_registrations_are_pseudonymised_and_every_readable_row_is_kept(settings):
    text = TEAM_HEADER + (
        "999900006;0546;1-3-2025;;gezinsbegeleiding\n"
        "99900018;GM0546;2025-02-01;2025-06-30;opvoedondersteuning\n"  # Excel dropped the zero
        "123456789;0546;2025-04-01;;x\n"  # fails the 11-proef: loaded, bsn_valid false
        "999900006;9999;2025-05-01;2025-04-01;x\n"  # unknown municipality, end before start
        "999900006;0546;1890-01-01;;x\n"  # a date out of range: loaded, flagged in dbt
    )
    land(settings, "lokaal_team", "leiden/export 2025.csv", text)
    report = ingest_source(settings, "lokaal_team", workers=1)
    assert report.files_ingested == 1, report.files_quarantined
    pseudonym = Pseudonymiser(KEY)
    assert rows(
        settings,
        "SELECT record_position, client_key, bsn_valid, gemeente_code, startdatum, einddatum, "
        "soort_ondersteuning FROM raw.local_team_registrations ORDER BY record_position",
    ) == [
        (2, pseudonym("999900006"), True, "0546", date(2025, 3, 1), None, "gezinsbegeleiding"),
        (3, pseudonym("099900018"), False, "0546", date(2025, 2, 1), date(2025, 6, 30),
         "opvoedondersteuning"),
        (4, pseudonym("123456789"), False, "0546", date(2025, 4, 1), None, "x"),
        (5, pseudonym("999900006"), True, "9999", date(2025, 5, 1), date(2025, 4, 1), "x"),
        (6, pseudonym("999900006"), True, "0546", date(1890, 1, 1), None, "x"),
    ]  # fmt: skip
    stored = rows(settings, "SELECT * FROM raw.local_team_registrations")
    assert not any("999900006" in str(value) for row in stored for value in row)


def test_team_registrations_from_xlsx(settings):
    data = _xlsx(
        ["BSN", "Gemeente_Code", "Startdatum", "Einddatum", "Soort ondersteuning"],
        [[999900006, 546, date(2025, 1, 6), None, "ambulant"]],
    )
    land(settings, "lokaal_team", "team.xlsx", data)
    report = ingest_source(settings, "lokaal_team", workers=1)
    assert report.files_ingested == 1, report.files_quarantined
    assert rows(
        settings,
        "SELECT bsn_valid, gemeente_code, startdatum, einddatum, soort_ondersteuning "
        "FROM raw.local_team_registrations",
    ) == [(True, "0546", date(2025, 1, 6), None, "ambulant")]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("999900006;0546;31-02-2025;;x", "bad_value: line 2, column startdatum"),
        ("999900006;0546;;;x", "missing_value: line 2, column startdatum: empty"),
        (";0546;2025-01-01;;x", "missing_value: line 2, column bsn: empty"),
        ("999900006;0546;2025-01-01;morgen;x", "bad_value: line 2, column einddatum"),
    ],
)
def test_unreadable_team_rows_quarantine_the_file_naming_line_and_column(settings, line, reason):
    land(settings, "lokaal_team", "t.csv", TEAM_HEADER + line + "\n")
    assert _only_reason(ingest_source(settings, "lokaal_team", workers=1)).startswith(reason)
    assert count(settings, "local_team_registrations") == 0


def test_waiting_time_deliveries_keep_negative_and_odd_values_for_dbt_to_flag(settings):
    text = WAIT_HEADER + (
        '2025-03-01,1234567,45,"6,5",12,ja\n'  # AGB without its leading zero: padded
        "31-3-2025,01234567,46,-2,3,Nee\n"  # negative waiting weeks: loaded, flagged in dbt
        "2025-03-31,01234567,47,,,\n"  # nothing filled in but the keys: loaded as delivered
    )
    land(settings, "beschikbaarheid", "2025-03/aanbieder.csv", text)
    report = ingest_source(settings, "beschikbaarheid", workers=1)
    assert report.files_ingested == 1, report.files_quarantined
    assert rows(
        settings,
        "SELECT peildatum, agb_code, productcategorie, wachttijd_weken, aantal_wachtend, "
        "capaciteit_beschikbaar FROM raw.waiting_times ORDER BY record_position",
    ) == [
        (date(2025, 3, 1), "01234567", "45", Decimal("6.50"), 12, "ja"),
        (date(2025, 3, 31), "01234567", "46", Decimal("-2.00"), 3, "nee"),
        (date(2025, 3, 31), "01234567", "47", None, None, None),
    ]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (
            "2025-03-01,01234567,45,6,12,misschien",
            "bad_value: line 2, column capaciteit_beschikbaar",
        ),
        ("2025-03-01,01234567,45,zes,12,ja", "bad_value: line 2, column wachttijd_weken"),
        ('2025-03-01,01234567,45,6,"12,5",ja', "bad_value: line 2, column aantal_wachtend"),
        (",01234567,45,6,12,ja", "missing_value: line 2, column peildatum: empty"),
        ("2025-03-01,,45,6,12,ja", "missing_value: line 2, column agb_code: empty"),
    ],
)
def test_unreadable_waiting_time_rows_quarantine_the_file(settings, line, reason):
    land(settings, "beschikbaarheid", "w.csv", WAIT_HEADER + line + "\n")
    assert _only_reason(ingest_source(settings, "beschikbaarheid", workers=1)).startswith(reason)
    assert count(settings, "waiting_times") == 0


def test_a_missing_column_quarantines_the_delivery(settings):
    land(settings, "beschikbaarheid", "w.csv", "peildatum,agb_code\n2025-03-01,01234567\n")
    reason = _only_reason(ingest_source(settings, "beschikbaarheid", workers=1))
    assert reason.startswith("missing_columns"), reason

"""Adversarial iJw deliveries that ingestion got wrong (found by hand-written serialisations of the
messages the test helpers write; each test states what the contract asks, and failed before the
fix).

- An XSD-valid `xs:integer` lexical form (`+62400`, `0001000`) is a number like any other
  (docs/contract.md §2.1: every valid serialisation yields the same raw rows; a file is quarantined
  only when it holds "a number that is not one"). Amounts with a plus sign are quarantined, and
  ToewijzingNummer (LDT_Nummer, an xs:integer) is stored as its lexical text, so an allocation
  number with leading zeros becomes another allocation.
- A JW325 that rejects nothing, read by the streaming reader (any encoding but UTF-8, a comment,
  CDATA, ...), loses its message identity, so a conflicting JW325 under that identity is loaded
  instead of quarantined; and its registered type is taken from the first iJw namespace text in
  the file's first 4 KB (a comment), not from its root.
- A JW325 without DeclaratieAntwoord (XSD minOccurs=0: the declaration rejected as a whole at the
  header) lacks the DeclaratieNummer the product maps, yet is ingested as "no rejected lines".
"""

from __future__ import annotations

import pytest

from jeugdhulp.ingest.runner import ingest_source
from tests.ijw.test_conformance import VARIANTS
from tests.support.ingest_files import (
    answer_message,
    count,
    invoice_line,
    invoice_message,
    land,
    make_settings,
    rows,
)


def _schema_valid(data: bytes) -> None:
    """The adversarial variant is itself valid against the iJw 3.2 XSDs (when they are present)."""
    from tests.ijw.test_codec import SHARED, schema_errors

    if SHARED.is_dir():
        assert schema_errors(data) == [], "the adversarial variant must itself be XSD-valid"


def _invoice_rows(settings) -> list[tuple]:
    return rows(
        settings,
        "SELECT record_position, reference_number, allocation_number, volume, tariff_cents, "
        "amount_cents, debit_credit FROM raw.ijw_invoice_lines ORDER BY record_position",
    )


def _plain_invoice_rows(tmp_path) -> list[tuple]:
    plain = make_settings(tmp_path / "plain")
    land(plain, "ijw", "plain.xml", invoice_message(1))
    assert ingest_source(plain, "ijw", workers=1).files_ingested == 1
    return _invoice_rows(plain)


# --- xs:integer lexical forms -------------------------------------------------------------------


def test_an_amount_with_a_plus_sign_is_a_number_not_a_reason_to_quarantine(tmp_path):
    """LDT_Bedrag is an xs:integer: `+62400` is the value 62400 (XSD-valid)."""
    data = invoice_message(1).replace(b"<ijw:Bedrag>62400<", b"<ijw:Bedrag>+62400<")
    _schema_valid(data)
    settings = make_settings(tmp_path / "signed")
    land(settings, "ijw", "signed.xml", data)

    report = ingest_source(settings, "ijw", workers=1)

    assert report.files_quarantined == []  # was: invalid_number ... '+62400'
    assert report.files_ingested == 1
    assert _invoice_rows(settings) == _plain_invoice_rows(tmp_path)


def test_an_allocation_number_with_leading_zeros_is_the_same_allocation(tmp_path):
    """ToewijzingNummer is an LDT_Nummer (xs:integer): `0001000` is allocation 1000, the one the
    JW301 named `1000`; stored as text it no longer matches its allocation."""
    data = invoice_message(1).replace(b"<ToewijzingNummer>1000<", b"<ToewijzingNummer>0001000<")
    _schema_valid(data)
    settings = make_settings(tmp_path / "padded")
    land(settings, "ijw", "padded.xml", data)

    assert ingest_source(settings, "ijw", workers=1).files_ingested == 1

    # was: allocation_number '0001000' instead of '1000'
    assert _invoice_rows(settings) == _plain_invoice_rows(tmp_path)


@pytest.mark.parametrize(
    ("amount", "outcome"),
    [(b"-0", 0), (b"-00", 0), (b"+0062400", 62400), (b"-5", None), (b"+-5", None), (b"+", None)],
)
def test_a_signed_amount_is_read_as_the_schema_reads_it(tmp_path, amount, outcome):
    """LDT_Bedrag has minInclusive 0: -0 is zero, -5 is not a valid amount (quarantined)."""
    data = invoice_message(1).replace(b"<ijw:Bedrag>62400<", b"<ijw:Bedrag>" + amount + b"<", 1)
    settings = make_settings(tmp_path)
    land(settings, "ijw", "signed.xml", data)

    report = ingest_source(settings, "ijw", workers=1)

    if outcome is None:
        assert [reason.split(":")[0] for _, reason in report.files_quarantined] == [
            "invalid_number"
        ]
    else:
        assert report.files_quarantined == []
        assert _invoice_rows(settings)[0][5] == outcome


# --- a JW325 without rejected lines on the streaming reader ---------------------------------------


def _answer(number: int, rejected: int) -> bytes:
    return answer_message(number, tuple(invoice_line(f"R1-{i}") for i in range(rejected)))


@pytest.mark.parametrize("variant", ["utf16", "latin1", "comments_and_pis", "cdata"])
def test_an_answer_rejecting_nothing_keeps_its_identity_in_any_serialisation(tmp_path, variant):
    """As tests/ingest/test_redelivery.py's answer test, with the empty answer in a serialisation
    the fast path leaves to the streaming reader: a later JW325 under the same identity that
    rejects lines is a conflicting re-delivery (docs/contract.md §2.1), not a second answer."""
    settings = make_settings(tmp_path)
    land(settings, "ijw", "2026/a.xml", VARIANTS[variant](_answer(1, 0)))
    assert ingest_source(settings, "ijw", workers=1).files_ingested == 1
    land(settings, "ijw", "2026/b.xml", _answer(1, 2))

    report = ingest_source(settings, "ijw", workers=1)

    # was: b.xml ingested, its 2 rejections loaded under the identity of a.xml's answer
    assert [path for path, _ in report.files_quarantined] == ["ijw/2026/b.xml"]
    assert report.files_quarantined[0][1].startswith("conflicting_redelivery: JW325 A1")
    assert count(settings, "ijw_rejected_lines") == 0


def test_an_answer_rejecting_nothing_is_registered_as_a_jw325_whatever_its_comments_say(tmp_path):
    """The message type comes from the root's namespace (docs/contract.md §2.1), not from a
    comment before it."""
    data = _answer(1, 0).replace(
        b"?>\n",
        b"?>\n<!-- antwoord; zie ook http://www.istandaarden.nl/ijw/3_2/jw301/schema -->\n",
        1,
    )
    settings = make_settings(tmp_path)
    land(settings, "ijw", "answer.xml", data)

    assert ingest_source(settings, "ijw", workers=1).files_ingested == 1

    registered = rows(settings, "SELECT content_type FROM raw.file_registry")
    assert registered == [("JW325",)]  # was: [('JW301',)]


# --- a JW325 rejecting the declaration as a whole ------------------------------------------------


def test_an_answer_without_declaratie_antwoord_is_not_taken_for_one_rejecting_nothing(tmp_path):
    """JW325's DeclaratieAntwoord is optional in the XSD: a municipality that rejects a
    declaration as a whole answers with a header RetourCode and no DeclaratieAntwoord. Such a file
    lacks the DeclaratieNummer the product maps (docs/contract.md §2.1: quarantined when it "lacks
    a field the product maps"); ingesting it as an answer without rejected lines silently counts
    every line of the rejected declaration as accepted."""
    full = _answer(1, 0)
    head = full[: full.index(b"\t<DeclaratieAntwoord>")]
    data = head.replace(b"<RetourCode>0200<", b"<RetourCode>8001<") + b"</Bericht>\n"
    _schema_valid(data)
    settings = make_settings(tmp_path)
    land(settings, "ijw", "answer.xml", data)

    report = ingest_source(settings, "ijw", workers=1)

    # was: ingested, 0 rows, no reason anywhere
    assert report.files_ingested == 0
    assert [path for path, _ in report.files_quarantined] == ["ijw/answer.xml"]
    assert "DeclaratieAntwoord" in report.files_quarantined[0][1]

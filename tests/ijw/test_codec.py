"""iJw 3.2 codec: writer → reader round trips, XSD validity, the samples, and hostile input."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date, datetime
from functools import cache
from pathlib import Path

import pytest
from lxml import etree

from jeugdhulp.ijw.errors import (
    ForbiddenDtdError,
    IjwReadError,
    InvalidMessageError,
    MalformedXmlError,
    UnknownMessageError,
    WrongVersionError,
)
from jeugdhulp.ijw.reader import read_messages, sniff_message_type
from jeugdhulp.ijw.records import (
    Allocation,
    CareStart,
    CareStop,
    Client,
    Declaration,
    DeclarationAnswer,
    Header,
    InvoiceLine,
    Message,
    ReferralRequest,
    RejectedLine,
)
from jeugdhulp.synthetic.ijw_writer import write_message, write_message_v30
from tests.support.pipeline import IJW_SHARED as SHARED

BASE_NS = "http://www.istandaarden.nl/ijw/3_2/basisschema/schema"

# --- message builders -------------------------------------------------------------------------

CLIENT = Client(bsn="999900006", birth_date=date(2012, 3, 4), gender="2", surname="Jansen")
OTHER_CLIENT = Client(bsn="999900018", birth_date=date(2015, 7, 1))


def header(message_type: str) -> Header:
    municipality_sends = message_type in ("JW301", "JW325")
    return Header(
        message_type=message_type,
        sender="0546" if municipality_sends else "12345678",
        receiver="12345678" if municipality_sends else "0546",
        message_id="M2026000001",
        message_date=date(2026, 5, 4),
    )


def jw301(client: Client = CLIENT) -> Message:
    return Message(
        header("JW301"),
        (
            Allocation(
                client=client,
                allocation_number="700001",
                provider_reference="REF-1",
                product_category="45",
                product_code="45A48",
                allocation_date=date(2026, 4, 1),
                start_date=date(2026, 4, 2),
                end_date=date(2026, 12, 31),
                change_reason="01",
                volume=4,
                unit="04",
                frequency="2",
                budget_cents=None,
                allocation_time="09:30:15",
            ),
            Allocation(  # every optional field empty
                client=client,
                allocation_number="700002",
                provider_reference=None,
                product_category=None,
                product_code=None,
                allocation_date=date(2026, 4, 1),
                start_date=date(2026, 4, 1),
                end_date=None,
            ),
            Allocation(  # budget instead of volume, category without code, deleted
                client=client,
                allocation_number="700003",
                provider_reference=None,
                product_category="54",
                product_code=None,
                allocation_date=date(2026, 4, 3),
                start_date=date(2026, 4, 3),
                end_date=date(2026, 6, 30),
                change_reason="13",
                budget_cents=1_250_000,
            ),
        ),
    )


def jw305() -> Message:
    return Message(
        header("JW305"),
        (
            CareStart(CLIENT, "700001", "45", "45A48", date(2026, 4, 2), date(2026, 4, 6)),
            CareStart(CLIENT, None, None, None, None, date(2026, 4, 7), delivery_status="3"),
        ),
    )


def jw307() -> Message:
    return Message(
        header("JW307"),
        (
            CareStop(
                CLIENT,
                "700001",
                "45",
                "45A48",
                date(2026, 4, 2),
                date(2026, 4, 6),
                "20",
                date(2026, 8, 1),
            ),
            CareStop(
                CLIENT,
                None,
                None,
                None,
                None,
                date(2026, 4, 6),
                "31",
                date(2026, 9, 30),
                delivery_status="3",
            ),
        ),
    )


def jw315() -> Message:
    return Message(
        header("JW315"),
        (
            ReferralRequest(
                CLIENT,
                "AANVR-1",
                "54",
                "54001",
                date(2026, 3, 1),
                date(2026, 8, 31),
                "02",
                volume=10,
                unit="04",
                frequency="6",
                referrer_name="Huisartsenpraktijk De Linde",
                referrer_agb="01234567",
            ),
            ReferralRequest(CLIENT, "AANVR-2", None, None, date(2026, 3, 1), None, "01"),
        ),
    )


def invoice_line(n: int, bsn: str = "999900006", **changes: object) -> InvoiceLine:
    line = InvoiceLine(
        bsn=bsn,
        reference_number=f"RN{n:05d}",
        previous_reference_number=None,
        allocation_number="700001",
        product_category="45",
        product_code="45A48",
        period_start=date(2026, 4, 1),
        period_end=date(2026, 4, 30),
        volume=4,
        unit="04",
        tariff_cents=7800,
        amount_cents=31200,
    )
    return replace(line, **changes)  # type: ignore[arg-type]


DECLARATION = Declaration("DN2026040001", date(2026, 4, 1), date(2026, 4, 30), date(2026, 5, 3))


def jw323(lines: tuple[InvoiceLine, ...] | None = None) -> Message:
    if lines is None:
        lines = (  # grouped per client already, as the writer would return them
            invoice_line(1),
            # a credit of an earlier month's debit, arriving late
            invoice_line(
                3,
                previous_reference_number="RN00000",
                debit_credit="C",
                period_start=date(2026, 3, 1),
                period_end=date(2026, 3, 31),
            ),
            invoice_line(
                2, bsn="999900018", tariff_cents=None, unit="83", volume=1, amount_cents=4500
            ),
        )
    return Message(header("JW323"), lines, declaration=DECLARATION)


# net 31200 D - 31200 C + 4500 D; the two rejected lines net to zero, so 4500 is granted
ANSWER = DeclarationAnswer("DN2026040001", 4500, "D", 4500, "D", return_codes=("0200",))


def jw325(rejected: tuple[RejectedLine, ...] | None = None) -> Message:
    if rejected is None:
        rejected = (
            RejectedLine(invoice_line(1), ("9346", "0611")),
            RejectedLine(
                invoice_line(3, previous_reference_number="RN00000", debit_credit="C"), ("8017",)
            ),
        )
    return Message(header("JW325"), rejected, answer=ANSWER)


BUILDERS = {
    "JW301": jw301,
    "JW305": jw305,
    "JW307": jw307,
    "JW315": jw315,
    "JW323": jw323,
    "JW325": jw325,
}


def read_bytes(data: bytes) -> list:
    return list(read_messages(io.BytesIO(data)))


# --- XSD validation: all six message schemas compiled once, into one schema set ----------------


@cache
def compiled_schemas():
    xmlschema = pytest.importorskip("xmlschema")
    return xmlschema.XMLSchema([str(SHARED / "xsd" / f"{name}.xsd") for name in sorted(BUILDERS)])


def schema_errors(data: bytes) -> list[str]:
    if not SHARED.is_dir():
        pytest.skip(f"iJw 3.2 XSDs not found at {SHARED}")
    return [str(error).splitlines()[0] for error in compiled_schemas().iter_errors(data.decode())]


def assert_schema_valid(message_type: str, data: bytes) -> None:
    root = etree.fromstring(data)
    assert (
        root.tag == f"{{http://www.istandaarden.nl/ijw/3_2/{message_type.lower()}/schema}}Bericht"
    )
    assert schema_errors(data) == []


def test_the_schema_check_can_fail() -> None:
    data = write_message(jw305()).replace(b"<StatusAanlevering>1<", b"<StatusAanlevering>7<", 1)
    assert len(schema_errors(data)) == 1


# --- round trips ---------------------------------------------------------------------------------


@pytest.mark.parametrize("message_type", sorted(BUILDERS))
def test_round_trip_returns_the_same_records(message_type: str) -> None:
    message = BUILDERS[message_type]()
    items = read_bytes(write_message(message))
    assert tuple(item.record for item in items) == message.records
    assert {item.header for item in items} == {message.header}
    assert {item.declaration for item in items} == {message.declaration}
    assert {item.answer for item in items} == {message.answer}


@pytest.mark.parametrize("message_type", sorted(BUILDERS))
def test_written_messages_validate_against_the_xsd(message_type: str) -> None:
    assert_schema_valid(message_type, write_message(BUILDERS[message_type]()))


def test_jw325_without_rejected_lines_is_valid_and_yields_nothing() -> None:
    data = write_message(jw325(rejected=()))
    assert_schema_valid("JW325", data)
    assert read_bytes(data) == []
    assert b"<Clienten>" not in data


@pytest.mark.parametrize("message_type", sorted(BUILDERS))
def test_output_is_deterministic(message_type: str) -> None:
    assert write_message(BUILDERS[message_type]()) == write_message(BUILDERS[message_type]())


@pytest.mark.parametrize("message_type", sorted(BUILDERS))
def test_item_line_points_at_the_record_start_tag(message_type: str) -> None:
    data = write_message(BUILDERS[message_type]())
    source_lines = data.decode().splitlines()
    record_tag = {
        "JW301": "ToegewezenProduct",
        "JW305": "StartProduct",
        "JW307": "StopProduct",
        "JW315": "AangevraagdProduct",
    }.get(message_type, "Prestatie")
    items = read_bytes(data)
    assert [source_lines[item.line - 1].strip() for item in items] == [f"<{record_tag}>"] * len(
        items
    )
    assert len({item.line for item in items}) == len(items)


def test_lines_are_grouped_per_client_in_order_of_first_appearance() -> None:
    lines = (
        invoice_line(1),
        invoice_line(2, bsn="999900018"),
        invoice_line(3),
        invoice_line(4, bsn="999900031"),
        invoice_line(5, bsn="999900018"),
    )
    items = read_bytes(write_message(jw323(lines)))
    assert [item.record.reference_number for item in items] == [
        "RN00001",
        "RN00003",
        "RN00002",
        "RN00005",
        "RN00004",
    ]
    assert [item.record.bsn for item in items] == [
        "999900006",
        "999900006",
        "999900018",
        "999900018",
        "999900031",
    ]


def test_text_is_escaped_and_comes_back_unchanged() -> None:
    client = replace(CLIENT, surname="de <Boer> & Zn \"'")
    message = jw301(client)
    data = write_message(message)
    assert b"de &lt;Boer&gt; &amp; Zn" in data
    assert_schema_valid("JW301", data)
    assert read_bytes(data)[0].record.client.surname == "de <Boer> & Zn \"'"


def test_reader_does_not_check_the_bsn() -> None:
    data = write_message(jw323((invoice_line(1, bsn="123456789"),)))
    assert read_bytes(data)[0].record.bsn == "123456789"


def test_reads_from_path_str_and_stream(tmp_path: Path) -> None:
    data = write_message(jw305())
    path = tmp_path / "start.xml"
    path.write_bytes(data)
    expected = read_bytes(data)
    assert list(read_messages(path)) == expected
    assert list(read_messages(str(path))) == expected
    with path.open("rb") as stream:
        assert list(read_messages(stream)) == expected
    assert sniff_message_type(path) == "JW305"


def test_a_large_declaration_streams() -> None:
    lines = tuple(invoice_line(n, bsn=("999900006", "999900018")[n % 2]) for n in range(2000))
    items = read_messages(io.BytesIO(write_message(jw323(lines))))
    count = total = 0
    for item in items:
        count += 1
        total += item.record.amount_cents
    assert count == 2000
    assert total == 2000 * 31200


# --- writer: totals, namespaces, header ------------------------------------------------------------


def xml_text(data: bytes, path: str) -> list[str]:
    root = etree.fromstring(data)
    return [
        e.text
        for e in root.iterfind(path, namespaces={"m": etree.QName(root).namespace, "ijw": BASE_NS})
    ]


def test_jw323_total_is_debits_minus_credits() -> None:
    lines = (
        invoice_line(1, amount_cents=1000),
        invoice_line(2, amount_cents=300, debit_credit="C"),
    )
    data = write_message(jw323(lines))
    assert xml_text(data, "m:Declaratie/m:TotaalIngediendBedrag/ijw:TotaalBedrag") == ["700"]
    assert xml_text(data, "m:Declaratie/m:TotaalIngediendBedrag/ijw:DebetCredit") == ["D"]


def test_jw323_total_of_a_credit_note_is_credit() -> None:
    lines = (
        invoice_line(1, amount_cents=1000),
        invoice_line(2, amount_cents=2500, debit_credit="C"),
    )
    data = write_message(jw323(lines))
    assert xml_text(data, "m:Declaratie/m:TotaalIngediendBedrag/ijw:TotaalBedrag") == ["1500"]
    assert xml_text(data, "m:Declaratie/m:TotaalIngediendBedrag/ijw:DebetCredit") == ["C"]
    assert_schema_valid("JW323", data)


def test_header_fields() -> None:
    data = write_message(jw323())
    root = etree.fromstring(data)
    assert root.tag == "{http://www.istandaarden.nl/ijw/3_2/jw323/schema}Bericht"
    assert root.nsmap["ijw"] == BASE_NS
    assert xml_text(data, "m:Header/m:BerichtCode") == ["490"]
    assert xml_text(data, "m:Header/m:BerichtVersie") == ["3"]
    assert xml_text(data, "m:Header/m:BerichtSubversie") == ["2"]
    assert xml_text(data, "m:Header/m:BerichtIdentificatie/ijw:Identificatie") == ["M2026000001"]
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')


def test_jw325_carries_header_declaration_and_line_return_codes() -> None:
    data = write_message(replace(jw325(), header_return_codes=("0001",)))
    assert xml_text(data, "m:Header/m:RetourCodes/m:RetourCode") == ["0001"]
    assert xml_text(data, "m:DeclaratieAntwoord/m:RetourCodes/m:RetourCode") == ["0200"]
    assert xml_text(data, ".//m:Prestatie/m:RetourCodes/m:RetourCode") == ["9346", "0611", "8017"]
    assert xml_text(data, "m:DeclaratieAntwoord/m:TotaalToegekendBedrag/ijw:TotaalBedrag") == [
        "4500"
    ]


def test_v30_writes_the_3_0_namespace_and_is_refused_as_wrong_version(tmp_path: Path) -> None:
    data = write_message_v30(jw323())
    root = etree.fromstring(data)
    assert root.tag == "{http://www.istandaarden.nl/ijw/3_0/jw323/schema}Bericht"
    assert root.nsmap["ijw"] == "http://www.istandaarden.nl/ijw/3_0/basisschema/schema"
    assert xml_text(data, "m:Header/m:BerichtSubversie") == ["0"]
    with pytest.raises(WrongVersionError) as caught:
        read_bytes(data)
    assert caught.value.reason == "wrong_version"
    assert caught.value.release == "3.0"
    assert "iJw release 3.0 found" in str(caught.value)
    assert "3.2 only" in str(caught.value)
    with pytest.raises(WrongVersionError):
        sniff_message_type(io.BytesIO(data))


# --- writer refuses what would not be schema-valid ------------------------------------------------


def test_one_client_per_jw301() -> None:
    message = jw301()
    mixed = replace(
        message, records=message.records + (replace(message.records[0], client=OTHER_CLIENT),)
    )
    with pytest.raises(ValueError, match=r"one Client per message .* 2 clients"):
        write_message(mixed)


def test_same_bsn_with_different_client_details_is_refused() -> None:
    message = jw305()
    changed = replace(message.records[1], client=replace(CLIENT, surname="Anders"))
    with pytest.raises(ValueError, match="disagree"):
        write_message(replace(message, records=(message.records[0], changed)))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"volume": 4, "unit": None, "frequency": None}, "Omvang needs all three"),
        ({"product_category": None, "product_code": "45A48"}, "without product_category"),
        ({"product_category": "39"}, "product_category"),
        ({"allocation_time": "9:30"}, "allocation_time"),
        ({"allocation_number": "ABC"}, "allocation_number"),
        ({"allocation_number": "1234567890"}, "allocation_number"),
        ({"provider_reference": "x" * 37}, "provider_reference"),
        ({"provider_reference": "two\nlines"}, "provider_reference"),
        ({"provider_reference": " padded"}, "provider_reference"),
        ({"budget_cents": 100_000_000}, "budget_cents"),
        ({"budget_cents": -1}, "budget_cents"),
        ({"start_date": datetime(2026, 4, 1, 12, 0)}, "start_date"),
        ({"change_reason": "15"}, "change_reason"),
        ({"client": replace(CLIENT, gender="M")}, "gender"),
        ({"client": replace(CLIENT, bsn="99990000")}, "bsn"),
    ],
)
def test_writer_refuses_schema_invalid_values(change: dict, match: str) -> None:
    message = jw301()
    broken = replace(message, records=(replace(message.records[0], **change),))
    with pytest.raises(ValueError, match=match):
        write_message(broken)


@pytest.mark.parametrize(
    ("message", "match"),
    [
        (replace(jw323(), declaration=None), "needs message.declaration"),
        (replace(jw323(), records=()), "at least one InvoiceLine"),
        (replace(jw301(), records=()), "at least one record"),
        (replace(jw325(), answer=None), "needs message.answer"),
        (replace(jw325(), header_return_codes=()), "at least one RetourCode"),
        (jw325((RejectedLine(invoice_line(1), ("1234",)),)), "return_codes"),
        (jw323((invoice_line(1, debit_credit="X"),)), "debit_credit"),
        (jw323((invoice_line(1, amount_cents=12.5),)), "amount_cents"),
        (
            replace(jw323(), declaration=replace(DECLARATION, declaration_number="DN-1")),
            "declaration_number",
        ),
        (replace(jw323(), header=replace(header("JW323"), sender="0546")), "sender"),
        (replace(jw323(), header=replace(header("JW323"), message_id="M" * 13)), "message_id"),
        (replace(jw305(), header=replace(header("JW305"), message_type="JW302")), "JW302"),
        (replace(jw305(), records=jw307().records), "is a CareStop, expected CareStart"),
    ],
)
def test_writer_refuses_incomplete_messages(message: Message, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        write_message(message)


def test_unknown_namespace_release_is_refused() -> None:
    with pytest.raises(ValueError, match="namespace_release"):
        write_message(jw305(), namespace_release="3.0")


# --- the official samples ---------------------------------------------------------------------


def sample(name: str) -> Path:
    path = SHARED / "samples" / f"{name}.xml"
    if not path.is_file():
        pytest.skip(f"iJw sample {path} not found")
    return path


@pytest.mark.parametrize(
    ("name", "count"), [("JW301", 2), ("JW305", 2), ("JW307", 2), ("JW323", 5), ("JW325", 3)]
)
def test_schema_valid_samples_are_read(name: str, count: int) -> None:
    assert sniff_message_type(sample(name)) == name
    items = list(read_messages(sample(name)))
    assert len(items) == count
    assert {item.header.message_type for item in items} == {name}


def test_sample_values() -> None:
    allocation = list(read_messages(sample("JW301")))[1].record
    assert allocation.allocation_number == "300202"
    assert (allocation.volume, allocation.unit, allocation.frequency) == (2, "16", "2")
    assert allocation.client == Client("999900006", date(2010, 2, 14), "1", "Wit")
    lines = [item.record for item in read_messages(sample("JW323"))]
    assert sum(line.amount_cents for line in lines) == 79000
    assert [line.reference_number for line in lines].count("RN004") == 2  # the sample's mistake
    rejected = list(read_messages(sample("JW325")))
    assert rejected[1].record.return_codes == ("9339", "9340", "9341")
    assert rejected[0].answer == DeclarationAnswer("DN001", 58000, "C", 34000, "C", ("0200",))


def test_sample_jw315_with_june_31_is_an_invalid_message() -> None:
    assert sniff_message_type(sample("JW315")) == "JW315"
    with pytest.raises(InvalidMessageError) as caught:
        list(read_messages(sample("JW315")))
    error = caught.value
    assert error.reason == "invalid_date"
    assert error.line == 44
    assert (
        error.path == "Bericht/Client/AangevraagdeProducten/AangevraagdProduct/ToewijzingEinddatum"
    )
    assert "'2027-06-31' is not a real date" in str(error)


# --- hostile input -----------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
"""


def with_doctype(doctype: bytes, body: bytes) -> bytes:
    return doctype + body.split(b"?>\n", 1)[1]


def ijw_body_with(text: bytes) -> bytes:
    """A valid JW323 whose first ReferentieNummer is replaced by `text` (an entity reference)."""
    return write_message(jw323()).replace(b"RN00001", text, 1)


HOSTILE = {
    "plain doctype": b'<?xml version="1.0"?>\n<!DOCTYPE Bericht>\n'
    + write_message(jw323()).split(b"?>\n", 1)[1],
    "billion laughs in text": BILLION_LAUGHS + b"<lolz>&lol9;</lolz>",
    "billion laughs in an attribute": BILLION_LAUGHS + b'<lolz a="&lol9;"/>',
    "billion laughs in an iJw message": with_doctype(BILLION_LAUGHS, ijw_body_with(b"&lol9;")),
    "external entity": with_doctype(
        b'<?xml version="1.0"?>\n<!DOCTYPE Bericht [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n',
        ijw_body_with(b"&xxe;"),
    ),
    "external parameter entity": b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY % p SYSTEM '
    b'"file:///etc/passwd"> %p;]>\n<r>x</r>',
    "external dtd": b'<?xml version="1.0"?>\n<!DOCTYPE r SYSTEM "http://example.invalid/x.dtd">\n<r/>',
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_doctypes_and_entities_are_refused(name: str) -> None:
    with pytest.raises(ForbiddenDtdError) as caught:
        read_bytes(HOSTILE[name])
    assert caught.value.reason == "forbidden_dtd"
    assert "DOCTYPE" in str(caught.value)
    assert "root:" not in str(caught.value)  # nothing of /etc/passwd leaks into the message
    with pytest.raises(ForbiddenDtdError):
        sniff_message_type(io.BytesIO(HOSTILE[name]))


@pytest.mark.parametrize(
    ("data", "line", "column"),
    [
        (write_message(jw305())[:-40], None, None),  # truncated
        (
            b'<Bericht xmlns="http://www.istandaarden.nl/ijw/3_2/jw305/schema"><Header></Bericht>',
            1,
            None,
        ),
        (b"", None, None),
        (b"\x89PNG\r\n\x1a\n\x00\x00", None, None),
        (
            b'<?xml version="1.0"?>\n<Bericht xmlns="http://www.istandaarden.nl/ijw/3_2/jw305/schema">'
            b"\n<a>&undefined;</a></Bericht>",
            3,
            None,
        ),
    ],
)
def test_malformed_xml(data: bytes, line: int | None, column: int | None) -> None:
    with pytest.raises(MalformedXmlError) as caught:
        read_bytes(data)
    assert caught.value.reason == "malformed_xml"
    assert str(caught.value).startswith("not well-formed XML")
    if line is not None:
        assert caught.value.line == line
        assert f"line {line}" in str(caught.value)


@pytest.mark.parametrize(
    "data", [b"", b"   \n", b"\x89PNG\r\n\x1a\n\x00\x00", b"<?xml version='1.0'?>"]
)
def test_sniffing_something_without_a_root_is_malformed(data: bytes) -> None:
    with pytest.raises(MalformedXmlError):
        sniff_message_type(io.BytesIO(data))


def test_empty_file_says_so() -> None:
    with pytest.raises(MalformedXmlError, match="the file is empty"):
        read_bytes(b"")
    with pytest.raises(MalformedXmlError, match="the file is empty"):
        read_bytes(b"  \n")


def test_malformed_xml_reports_line_and_column() -> None:
    data = write_message(jw305()).replace(b"</Begindatum>", b"</Begin>", 1)
    with pytest.raises(MalformedXmlError) as caught:
        read_bytes(data)
    expected_line = data[: data.index(b"</Begin>")].count(b"\n") + 1
    assert caught.value.line == expected_line
    assert caught.value.column is not None
    assert f"at line {expected_line}, column {caught.value.column}" in str(caught.value)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (write_message(jw305()).replace(b"/jw305/", b"/jw302/"), "JW302 .* does not read"),
        (b"<foo><bar/></foo>", "<foo> has no namespace"),
        (b'<x:Bericht xmlns:x="urn:example"/>', "not an iJw message"),
        (b'<Bericht xmlns="http://www.istandaarden.nl/iwmo/3_2/wmo301/schema"/>', "iwmo message"),
        (
            write_message(jw305())
            .replace(b"<Bericht ", b"<Berichten ", 1)
            .replace(b"</Bericht>", b"</Berichten>"),
            "root <Bericht>",
        ),
    ],
)
def test_unknown_messages(data: bytes, match: str) -> None:
    with pytest.raises(UnknownMessageError, match=match) as caught:
        read_bytes(data)
    assert caught.value.reason == "unknown_message"
    with pytest.raises(UnknownMessageError):
        sniff_message_type(io.BytesIO(data))


def test_sniff_reads_only_the_root() -> None:
    # the body after the root start tag is broken, sniffing does not care
    assert sniff_message_type(io.BytesIO(write_message(jw325())[:400])) == "JW325"
    for message_type, build in BUILDERS.items():
        assert sniff_message_type(io.BytesIO(write_message(build()))) == message_type


def broken(message: Message, old: bytes, new: bytes) -> bytes:
    data = write_message(message)
    assert old in data
    return data.replace(old, new, 1)


@pytest.mark.parametrize(
    ("data", "reason", "path", "text"),
    [
        (
            broken(jw323(), b"<BerichtCode>490<", b"<BerichtCode>436<"),
            "message_code_mismatch",
            "Bericht/Header/BerichtCode",
            "is '436' but the root namespace says JW323",
        ),
        (
            broken(jw323(), b"<BerichtSubversie>2<", b"<BerichtSubversie>0<"),
            "version_mismatch",
            "Bericht/Header/BerichtVersie",
            "BerichtSubversie 0",
        ),
        (
            broken(jw323(), b"<ijw:Bedrag>31200</ijw:Bedrag>", b""),
            "missing_element",
            "Bericht/Declaratie/Clienten/Client/Prestaties/Prestatie/IngediendBedrag/Bedrag",
            "is missing (in the element starting at line 33)",
        ),
        (
            broken(jw323(), b"<ijw:Bedrag>31200<", b"<ijw:Bedrag>312,00<"),
            "invalid_number",
            "Bericht/Declaratie/Clienten/Client/Prestaties/Prestatie/IngediendBedrag/Bedrag",
            "'312,00' is not a whole non-negative number",
        ),
        (
            broken(jw323(), b"<GeleverdVolume>4<", b"<GeleverdVolume>" + b"9" * 5000 + b"<"),
            "invalid_number",
            "Bericht/Declaratie/Clienten/Client/Prestaties/Prestatie/GeleverdVolume",
            "at most 18 digits",
        ),
        (
            broken(jw323(), b"<ijw:DebetCredit>C<", b"<ijw:DebetCredit>K<"),
            "invalid_code",
            "Bericht/Declaratie/Clienten/Client/Prestaties/Prestatie/IngediendBedrag/DebetCredit",
            "'K' is not D (debit) or C (credit)",
        ),
        (
            broken(jw323(), b"<ijw:Einddatum>2026-04-30<", b"<ijw:Einddatum>30-04-2026<"),
            "invalid_date",
            "Bericht/Declaratie/DeclaratiePeriode/Einddatum",
            "'30-04-2026' is not a date in YYYY-MM-DD form",
        ),
        (
            broken(jw323(), b"<Bsn>999900018</Bsn>", b"<Bsn></Bsn>"),
            "missing_element",
            "Bericht/Declaratie/Clienten/Client/Bsn",
            "is empty",
        ),
        (
            broken(jw301(), b"<ToewijzingNummer>700002</ToewijzingNummer>", b""),
            "missing_element",
            "Bericht/Client/ToegewezenProducten/ToegewezenProduct/ToewijzingNummer",
            "is missing",
        ),
        (
            broken(jw301(), b"<ijw:Datum>2012-03-04<", b"<ijw:Datum>2012-02-30<"),
            "invalid_date",
            "Bericht/Client/Geboortedatum/Datum",
            "is not a real date",
        ),
        (
            broken(jw315(), b"<ijw:Type>02</ijw:Type>", b""),
            "missing_element",
            "Bericht/Client/AangevraagdeProducten/AangevraagdProduct/Verwijzer/Type",
            "is missing",
        ),
        (
            broken(jw325(), b"<RetourCode>8017</RetourCode>", b""),
            "missing_element",
            "Bericht/DeclaratieAntwoord/Clienten/Client/Prestaties/Prestatie/RetourCodes/RetourCode",
            "is missing",
        ),
        (
            broken(jw305(), b"<StartProducten>", b"<StartProducten><Extra>").replace(
                b"</StartProducten>", b"</Extra></StartProducten>"
            ),
            "misplaced_element",
            "Bericht/Client/StartProducten/StartProduct",
            "is not where the JW305 schema puts it",
        ),
    ],
)
def test_invalid_messages_name_the_element(data: bytes, reason: str, path: str, text: str) -> None:
    with pytest.raises(InvalidMessageError) as caught:
        read_bytes(data)
    error = caught.value
    assert (error.reason, error.path) == (reason, path)
    assert text in str(error)
    assert error.line is not None and f"line {error.line}" in str(error)


def test_message_without_header_or_records_is_invalid() -> None:
    data = write_message(jw305())
    start, end = data.index(b"\t<Header>"), data.index(b"</Header>\n") + len(b"</Header>\n")
    with pytest.raises(InvalidMessageError, match="comes before the Header"):
        read_bytes(data[:start] + data[end:])
    no_records = data[: data.index(b"\t\t<StartProducten>")] + b"\t</Client>\n</Bericht>\n"
    with pytest.raises(InvalidMessageError, match="has no record") as caught:
        read_bytes(no_records)
    assert caught.value.path == "Bericht/Client/StartProducten/StartProduct"


def test_every_error_is_an_ijw_read_error() -> None:
    for error_type in (
        MalformedXmlError,
        ForbiddenDtdError,
        UnknownMessageError,
        WrongVersionError,
        InvalidMessageError,
    ):
        assert issubclass(error_type, IjwReadError)

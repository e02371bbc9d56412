"""The raw iJw tables, declared once: per message type its table and, per field, where in the
message the value is read, how, and what it means.

Everything else follows from this table: the element mapping of the streaming reader and of the
fast path (`reader.py`), the rows' layout (`jeugdhulp.ingest.ijw_rows.COLUMNS`), the DDL of the
raw iJw tables (`jeugdhulp.ingest.raw_tables`) and their dbt source definitions
(`dbt_project/models/staging/ijw/_ijw__sources.yml`, written by
`python -m jeugdhulp.ijw.fields --write-dbt-sources`; a test fails when the committed file
differs). A field's DuckDB type follows from how it is read and stored (`DUCKDB_TYPES`).

A field is read from one `part` of the message, at its element `path` below that part's element:
- `file`: made by ingestion (`file_id`); `reader`: made by the reader (`record_position`,
  `source_line`);
- `header`: Bericht/Header; `declaration`: the JW323 Bericht/Declaratie; `answer`: the JW325
  Bericht/DeclaratieAntwoord;
- `client`: the Client the records belong to (JW301/305/307/315 Bericht/Client, JW323/325
  .../Clienten/Client);
- `record`: the record itself (ToegewezenProduct, StartProduct, StopProduct, AangevraagdProduct,
  Prestatie).
The row of a record is laid out part by part in that order, `source_line` last: the readers build
it so, and `_check` below refuses a table that is not.

Names follow records.py: a field fills the records.py attribute of its name (or its `attribute`),
so the readers need no mapping of their own. Fields with `stored=False` are read into the records
(the schema requires them, or the generator's round trip needs them) and never stored.

Paths name elements without namespaces: iJw puts the record's, client's and header's own elements
in the message's namespace, and the parts of the basisschema types they hold (a period, an amount,
a product, a name) in the basisschema namespace; RetourCodes is the one group of a message
schema's own type (`MESSAGE_GROUPS`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

PARTS = ("file", "reader", "header", "declaration", "answer", "client", "record")

# how the reader turns an element's text into a value
READS = {
    "text": "the text, surrounding whitespace removed; an empty optional element is null",
    "code": "as text: a code of an iJw code list (the list is checked by data quality, not here)",
    "date": "a real date in YYYY-MM-DD form",
    "integer": "a whole non-negative number of at most 18 digits (an xs:integer: an optional plus "
    "sign and leading zeros are the same number)",
    "number": "as integer, kept as text in its plain form (0001000 and +1000 are 1000): a number "
    "that names something (LDT_Nummer), not a quantity",
    "cents": "as integer: whole eurocents",
    "debit_credit": "D (debit) or C (credit)",
    "codes": "the texts of a repeated element, at least one",
    "position": "the record's ordinal in the message (1-based, document order)",
    "line": "the line of the record's start tag in the file",
    "sha256": "the SHA-256 of the file's bytes, by ingestion",
}
# how ingestion turns the value read into the stored column ("as read": unchanged)
STORES = {
    "as read": "the value read",
    "pseudonym": "the keyed HMAC pseudonym of the BSN",
    "11-proef": "whether the BSN passes the 11-proef",
    "year": "the year of the date",
    "comma-joined": "the codes joined by commas",
}
# the DuckDB type of a stored field, by its store (or, stored as read, by its read)
DUCKDB_TYPES = {
    "text": "VARCHAR",
    "code": "VARCHAR",
    "date": "DATE",
    "integer": "BIGINT",
    "number": "VARCHAR",
    "cents": "BIGINT",
    "debit_credit": "VARCHAR",
    "position": "INTEGER",
    "line": "INTEGER",
    "sha256": "VARCHAR",
    "pseudonym": "VARCHAR",
    "11-proef": "BOOLEAN",
    "year": "INTEGER",
    "comma-joined": "VARCHAR",
}
MESSAGE_GROUPS = frozenset({"RetourCodes"})  # groups whose elements are in the message namespace


def path_elements(path: str) -> tuple[tuple[str, bool], ...]:
    """The elements of a path, each with whether it is in the basisschema namespace."""
    names = path.split("/")
    return tuple(
        (name, i > 0 and names[i - 1] not in MESSAGE_GROUPS) for i, name in enumerate(names)
    )


@dataclass(frozen=True, slots=True)
class Field:
    """One value the reader takes from a message and, unless `stored` is False, its raw column."""

    name: str  # the raw column (and the records.py attribute, unless `attribute` names another)
    part: str  # PARTS
    path: str  # element path below the part's element; "" for what ingestion or the reader make
    read: str = "text"  # READS
    description: str = ""
    required: bool = False  # the reader refuses a message without it (within its optional group)
    not_null: bool = False  # NOT NULL in the raw DDL
    store: str = "as read"  # STORES
    attribute: str = ""  # the records.py attribute the value fills, when it is not `name`
    stored: bool = True  # False: read into the records, never stored

    @property
    def record_attribute(self) -> str:
        return self.attribute or self.name

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.read if self.store == "as read" else self.store]

    @property
    def elements(self) -> tuple[tuple[str, bool], ...]:
        return path_elements(self.path)


@dataclass(frozen=True, slots=True)
class Read:
    """One element the reader reads, with the raw columns made from it (none: never stored)."""

    part: str
    path: str
    read: str
    required: bool
    attribute: str  # the records.py attribute it fills
    columns: tuple[Field, ...]

    @property
    def elements(self) -> tuple[tuple[str, bool], ...]:
        return path_elements(self.path)

    @property
    def label(self) -> str:
        """Its name in a fast-path tuple: the column when stored as read, else the attribute."""
        if len(self.columns) == 1 and self.columns[0].store == "as read":
            return self.columns[0].name
        return self.attribute


@dataclass(frozen=True, slots=True)
class MessageTable:
    """One message type: the raw table its records land in and the fields of each row."""

    message_type: str  # JW301 ...
    table: str  # in schema raw
    record_path: tuple[str, ...]  # the record element and the containers above it, below Bericht
    description: str  # the dbt source table's
    fields: tuple[Field, ...]
    optional_groups: tuple[str, ...] = ()  # record groups that may be left out: their fields null
    reads: tuple[Read, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "reads", _reads(self))
        _check(self)

    @property
    def columns(self) -> tuple[Field, ...]:
        """The raw table's columns, in DDL order."""
        return tuple(f for f in self.fields if f.stored)

    @property
    def row_columns(self) -> tuple[str, ...]:
        """The columns of a row as ingestion builds it: all but `file_id` (added per file)."""
        return tuple(f.name for f in self.columns if f.part != "file")

    def part_reads(self, part: str) -> tuple[Read, ...]:
        return tuple(r for r in self.reads if r.part == part)

    @property
    def flat_reads(self) -> tuple[Read, ...]:
        """What a fast-path tuple holds, in order: each read that makes a column of the row."""
        return tuple(r for r in self.reads if r.columns and r.part != "file")


def _reads(table: MessageTable) -> tuple[Read, ...]:
    """The distinct elements read, in field order; fields of one element share its read."""
    by_element: dict[tuple[str, str], list[Field]] = {}
    for f in table.fields:
        by_element.setdefault((f.part, f.path or f.read), []).append(f)
    reads = []
    for (part, _), group in by_element.items():
        first = group[0]
        how = {(f.read, f.required, f.record_attribute) for f in group}
        if len(how) > 1:
            raise ValueError(f"{table.message_type}: {first.path} is read in two ways")
        reads.append(
            Read(
                part=part,
                path=first.path,
                read=first.read,
                required=first.required,
                attribute=first.record_attribute,
                columns=tuple(f for f in group if f.stored),
            )
        )
    return tuple(reads)


# the order of the parts in a row (file_id and record_position first, source_line last)
_ROW_ORDER = {"header": 0, "declaration": 1, "answer": 1, "client": 2, "record": 3}
# the part above the records, by the message's top element
_CONTEXT = {"Client": None, "Declaratie": "declaration", "DeclaratieAntwoord": "answer"}


def _check(table: MessageTable) -> None:
    """Refuse a table the readers could not follow; a mistake shows at import, not in a row."""
    where = f"{table.message_type} ({table.table})"
    names = [f.name for f in table.fields]
    if len(set(names)) != len(names):
        raise ValueError(f"{where}: a field name occurs twice")
    for f in table.fields:
        if f.part not in PARTS or f.read not in READS or f.store not in STORES:
            raise ValueError(f"{where}: {f.name} has an unknown part, read or store")
        if bool(f.path) == (f.part in ("file", "reader")):
            raise ValueError(f"{where}: {f.name}: only read elements have a path")
        if f.stored and not f.description:
            raise ValueError(f"{where}: {f.name} has no description")
    columns = [f for f in table.fields if f.stored]
    if [f.name for f in columns[:2]] != ["file_id", "record_position"] or columns[-1].name != (
        "source_line"
    ):
        raise ValueError(
            f"{where}: a row starts with file_id, record_position, ends with source_line"
        )
    order = [_ROW_ORDER.get(f.part, -1) for f in columns[2:-1]]
    if order != sorted(order) or -1 in order:
        raise ValueError(f"{where}: the columns are not laid out part by part")
    # what the readers read above the records: a JW323 its Declaratie, a JW325 its answer, and
    # of the Client above a Prestatie only the Bsn (JW301/305/307/315 read their Client whole)
    context = _CONTEXT[table.record_path[0]]
    parts = {f.part for f in table.fields}
    if parts - {"file", "reader", "header", "client", "record", context}:
        raise ValueError(f"{where}: fields of a part this message does not have")
    if context and len({f.path for f in table.fields if f.part == "client"}) != 1:
        raise ValueError(f"{where}: of the Client above a Prestatie only the Bsn is read")
    leaves = [f.elements[-1] for f in table.fields if f.part == "record"]
    if len(set(leaves)) != len({f.path for f in table.fields if f.part == "record"}):
        # inside a record the reader finds an element by its tag alone
        raise ValueError(f"{where}: two record fields end in the same element")


# --- the fields every table shares -------------------------------------------------------------


def _head(sender: str, receiver: str) -> tuple[Field, ...]:
    """file_id, record_position and the message header; `sender` and `receiver` described."""
    return (
        Field(
            "file_id",
            "file",
            "",
            "sha256",
            "SHA-256 of the landed file: the key of raw.file_registry.",
            not_null=True,
        ),
        Field(
            "record_position",
            "reader",
            "",
            "position",
            "Ordinal of the record in its message (1-based, in document order): the record's "
            "identity within the file, the same for every serialisation of the message.",
            not_null=True,
            attribute="position",
        ),
        Field(
            "message_id",
            "header",
            "BerichtIdentificatie/Identificatie",
            "text",
            "BerichtIdentificatie/Identificatie: the sender's identification of the message.",
            required=True,
            not_null=True,
        ),
        Field(
            "message_date",
            "header",
            "BerichtIdentificatie/Dagtekening",
            "date",
            "BerichtIdentificatie/Dagtekening: the date of the message.",
            required=True,
            not_null=True,
        ),
        Field("sender", "header", "Afzender", "text", sender, required=True, not_null=True),
        Field("receiver", "header", "Ontvanger", "text", receiver, required=True, not_null=True),
    )


SOURCE_LINE = Field(
    "source_line",
    "reader",
    "",
    "line",
    "Line of the record's start tag in the file: diagnostic only (a compact message has every "
    "record on one line).",
    attribute="line",
)

_PSEUDONYM = Field(
    "client_key",
    "client",
    "Bsn",
    "text",
    "Keyed HMAC pseudonym of the client's BSN (Client/Bsn); the BSN itself is never stored.",
    required=True,
    not_null=True,
    store="pseudonym",
    attribute="bsn",
)
_BSN_VALID = Field(
    "bsn_valid",
    "client",
    "Bsn",
    "text",
    "Whether the delivered BSN passes the 11-proef; an invalid one is loaded, not quarantined, "
    "so that data quality can report it.",
    required=True,
    store="11-proef",
    attribute="bsn",
)

# JW301/305/307/315: the one Client of the message; names and the birth date never stored
_CLIENT = (
    _PSEUDONYM,
    _BSN_VALID,
    Field(
        "birth_year",
        "client",
        "Geboortedatum/Datum",
        "date",
        "Year of the client's birth (Client/Geboortedatum/Datum); the full date is never stored.",
        required=True,
        store="year",
        attribute="birth_date",
    ),
    Field("gender", "client", "Geslacht", "code", required=True, stored=False),
    Field("surname", "client", "Naam/Geslachtsnaam/Achternaam", required=True, stored=False),
)

# JW323/JW325: the Client a Prestatie is listed under
_INVOICE_CLIENT = (_PSEUDONYM, _BSN_VALID)

_PRODUCT = (
    Field(
        "product_category",
        "record",
        "Product/Categorie",
        "code",
        "Product/Categorie (JZ020); null when the record names no product.",
        required=True,
    ),
    Field(
        "product_code",
        "record",
        "Product/Code",
        "code",
        "Product/Code; null when the record names no product or only its category.",
    ),
)

_OMVANG = (
    Field(
        "volume",
        "record",
        "Omvang/Volume",
        "integer",
        "Omvang/Volume: the number of units per frequency period; null without an Omvang.",
        required=True,
    ),
    Field(
        "unit",
        "record",
        "Omvang/Eenheid",
        "code",
        "Omvang/Eenheid (WJ756: 01 minute, 04 hour, 14 day and night, 16 part of a day, 82 "
        "pieces of output, 83 euros, 84 pieces of effort).",
        required=True,
    ),
    Field(
        "frequency",
        "record",
        "Omvang/Frequentie",
        "code",
        "Omvang/Frequentie (1 per day, 2 per week, 4 per month, 6 total).",
        required=True,
    ),
)


def _line(answer: bool) -> tuple[Field, ...]:
    """A Prestatie of a JW323 or (`answer`) of a JW325."""
    return (
        Field(
            "reference_number",
            "record",
            "ProductReferentie/ReferentieNummer",
            "text",
            "ProductReferentie/ReferentieNummer: the provider's reference of the line.",
            required=True,
            not_null=True,
        ),
        Field(
            "previous_reference_number",
            "record",
            "ProductReferentie/VorigReferentieNummer",
            "text",
            "ProductReferentie/VorigReferentieNummer: on a credit, the reference of the debit it "
            "repeats.",
        ),
        Field(
            "allocation_number",
            "record",
            "ToewijzingNummer",
            "number",
            "ToewijzingNummer of the allocation the line invoices.",
            required=True,
        ),
        Field(
            "product_category",
            "record",
            "ProductCategorie",
            "code",
            "ProductCategorie (JZ020).",
            required=True,
        ),
        Field("product_code", "record", "ProductCode", "code", "ProductCode.", required=True),
        Field(
            "period_start",
            "record",
            "ProductPeriode/Begindatum",
            "date",
            "ProductPeriode/Begindatum: the first day of the care invoiced.",
            required=True,
        ),
        Field(
            "period_end",
            "record",
            "ProductPeriode/Einddatum",
            "date",
            "ProductPeriode/Einddatum: the last day of the care invoiced.",
            required=True,
        ),
        Field(
            "volume",
            "record",
            "GeleverdVolume",
            "integer",
            "GeleverdVolume: the units delivered.",
            required=True,
        ),
        Field("unit", "record", "Eenheid", "code", "Eenheid (WJ756).", required=True),
        Field(
            "tariff_cents",
            "record",
            "ProductTarief",
            "cents",
            "ProductTarief in whole eurocents per unit; null when the line gives none.",
        ),
        Field(
            "amount_cents",
            "record",
            "IngediendBedrag/Bedrag",
            "cents",
            "IngediendBedrag in whole eurocents, always >= 0; the sign is in debit_credit.",
            required=True,
            not_null=not answer,
        ),
        Field(
            "debit_credit",
            "record",
            "IngediendBedrag/DebetCredit",
            "debit_credit",
            "D (debit) or C (credit, repeating the debit named by previous_reference_number).",
            required=True,
            not_null=not answer,
        ),
    )


# --- the tables --------------------------------------------------------------------------------

JW315 = MessageTable(
    "JW315",
    "ijw_requests",
    ("Client", "AangevraagdeProducten", "AangevraagdProduct"),
    "JW315 verzoek om toewijzing (provider -> municipality): requested product and the referrer "
    "(Verwijzer/Type, COD327).",
    (
        *_head("Provider AGB code.", "CBS code of the municipality asked to allocate."),
        *_CLIENT,
        Field(
            "provider_reference",
            "record",
            "ReferentieAanbieder",
            "text",
            "ReferentieAanbieder: the provider's reference of the request, repeated in the JW301 "
            "that answers it.",
            required=True,
        ),
        *_PRODUCT,
        Field(
            "requested_start_date",
            "record",
            "ToewijzingIngangsdatum",
            "date",
            "ToewijzingIngangsdatum: the first day of the allocation asked for.",
            required=True,
        ),
        Field(
            "requested_end_date",
            "record",
            "ToewijzingEinddatum",
            "date",
            "ToewijzingEinddatum: the last day of the allocation asked for; null when open-ended.",
        ),
        *_OMVANG,
        Field(
            "referrer_type",
            "record",
            "Verwijzer/Type",
            "code",
            "Verwijzer/Type (COD327).",
            required=True,
        ),
        Field("referrer_name", "record", "Verwijzer/Naam", stored=False),
        Field("referrer_agb", "record", "Verwijzer/ZorgverlenerCode", stored=False),
        SOURCE_LINE,
    ),
    optional_groups=("Product", "Omvang"),
)

JW301 = MessageTable(
    "JW301",
    "ijw_allocations",
    ("Client", "ToegewezenProducten", "ToegewezenProduct"),
    "JW301 toewijzing (municipality -> provider): one row per ToegewezenProduct version; a later "
    "one with the same ToewijzingNummer replaces the earlier.",
    (
        *_head("CBS code of the financially responsible municipality.", "Provider AGB code."),
        *_CLIENT,
        Field(
            "allocation_number",
            "record",
            "ToewijzingNummer",
            "number",
            "ToewijzingNummer.",
            required=True,
            not_null=True,
        ),
        Field(
            "provider_reference",
            "record",
            "ReferentieAanbieder",
            "text",
            "ReferentieAanbieder: the reference of the JW315 the allocation answers, if any.",
        ),
        *_PRODUCT,
        Field(
            "allocation_date",
            "record",
            "Toewijzingsdatum",
            "date",
            "Toewijzingsdatum: the day the allocation was made.",
            required=True,
        ),
        Field(
            "allocation_time",
            "record",
            "Toewijzingstijd",
            "text",
            "Toewijzingstijd (hh:mm:ss): with the date, orders versions of one allocation.",
            required=True,
        ),
        Field(
            "start_date",
            "record",
            "Ingangsdatum",
            "date",
            "Ingangsdatum: the first day of the allocation.",
            required=True,
        ),
        Field(
            "end_date",
            "record",
            "Einddatum",
            "date",
            "Einddatum: the last day of the allocation; null when open-ended (an extension is a "
            "new Einddatum).",
        ),
        Field(
            "change_reason",
            "record",
            "RedenWijziging",
            "code",
            "RedenWijziging; 13 = deleted.",
        ),
        *_OMVANG,
        Field(
            "budget_cents",
            "record",
            "Budget",
            "cents",
            "Budget in whole eurocents; null when the allocation has none.",
        ),
        SOURCE_LINE,
    ),
    optional_groups=("Product", "Omvang"),
)

JW305 = MessageTable(
    "JW305",
    "ijw_starts",
    ("Client", "StartProducten", "StartProduct"),
    "JW305 start zorg (provider -> municipality): actual start per allocation.",
    (
        *_head("Provider AGB code.", "CBS municipality code."),
        *_CLIENT,
        Field(
            "allocation_number",
            "record",
            "ToewijzingNummer",
            "number",
            "ToewijzingNummer of the allocation the care starts under.",
        ),
        *_PRODUCT,
        Field(
            "allocation_start_date",
            "record",
            "ToewijzingIngangsdatum",
            "date",
            "ToewijzingIngangsdatum: the first day of that allocation.",
        ),
        Field(
            "start_date",
            "record",
            "Begindatum",
            "date",
            "Begindatum: the day the care actually started.",
            required=True,
        ),
        Field(
            "delivery_status",
            "record",
            "StatusAanlevering",
            "code",
            "StatusAanlevering; 3 deletes an earlier start with the same key.",
            required=True,
        ),
        SOURCE_LINE,
    ),
    optional_groups=("Product",),
)

JW307 = MessageTable(
    "JW307",
    "ijw_stops",
    ("Client", "StopProducten", "StopProduct"),
    "JW307 stop zorg (provider -> municipality): actual end per allocation.",
    (
        *_head("Provider AGB code.", "CBS municipality code."),
        *_CLIENT,
        Field(
            "allocation_number",
            "record",
            "ToewijzingNummer",
            "number",
            "ToewijzingNummer of the allocation the care stops under.",
        ),
        *_PRODUCT,
        Field(
            "allocation_start_date",
            "record",
            "ToewijzingIngangsdatum",
            "date",
            "ToewijzingIngangsdatum: the first day of that allocation.",
        ),
        Field(
            "start_date",
            "record",
            "Begindatum",
            "date",
            "Begindatum: the day the care that stops started.",
            required=True,
        ),
        Field(
            "end_reason",
            "record",
            "RedenBeeindiging",
            "code",
            "RedenBeeindiging (JZ588); 20 = temporary stop.",
            required=True,
        ),
        Field(
            "end_date",
            "record",
            "Einddatum",
            "date",
            "Einddatum: the last day of care.",
            required=True,
        ),
        Field(
            "delivery_status",
            "record",
            "StatusAanlevering",
            "code",
            "StatusAanlevering; 3 deletes an earlier stop with the same key.",
            required=True,
        ),
        SOURCE_LINE,
    ),
    optional_groups=("Product",),
)

JW323 = MessageTable(
    "JW323",
    "ijw_invoice_lines",
    ("Declaratie", "Clienten", "Client", "Prestaties", "Prestatie"),
    "JW323 declaratie (provider -> municipality): one row per Prestatie with its Declaratie.",
    (
        *_head("Provider AGB code.", "CBS code of the financially responsible municipality."),
        Field(
            "declaration_number",
            "declaration",
            "DeclaratieNummer",
            "text",
            "DeclaratieNummer: the provider's number of the declaration.",
            required=True,
            not_null=True,
        ),
        Field(
            "declaration_period_start",
            "declaration",
            "DeclaratiePeriode/Begindatum",
            "date",
            "DeclaratiePeriode/Begindatum: the first day of the month declared.",
            required=True,
            attribute="period_start",
        ),
        Field(
            "declaration_period_end",
            "declaration",
            "DeclaratiePeriode/Einddatum",
            "date",
            "DeclaratiePeriode/Einddatum: the last day of the month declared.",
            required=True,
            attribute="period_end",
        ),
        Field(
            "declaration_date",
            "declaration",
            "DeclaratieDagtekening",
            "date",
            "DeclaratieDagtekening.",
            required=True,
            not_null=True,
        ),
        *_INVOICE_CLIENT,
        *_line(answer=False),
        SOURCE_LINE,
    ),
)

JW325 = MessageTable(
    "JW325",
    "ijw_rejected_lines",
    ("DeclaratieAntwoord", "Clienten", "Client", "Prestaties", "Prestatie"),
    "JW325 declaratie-antwoord (municipality -> provider): only the rejected Prestaties of a "
    "JW323, with their RetourCodes.",
    (
        *_head("CBS municipality code.", "Provider AGB code (the provider that sent the JW323)."),
        Field(
            "declaration_number",
            "answer",
            "DeclaratieNummer",
            "text",
            "DeclaratieNummer of the JW323 answered.",
            required=True,
            not_null=True,
        ),
        Field(
            "submitted_cents",
            "answer",
            "TotaalIngediendBedrag/TotaalBedrag",
            "cents",
            required=True,
            stored=False,
        ),
        Field(
            "submitted_debit_credit",
            "answer",
            "TotaalIngediendBedrag/DebetCredit",
            "debit_credit",
            required=True,
            stored=False,
        ),
        Field(
            "granted_cents",
            "answer",
            "TotaalToegekendBedrag/TotaalBedrag",
            "cents",
            required=True,
            stored=False,
        ),
        Field(
            "granted_debit_credit",
            "answer",
            "TotaalToegekendBedrag/DebetCredit",
            "debit_credit",
            required=True,
            stored=False,
        ),
        Field(
            "answer_return_codes",
            "answer",
            "RetourCodes/RetourCode",
            "codes",
            required=True,
            attribute="return_codes",
            stored=False,
        ),
        *_INVOICE_CLIENT,
        *_line(answer=True),
        Field(
            "return_codes",
            "record",
            "RetourCodes/RetourCode",
            "codes",
            "Comma-separated RetourCodes of the rejected line.",
            required=True,
            store="comma-joined",
        ),
        SOURCE_LINE,
    ),
)

# per message type, in ingestion's order of the raw tables
TABLES: dict[str, MessageTable] = {
    t.message_type: t for t in (JW315, JW301, JW305, JW307, JW323, JW325)
}


# --- the dbt source definitions ------------------------------------------------------------------

# in the repository beside this package (the command is a development tool)
DBT_SOURCES_PATH = (
    Path(__file__).resolve().parents[2] / "dbt_project/models/staging/ijw/_ijw__sources.yml"
)
SOURCE_DESCRIPTION = (
    "iJw 3.2 messages landed by ingestion, one row per product record (ToegewezenProduct, "
    "StartProduct, StopProduct, AangevraagdProduct, Prestatie) with the message header. The BSN "
    "is never stored: `client_key` is its keyed HMAC pseudonym. Lineage: `file_id` (SHA-256 of "
    "the file, key of raw.file_registry) and `record_position` (the ordinal of the record in the "
    "message; `source_line`, the line of the record in the file, is diagnostic only). Header "
    "`sender`/`receiver` are an AGB code (8 digits) or a CBS municipality code (4 digits)."
)


def dbt_sources_yaml(tables: dict[str, MessageTable] = TABLES) -> str:
    """The text of `_ijw__sources.yml`: the dbt source `ijw`, one table per message type."""
    lines = [
        "# Written by `python -m jeugdhulp.ijw.fields --write-dbt-sources` from the field tables in",
        "# jeugdhulp/ijw/fields.py: edit those, not this file (tests/ijw/test_fields.py compares).",
        "version: 2",
        "",
        "sources:",
        "  - name: ijw",
        *_described(SOURCE_DESCRIPTION, "    "),
        "    schema: raw",
        "    tables:",
    ]
    for table in tables.values():
        lines += [
            f"      - name: {table.table.removeprefix('ijw_')}",
            f"        identifier: {table.table}",
            *_described(table.description, "        "),
            "        columns:",
        ]
        for column in table.columns:
            lines += [
                f"          - name: {column.name}",
                f"            data_type: {column.duckdb_type.lower()}",
                *_described(column.description, "            "),
            ]
    return "\n".join(lines) + "\n"


def _described(text: str, indent: str, width: int = 100) -> list[str]:
    """`description: text` as YAML: on one line when it fits, else folded over several."""
    plain = (
        text[:1].isalnum()
        and ": " not in text
        and " #" not in text
        and text.lower() not in ("yes", "no", "true", "false", "null", "on", "off")
    )
    scalar = text if plain else '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    line = f"{indent}description: {scalar}"
    if len(line) <= width:
        return [line]
    first, *words = text.split(" ")
    lines = [f"{indent}description: >", f"{indent}  {first}"]
    for word in words:
        if len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(f"{indent}  {word}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """`python -m jeugdhulp.ijw.fields --write-dbt-sources | --check-dbt-sources`"""
    args = sys.argv[1:] if argv is None else argv
    if args not in (["--write-dbt-sources"], ["--check-dbt-sources"]):
        print(main.__doc__, file=sys.stderr)
        return 2
    expected = dbt_sources_yaml()
    if args == ["--write-dbt-sources"]:
        DBT_SOURCES_PATH.write_text(expected, encoding="utf-8")
        print(f"wrote {DBT_SOURCES_PATH}")
        return 0
    if DBT_SOURCES_PATH.read_text(encoding="utf-8") != expected:
        print(f"{DBT_SOURCES_PATH} differs from jeugdhulp/ijw/fields.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

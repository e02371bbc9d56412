"""The CSV/XLSX landing sources (reference, verantwoording, pgb): which columns, typed how, into which raw table.

Reference files are recognised by name (case-insensitive): `providers`, `budget_ceilings`,
`products`, `population`, `programme_budget`, with extension `.csv` or `.xlsx`, optionally
followed by a dated suffix (`providers_2025-01.csv`, `population-2025.xlsx`). They are snapshots: each delivery is stored
whole and append-only under its own `file_id`; the current one is the ingested file with the
highest `file_registry.ingested_seq` for that `content_type` (see raw_tables.py). Any other file in
`reference/` is quarantined. A snapshot cannot be empty: a header-only reference file is
quarantined (`no_rows`), so an accidental empty export never empties a reference table
(docs/contract.md §2.2). In `verantwoording/`, `pgb/`, `lokaal_team/` and `beschikbaarheid/`
every file is a delivery of that source, whatever its name.

Every column of the contract is required in the header. Key columns must also be filled in every
row (e.g. agb_code and year of a budget ceiling): a row without them cannot be used, so the file
is quarantined naming the line. An XLSX formula without a stored value (`tabular.Uncalculated`)
in a column read quarantines the file naming the cell, key column or not (it is not empty: its
value is unknown). The pgb and lokaal_team `bsn` becomes `client_key` + `bsn_valid` like iJw; a BSN
Excel shortened to fewer than nine digits is zero-padded back first (so it links to the iJw
pseudonym of the same child).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath

from jeugdhulp.ingest import tabular
from jeugdhulp.ingest.errors import QuarantineError
from jeugdhulp.ingest.parsed import ClientKeys, ParsedFile, TableRows


@dataclass(frozen=True)
class Column:
    name: str  # header name as delivered (normalised) and raw column name
    kind: str  # text | agb | municipality | code | int | amount | date | month | yes_no | bsn
    width: int = 0  # codes: digits to zero-pad to
    key: bool = False  # must be filled in every row
    optional: bool = False  # may be absent from the header (then null in every row)


@dataclass(frozen=True)
class FileSpec:
    content_type: str
    table: str
    columns: tuple[Column, ...]


def _spec(content_type: str, table: str, *columns: Column) -> FileSpec:
    return FileSpec(content_type, table, columns)


REFERENCE_SPECS: dict[str, FileSpec] = {
    "providers": _spec(
        "providers",
        "reference_providers",
        Column("agb_code", "agb", 8, key=True),
        Column("name", "text"),
        Column("contract_type", "text"),
    ),
    "budget_ceilings": _spec(
        "budget_ceilings",
        "reference_budget_ceilings",
        Column("agb_code", "agb", 8, key=True),
        Column("year", "int", key=True),
        Column("budget_ceiling_eur", "amount", key=True),
    ),
    "products": _spec(
        "products",
        "reference_products",
        Column("product_category", "code", 2),
        Column("product_code", "code", 5, key=True),
        Column("description", "text"),
        Column("unit", "code", 2),
        Column("tariff_eur", "amount"),
        Column("valid_from", "date"),
        Column("valid_to", "date"),
        Column("segment", "text"),
    ),
    "population": _spec(
        "population",
        "reference_population",
        Column("municipality_code", "municipality", 4, key=True),
        Column("year", "int", key=True),
        Column("youth_0_17", "int", key=True),
    ),
    # the region's programme budget (begroting) per segment; a later adopted_on amends a year ×
    # segment (begrotingswijziging), so staging reads every delivery, not only the latest
    "programme_budget": _spec(
        "programme_budget",
        "reference_programme_budget",
        Column("year", "int", key=True),
        Column("segment", "text", key=True),
        Column("budget_eur", "amount", key=True),
        Column("adopted_on", "date", key=True),
    ),
}

VERANTWOORDING_SPEC = _spec(
    "verantwoording",
    "accountability",
    Column("boekjaar", "int", key=True),
    Column("agb_code", "agb", 8, key=True),
    Column("gemeente_code", "municipality", 4, key=True),
    Column("productcategorie", "code", 2),
    Column("productcode", "code", 5),
    Column("volume", "amount"),
    Column("eenheid", "code", 2),
    Column("bedrag_eur", "amount", key=True),
    Column("aantal_clienten", "int"),
    Column("accountantsverklaring", "yes_no"),
    Column("datum_aanlevering", "date"),
)

PGB_SPEC = _spec(
    "pgb",
    "pgb",
    Column("bsn", "bsn", 9, key=True),
    Column("gemeente_code", "municipality", 4, key=True),
    Column("maand", "month", key=True),
    Column("productcategorie", "code", 2),
    Column("bedrag_eur", "amount", key=True),
)

# a municipality's own team registrations (docs/contract.md §2.6); bsn pseudonymised like pgb.
# Rows that read but make no sense (unknown municipality, invalid BSN, einddatum before
# startdatum, dates out of range) are loaded and become dq_findings in dbt, never dropped.
LOKAAL_TEAM_SPEC = _spec(
    "lokaal_team",
    "local_team_registrations",
    Column("bsn", "bsn", 9, key=True),
    Column("gemeente_code", "municipality", 4, key=True),
    Column("startdatum", "date", key=True),
    Column("einddatum", "date"),
    Column("soort_ondersteuning", "text"),
)

# providers' monthly waiting-time deliveries (Beschikbaarheidswijzer, docs/contract.md §2.7); a
# negative or implausible value is loaded and flagged in dbt, a non-ja/nee capacity quarantines
BESCHIKBAARHEID_SPEC = _spec(
    "beschikbaarheid",
    "waiting_times",
    Column("peildatum", "date", key=True),
    Column("agb_code", "agb", 8, key=True),
    Column("productcategorie", "code", 2, key=True),
    Column("wachttijd_weken", "amount"),
    Column("aantal_wachtend", "int"),
    Column("capaciteit_beschikbaar", "yes_no"),
)

# providers' own year-end forecasts (docs/contract.md §2.5), one row per provider × year ×
# reference date, or per segment when the optional `segment` column is there
PROGNOSES_SPEC = _spec(
    "prognoses",
    "provider_forecasts",
    Column("agb_code", "agb", 8, key=True),
    Column("jaar", "int", key=True),
    Column("peildatum", "date", key=True),
    Column("prognose_eur", "amount", key=True),
    Column("segment", "text", optional=True),
)

_DELIVERY_SPECS: dict[str, FileSpec] = {
    "prognoses": PROGNOSES_SPEC,
    "lokaal_team": LOKAAL_TEAM_SPEC,
    "beschikbaarheid": BESCHIKBAARHEID_SPEC,
}


def spec_for(source: str, relative: str) -> FileSpec:
    """The spec a landed file is read with; QuarantineError for a reference file of unknown name."""
    if source == "verantwoording":
        return VERANTWOORDING_SPEC
    if source == "pgb":
        return PGB_SPEC
    if source in _DELIVERY_SPECS:
        return _DELIVERY_SPECS[source]
    if source != "reference":
        raise ValueError(f"{source!r} is not a CSV/XLSX source")
    path = PurePosixPath(relative.lower())
    if path.suffix in (".csv", ".xlsx"):
        for kind, spec in REFERENCE_SPECS.items():
            if path.stem == kind or re.match(rf"{kind}[ _.\-]", path.stem):
                return spec
    name = PurePosixPath(relative).name
    raise QuarantineError(
        "unknown_file",
        f"{name!r} is not a reference file; expected providers, budget_ceilings, products, "
        "population or programme_budget (.csv or .xlsx, optionally with a dated suffix such as providers_2025-01.csv)",
    )


def _converter(
    column: Column, keys: ClientKeys, padded: dict[str, int]
) -> Callable[[object], tuple]:
    """A function from a cell value to the raw value(s) of this column (a tuple: bsn gives two)."""
    kind, width, name = column.kind, column.width, column.name

    def count_padding(result: tuple[str | None, bool]) -> str | None:
        code, was_padded = result
        if was_padded:
            padded[name] = padded.get(name, 0) + 1
        return code

    if kind == "text":
        return lambda v: (tabular.to_text(v),)
    if kind in ("agb", "municipality", "code"):
        prefix = "GM" if kind == "municipality" else ""
        digits = kind != "code"
        return lambda v: (count_padding(tabular.to_code(v, width, digits=digits, prefix=prefix)),)
    if kind == "int":
        return lambda v: (tabular.to_int(v),)
    if kind == "amount":
        return lambda v: (tabular.to_amount(v),)
    if kind == "date":
        return lambda v: (tabular.to_date(v),)
    if kind == "month":
        return lambda v: (tabular.to_month(v),)
    if kind == "yes_no":
        return lambda v: (tabular.to_yes_no(v),)
    if kind == "bsn":

        def bsn(value: object) -> tuple:
            text = tabular.to_text(value)
            if text is None:
                return (None, None)
            text = text.replace(" ", "")
            if text.isascii() and text.isdigit() and len(text) < width:
                text = count_padding((text.zfill(width), True))
            return keys(text)

        return bsn
    raise ValueError(f"unknown column kind {kind!r}")


def _raw_columns(spec: FileSpec) -> tuple[str, ...]:
    names = ["record_position"]
    for column in spec.columns:
        names.extend(("client_key", "bsn_valid") if column.kind == "bsn" else (column.name,))
    return tuple(names)


# rows a spool receives at a time (see parse_tabular): a batch of ~10 columns holds ~30 MB in Python
SPOOL_ROWS = 50_000

Spool = Callable[[str, tuple[str, ...], list[tuple]], None]


def parse_tabular(
    source: str,
    relative: str,
    data: bytes | tabular.Delivery,
    keys: ClientKeys,
    *,
    spool: Spool | None = None,
    limits: tabular.XlsxLimits | None = None,
) -> ParsedFile:
    """Read one CSV/XLSX delivery into rows of its raw table, or raise QuarantineError.

    With `spool`, a file of more than SPOOL_ROWS rows hands them over in batches as they are read
    (`spool(table, columns, rows)`; the last, short batch too), so memory stays flat in the file's
    size; `ParsedFile.spooled` then counts them and `tables` holds none. A file that turns out
    bad after a batch was handed over is still quarantined: the caller discards the spool.
    """
    spec = spec_for(source, relative)
    sheet = tabular.open_sheet(data, [c.name for c in spec.columns if not c.optional], limits)
    columns = _raw_columns(spec)
    spooled = 0
    padded: dict[str, int] = {}
    plan = [
        (
            sheet.header.index(column.name) if column.name in sheet.header else None,
            column,
            _converter(column, keys, padded),
        )
        for column in spec.columns
    ]
    rows: list[tuple] = []
    line_word = "row" if sheet.dialect == "xlsx" else "line"
    for position, cells in sheet.rows:
        values: list[object] = [position]
        for index, column, convert in plan:
            cell = cells[index] if index is not None and index < len(cells) else None
            if isinstance(cell, tabular.Uncalculated):
                raise QuarantineError(
                    "bad_value",
                    f"{line_word} {position}, column {column.name} (cell {cell.cell}): {cell}",
                )
            try:
                converted = convert(cell)
            except ValueError as exc:
                raise QuarantineError(
                    "bad_value", f"{line_word} {position}, column {column.name}: {exc}"
                ) from exc
            if column.key and converted[0] is None:
                raise QuarantineError(
                    "missing_value", f"{line_word} {position}, column {column.name}: empty"
                )
            values.extend(converted)
        rows.append(tuple(values))
        if spool is not None and len(rows) >= SPOOL_ROWS:
            spool(spec.table, columns, rows)
            spooled += len(rows)
            rows = []
    if spooled and rows:
        spool(spec.table, columns, rows)
        spooled += len(rows)
        rows = []
    if not rows and not spooled:
        raise QuarantineError(
            "no_rows",
            "the file has a header but no data rows (a snapshot cannot be empty)"
            if source == "reference"
            else "the file has a header but no data rows",
        )
    notes = sheet.notes + [
        f"{count} value(s) of {name} had lost leading zeros and were zero-padded"
        for name, count in sorted(padded.items())
    ]
    return ParsedFile(
        spec.content_type,
        {spec.table: TableRows(columns, rows)},
        notes,
        {spec.table: spooled} if spooled else {},
    )

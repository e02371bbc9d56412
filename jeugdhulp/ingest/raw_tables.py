"""DDL of the warehouse's `raw` schema: the one place that says what ingestion lands.

The iJw tables follow from their field tables in `jeugdhulp/ijw/fields.py`, where each column is
declared once (name, type, nullability, the element it is read from, its meaning).

Every raw row carries `file_id` (the SHA-256 of the landed file, a key of `raw.file_registry`)
and `record_position`, so any figure can be traced to a file: for iJw the record's ordinal in the
message (its identity, the same for a compact or a pretty-printed message, any encoding), with
`source_line` (the line of the record in the file) as diagnostics only; for CSV the row's line.
iJw rows carry the message header; the BSN is never stored: `client_key` is its keyed pseudonym
and `bsn_valid` says whether the delivered number passed the 11-proef (an invalid BSN is loaded,
not quarantined, so data quality can report it).
CSV sources keep the delivered (Dutch) column names; staging renames them once.

Reference files are snapshots, stored append-only: every delivered `providers.csv` keeps its rows
under its own `file_id`. The current snapshot of a reference table is the rows of the ingested file
with the highest `file_registry.ingested_seq` among files with that `content_type`.

Columns are only ever added, never renamed: `ensure_raw_schema` adds new columns to an existing
warehouse, so an older warehouse keeps working.
"""

from __future__ import annotations

from jeugdhulp.ijw.fields import TABLES, MessageTable


def _ijw_columns(table: MessageTable) -> str:
    """The column definitions of a raw iJw table, as its field table declares them."""
    columns = [f"    {c.name} {c.duckdb_type}{' NOT NULL' * c.not_null}" for c in table.columns]
    return "\n" + ",\n".join(columns) + "\n"


_CSV_LINEAGE = """
    file_id VARCHAR NOT NULL,
    record_position INTEGER NOT NULL,
"""

RAW_TABLES: dict[str, str] = {
    "file_registry": """
    file_id VARCHAR PRIMARY KEY,
    source VARCHAR NOT NULL,           -- ijw | reference | verantwoording | pgb
    landed_path VARCHAR NOT NULL,      -- path relative to landing/ when it was seen
    stored_path VARCHAR,               -- path relative to the data dir after archive/quarantine
    size_bytes BIGINT NOT NULL,
    status VARCHAR NOT NULL,           -- ingested | quarantined
    reason VARCHAR,                    -- why it was quarantined
    content_type VARCHAR,              -- JW323, providers, verantwoording, pgb, ...
    rows_loaded BIGINT NOT NULL,
    ingested_at TIMESTAMP NOT NULL,
    ingested_seq BIGINT                -- registration order (1, 2, ...): staging picks the latest snapshot by it
""",
    # the iJw tables (ijw_requests ... ijw_rejected_lines), from their field table
    **{table.table: _ijw_columns(table) for table in TABLES.values()},
    "reference_providers": _CSV_LINEAGE
    + """
    agb_code VARCHAR,
    name VARCHAR,
    contract_type VARCHAR
""",
    "reference_budget_ceilings": _CSV_LINEAGE
    + """
    agb_code VARCHAR,
    year INTEGER,
    budget_ceiling_eur DECIMAL(18,2)
""",
    "reference_products": _CSV_LINEAGE
    + """
    product_category VARCHAR,
    product_code VARCHAR,
    description VARCHAR,
    unit VARCHAR,
    tariff_eur DECIMAL(18,2),
    valid_from DATE,
    valid_to DATE,
    segment VARCHAR
""",
    "reference_population": _CSV_LINEAGE
    + """
    municipality_code VARCHAR,
    year INTEGER,
    youth_0_17 INTEGER
""",
    # providers' own year-end forecasts (prognoses), delivered headers
    "provider_forecasts": _CSV_LINEAGE
    + """
    agb_code VARCHAR,
    jaar INTEGER,
    peildatum DATE,
    prognose_eur DECIMAL(18,2),
    segment VARCHAR
""",
    "reference_programme_budget": _CSV_LINEAGE
    + """
    year INTEGER,
    segment VARCHAR,
    budget_eur DECIMAL(18,2),
    adopted_on DATE
""",
    # providers' annual accountability (verantwoording), delivered headers
    "accountability": _CSV_LINEAGE
    + """
    boekjaar INTEGER,
    agb_code VARCHAR,
    gemeente_code VARCHAR,
    productcategorie VARCHAR,
    productcode VARCHAR,
    volume DECIMAL(18,2),
    eenheid VARCHAR,
    bedrag_eur DECIMAL(18,2),
    aantal_clienten INTEGER,
    accountantsverklaring VARCHAR,
    datum_aanlevering DATE
""",
    # SVB personal-budget spend; bsn pseudonymised like iJw
    "pgb": _CSV_LINEAGE
    + """
    client_key VARCHAR NOT NULL,
    bsn_valid BOOLEAN,                 -- the delivered BSN passes the 11-proef
    gemeente_code VARCHAR,
    maand VARCHAR,
    productcategorie VARCHAR,
    bedrag_eur DECIMAL(18,2)
""",
    # a municipality's own team registrations; bsn pseudonymised like iJw
    "local_team_registrations": _CSV_LINEAGE
    + """
    client_key VARCHAR NOT NULL,
    bsn_valid BOOLEAN,                 -- the delivered BSN passes the 11-proef
    gemeente_code VARCHAR,
    startdatum DATE,
    einddatum DATE,
    soort_ondersteuning VARCHAR
""",
    # providers' monthly waiting-time deliveries (Beschikbaarheidswijzer), delivered headers
    "waiting_times": _CSV_LINEAGE
    + """
    peildatum DATE,
    agb_code VARCHAR,
    productcategorie VARCHAR,
    wachttijd_weken DECIMAL(18,2),
    aantal_wachtend INTEGER,
    capaciteit_beschikbaar VARCHAR
""",
}


def table_columns(name: str) -> list[tuple[str, str]]:
    """(column, DuckDB type) of a raw table, in DDL order."""
    columns = []
    for line in RAW_TABLES[name].splitlines():
        definition = line.split("--", 1)[0].strip().rstrip(",")
        if definition:
            column, column_type = definition.split()[:2]
            columns.append((column, column_type))
    return columns


def ensure_raw_schema(con) -> None:
    """Create the raw schema on a DuckDB connection, and add columns a newer DDL introduced."""
    con.execute(create_raw_schema_sql())
    present = set(
        con.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'raw'"
        ).fetchall()
    )
    for name in RAW_TABLES:
        for column, column_type in table_columns(name):
            if (name, column) not in present:
                con.execute(f"ALTER TABLE raw.{name} ADD COLUMN {column} {column_type}")


def create_raw_schema_sql() -> str:
    """All statements that create the raw schema and its tables (idempotent)."""
    statements = ["CREATE SCHEMA IF NOT EXISTS raw;"]
    for name, columns in RAW_TABLES.items():
        statements.append(f"CREATE TABLE IF NOT EXISTS raw.{name} ({columns});")
    return "\n".join(statements)

"""A small hand-made warehouse for the quality tests: raw tables plus a few marts, known defects."""

from __future__ import annotations

from pathlib import Path

import duckdb

from jeugdhulp.ingest.raw_tables import create_raw_schema_sql

FILE_OK = "a" * 64
FILE_QUARANTINED = "b" * 64
CLIENT = "0123456789abcdef0123456789abcdef"
PROVIDER = "12345678"


def build_warehouse(path: Path) -> Path:
    """Raw schema with 3 invoice lines (one 9346 defect), a quarantined file, and three marts."""
    connection = duckdb.connect(str(path))
    try:
        connection.execute(create_raw_schema_sql())
        connection.execute(
            """
            insert into raw.file_registry (file_id, source, landed_path, stored_path, size_bytes, status,
                reason, content_type, rows_loaded, ingested_at, ingested_seq) values
            (?, 'ijw', 'ijw/jw323_1.xml', 'archive/ijw/jw323_1.xml', 1200, 'ingested', null, 'JW323', 3,
             timestamp '2025-03-01 06:00:00', 1),
            (?, 'ijw', 'ijw/kapot.xml', 'quarantine/ijw/kapot.xml', 40, 'quarantined',
             'XML is not well-formed (line 1)', null, 0, timestamp '2025-03-01 06:00:01', 2)
        """,
            [FILE_OK, FILE_QUARANTINED],
        )
        # line 3: 2 × 7800 = 15600, but 16000 was invoiced (9346)
        connection.execute(f"""
            insert into raw.ijw_invoice_lines (file_id, record_position, message_id, message_date, sender,
                receiver, client_key, bsn_valid, declaration_number, declaration_period_start,
                declaration_period_end, declaration_date, reference_number, previous_reference_number,
                allocation_number, product_category, product_code, period_start, period_end, volume, unit,
                tariff_cents, amount_cents, debit_credit)
            select '{FILE_OK}', pos, 'M1', date '2025-02-05', '{PROVIDER}', '0546', '{CLIENT}', true,
                'D-2025-01', date '2025-01-01', date '2025-01-31', date '2025-02-05', 'R' || pos, null,
                'T1', '45', '45A48', date '2025-01-01', date '2025-01-31', volume, '04', 7800, amount, 'D'
            from (values (10, 4, 31200), (20, 1, 7800), (30, 2, 16000)) as v(pos, volume, amount)
        """)
        connection.execute("create schema marts")
        connection.execute("""
            create table marts.mart_invoicing_completeness as
            select * from (values
                ('12345678', 'GM0546', date '2025-01-01', 10, 9, 1, 90.0),
                ('87654321', 'GM0546', date '2025-01-01', 5, 5, 0, 100.0)
            ) as t(provider_agb, municipality_code, service_month, expected_care_months,
                   invoiced_care_months, missing_care_months, completeness_pct)
        """)
        connection.execute("""
            create table marts.mart_invoice_timeliness as
            select * from (values
                ('12345678', date '2025-01-01', 10, 1000.00, 2, 200.00, 0.2, 12.0, 40.0),
                ('87654321', date '2025-01-01', 4, 400.00, 0, 0.00, 0.0, 5.0, 9.0)
            ) as t(provider_agb, service_month, lines, amount_eur, late_lines, late_amount_eur, late_share,
                   median_lag_days, p90_lag_days)
        """)
        connection.execute("""
            create table marts.dq_findings as
            select * from (values
                ('9346', 'error', '12345678', 'GM0546', 'ijw/jw323_1.xml', 'R30', 'Bedrag wijkt af'),
                ('file_quarantined', 'error', null, null, 'ijw/kapot.xml', null, 'Bestand in quarantaine'),
                ('incomplete_invoicing', 'warn', '12345678', null, null, '12345678', '1 van 10 zorgmaanden')
            ) as t(rule_id, severity, provider_agb, municipality_code, source_file, record_ref, message)
        """)
        connection.execute("create schema intermediate")
        connection.execute("""
            create table intermediate.int_providers_invoicing_flagged as
            select * from (values
                ('12345678', 'Zorg BV', 10, 1, 10.0, 2, 'warn', 10, 2, 20.0, 'error'),
                ('87654321', 'Punctueel', 5, 0, 0.0, 0, null, 4, 0, 0.0, null)
            ) as t(provider_agb, provider_name, expected_care_months, missing_care_months,
                   missing_share_pct, skipped_months, incomplete_severity, invoice_lines, late_lines,
                   late_share_pct, late_severity)
        """)
    finally:
        connection.close()
    return path

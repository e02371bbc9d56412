"""Woonplaatsbeginsel findings stay in the warehouse: each is about one client (issue 18)."""

from __future__ import annotations

import duckdb

from jeugdhulp.publish.warehouse import open_work_copy


def test_residence_findings_are_left_out_of_the_published_summary(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("create schema marts")
        connection.execute(
            "create table marts.dq_findings (rule_id varchar, severity varchar, "
            "provider_agb varchar, municipality_code varchar, source_file varchar, "
            "record_ref varchar, message varchar)"
        )
        connection.execute(
            "insert into marts.dq_findings values "
            "('9338', 'error', '22222222', 'GM0546', 'ijw/a.xml', 'R1', 'geen toewijzing'), "
            "('residence_invoice_other_municipality', 'warn', '22222222', 'GM0546', "
            "'ijw/a.xml', 'c0ffee', 'cliënt c0ffee'), "
            "('residence_billed_to_two', 'warn', '22222222', 'GM0484', null, 'c0ffee', 'x')"
        )
    with open_work_copy(warehouse) as work:
        summary = work.con.execute(
            "select municipality_code, provider_agb, rule_id, severity, findings "
            "from src.dq_findings_summary"
        ).fetchall()
    assert summary == [("GM0546", "22222222", "9338", "error", 1)]

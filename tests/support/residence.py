"""The woonplaatsbeginsel cases of the ground truth beside what the warehouse found for them."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import duckdb

from jeugdhulp.privacy.pseudonym import Pseudonymiser

TEST_KEY = "test-key-not-secret"  # the pseudonymisation key every test run uses
RULE_PREFIX = "residence_"
COLUMNS = {
    "residence_billed_to_two": "months_billed_to_two",
    "residence_overlapping_allocations": "overlapping_allocations",
    "residence_invoice_other_municipality": "invoice_other_than_allocation",
    "residence_move_running_allocation": "move_with_running_allocation",
}


def expected_findings(truth: dict, key: str = TEST_KEY) -> Counter:
    """(rule_id, municipality_code, client pseudonym, month YYYY-MM, provider) of every finding
    the injected cases must give, from the ground truth and the BSN pseudonymised here."""
    pseudonym = Pseudonymiser(key)
    return Counter(
        (
            f["rule_id"],
            f["municipality_code"],
            pseudonym(case["bsn"]),
            f["month"],
            f["provider_agb"],
        )
        for case in truth["residence_cases"]
        for f in case["findings"]
    )


def expected_amounts(truth: dict, key: str = TEST_KEY) -> dict[tuple, str]:
    """Per finding (rule_id, municipality_code, pseudonym, month) its amount in Dutch notation as
    the message writes it (1096.68 -> '1096,68 euro')."""
    pseudonym = Pseudonymiser(key)
    return {
        (f["rule_id"], f["municipality_code"], pseudonym(case["bsn"]), f["month"]): f[
            "amount_eur"
        ].replace(".", ",")
        + " euro"
        for case in truth["residence_cases"]
        for f in case["findings"]
        if "amount_eur" in f
    }


def expected_mart(truth: dict, key: str = TEST_KEY) -> dict[tuple[str, str], dict[str, int]]:
    """mart_residence_signals as the cases make it: per municipality × month (YYYY-MM) the
    distinct clients per signal column."""
    clients: dict[tuple[str, str], dict[str, set]] = {}
    for rule, municipality, client, month, _ in expected_findings(truth, key):
        row = clients.setdefault((municipality, month), {c: set() for c in COLUMNS.values()})
        row[COLUMNS[rule]].add(client)
    return {
        cell: {column: len(found) for column, found in row.items()} for cell, row in clients.items()
    }


def found_findings(warehouse: Path) -> list[tuple]:
    """(rule_id, municipality_code, record_ref, month YYYY-MM, provider, message) of every residence
    finding: the month from int_residence_findings_detected, checked against marts.dq_findings."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        detected = connection.execute(
            "select rule_id, municipality_code, record_ref, strftime(signal_month, '%Y-%m'), "
            "provider_agb, message from intermediate.int_residence_findings_detected"
        ).fetchall()
        published = connection.execute(
            "select rule_id, municipality_code, record_ref, provider_agb, message, severity "
            "from marts.dq_findings where rule_id like 'residence%'"
        ).fetchall()
    assert Counter(published) == Counter(
        (rule, municipality, ref, agb, message, "warn")
        for rule, municipality, ref, _, agb, message in detected
    )
    return detected


def found_mart(warehouse: Path) -> dict[tuple[str, str], dict[str, int]]:
    columns = list(COLUMNS.values())
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute(
            f"select municipality_code, strftime(month, '%Y-%m'), {', '.join(columns)} "
            "from marts.mart_residence_signals"
        ).fetchall()
    return {(row[0], row[1]): dict(zip(columns, row[2:], strict=True)) for row in rows}

"""Woonplaatsbeginsel signals on the tiny region (seed 7, as of 2026-10-15), end to end.

The generator injects one case of every kind (synthetic/residence_cases.py) and records in
ground_truth.json which findings each must give; the rest of the data is clean (moves end the old
allocation the day before, trajectories.py), so the findings are exactly those: recall and
precision at once. The expectations come from the ground truth and the BSN pseudonymised here, never
from the warehouse. The dbt unit tests (models/intermediate/residence/_residence__models.yml) cover
each rule's edges; test_region.py checks the region profile.
"""

from __future__ import annotations

from collections import Counter

import duckdb
import pytest

from jeugdhulp.privacy.pseudonym import Pseudonymiser
from jeugdhulp.synthetic.residence_cases import KINDS
from tests.support.residence import (
    TEST_KEY,
    expected_amounts,
    expected_findings,
    expected_mart,
    found_findings,
    found_mart,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tiny_run):
    assert tiny_run.warehouse.exists(), tiny_run.result.stdout + tiny_run.result.stderr
    return tiny_run


def test_every_kind_of_case_is_injected_once(run):
    cases = run.ground_truth["residence_cases"]
    assert sorted(case["kind"] for case in cases) == sorted(KINDS)
    # 1 move finding; 2 double-billed months + 1 move; 1 misdirected month; 2 sides of one overlap
    assert sum(len(case["findings"]) for case in cases) == 7


def test_every_injected_case_is_found_and_nothing_else(run):
    found = Counter(row[:5] for row in found_findings(run.warehouse))
    assert found == expected_findings(run.ground_truth)


def test_each_finding_names_the_client_the_provider_and_the_amount(run):
    amounts = expected_amounts(run.ground_truth)
    assert len(amounts) == 5
    for rule, municipality, client, month, agb, message in found_findings(run.warehouse):
        assert client in message and agb in message, message
        if (rule, municipality, client, month) in amounts:
            assert amounts[(rule, municipality, client, month)] in message, message


def test_the_mart_counts_the_clients_of_the_findings_per_municipality_and_month(run):
    assert found_mart(run.warehouse) == expected_mart(run.ground_truth)


def test_the_misdirected_line_is_also_a_9338_for_the_municipality_it_was_sent_to(run):
    (case,) = [
        c for c in run.ground_truth["residence_cases"] if c["kind"] == "invoice_other_municipality"
    ]
    (other,) = case["other_findings"]
    with duckdb.connect(str(run.warehouse), read_only=True) as connection:
        rows = connection.execute(
            "select rule_id, municipality_code from marts.dq_findings "
            "where provider_agb = ? and record_ref = ?",
            [other["provider_agb"], other["reference"]],
        ).fetchall()
    assert rows == [("9338", other["municipality_code"])]


def test_no_client_pseudonym_or_residence_finding_reaches_a_published_file(run):
    """The findings name the client: none of them leaves the warehouse, not even as a count per
    rule in dq_findings_summary (mart_residence_signals is published as suppressed counts)."""
    published = run.data_dir / "published"
    files = [p for p in published.rglob("*") if p.is_file()] if published.is_dir() else []
    summaries = [p for p in files if p.name.startswith("dq_findings_summary")]
    if not summaries:
        pytest.skip("the run published no tables")
    pseudonym = Pseudonymiser(TEST_KEY)
    clients = {pseudonym(case["bsn"]) for case in run.ground_truth["residence_cases"]}
    for path in files:
        data = path.read_bytes()
        for client in clients:
            assert client.encode() not in data, path
        if path in summaries:
            assert b"residence_" not in data, path

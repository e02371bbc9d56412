"""The quality rules against the generator's ground truth: the session's tiny run (generate(tiny)
→ `jeugdhulp run`, tests/support/pipeline.py), whose dbt build has every model and data test.

Recall: every injected defect is a finding under its rule id. Precision: every record-level
finding is explained. Flags: every skipping provider whose skipped months reach into the flag
window is flagged, with exactly its skipped months as 8214 findings; no punctual provider
flagged. The GX suites (the raw input contract) hold on what ingestion lands. `test_region.py` runs the same
checks on the region profile, with the helpers below.
"""

from __future__ import annotations

import duckdb
import pytest

from jeugdhulp.settings import load_settings
from tests.support.ground_truth import (
    defects_of,
    explain_record_findings,
    flagged_incomplete,
    gap_months,
    missed_defects,
    read_quality_run,
    skipping_expected_flagged,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny(tiny_run):
    """The shared tiny run read as the checks below take it (the same seed, reporting date and
    key as `build_quality_run`, which the region profile's checks use)."""
    settings = load_settings(tiny_run.env)
    return {"settings": settings, **read_quality_run(tiny_run.data_dir, settings.warehouse_path)}


def test_every_defect_is_found_with_its_rule_id(tiny):
    defects = defects_of(tiny)
    missed = missed_defects(tiny)
    assert len(defects) >= 10 and not tiny["truth"]["unplaced_defects"]
    assert missed == [], f"recall {len(defects) - len(missed)}/{len(defects)}"


def test_every_record_finding_is_explained(tiny):
    """Precision: a finding on a record is a defect, confirmed by a JW325, or still pending."""
    explained, unexplained = explain_record_findings(tiny)
    assert unexplained == []
    assert explained["defect"] == len(defects_of(tiny))
    assert explained["rejected_with_same_code"] >= 1  # the generator's over-volume lines (9321)


def test_skipped_months_in_the_ground_truth_are_months_with_care(tiny):
    """The ground truth lists a skipped month only where the provider had care it invoiced later
    (so the month is really missing from its declarations), and no declaration for it."""
    truth = tiny["truth"]
    assert truth["skipping_providers"] == sorted(truth["skipped_months"])
    for agb, months in truth["skipped_months"].items():
        assert months and set(months) <= set(truth["skip_schedule"][agb]), agb
        assert set(months) <= tiny["care_months"][agb], agb
        assert not set(months) & tiny["declared_months"][agb], agb


def test_skipping_providers_are_flagged_with_exactly_their_skipped_months(tiny):
    """8214 finds every skipped month; a skip within the flag window flags the provider."""
    truth = tiny["truth"]
    assert truth["skipping_providers"], "the tiny profile has a skipping provider"
    gaps = gap_months(tiny)
    for agb in truth["skipping_providers"]:
        assert gaps.get(agb, set()) == set(truth["skipped_months"][agb]), agb
    expected = skipping_expected_flagged(tiny)
    assert expected == set(truth["skipping_providers"])  # tiny skips within the window too
    assert expected <= flagged_incomplete(tiny)


def test_no_punctual_provider_is_flagged_or_has_any_finding(tiny):
    punctual = set(tiny["truth"]["punctual_providers"])
    assert punctual
    assert [f for f in tiny["findings"] if f[2] in punctual] == []


def test_the_excel_dialect_file_is_ingested_without_a_finding(tiny):
    dialect = [
        d["file"].removeprefix("landing/")
        for d in tiny["truth"]["defects"]
        if d["kind"] == "excel_dialect_csv"
    ]
    for path in dialect:
        assert tiny["registry"][path] == "ingested"
        assert not [f for f in tiny["findings"] if f[4] == path]


def test_gx_suites_hold_on_the_built_warehouse(tiny):
    """No critical expectation fails on what ingestion and dbt build: nothing would be blocked."""
    from jeugdhulp.quality.suites import list_suites
    from jeugdhulp.quality.validation import validate_table

    with duckdb.connect(str(tiny["settings"].warehouse_path), read_only=True) as connection:
        tables = {
            f"{schema}.{table}"
            for schema, table in connection.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
    names = list_suites()
    assert {n for n in names if n.startswith("raw.")} <= tables
    results = [
        validate_table(tiny["settings"].warehouse_path, name) for name in names if name in tables
    ]
    assert {r.suite_name for r in results} == set(names)
    assert all(n.startswith("raw.") for n in names)  # raw only, one per raw table (test_gx.py)
    critical = {
        r.suite_name: [o.label for o in r.failed if o.severity == "critical"] for r in results
    }
    assert {name: failed for name, failed in critical.items() if failed} == {}
    invoices = next(r for r in results if r.suite_name == "raw.ijw_invoice_lines")
    amount = [o for o in invoices.failed if o.columns == ("amount_cents", "expected_amount_cents")]
    assert amount and amount[0].unexpected_count == sum(
        1 for d in defects_of(tiny) if d["kind"] == "9346"
    )

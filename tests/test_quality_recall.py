"""The quality rules against the generator's ground truth: generate(tiny) → ingest → dbt build.

Recall: every injected defect is a finding under its rule id. Precision: every record-level
finding is explained. Flags: every skipping provider whose skipped months reach into the flag
window is flagged, with exactly its skipped months as 8214 findings; no punctual provider
flagged. The GX suites hold on what the pipeline builds. `test_quality_region.py` runs the same
checks on the region profile, with the helpers below.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
AS_OF = "2026-10-15"
SEED = 7
# findings on providers or months, not on one record
AGGREGATE_RULES = {"incomplete_invoicing", "late_invoicing", "8214"}
# A JW325 answer follows its JW323 within days. A line sent with a wrong volume is credited (and
# re-debited) in one of the next three declaration periods, and a period's declaration goes out
# the month after it, or the month after that when it is late: a volume line declared for one of
# the last PENDING_PERIODS months before the reporting month may still await either.
PENDING_PERIODS = 5

pytestmark = pytest.mark.slow


def build_quality_run(data_dir: Path, profile: str, dbt_args: tuple[str, ...] = ()) -> dict:
    """generate(profile, SEED, AS_OF) → ingest → dbt build; what the checks below read."""
    from orchestration.core.generator import generate
    from orchestration.core.ingest import ingest_all
    from orchestration.core.settings import load_settings

    env = dict(os.environ, JEUGDHULP_DATA_DIR=str(data_dir), JEUGDHULP_AS_OF=AS_OF,
               JEUGDHULP_PSEUDONYM_KEY="test-key-not-secret")
    generate(data_dir, profile=profile, seed=SEED, as_of=date.fromisoformat(AS_OF), progress=False)
    settings = load_settings(env)
    ingest_all(settings)
    env["JEUGDHULP_WAREHOUSE_PATH"] = str(settings.warehouse_path)
    built = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "build", "--project-dir", "dbt_project",
         "--profiles-dir", "dbt_project", "--target-path", str(data_dir / "dbt_target"),
         "--log-path", str(data_dir / "dbt_logs"), *dbt_args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
    assert built.returncode == 0, built.stdout[-4000:]
    return {"settings": settings, **read_quality_run(data_dir, settings.warehouse_path)}


def read_quality_run(data_dir: Path, warehouse_path: Path) -> dict:
    """The ground truth and what the warehouse found, in the shapes the checks below take."""
    truth = json.loads((data_dir / "ground_truth.json").read_text(encoding="utf-8"))
    with duckdb.connect(str(warehouse_path), read_only=True) as connection:
        findings = connection.execute(
            "select rule_id, severity, provider_agb, municipality_code, source_file, record_ref, message "
            "from marts.dq_findings").fetchall()
        rejected = connection.execute(
            "select provider_agb, reference_number, return_codes from staging.stg_ijw__rejected_lines").fetchall()
        declared = connection.execute(
            "select provider_agb, reference_number, strftime(declaration_period_start, '%Y-%m') "
            "from staging.stg_ijw__invoice_lines").fetchall()
        registry = dict(connection.execute("select landed_path, status from raw.file_registry").fetchall())
        care_months: dict[str, set[str]] = {}
        for agb, month in connection.execute(
                "select distinct provider_agb, strftime(service_month, '%Y-%m') "
                "from staging.stg_ijw__invoice_lines").fetchall():
            care_months.setdefault(agb, set()).add(month)
        declared_months: dict[str, set[str]] = {}
        for agb, month in connection.execute(
                "select distinct provider_agb, strftime(declaration_period_start, '%Y-%m') "
                "from staging.stg_ijw__invoice_lines where declaration_period_start is not null").fetchall():
            declared_months.setdefault(agb, set()).add(month)
    return {"truth": truth, "findings": findings, "rejected": rejected,
            "declared": declared, "registry": registry, "care_months": care_months,
            "declared_months": declared_months}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_quality_run(tmp_path_factory.mktemp("quality_tiny"), "tiny")


def dbt_var(name: str) -> int:
    """A dq threshold as dbt_project.yml sets it: the tests follow the one source."""
    project = yaml.safe_load((REPO / "dbt_project" / "dbt_project.yml").read_text(encoding="utf-8"))
    return int(project["vars"][name])


def month_label(month: int) -> str:
    return f"{month // 12:04d}-{month % 12 + 1:02d}"


def as_of_month() -> int:
    as_of = date.fromisoformat(AS_OF)
    return as_of.year * 12 + as_of.month - 1


def flag_window_start() -> str:
    """First care month the flags look at: `dq_window_months` before the reporting month."""
    return month_label(as_of_month() - dbt_var("dq_window_months"))


def _expected_key(defect: dict) -> tuple[str, str, str | None]:
    rule = defect["rule_id"]
    source_file = defect["file"].removeprefix("landing/")
    if rule.startswith("file_"):
        return rule, source_file, None
    reference = defect["reference"]
    if rule == "9333":
        reference = reference.removeprefix("DeclaratieNummer ")
    return rule, source_file, reference


def _finding_key(finding: tuple) -> tuple[str, str, str | None]:
    rule, source_file, record_ref = finding[0], finding[4], finding[5]
    return rule, source_file, None if rule.startswith("file_") else record_ref


def defects_of(run) -> list[dict]:
    return [d for d in run["truth"]["defects"] if d["kind"] != "excel_dialect_csv"]


def missed_defects(run) -> list[dict]:
    found = {_finding_key(f) for f in run["findings"]}
    return [d for d in defects_of(run) if _expected_key(d) not in found]


def explain_record_findings(run) -> tuple[Counter, list[tuple]]:
    """Each finding on a record: a ground-truth defect, confirmed by a JW325 with the same code, or
    a volume line (9321) declared so recently that its JW325 or its correction may not be in yet."""
    defects = {_expected_key(d) for d in defects_of(run)}
    codes = {(agb, ref): set((codes or "").split(",")) for agb, ref, codes in run["rejected"]}
    period_of = {(agb, ref): period for agb, ref, period in run["declared"]}
    pending_from = month_label(as_of_month() - PENDING_PERIODS)
    explained: Counter = Counter()
    unexplained = []
    for finding in run["findings"]:
        rule, agb, ref = finding[0], finding[2], finding[5]
        if rule in AGGREGATE_RULES:
            continue
        if _finding_key(finding) in defects:
            explained["defect"] += 1
        elif rule in codes.get((agb, ref), set()):
            explained["rejected_with_same_code"] += 1
        elif rule == "9321" and (period_of.get((agb, ref)) or "") >= pending_from:
            explained["volume_pending"] += 1
        else:
            unexplained.append(finding)
    return explained, unexplained


def gap_months(run) -> dict[str, set[str]]:
    """8214 findings per provider: the months it skipped (YYYY-MM)."""
    gaps: dict[str, set[str]] = {}
    for finding in run["findings"]:
        if finding[0] == "8214":
            gaps.setdefault(finding[2], set()).add(finding[5])
    return gaps


def flagged_incomplete(run) -> set[str]:
    return {f[2] for f in run["findings"] if f[0] == "incomplete_invoicing"}


def skipping_expected_flagged(run) -> set[str]:
    """Skipping providers with a skipped month inside the flag window: these must be flagged. One
    whose skips all lie before the window has caught up long since: nothing to act on now (its
    gaps stay 8214 findings)."""
    start = flag_window_start()
    return {agb for agb, months in run["truth"]["skipped_months"].items() if any(m >= start for m in months)}


# --- the tiny profile ---------------------------------------------------------------------------


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
    dialect = [d["file"].removeprefix("landing/") for d in tiny["truth"]["defects"]
               if d["kind"] == "excel_dialect_csv"]
    for path in dialect:
        assert tiny["registry"][path] == "ingested"
        assert not [f for f in tiny["findings"] if f[4] == path]


def test_gx_suites_hold_on_the_built_warehouse(tiny):
    """No critical expectation fails on what ingestion and dbt build: nothing would be blocked."""
    from orchestration.core.quality.gx_runner import validate_table
    from orchestration.core.quality.suites import list_suites

    with duckdb.connect(str(tiny["settings"].warehouse_path), read_only=True) as connection:
        tables = {f"{schema}.{table}" for schema, table in connection.execute(
            "select table_schema, table_name from information_schema.tables").fetchall()}
    names = list_suites()
    assert {n for n in names if n.startswith("raw.")} <= tables
    results = [validate_table(tiny["settings"].warehouse_path, name) for name in names if name in tables]
    assert {"marts.fct_invoice_lines", "marts.mart_invoicing_completeness", "marts.mart_invoice_timeliness",
            "marts.dq_findings"} <= {r.suite_name for r in results}
    critical = {r.suite_name: [o.label for o in r.failed if o.severity == "critical"] for r in results}
    assert {name: failed for name, failed in critical.items() if failed} == {}
    invoices = next(r for r in results if r.suite_name == "raw.ijw_invoice_lines")
    amount = [o for o in invoices.failed if o.columns == ("amount_cents", "expected_amount_cents")]
    assert amount and amount[0].unexpected_count == sum(
        1 for d in defects_of(tiny) if d["kind"] == "9346")

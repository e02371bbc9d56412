"""Reading a quality run against the generator's ground truth: recall, precision and the skipping-provider flags."""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.support.dbt import build_ok
from tests.support.pipeline import REPO

AS_OF = "2026-10-15"
SEED = 7
# findings on providers or months, not on one record
AGGREGATE_RULES = {"incomplete_invoicing", "late_invoicing", "8214"}
# woonplaatsbeginsel findings: about a client, matched against ground_truth["residence_cases"]
RESIDENCE_RULE_PREFIX = "residence_"
# a waiting-time delivery owed per provider × category × month (tests/e2e/test_access_tiny.py)
AGGREGATE_RULES.add("waiting_times_not_delivered")
# A JW325 answer follows its JW323 within days. A line sent with a wrong volume is credited (and
# re-debited) in one of the next three declaration periods, and a period's declaration goes out
# the month after it, or the month after that when it is late: a volume line declared for one of
# the last PENDING_PERIODS months before the reporting month may still await either.
PENDING_PERIODS = 5

pytestmark = pytest.mark.slow


def build_quality_run(data_dir: Path, profile: str, dbt_args: tuple[str, ...] = ()) -> dict:
    """generate(profile, SEED, AS_OF) → ingest → dbt build; what the checks below read."""
    from jeugdhulp.ingest import ingest_all
    from jeugdhulp.settings import load_settings
    from jeugdhulp.synthetic import generate

    env = dict(
        os.environ,
        JEUGDHULP_DATA_DIR=str(data_dir),
        JEUGDHULP_AS_OF=AS_OF,
        JEUGDHULP_PSEUDONYM_KEY="test-key-not-secret",
    )
    generate(data_dir, profile=profile, seed=SEED, as_of=date.fromisoformat(AS_OF), progress=False)
    settings = load_settings(env)
    ingest_all(settings)
    # jeugdhulp-dbt, as the pipeline runs dbt: it starts from the project's saved parse instead of
    # parsing the whole project again (tests/support/dbt.py)
    build_ok(settings.warehouse_path, data_dir / "dbt_work", AS_OF, *dbt_args, timeout=1800)
    return {"settings": settings, **read_quality_run(data_dir, settings.warehouse_path)}


def read_quality_run(data_dir: Path, warehouse_path: Path) -> dict:
    """The ground truth and what the warehouse found, in the shapes the checks below take."""
    truth = json.loads((data_dir / "ground_truth.json").read_text(encoding="utf-8"))
    with duckdb.connect(str(warehouse_path), read_only=True) as connection:
        findings = connection.execute(
            "select rule_id, severity, provider_agb, municipality_code, source_file, record_ref, message "
            "from marts.dq_findings"
        ).fetchall()
        rejected = connection.execute(
            "select provider_agb, reference_number, return_codes from staging.stg_ijw__rejected_lines"
        ).fetchall()
        declared = connection.execute(
            "select provider_agb, reference_number, strftime(declaration_period_start, '%Y-%m') "
            "from staging.stg_ijw__invoice_lines"
        ).fetchall()
        registry = dict(
            connection.execute("select landed_path, status from raw.file_registry").fetchall()
        )
        care_months: dict[str, set[str]] = {}
        for agb, month in connection.execute(
            "select distinct provider_agb, strftime(service_month, '%Y-%m') "
            "from staging.stg_ijw__invoice_lines"
        ).fetchall():
            care_months.setdefault(agb, set()).add(month)
        declared_months: dict[str, set[str]] = {}
        for agb, month in connection.execute(
            "select distinct provider_agb, strftime(declaration_period_start, '%Y-%m') "
            "from staging.stg_ijw__invoice_lines where declaration_period_start is not null"
        ).fetchall():
            declared_months.setdefault(agb, set()).add(month)
    return {
        "truth": truth,
        "findings": findings,
        "rejected": rejected,
        "declared": declared,
        "registry": registry,
        "care_months": care_months,
        "declared_months": declared_months,
    }


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
    # findings of other rules that an injected woonplaatsbeginsel case gives (9338 on a line
    # invoiced under another municipality's allocation); the residence findings themselves are
    # checked against the cases by tests/quality/test_residence.py
    residence = {
        (other["rule_id"], other["provider_agb"], other["reference"])
        for case in run["truth"].get("residence_cases", [])
        for other in case["other_findings"]
    }
    codes = {(agb, ref): set((codes or "").split(",")) for agb, ref, codes in run["rejected"]}
    period_of = {(agb, ref): period for agb, ref, period in run["declared"]}
    pending_from = month_label(as_of_month() - PENDING_PERIODS)
    explained: Counter = Counter()
    unexplained = []
    for finding in run["findings"]:
        rule, agb, ref = finding[0], finding[2], finding[5]
        if rule in AGGREGATE_RULES or rule.startswith(RESIDENCE_RULE_PREFIX):
            continue
        if _finding_key(finding) in defects:
            explained["defect"] += 1
        elif (rule, agb, ref) in residence:
            explained["residence_case"] += 1
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
    return {
        agb
        for agb, months in run["truth"]["skipped_months"].items()
        if any(m >= start for m in months)
    }


# --- the tiny profile ---------------------------------------------------------------------------

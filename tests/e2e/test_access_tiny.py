"""The municipal team and waiting-time marts on the tiny profile: ground truth and an independent
recomputation (docs/contract.md §2.6, §2.7, §3).

`jeugdhulp run` on tiny (seed 7, as of 2026-10-15). Every team path the generator registered
(ground_truth.json `local_team`) must come out as that path, and no other youth may be a team
youth; every waiting-time delivery it left out (`waiting_times.missing`) must be exactly the
`waiting_times_not_delivered` findings. mart_local_team and the delivered figures of
mart_waiting_times are recomputed in plain Python from the archived files
(tests/support/access_independent.py).
"""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from jeugdhulp.privacy.pseudonym import Pseudonymiser
from tests.support.access_independent import (
    local_team_mart,
    region_medians,
    team_paths,
    waiting_deliveries,
)
from tests.support.pipeline import TINY_AS_OF

pytestmark = pytest.mark.slow

AS_OF = date.fromisoformat(TINY_AS_OF)
KEY = "test-key-not-secret"  # tests/support/pipeline.py pipeline_env
TEAM_PATHS = ("team_only", "team_then_specialist", "specialist_then_team")


def _query(run, sql: str) -> list[tuple]:
    with duckdb.connect(str(run.warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_every_registered_team_path_is_found_and_no_other(tiny_run):
    truth = tiny_run.ground_truth["local_team"]["paths"]
    kinds = {entry["path"] for entry in truth}
    assert kinds == {"team_only", "team_then_specialist"}, "tiny exercises both paths"
    pseudonym = Pseudonymiser(KEY)
    expected = {
        (pseudonym(e["bsn"]), e["municipality_code"], e["year"]): (
            e["path"],
            e.get("days_team_to_specialist"),
        )
        for e in truth
    }
    found = {
        (client, code, year): (path, days)
        for client, code, year, path, days in _query(
            tiny_run,
            "select client_key, municipality_code, year, path, days_team_to_specialist "
            "from intermediate.int_team_paths_classified",
        )
        if path in TEAM_PATHS
    }
    assert found == expected


def test_mart_local_team_matches_the_independent_recomputation(tiny_run):
    expected = local_team_mart(tiny_run.data_dir / "archive", AS_OF)
    columns = (
        "youths_team_only, youths_team_then_specialist, median_days_team_to_specialist, "
        "youths_specialist_then_team, youths_specialist_without_team, youths_total, team_share_pct"
    )
    rows = _query(tiny_run, f"select municipality_code, year, {columns} from marts.mart_local_team")
    names = [c.strip() for c in columns.split(",")]
    found = {(r[0], r[1]): dict(zip(names, r[2:])) for r in rows}
    assert found == expected
    # tiny: both municipalities, both years, with every path but specialist_then_team
    assert set(found) == {("GM0546", 2025), ("GM0546", 2026), ("GM0638", 2025), ("GM0638", 2026)}
    assert all(v["youths_team_then_specialist"] >= 1 for v in found.values())
    assert all(v["youths_specialist_without_team"] >= 1 for v in found.values())
    totals = _query(
        tiny_run,
        "select count(*) from marts.mart_local_team where youths_total <> youths_team_only "
        "+ youths_team_then_specialist + youths_specialist_then_team + youths_specialist_without_team",
    )
    assert totals == [(0,)]


def test_the_recomputation_agrees_with_the_ground_truth_paths(tiny_run):
    """The independent classification sees the generator's team paths too (a check of the check)."""
    paths = {
        (p.municipality, p.bsn, p.year): (p.path, p.days)
        for p in team_paths(tiny_run.data_dir / "archive", AS_OF)
        if p.path in TEAM_PATHS
    }
    truth = {
        (e["municipality_code"], e["bsn"], e["year"]): (e["path"], e.get("days_team_to_specialist"))
        for e in tiny_run.ground_truth["local_team"]["paths"]
    }
    assert paths == truth


def test_every_missing_waiting_time_delivery_is_a_finding_and_nothing_else(tiny_run):
    truth = tiny_run.ground_truth["waiting_times"]
    assert len(truth["missing"]) == 3
    findings = _query(
        tiny_run,
        "select record_ref, provider_agb, severity from marts.dq_findings "
        "where rule_id = 'waiting_times_not_delivered'",
    )
    assert sorted(r[0] for r in findings) == truth["missing"]
    assert all(r[0].startswith(r[1] + "|") and r[2] == "warn" for r in findings)
    not_delivered = _query(
        tiny_run,
        "select provider_agb || '|' || product_category || '|' || strftime(report_month, '%Y-%m') "
        "from marts.mart_waiting_times where is_expected and not delivered",
    )
    assert sorted(r[0] for r in not_delivered) == truth["missing"]
    # no other finding on the new sources: the generator writes no bad rows
    others = _query(
        tiny_run,
        "select count(*) from marts.dq_findings where rule_id in "
        "('team_registration_invalid', 'waiting_time_invalid') "
        "or (rule_id = 'invalid_bsn' and source_file like 'lokaal_team/%')",
    )
    assert others == [(0,)]


def test_waiting_time_figures_and_region_median_match_the_delivered_files(tiny_run):
    deliveries = waiting_deliveries(tiny_run.data_dir / "archive", AS_OF)
    medians = region_medians(deliveries)
    rows = _query(
        tiny_run,
        "select provider_agb, product_category, report_month, waiting_weeks, waiting_count, "
        "capacity_open, region_median_waiting_weeks from marts.mart_waiting_times where delivered",
    )
    found = {(r[0], r[1], r[2]): r[3:] for r in rows}
    assert set(found) == set(deliveries)
    for key, row in deliveries.items():
        expected = (row["waiting_weeks"], row["waiting_count"], row["capacity_open"])
        assert found[key][:3] == expected, key
        assert found[key][3] == medians[(key[1], key[2])], key


def test_a_provider_near_its_ceiling_with_a_growing_list_is_signalled(tiny_run):
    truth = tiny_run.ground_truth["waiting_times"]["growing"]
    assert truth, "tiny has a provider planned to cross its ceiling"
    signals = dict(
        ((agb, year), signal)
        for agb, year, signal in _query(
            tiny_run, "select provider_agb, year, signal from marts.mart_budget_utilisation"
        )
    )
    deliveries = waiting_deliveries(tiny_run.data_dir / "archive", AS_OF)
    rows = _query(
        tiny_run,
        "select provider_agb, product_category, report_month, near_ceiling_and_growing "
        "from marts.mart_waiting_times",
    )
    flagged = 0
    for agb, category, month, signal in rows:
        previous = date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)
        now, before = (
            deliveries.get((agb, category, month)),
            deliveries.get((agb, category, previous)),
        )
        growing = (
            now is not None
            and before is not None
            and None not in (now["waiting_count"], before["waiting_count"])
            and now["waiting_count"] > before["waiting_count"]
        )
        near = signals.get((agb, month.year)) in ("dreigende_overschrijding", "overschrijding")
        assert signal == (near and growing), (agb, category, month)
        flagged += signal
    # the crossing provider's list grows every month of its last half year delivered
    for agb, months in truth.items():
        assert signals[(agb, AS_OF.year)] == "overschrijding"
        for label in months[1:]:
            month = date(int(label[:4]), int(label[5:]), 1)
            assert any(r[0] == agb and r[2] == month and r[3] for r in rows), (agb, label)
    assert flagged >= len(next(iter(truth.values()))) - 1

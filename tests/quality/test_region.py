"""The quality rules against the ground truth on the region profile (seed 7, as of 2026-10-15).

The same checks as `test_recall.py` on the tiny profile, at the size of Holland
Rijnland: 150 providers, four years, ~172,000 iJw files. dbt builds only what `dq_findings`
needs, with its data tests (the unit tests run with the tiny profile). Measured on the two
cores shared with other jobs: 4m08s at load average ~5, 7m42s at ~7 (3-4 CPU-minutes), most of
it generation and ingestion.
"""

from __future__ import annotations

import shutil

import duckdb
import pytest

from tests.support.dbt import run_dbt
from tests.support.ground_truth import (
    as_of_month,
    build_quality_run,
    dbt_var,
    defects_of,
    explain_record_findings,
    flag_window_start,
    flagged_incomplete,
    gap_months,
    missed_defects,
    skipping_expected_flagged,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    return build_quality_run(
        tmp_path_factory.mktemp("quality_region"),
        "region",
        (
            "--select",
            "+dq_findings",
            "+mart_local_team",  # the team paths (tests below)
            "--indirect-selection",
            "cautious",
            "--exclude-resource-type",
            "unit_test",
        ),
    )


def test_every_defect_is_found_with_its_rule_id(region):
    defects = defects_of(region)
    # every kind placed in four municipalities (profiles._spread_defects); none left unplaced
    assert not region["truth"]["unplaced_defects"]
    assert len(defects) == 4 * len({d["kind"] for d in defects}) >= 40
    missed = missed_defects(region)
    assert missed == [], f"recall {len(defects) - len(missed)}/{len(defects)}"


def test_every_record_finding_is_explained(region):
    explained, unexplained = explain_record_findings(region)
    assert unexplained == []
    assert explained["defect"] == len(defects_of(region))
    # the generator sends 1.2-3 % of a non-punctual provider's lines over volume, rejected (9321)
    assert explained["rejected_with_same_code"] > 1000


def test_skipped_months_are_months_with_care_and_without_a_declaration(region):
    truth = region["truth"]
    assert truth["skipping_providers"] == sorted(truth["skipped_months"])
    # a provider set to skip months is a skipping provider only when it had care in one of
    # them (seed 7's region, since issue 17's complex cases, has care in every such schedule)
    assert set(truth["skipping_providers"]) <= set(truth["skip_schedule"])
    for agb, months in truth["skipped_months"].items():
        assert months and set(months) <= set(truth["skip_schedule"][agb]), agb
        assert set(months) <= region["care_months"][agb], agb
        assert not set(months) & region["declared_months"][agb], agb
    for agb in set(truth["skip_schedule"]) - set(truth["skipping_providers"]):
        assert not set(truth["skip_schedule"][agb]) & region["care_months"].get(agb, set()), agb


def test_every_skipped_month_is_an_8214_gap_and_every_other_gap_is_one_too(region):
    """Each skipped month is a gap; a gap outside the ground truth is a month for which a provider
    declared nothing although care of that month was declared later (e.g. a small provider's only
    line of the month slipped into the next declaration): the rule's own definition, checked on
    the staged lines."""
    gaps = gap_months(region)
    for agb, months in region["truth"]["skipped_months"].items():
        assert set(months) <= gaps.get(agb, set()), agb
    for agb, months in gaps.items():
        other = months - set(region["truth"]["skipped_months"].get(agb, ()))
        declared = region["declared_months"][agb]
        assert not other & declared, agb
        assert other <= region["care_months"][agb], agb
        assert all(month < max(declared) for month in other), agb


def test_every_skipping_provider_with_a_skip_in_the_window_is_flagged(region):
    expected = skipping_expected_flagged(region)
    assert len(expected) >= 8
    assert expected <= flagged_incomplete(region), expected - flagged_incomplete(region)
    # the others skipped only before the flag window and have caught up since
    start = flag_window_start()
    for agb in set(region["truth"]["skipping_providers"]) - expected:
        assert max(region["truth"]["skipped_months"][agb]) < start


def test_no_punctual_provider_is_flagged_or_has_any_finding(region):
    punctual = set(region["truth"]["punctual_providers"])
    assert len(punctual) >= 10
    assert [f for f in region["findings"] if f[2] in punctual] == []


def test_with_a_window_over_all_history_every_skipping_provider_is_flagged(region, tmp_path):
    """The default window judges how providers invoice now; set it to cover the whole history
    (dq_window_months is a dbt var) and every provider the generator made skip months is flagged,
    including those whose skips all lie years back."""
    months_back = as_of_month() - min(
        int(m[:4]) * 12 + int(m[5:7]) - 1
        for months in region["truth"]["skipped_months"].values()
        for m in months
    )
    assert months_back > dbt_var("dq_window_months")  # some skip lies before the default window
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(region["settings"].warehouse_path, warehouse)
    rebuilt = run_dbt(
        warehouse,
        tmp_path,
        region["truth"]["as_of"],
        "run",
        "--select",
        "int_providers_invoicing_flagged",
        "--vars",
        f"{{dq_window_months: {months_back}}}",
    )
    assert rebuilt.returncode == 0, rebuilt.stdout[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        flagged = {
            agb
            for (agb,) in connection.execute(
                "select provider_agb from intermediate.int_providers_invoicing_flagged "
                "where incomplete_severity is not null"
            ).fetchall()
        }
        punctual_flagged = connection.execute(
            "select count(*) from intermediate.int_providers_invoicing_flagged "
            "where provider_agb in (select unnest(?)) and incomplete_severity is not null",
            [region["truth"]["punctual_providers"]],
        ).fetchone()[0]
    assert set(region["truth"]["skipping_providers"]) <= flagged
    assert punctual_flagged == 0


def test_every_woonplaatsbeginsel_case_is_found_and_the_clean_data_gives_none(region):
    """Two municipalities carry one case of each kind (synthetic/residence_cases.py); every other
    move of the region (some 3 % of its youths) ends the old allocation the day before the new one
    starts, so the residence findings are exactly the cases'. dbt built dq_findings, and with it
    int_residence_findings_detected, whose month is compared too."""
    from collections import Counter

    from tests.support.residence import expected_findings, found_findings

    cases = region["truth"]["residence_cases"]
    assert len(cases) == 8 and region["truth"]["behaviours"]["youths_moved"] > 100
    found = Counter(row[:5] for row in found_findings(region["settings"].warehouse_path))
    assert found == expected_findings(region["truth"])


def test_every_team_path_and_missing_waiting_time_delivery_is_found_and_nothing_else(region):
    """The municipal team exports and waiting-time deliveries (synthetic/local_team.py,
    waiting_times.py): every registered youth comes out on the path the ground truth gives (and no
    other youth has team contact), every left-out delivery is a waiting_times_not_delivered
    finding and no other finding arises on these sources (tests/e2e/test_access_tiny.py on tiny)."""
    from jeugdhulp.privacy.pseudonym import Pseudonymiser

    truth = region["truth"]
    pseudonym = Pseudonymiser("test-key-not-secret")
    expected = {
        (pseudonym(e["bsn"]), e["municipality_code"], e["year"]): (
            e["path"],
            e.get("days_team_to_specialist"),
        )
        for e in truth["local_team"]["paths"]
    }
    assert len(expected) > 1000
    with duckdb.connect(str(region["settings"].warehouse_path), read_only=True) as connection:
        found = {
            (client, code, year): (path, days)
            for client, code, year, path, days in connection.execute(
                "select client_key, municipality_code, year, path, days_team_to_specialist "
                "from intermediate.int_team_paths_classified where path <> 'specialist_without_team'"
            ).fetchall()
        }
    assert found == expected
    missing = sorted(f[5] for f in region["findings"] if f[0] == "waiting_times_not_delivered")
    assert missing == truth["waiting_times"]["missing"] and len(missing) >= 10
    others = [
        f
        for f in region["findings"]
        if f[0] in ("team_registration_invalid", "waiting_time_invalid")
        or (f[0] == "invalid_bsn" and (f[4] or "").startswith("lokaal_team/"))
    ]
    assert others == []

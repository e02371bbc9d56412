"""Bad rows of the two optional sources, from landed file to dq_findings and marts
(docs/contract.md §2.6, §2.7): every delivered line is counted, flagged with its reason, or its
file is quarantined with one; none disappears."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb
import pytest

from jeugdhulp.ingest import ingest_all
from jeugdhulp.privacy.pseudonym import Pseudonymiser
from jeugdhulp.settings import Settings
from tests.support.dbt import build_ok
from tests.support.ingest_files import land

pytestmark = pytest.mark.slow

AS_OF = "2025-10-15"
KEY = "test-key-not-secret"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    data = tmp_path_factory.mktemp("access")
    settings = Settings(
        data_dir=data, as_of=date.fromisoformat(AS_OF), pseudonym_key=KEY, postgres_dsn=None
    )
    land(
        settings,
        "lokaal_team",
        "leiden/registraties_2025.csv",
        "bsn;gemeente_code;startdatum;einddatum;soort_ondersteuning\n"
        "999900006;0546;01-03-2025;;opvoedondersteuning\n"  # usable: team only
        "123456789;0546;01-03-2025;;x\n"  # fails the 11-proef
        "999900018;9999;01-03-2025;;x\n"  # not a municipality of the region
        "999900031;0546;01-03-2025;28-02-2025;x\n"  # ends before it starts
        "999900043;0546;31-12-2014;;x\n",  # before the Jeugdwet: out of range
    )
    land(
        settings,
        "beschikbaarheid",
        "2025-03/aanbieder.csv",
        "peildatum;agb_code;productcategorie;wachttijd_weken;aantal_wachtend;capaciteit_beschikbaar\n"
        "2025-02-01;12345678;45;4,5;7;ja\n"
        "2025-03-01;12345678;45;-2;9;nee\n"  # negative weeks: flagged, blanked
        "2030-03-01;12345678;45;3;2;ja\n",  # a reference date in the future
    )
    land(
        settings,
        "beschikbaarheid",
        "2025-04/aanbieder.csv",
        "peildatum;agb_code;productcategorie;wachttijd_weken;aantal_wachtend;capaciteit_beschikbaar\n"
        "2025-04-01;12345678;45;4;7;misschien\n",  # neither ja nor nee: the file is quarantined
    )
    ingest_all(settings, workers=1)
    build_ok(
        settings.warehouse_path,
        data / "dbt",
        AS_OF,
        "--select",
        "+dq_findings",
        "+mart_local_team",
        "+mart_waiting_times",
        "--exclude",
        "resource_type:unit_test",
        "--indirect-selection",
        "cautious",  # tests that also read marts outside the selection are left out
    )
    return settings.warehouse_path


def _query(path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_every_bad_line_is_a_finding_with_its_reason(warehouse):
    rows = _query(
        warehouse,
        "select rule_id, severity, source_file, record_ref, message from marts.dq_findings "
        "where source_file like 'lokaal_team/%' or source_file like 'beschikbaarheid/%' "
        "order by source_file, record_ref",
    )
    found = [(r[0], r[1], r[2], r[3]) for r in rows]
    assert found == [
        ("waiting_time_invalid", "warn", "beschikbaarheid/2025-03/aanbieder.csv", "regel 3"),
        ("waiting_time_invalid", "warn", "beschikbaarheid/2025-03/aanbieder.csv", "regel 4"),
        ("file_malformed", "error", "beschikbaarheid/2025-04/aanbieder.csv", rows[2][3]),
        ("invalid_bsn", "error", "lokaal_team/leiden/registraties_2025.csv", "regel 3"),
        (
            "team_registration_invalid",
            "warn",
            "lokaal_team/leiden/registraties_2025.csv",
            "regel 4",
        ),
        (
            "team_registration_invalid",
            "warn",
            "lokaal_team/leiden/registraties_2025.csv",
            "regel 5",
        ),
        (
            "team_registration_invalid",
            "warn",
            "lokaal_team/leiden/registraties_2025.csv",
            "regel 6",
        ),
    ]
    messages = {r[3] + r[2][:5]: r[4] for r in rows}
    assert "-2.00 weken" in messages["regel 3besch"]
    assert "2030-03-01" in messages["regel 4besch"]
    assert "capaciteit_beschikbaar" in rows[2][4] and "misschien" in rows[2][4]
    assert "GM9999" in messages["regel 4lokaa"]
    assert "2025-02-28" in messages["regel 5lokaa"]
    assert "2014-12-31" in messages["regel 6lokaa"]
    # no raw BSN in any finding
    assert not any("9999000" in r[4] or "123456789" in r[4] for r in rows)


def test_only_the_usable_registration_counts_in_mart_local_team(warehouse):
    assert _query(
        warehouse,
        "select municipality_code, year, youths_team_only, youths_total, team_share_pct "
        "from marts.mart_local_team",
    ) == [("GM0546", 2025, 1, 1, Decimal("100.00"))]
    keys = _query(warehouse, "select client_key from intermediate.int_team_paths_classified")
    assert keys == [(Pseudonymiser(KEY)("999900006"),)]


def test_waiting_times_keep_the_line_but_not_the_bad_value(warehouse):
    rows = _query(
        warehouse,
        "select report_month, is_expected, delivered, waiting_weeks, waiting_count, capacity_open "
        "from marts.mart_waiting_times order by report_month",
    )
    # no allocations in this warehouse: nothing is owed, the deliveries are kept as delivered
    assert rows == [
        (date(2025, 2, 1), False, True, Decimal("4.50"), 7, True),
        (date(2025, 3, 1), False, True, None, 9, False),
    ]

"""Recovery: a delivered file breaks a blocking raw check; the run names it, the operator takes it
out, and the next run publishes the marts of a run in which it was never delivered.

The tiny region after its first run (the shared `tiny_run`) is "yesterday". Today a second
providers snapshot arrives with a provider without a name: ingestion loads it (the name is no key
column), the critical GX expectation not_null(name) of raw.reference_providers fails and blocks
dbt. `jeugdhulp quarantine <prefix from the summary> --reason …` takes it out; the next run must
give exactly yesterday's marts, plus the finding that records the quarantined file.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter

import duckdb
import pytest

from tests.support.pipeline import run_cli

pytestmark = pytest.mark.slow

BAD_SNAPSHOT = (
    "agb_code,name,contract_type\n"
    "94650535,,raamcontract\n"  # no name: breaks the raw input contract
    "98471398,Orthopedagogiek Zeewind,raamcontract\n"
)
REASON = "providers list without names; the provider resends"


def _marts(warehouse) -> dict[str, Counter]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        ]
        return {t: Counter(con.execute(f'select * from marts."{t}"').fetchall()) for t in tables}


def test_a_file_taken_out_unblocks_the_next_run_with_the_marts_of_never_delivering_it(tiny_run):
    assert tiny_run.result.returncode == 0, tiny_run.result.stdout
    yesterday = _marts(tiny_run.warehouse)
    # the backtest marts fill only with `jeugdhulp backtest` (tests/orchestration)
    filled_by_runs = {name: rows for name, rows in yesterday.items() if "backtest" not in name}
    assert len(filled_by_runs) >= 10 and all(filled_by_runs.values())

    landed = tiny_run.data_dir / "landing" / "reference" / "providers_2026-10.csv"
    landed.write_text(BAD_SNAPSHOT)
    file_id = hashlib.sha256(BAD_SNAPSHOT.encode()).hexdigest()

    # the run is blocked, and its summary names the file and the command
    blocked = tiny_run.run()
    summary = blocked.stdout
    assert blocked.returncode == 1, summary + blocked.stderr[-3000:]
    assert "✗ raw/reference_providers:great_expectations" in summary, summary
    assert "rows failing it come from 1 file:" in summary, summary
    assert (
        f"archive/reference/providers_2026-10.csv  (sha256 {file_id[:12]}, 1 unexpected)" in summary
    ), summary
    command = re.search(r"take one out: (jeugdhulp quarantine (\S+) --reason)", summary)
    assert command and command.group(2) == file_id[:12], summary
    assert "published: nothing" in summary

    # the operator takes it out, by the prefix the summary gave
    taken = run_cli(["quarantine", command.group(2), "--reason", REASON], tiny_run.env)
    assert taken.returncode == 0, taken.stderr
    assert "raw.reference_providers: 2 rows removed" in taken.stdout, taken.stdout
    assert (
        tiny_run.data_dir / "quarantine" / "reference" / "providers_2026-10.csv"
    ).read_text() == BAD_SNAPSHOT

    # the next run publishes what a run without the file published
    after = tiny_run.run()
    assert after.returncode == 0, after.stdout + after.stderr[-3000:]
    assert "— OK in" in after.stdout and "✗" not in after.stdout, after.stdout
    today = _marts(tiny_run.warehouse)
    assert today.keys() == yesterday.keys()
    for table in sorted(today.keys() - {"dq_findings"}):
        assert today[table] == yesterday[table], table
    # ... and records the takeout as the finding of a quarantined file, nothing else
    assert today["dq_findings"] - yesterday["dq_findings"] == Counter(
        {
            (
                "file_quarantined",
                "error",
                None,
                None,
                "reference/providers_2026-10.csv",
                file_id,
                f"Bestand na inlezen door een beheerder uit het warehouse gehaald: {REASON}",
            ): 1
        }
    )
    assert not yesterday["dq_findings"] - today["dq_findings"]

    # dbt built from raw (--full-refresh), the takeout's request was cleared, and the suite of the
    # table that lost rows validated it whole again
    run_results = json.loads((tiny_run.data_dir / "dbt_target" / "run_results.json").read_text())
    assert run_results["args"]["full_refresh"] is True
    with duckdb.connect(str(tiny_run.warehouse), read_only=True) as con:
        assert con.execute(
            "select count(*) from ingest_state.takeouts where dbt_refreshed_at is not null"
        ).fetchone() == (1,)
        assert con.execute(
            "select count(*) from gx_state.watermarks where suite_name = 'raw.reference_providers'"
        ).fetchone() == (1,)

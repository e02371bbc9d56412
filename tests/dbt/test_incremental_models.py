"""Incremental models give exactly what a full build gives.

The tiny profile's files are delivered in three batches, by the month they were sent, and after
each batch the files are ingested and dbt builds the models, as the daily run does. The last
warehouse is then copied and rebuilt with --full-refresh: every table of the intermediate and
marts schemas must hold the same rows. The batches are checked to contain what the incremental
models must notice in earlier batches' lines: late JW325 rejections, credits of earlier debits,
and JW301 changes of allocations already invoiced on.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from tests.support.dbt import build_ok
from tests.support.pipeline import TINY_AS_OF, TINY_SEED, pipeline_env, run_cli

pytestmark = pytest.mark.slow

SOURCES = ("reference", "pgb", "verantwoording", "ijw")
# the months (landing/ijw/<YYYY-MM>/) each batch ends with; the last batch takes the rest. The
# JW325 answers sent in a batch's last month come with the next batch: late rejections.
BATCH_ENDS = ("2025-03", "2025-09")
STATE_TABLES = {("intermediate", "incremental_watermarks")}  # when each model was built: differs
DOWNSTREAM = (
    "int_line_findings_detected",
    "int_declaration_findings_detected",
    "int_care_months_netted",
)


def _dbt(warehouse: Path, work: Path, *args: str) -> None:
    build_ok(
        warehouse,
        work,
        TINY_AS_OF,
        "--exclude-resource-type",
        "test",
        "--exclude-resource-type",
        "unit_test",
        *args,
    )


def _ingest(data_dir: Path) -> None:
    from jeugdhulp.ingest.runner import ingest_source
    from jeugdhulp.settings import load_settings

    settings = load_settings(pipeline_env(data_dir))
    for source in SOURCES:
        report = ingest_source(settings, source, workers=1)
        assert not report.files_left, report


def _tables(warehouse: Path) -> dict[tuple[str, str], list[tuple]]:
    def plain(value):
        return round(value, 9) if isinstance(value, float) else value

    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('intermediate', 'marts') and table_type = 'BASE TABLE' order by 1, 2"
        ).fetchall()
        return {
            (schema, table): sorted(
                (
                    tuple(plain(v) for v in row)
                    for row in con.execute(f'select * from "{schema}"."{table}"').fetchall()
                ),
                key=repr,
            )
            for schema, table in names
            if (schema, table) not in STATE_TABLES
        }


@pytest.fixture(scope="module")
def batches(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("incremental")
    generated_dir, data_dir = root / "generated", root / "data"
    env = pipeline_env(generated_dir)
    generated = run_cli(
        [
            "generate",
            "--out",
            str(generated_dir),
            "--profile",
            "tiny",
            "--seed",
            str(TINY_SEED),
            "--as-of",
            TINY_AS_OF,
        ],
        env,
    )
    assert generated.returncode == 0, generated.stderr
    groups: list[list[Path]] = [[], [], []]
    for path in sorted((generated_dir / "landing" / "ijw").rglob("*.xml")):
        month = path.parent.name
        number = sum(1 for end in BATCH_ENDS if month > end)
        if (
            number < len(BATCH_ENDS)
            and month == BATCH_ENDS[number]
            and path.name.startswith("JW325_")
        ):
            number += 1
        groups[number].append(path)
    assert all(groups), [len(g) for g in groups]

    warehouse = data_dir / "warehouse" / "warehouse.duckdb"
    seqs, partial = [], {}
    for number, group in enumerate(groups):
        if number == 0:  # reference data, PGB and accountability files come with the first batch
            for source in SOURCES[:-1]:
                shutil.copytree(generated_dir / "landing" / source, data_dir / "landing" / source)
        for path in group:
            target = data_dir / "landing" / path.relative_to(generated_dir / "landing")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        _ingest(data_dir)
        with duckdb.connect(str(warehouse), read_only=True) as con:
            seqs.append(
                con.execute("select max(ingested_seq) from raw.file_registry").fetchall()[0][0]
            )
        if number == 1:
            # first only the models downstream, as a data engineer might materialise one asset:
            # their upstreams have not taken the new files, so neither may they
            _dbt(warehouse, root / "work", "--select", *DOWNSTREAM)
            partial = _watermarks(warehouse)
        _dbt(warehouse, root / "work")

    incremental = _tables(warehouse)
    full_warehouse = root / "full.duckdb"
    shutil.copy2(warehouse, full_warehouse)
    _dbt(full_warehouse, root / "work-full", "--full-refresh")
    return {
        "warehouse": warehouse,
        "seqs": seqs,
        "partial": partial,
        "after": _watermarks(warehouse),
        "incremental": incremental,
        "full": _tables(full_warehouse),
    }


def _watermarks(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return dict(
            con.execute(
                "select model_name, through_seq from intermediate.incremental_watermarks"
            ).fetchall()
        )


def test_every_table_equals_a_full_build(batches):
    incremental, full = batches["incremental"], batches["full"]
    assert set(incremental) == set(full)
    assert {
        ("intermediate", "int_invoice_lines_matched"),
        ("intermediate", "int_line_findings_detected"),
        ("intermediate", "int_care_months_netted"),
        ("intermediate", "int_declaration_findings_detected"),
        ("marts", "fct_invoice_lines"),
    } <= set(full)
    differing = [name for name in full if incremental[name] != full[name]]
    assert differing == []
    assert all(
        full[name]
        for name in [
            ("intermediate", "int_line_findings_detected"),
            ("intermediate", "int_declaration_findings_detected"),
            ("intermediate", "int_care_months_netted"),
        ]
    )


def test_a_model_built_alone_goes_no_further_than_its_upstream(batches):
    first, second = batches["seqs"][0], batches["seqs"][1]
    # built alone after the second batch: the upstreams still stood at the first batch
    assert batches["partial"] == {
        "fct_invoice_lines": first,
        "int_invoice_lines_matched": first,
        "int_line_findings_detected": first,
        "int_declaration_findings_detected": first,
        "int_care_months_netted": first,
    }
    # and every table still equals a full build in the end (test_every_table_equals_a_full_build)
    assert set(batches["after"].values()) == {batches["seqs"][2]} and second < batches["seqs"][2]


def test_the_batches_hold_what_an_increment_must_notice(batches):
    """Each case counts lines of an earlier batch that a later batch's file changes."""
    first, second = batches["seqs"][0], batches["seqs"][1]
    batch = (
        f"case when registry.ingested_seq <= {first} then 1 "
        f"when registry.ingested_seq <= {second} then 2 else 3 end"
    )
    with duckdb.connect(str(batches["warehouse"]), read_only=True) as con:

        def count(sql: str) -> int:
            return con.execute(sql).fetchall()[0][0]

        late_rejections = count(f"""
            select count(*) from marts.fct_invoice_lines as lines
            join raw.file_registry as registry on registry.file_id = lines.file_id
            join raw.file_registry as answer on answer.file_id = lines.rejection_file_id
            where {batch.replace("registry.", "answer.")} > {batch}""")
        later_credits = count(f"""
            select count(*) from marts.fct_invoice_lines as debits
            join raw.file_registry as registry on registry.file_id = debits.file_id
            join marts.fct_invoice_lines as credits
                on credits.debit_credit = 'C' and credits.provider_agb = debits.provider_agb
                and credits.previous_reference_number = debits.reference_number
            join raw.file_registry as credit_file on credit_file.file_id = credits.file_id
            where debits.debit_credit = 'D' and {batch.replace("registry.", "credit_file.")} > {batch}""")
        changed_allocations = count(f"""
            select count(*) from marts.fct_invoice_lines as lines
            join raw.file_registry as registry on registry.file_id = lines.file_id
            join staging.stg_ijw__allocations as versions
                on versions.municipality_code = lines.municipality_code
                and versions.allocation_number = lines.allocation_number
            join raw.file_registry as version_file on version_file.file_id = versions.file_id
            where {batch.replace("registry.", "version_file.")} > {batch}""")
    assert late_rejections > 0
    assert later_credits > 0
    assert changed_allocations > 0

"""Ingestion assets: one multi-asset per landing source, producing the raw tables it fills."""

import duckdb
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset,
)

from jeugdhulp.ingest import ingest_source, quarantine_unknown
from jeugdhulp.sources import SOURCE_TABLES
from orchestration.resources import WAREHOUSE_POOL, JeugdhulpSettings


def _quarantine_table(quarantined: list[tuple[str, str]]) -> str:
    rows = ["| file | reason |", "|---|---|"]
    rows += [f"| `{path}` | {reason.replace('|', '/')} |" for path, reason in quarantined[:50]]
    if len(quarantined) > 50:
        rows.append(f"| … | {len(quarantined) - 50} more, see raw.file_registry |")
    return "\n".join(rows)


def _build_ingest_asset(source: str):
    specs = [
        AssetSpec(
            AssetKey(["raw", table]),
            group_name="raw",
            kinds={"duckdb", "python"},
            description=f"Rows of landing/{source}/ files, one row per record, with file_id lineage.",
        )
        for table in SOURCE_TABLES[source]
    ]

    @multi_asset(
        name=f"ingest_{source}",
        specs=specs,
        pool=WAREHOUSE_POOL,
        can_subset=False,
        description=f"Reads new files in landing/{source}/ into the raw schema; archives "
        f"or quarantines each file.",
    )
    def _ingest(context: AssetExecutionContext, settings: JeugdhulpSettings):
        report = ingest_source(settings.get(), source)
        context.log.info(
            f"landing/{source}: {report.files_ingested} ingested, "
            f"{report.files_skipped_duplicate} already known, {len(report.files_quarantined)} quarantined"
        )
        for path, kind in report.special_entries:
            context.log.warning(
                f"left untouched in landing/ (never followed or read): {path} ({kind})"
            )
        for path, why in report.files_left:
            context.log.info(f"left in landing/ for the next run: {path}: {why}")
        for path, reason in report.files_quarantined:
            context.log.warning(f"quarantined {path}: {reason}")
        for table in SOURCE_TABLES[source]:
            metadata = {
                "files_ingested": report.files_ingested,
                "files_skipped_duplicate": report.files_skipped_duplicate,
                "files_quarantined": len(report.files_quarantined),
                "special_entries": len(report.special_entries),
                "files_left": len(report.files_left),
                "rows_loaded": report.rows_loaded.get(table, 0),
                "seconds": round(report.seconds, 2),
            }
            if report.files_quarantined:
                metadata["quarantined"] = MetadataValue.md(
                    _quarantine_table(report.files_quarantined)
                )
            yield MaterializeResult(asset_key=AssetKey(["raw", table]), metadata=metadata)

    return _ingest


ingest_assets = [_build_ingest_asset(source) for source in SOURCE_TABLES]


@asset(
    key=AssetKey(["raw", "file_registry"]),
    group_name="raw",
    pool=WAREHOUSE_POOL,
    kinds={"duckdb"},
    deps=[AssetKey(["raw", table]) for tables in SOURCE_TABLES.values() for table in tables],
    description="Every landed file once: SHA-256, where it went (archive or quarantine) and why. "
    "Also quarantines files left outside the known landing folders.",
)
def file_registry(context: AssetExecutionContext, settings: JeugdhulpSettings) -> MaterializeResult:
    settings = settings.get()
    stray = quarantine_unknown(settings)
    for path, reason in stray.files_quarantined:
        context.log.warning(f"quarantined {path}: {reason}")
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        counts = dict(
            con.execute("select status, count(*) from raw.file_registry group by status").fetchall()
        )
        reasons = con.execute(
            "select split_part(reason, ':', 1) as code, count(*) from raw.file_registry "
            "where status = 'quarantined' group by code order by 2 desc"
        ).fetchall()
    table = "\n".join(
        ["| reason | files |", "|---|---|", *(f"| {code} | {n} |" for code, n in reasons)]
    )
    return MaterializeResult(
        metadata={
            "files_ingested_total": int(counts.get("ingested", 0)),
            "files_quarantined_total": int(counts.get("quarantined", 0)),
            "stray_files_quarantined": len(stray.files_quarantined),
            "quarantine_reasons": MetadataValue.md(table),
        }
    )

"""Ingestion assets: one multi-asset per landing source, producing the raw tables it fills."""

from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, MetadataValue, multi_asset

from orchestration.core.ingest import ingest_source
from orchestration.core.settings import load_settings

WAREHOUSE_POOL = "warehouse"

# landing source -> the raw tables its files land in
SOURCE_TABLES: dict[str, list[str]] = {
    "ijw": ["ijw_requests", "ijw_allocations", "ijw_starts", "ijw_stops", "ijw_invoice_lines",
            "ijw_rejected_lines"],
    "reference": ["reference_providers", "reference_budget_ceilings", "reference_products",
                  "reference_population"],
    "verantwoording": ["accountability"],
    "pgb": ["pgb"],
}


def _quarantine_table(quarantined: list[tuple[str, str]]) -> str:
    rows = ["| file | reason |", "|---|---|"]
    rows += [f"| `{path}` | {reason.replace('|', '/')} |" for path, reason in quarantined[:50]]
    if len(quarantined) > 50:
        rows.append(f"| … | {len(quarantined) - 50} more, see raw.file_registry |")
    return "\n".join(rows)


def _build_ingest_asset(source: str):
    specs = [
        AssetSpec(AssetKey(["raw", table]), group_name="raw", kinds={"duckdb", "python"},
                  description=f"Rows of landing/{source}/ files, one row per record, with file_id lineage.")
        for table in SOURCE_TABLES[source]
    ]

    @multi_asset(name=f"ingest_{source}", specs=specs, pool=WAREHOUSE_POOL, can_subset=False,
                 description=f"Reads new files in landing/{source}/ into the raw schema; archives "
                             f"or quarantines each file.")
    def _ingest(context: AssetExecutionContext):
        settings = load_settings()
        report = ingest_source(settings, source)
        context.log.info(
            f"landing/{source}: {report.files_ingested} ingested, "
            f"{report.files_skipped_duplicate} already known, {len(report.files_quarantined)} quarantined"
        )
        for path, reason in report.files_quarantined:
            context.log.warning(f"quarantined {path}: {reason}")
        for table in SOURCE_TABLES[source]:
            metadata = {
                "files_ingested": report.files_ingested,
                "files_skipped_duplicate": report.files_skipped_duplicate,
                "files_quarantined": len(report.files_quarantined),
                "rows_loaded": report.rows_loaded.get(table, 0),
                "seconds": round(report.seconds, 2),
            }
            if report.files_quarantined:
                metadata["quarantined"] = MetadataValue.md(_quarantine_table(report.files_quarantined))
            yield MaterializeResult(asset_key=AssetKey(["raw", table]), metadata=metadata)

    return _ingest


ingest_assets = [_build_ingest_asset(source) for source in SOURCE_TABLES]

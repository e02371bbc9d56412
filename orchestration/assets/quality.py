"""Quality checks as Dagster asset checks: GX suites on raw tables, invoicing flags, findings.

- `gx_raw_suites`: one check `great_expectations` per suite in `expectations/` (the raw input
  contract; the marts are checked by dbt tests, which dagster-dbt makes asset checks too).
  Blocking: a failed critical expectation (severity ERROR) stops everything downstream (dbt);
  failed warnings only (severity WARN) do not. Each run also rebuilds the Data Docs site.
  A suite validates only the rows of files ingested since its watermark (advanced only when no
  critical expectation failed, so a failure keeps blocking until it is fixed). Tables are read in
  batches, and the step runs in a child process so its memory is returned before dbt runs
  (jeugdhulp/quality/gx_runner.py).
- `incomplete_invoicing` on mart_invoicing_completeness and `late_invoicing` on
  mart_invoice_timeliness list the flagged providers. Not blocking: a provider's late invoices are
  what the municipalities must see, not a reason to withhold their figures.
- `findings_by_rule` on dq_findings counts the findings per rule.

Every check opens the warehouse read-only for a moment, in the single-writer pool; the GX steps
also write their watermarks (`gx_state.watermarks`) there.
"""

from __future__ import annotations

from collections.abc import Iterable

from dagster import (
    AssetCheckKey,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    MetadataValue,
    asset_check,
    multi_asset_check,
)

from jeugdhulp.quality.check_summary import CheckSummary, summarise_check_results
from jeugdhulp.quality.failing_files import as_metadata, files_markdown, takeout_command
from jeugdhulp.quality.suites import list_suites, load_suite
from orchestration.resources import WAREHOUSE_POOL, JeugdhulpSettings

GX_CHECK_NAME = "great_expectations"
COMPLETENESS_KEY = AssetKey(["marts", "mart_invoicing_completeness"])
TIMELINESS_KEY = AssetKey(["marts", "mart_invoice_timeliness"])
FINDINGS_KEY = AssetKey(["marts", "dq_findings"])
FLAGS_KEY = AssetKey(["intermediate", "int_providers_invoicing_flagged"])

_SEVERITY = {"error": AssetCheckSeverity.ERROR, "warn": AssetCheckSeverity.WARN}

__all__ = ["build_quality_checks", "summarise_check_results", "CheckSummary", "GX_CHECK_NAME"]


def build_quality_checks(
    asset_keys: Iterable[AssetKey] | None = None,
) -> list[AssetChecksDefinition]:
    """All quality checks whose assets exist among `asset_keys` (default: the project's assets).

    A suite or check whose asset is not defined (a mart not built yet) is left out, so the code
    location still loads.
    """
    available = set(asset_keys) if asset_keys is not None else _project_asset_keys()
    suites_by_schema: dict[str, list[str]] = {}
    for name in list_suites():
        definition = load_suite(name)
        if AssetKey(list(definition.asset_key)) in available:
            suites_by_schema.setdefault(definition.schema, []).append(name)

    checks: list[AssetChecksDefinition] = []
    for schema, names in sorted(suites_by_schema.items()):
        checks.append(_gx_suites_check(f"gx_{schema}_suites", names))
    if COMPLETENESS_KEY in available:
        checks.append(_invoicing_check(COMPLETENESS_KEY, "incomplete", available))
    if TIMELINESS_KEY in available:
        checks.append(_invoicing_check(TIMELINESS_KEY, "late", available))
    if FINDINGS_KEY in available:
        checks.append(_findings_check())
    return checks


def _project_asset_keys() -> set[AssetKey]:
    from orchestration.assets.dbt import dbt_models
    from orchestration.assets.ingest import ingest_assets

    keys = set(dbt_models.keys)
    for assets_def in ingest_assets:
        keys.update(assets_def.keys)
    return keys


def _gx_suites_check(op_name: str, suite_names: list[str]) -> AssetChecksDefinition:
    definitions = {name: load_suite(name) for name in suite_names}
    specs = [
        AssetCheckSpec(
            GX_CHECK_NAME,
            asset=AssetKey(list(d.asset_key)),
            blocking=True,
            description=_suite_description(name, d),
        )
        for name, d in definitions.items()
    ]

    @multi_asset_check(
        name=op_name,
        specs=specs,
        pool=WAREHOUSE_POOL,
        can_subset=True,
        description="Validates the raw input contract with the Great Expectations suites in "
        "expectations/ (the rows of files ingested since each suite's watermark) and rebuilds "
        "the Data Docs in published/regio/kwaliteit/. A critical failure blocks dbt; see each "
        "check's description for what to do.",
    )
    def _check(context, settings: JeugdhulpSettings):
        from jeugdhulp.quality.gx_runner import run_suites_in_child

        settings = settings.get()
        selected = context.selected_asset_check_keys
        names = [
            name
            for name, definition in definitions.items()
            if AssetCheckKey(AssetKey(list(definition.asset_key)), GX_CHECK_NAME) in selected
        ]
        # validation, watermarks and the Data Docs (written before any verdict is yielded: Dagster
        # stops the step at a failed blocking check, and the docs should show that failure)
        report = run_suites_in_child(settings, names)
        if report.docs_error:  # the checks' verdicts matter more than the docs page
            context.log.warning(f"Data Docs not rebuilt: {report.docs_error}")
        if report.watermark_error:  # the next run validates those rows again
            context.log.warning(report.watermark_error)
        for result in report.results:
            yield AssetCheckResult(
                asset_key=AssetKey(list(result.asset_key)),
                check_name=GX_CHECK_NAME,
                passed=result.success,
                severity=_SEVERITY.get(result.severity or "warn", AssetCheckSeverity.WARN),
                metadata=_gx_metadata(result, report),
                description=_describe(result),
            )

    return _check


def _suite_description(name: str, definition) -> str:
    """What the suite checks and what to do when it fails, for the data engineer on duty."""
    critical = [e for e in definition.expectations if e.get("severity", "critical") == "critical"]
    warnings = len(definition.expectations) - len(critical)
    what = definition.notes.strip().rstrip(".")
    return (
        f"Raw input contract of {name} (expectations/{name}.json"
        + (f"; {what}" if what else "")
        + f"): {len(critical)} critical and {warnings} warning expectations (code lists, "
        "ranges, formats, cross-field rules, record identity) on the rows of newly ingested "
        "files. Critical failure (ERROR, blocks dbt): the metadata's expectations_table and the "
        "Data Docs (published/regio/kwaliteit/index.html) name the expectation, example values "
        "and the ingested_seq range, and the metadata's failing_files_table the files whose rows "
        "fail it; take such a delivery out (its rows leave raw, the file moves to quarantine: "
        '`jeugdhulp quarantine <sha256 prefix> --reason "…"`, docs/contract.md §1) and fix what '
        "let it in; or remove its rows otherwise, or deliberately move gx_state.watermarks past "
        "it (docs/data_quality.md). Warning (WARN, not blocking): a provider's data defect, also a "
        "row of marts.dq_findings; ask the provider to correct and resend."
    )


def _gx_metadata(result, report) -> dict:
    metadata = {
        "rows": result.row_count,
        "validated_rows": result.validated_rows(),
        "expectations": len(result.outcomes),
        "failed_critical": sum(1 for o in result.failed if o.severity == "critical"),
        "failed_warning": sum(1 for o in result.failed if o.severity != "critical"),
        "batches": result.batches,
    }
    if result.seq_range is not None:
        metadata["ingested_seq_from"], metadata["ingested_seq_to"] = result.seq_range
    watermark = report.watermarks.get(result.suite_name)
    if watermark is not None:
        metadata["watermark"] = watermark
    if result.outcomes:
        metadata["expectations_table"] = MetadataValue.md(result.summary_markdown())
    if result.unexpected_counts:
        metadata["unexpected_counts"] = MetadataValue.json(result.unexpected_counts)
    if result.failing_files:  # the files whose rows fail a critical expectation
        metadata["failing_files_total"] = result.failing_files_total
        metadata["failing_files"] = MetadataValue.json(as_metadata(result))
        metadata["failing_files_table"] = MetadataValue.md(
            files_markdown(result.failing_files, result.failing_files_total)
        )
    if report.docs_path is not None:
        metadata["data_docs"] = MetadataValue.path(str(report.docs_path))
    if report.peak_memory_mb is not None:
        metadata["gx_process_peak_mb"] = round(report.peak_memory_mb, 1)
    return metadata


def _describe(result) -> str:
    if result.nothing_new:
        return f"no new rows: {result.validated_rows()}"
    if result.carried_over:
        return (
            f"no new rows since {result.validated_at}; the verdict of the rows validated then "
            f"stands: {_verdict(result)}"
        )
    return _verdict(result)


def _verdict(result) -> str:
    scope = f" ({result.validated_rows()})" if result.seq_range is not None else ""
    if result.success:
        return f"{len(result.outcomes)} expectations met on {result.row_count} rows{scope}"
    failed = ", ".join(o.label for o in result.failed[:5])
    more = f" and {len(result.failed) - 5} more" if len(result.failed) > 5 else ""
    kept = (
        "; watermark kept, so these rows are validated again next run until the delivery is "
        "removed or fixed (see the check's description)"
        if result.severity == "error" and result.seq_through is not None
        else ""
    )
    if result.failing_files:
        first = result.failing_files[0]
        others = result.failing_files_total - 1
        kept += (
            f"; rows of {first.path or first.file_id}"
            + (f" and {others} more file{'s' if others != 1 else ''}" if others else "")
            + f" fail it: {takeout_command(first.file_id)} takes one out"
        )
    return f"{len(result.failed)} of {len(result.outcomes)} expectations failed: {failed}{more}{scope}{kept}"


def _invoicing_check(
    asset_key: AssetKey, kind: str, available: set[AssetKey]
) -> AssetChecksDefinition:
    name = f"{kind}_invoicing"
    what = (
        "care months not invoiced after the invoice deadline"
        if kind == "incomplete"
        else "invoice lines declared after the invoice deadline"
    )
    deps = [FLAGS_KEY] if FLAGS_KEY in available else []

    @asset_check(
        asset=asset_key,
        name=name,
        blocking=False,
        pool=WAREHOUSE_POOL,
        additional_deps=deps,
        description=f"Providers flagged for {what} (not blocking; thresholds are dbt vars in "
        f"int_providers_invoicing_flagged, docs/data_quality.md). When it fails: the metadata's "
        f"providers table names each flagged provider with its figures, also rows "
        f"{kind}_invoicing of marts.dq_findings; ask those providers to send the missing or "
        f"late declarations (JW323), or change a threshold deliberately in dbt_project.yml.",
    )
    def _check(context, settings: JeugdhulpSettings) -> AssetCheckResult:
        from jeugdhulp.quality.invoicing import (
            FlagsUnavailable,
            flags_markdown,
            read_invoicing_flags,
            worst_severity,
        )

        settings = settings.get()
        try:
            flags = read_invoicing_flags(settings.warehouse_path, kind)
        except FlagsUnavailable as exc:
            return AssetCheckResult(
                passed=False, severity=AssetCheckSeverity.ERROR, description=str(exc)
            )
        severity = worst_severity(flags)
        return AssetCheckResult(
            passed=severity is None,
            severity=_SEVERITY.get(severity or "warn", AssetCheckSeverity.WARN),
            description=(
                f"{len(flags)} providers flagged for {kind} invoicing"
                if flags
                else f"no provider flagged for {kind} invoicing"
            ),
            metadata={
                "flagged_providers": len(flags),
                "flagged_error": sum(1 for f in flags if f.severity == "error"),
                "flagged_warn": sum(1 for f in flags if f.severity == "warn"),
                "providers": MetadataValue.md(flags_markdown(flags, kind)),
            },
        )

    return _check


def _findings_check() -> AssetChecksDefinition:
    @asset_check(
        asset=FINDINGS_KEY,
        name="findings_by_rule",
        blocking=False,
        pool=WAREHOUSE_POOL,
        description="Counts the data-quality findings per rule; warns when any has "
        "severity error (a line the municipality would reject). When it warns: the by_rule "
        "table says which rules; select those rows of marts.dq_findings (record_ref, "
        "source_file, Dutch message) and send them to the provider to correct.",
    )
    def _check(context, settings: JeugdhulpSettings) -> AssetCheckResult:
        import duckdb

        settings = settings.get()
        connection = duckdb.connect(str(settings.warehouse_path), read_only=True)
        try:
            rows = connection.execute("""
                select rule_id, severity, count(*) as findings, count(distinct provider_agb) as providers
                from marts.dq_findings group by all order by severity, findings desc, rule_id
            """).fetchall()
        finally:
            connection.close()
        table = ["| rule | severity | findings | providers |", "|---|---|---|---|"]
        table += [
            f"| {rule} | {severity} | {count} | {providers} |"
            for rule, severity, count, providers in rows
        ]
        errors = sum(count for _, severity, count, _ in rows if severity == "error")
        total = sum(count for _, _, count, _ in rows)
        return AssetCheckResult(
            passed=errors == 0,
            severity=AssetCheckSeverity.WARN,
            description=f"{total} findings, {errors} with severity error",
            metadata={
                "findings": total,
                "error_findings": errors,
                "by_rule": MetadataValue.md("\n".join(table)),
            },
        )

    return _check

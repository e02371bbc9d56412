"""The dbt project as Dagster assets: models keyed by schema and name, dbt tests as asset checks.

Every model and seed materialisation carries its row count and column schema (types from the
warehouse, descriptions from the YAML, which dbt also writes as DuckDB comments: persist_docs in
dbt_project.yml). Every dbt test check carries a description: the test's own `description` (or
`meta.description`) when its YAML has one, else a sentence naming the test, its model and column
and what a failure means.
"""

import re
from collections.abc import Iterator, Mapping
from typing import Any

import duckdb
from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetMaterialization,
    MetadataValue,
    Output,
    TableColumn,
    TableSchema,
)
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from jeugdhulp.dbt_cli import seed_partial_parse
from jeugdhulp.ingest.takeout import full_refresh_done, pending_full_refresh
from jeugdhulp.quality.failing_files import files_markdown, files_metadata, files_of_failing_rows
from jeugdhulp.settings import Settings
from orchestration.resources import (
    WAREHOUSE_POOL,
    JeugdhulpSettings,
    case_key_secret_env,
    dbt_project,
    dbt_vars_arg,
    ensure_dbt_manifest,
)

_LEADING_COMMENT = re.compile(r"^\s*\{#-?\s*(.*?)\s*-?#\}", re.DOTALL)


class JeugdhulpTranslator(DagsterDbtTranslator):
    """Keys are [schema, name] (raw sources: ["raw", table]), so they match the warehouse."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return AssetKey(["raw", dbt_resource_props["identifier"]])
        return AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "seeds"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"

    def get_asset_check_spec(
        self,
        asset_spec,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: DbtProject | None,
    ) -> AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        test = manifest["nodes"][unique_id]
        return spec._replace(description=describe_dbt_test(test, spec.asset_key))


def _table_name(asset_key: AssetKey) -> str:
    return ".".join(asset_key.path)


def _consequence(severity: str) -> str:
    if severity.lower() == "error":
        return "A failure blocks publishing (severity error): fix the data or the model first."
    return "A failure is a signal only (severity warn): publishing goes on."


def describe_dbt_test(test: Mapping[str, Any], asset_key: AssetKey) -> str:
    """The description of a dbt test: its YAML text, else a sentence generated from the test."""
    own = (test.get("description") or "").strip() or str(
        (test.get("meta") or {}).get("description") or ""
    ).strip()
    severity = str((test.get("config") or {}).get("severity") or "error")
    if own:
        return f"{own} {_consequence(severity)}"
    table = _table_name(asset_key)
    metadata = test.get("test_metadata") or {}
    kind = metadata.get("name")
    kwargs = metadata.get("kwargs") or {}
    column = kwargs.get("column_name") or test.get("column_name")
    if kind is None:  # a singular test: its leading {#- comment -#} says what it asserts
        match = _LEADING_COMMENT.match(test.get("raw_code") or "")
        what = " ".join(match.group(1).split()) if match else "returns no rows"
        sentence = (
            f"dbt test {test['name']} ({test.get('original_file_path', '')}) on {table}: {what}"
        )
    elif kind == "not_null":
        sentence = f"dbt test not_null: {table}.{column} is never empty."
    elif kind == "unique":
        sentence = f"dbt test unique: each value of {table}.{column} occurs in one row only."
    elif kind == "accepted_values":
        values = ", ".join(str(v) for v in kwargs.get("values") or [])
        sentence = f"dbt test accepted_values: {table}.{column} is one of: {values}."
    elif kind == "relationships":
        target = re.sub(r"""^ref\(['"](.+?)['"]\)$""", r"\1", str(kwargs.get("to", "")))
        sentence = (
            f"dbt test relationships: every {table}.{column} exists as "
            f"{target}.{kwargs.get('field')}."
        )
    elif kind == "unique_combination_of_columns":
        columns = ", ".join(kwargs.get("combination_of_columns") or [])
        sentence = f"dbt test unique_combination_of_columns: one row per ({columns}) in {table}."
    elif kind == "matches_pattern":
        sentence = (
            f"dbt test matches_pattern: {table}.{column} matches the pattern "
            f"{kwargs.get('pattern')}."
        )
    else:
        where = f"{table}.{column}" if column else table
        sentence = f"dbt test {kind} on {where} ({test['name']})."
    return f"{sentence} {_consequence(severity)}"


translator = JeugdhulpTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def _relation_metadata(
    connection: duckdb.DuckDBPyConnection, node: Mapping[str, Any]
) -> dict[str, Any]:
    """Row count and column schema (warehouse types, YAML descriptions) of a built relation."""
    schema, name = node["schema"], node.get("alias") or node["name"]
    columns = connection.execute(
        "select column_name, data_type, comment, is_nullable from duckdb_columns() "
        "where schema_name = ? and table_name = ? order by column_index",
        [schema, name],
    ).fetchall()
    if not columns:
        return {}
    row_count = connection.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0]
    documented = {c: (props.get("description") or "") for c, props in node["columns"].items()}
    schema_metadata = TableSchema(
        columns=[
            TableColumn(
                name=column,
                type=data_type,
                description=(comment or documented.get(column) or None),
            )
            for column, data_type, comment, _ in columns
        ]
    )
    # the standard keys the UI shows as "Row count" and the column table (TableMetadataSet)
    return {"dagster/row_count": int(row_count), "dagster/column_schema": schema_metadata}


def with_table_metadata(
    events: Iterator[Any], manifest: Mapping[str, Any], settings: Settings, log
) -> Iterator[Any]:
    """Yield dbt's events with row counts and column schemas, once dbt has finished.

    DuckDB allows one writer process and no reader beside it, so the warehouse is read only
    after the dbt process has ended (as dagster-dbt does for DuckDB); then one read-only
    connection counts every model and seed, views included. A failed build is raised after its
    events are yielded.
    """
    buffered: list[Any] = []
    error: BaseException | None = None
    try:
        for event in events:
            buffered.append(event)
    except Exception as exc:  # dbt failed: still report what it did build
        error = exc
    nodes = manifest.get("nodes", {})
    connection = None
    try:
        if settings.warehouse_path.exists():
            connection = duckdb.connect(str(settings.warehouse_path), read_only=True)
    except duckdb.Error as exc:
        log.warning(f"row counts not fetched: {exc}")
    try:
        for event in buffered:
            if connection is not None and isinstance(event, (Output, AssetMaterialization)):
                unique_id = getattr(event.metadata.get("unique_id"), "value", None)
                node = nodes.get(unique_id)
                if node is not None and node.get("resource_type") in {"model", "seed"}:
                    try:
                        extra = _relation_metadata(connection, node)
                    except duckdb.Error as exc:
                        log.warning(f"row count of {unique_id} not fetched: {exc}")
                        extra = {}
                    if extra:
                        event = event.with_metadata({**event.metadata, **extra})
            elif (
                connection is not None and isinstance(event, AssetCheckResult) and not event.passed
            ):
                extra = _failing_files_metadata(connection, event, nodes, log)
                if extra:
                    event = event.with_metadata({**event.metadata, **extra})
            yield event
    finally:
        if connection is not None:
            connection.close()
    if error is not None:
        raise error


def _failing_files_metadata(
    connection, event: AssetCheckResult, nodes: Mapping[str, Any], log
) -> dict[str, Any]:
    """The files whose rows a failed test stored (tests on models with file lineage keep their
    failing rows as a view, dbt_project.yml), as the GX raw checks name them."""
    unique_id = getattr(event.metadata.get("unique_id"), "value", None)
    relation = (nodes.get(unique_id) or {}).get("relation_name")
    if not relation:
        return {}
    try:
        files, total = files_of_failing_rows(connection, relation)
    except duckdb.Error as exc:
        log.warning(f"the files failing {unique_id} not found: {exc}")
        return {}
    if not files:
        return {}
    return {
        "failing_files_total": total,
        "failing_files": MetadataValue.json(files_metadata(files, total)),
        "failing_files_table": MetadataValue.md(files_markdown(files, total)),
    }


@dbt_assets(
    manifest=ensure_dbt_manifest(),
    project=dbt_project,
    dagster_dbt_translator=translator,
    pool=WAREHOUSE_POOL,
    name="dbt_models",
)
def dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, settings: JeugdhulpSettings):
    """`dbt build`: seeds, models and their tests in dependency order."""
    run_settings = settings.get()
    context.log.info(f"dbt build as of {run_settings.as_of} on {run_settings.warehouse_path}")
    # A file taken out of raw (`jeugdhulp quarantine`) may have rows in the incremental models:
    # they are built from raw again until a build has rebuilt every one of them.
    takeout = pending_full_refresh(run_settings.warehouse_path)
    full_refresh = ["--full-refresh"] if takeout is not None else []
    if full_refresh:
        context.log.info(
            "a file was taken out of raw since the last full build: dbt build --full-refresh"
        )
    # A per-data-dir target keeps concurrent pipelines (tests, UI runs) from sharing run state.
    # Unit tests pin the SQL on fixed inputs, not on today's data: the test suite runs them.
    # The run's parameters travel as --vars, never through this process's environment.
    # The case-key secret of mart_top_clients goes by environment (DBT_ENV_SECRET_*: kept out of
    # dbt's logs) and only to this dbt process (orchestration/resources.py).
    # A new target starts from the project's saved parse, which jeugdhulp-dbt reuses without
    # the run's parameters: no full parse per data dir (jeugdhulp/dbt_cli.py).
    target_path = run_settings.data_dir / "dbt_target"
    seed_partial_parse(target_path)
    with case_key_secret_env(run_settings):
        invocation = dbt.cli(
            [
                "build",
                "--exclude-resource-type",
                "unit_test",
                *full_refresh,
                *dbt_vars_arg(run_settings),
            ],
            context=context,
            target_path=target_path,
        )
    try:
        yield from with_table_metadata(
            invocation.stream(), invocation.manifest, run_settings, context.log
        )
    finally:
        if takeout is not None:
            _record_full_refresh(invocation, run_settings, takeout, context.log)


def incremental_models_rebuilt(manifest: Mapping[str, Any], run_results: Any) -> bool:
    """Whether a build (its run_results.json) rebuilt every incremental model of the manifest:
    a failed, skipped or unselected one still holds rows of files taken out."""
    if not isinstance(run_results, Mapping):
        return False
    status = {r.get("unique_id"): r.get("status") for r in run_results.get("results", [])}
    return all(
        status.get(unique_id) == "success"
        for unique_id, node in manifest.get("nodes", {}).items()
        if node.get("resource_type") == "model"
        and (node.get("config") or {}).get("materialized") == "incremental"
    )


def _record_full_refresh(invocation, run_settings: Settings, takeout: int, log) -> None:
    try:
        run_results = invocation.get_artifact("run_results.json")
    except Exception:  # no artefact (dbt did not get that far): the next build refreshes again
        run_results = None
    if not incremental_models_rebuilt(invocation.manifest, run_results):
        log.warning("not every incremental model was rebuilt: the next build refreshes again")
        return
    try:
        full_refresh_done(run_settings.warehouse_path, takeout)
    except duckdb.Error as exc:  # costs a second full build, nothing else
        log.warning(f"full refresh not recorded, the next build refreshes again: {exc}")

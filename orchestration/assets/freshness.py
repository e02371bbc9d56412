"""Freshness checks (severity WARN, never blocking): is data still arriving, and are the marts new?

- `landing_received_recently` on raw/file_registry: warns when landing/ijw received no file for
  `landing_quiet_days` days (JEUGDHULP_LANDING_QUIET_DAYS, default 3). A file counts as received
  when the registry has it (ingested or quarantined: `ingested_at`) or when it is waiting in
  landing/ijw/ (its modification time).
- `providers_delivering` on marts/mart_provider_deliveries: warns for each provider with
  allocations in care that declared no invoice line for more than two months before the
  reporting date. The figure is the dbt model's (models/marts/operations/); this only reads it.
- `updated_within_a_day` on every mart: warns when the mart's last materialisation is older
  than a day (or it was never built): the daily refresh did not run, or failed before dbt.

They run in `daily_refresh` (after what they look at) and on their own in `freshness_watch`
(schedule `freshness_every_4h`), so a silent landing zone is noticed even when nothing else runs.
"""

import time
from datetime import datetime, timedelta

import duckdb
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    MetadataValue,
    asset_check,
    multi_asset_check,
)

from jeugdhulp.ingest import pending_files
from orchestration.assets.dbt import dbt_models
from orchestration.resources import WAREHOUSE_POOL, JeugdhulpSettings

REGISTRY_KEY = AssetKey(["raw", "file_registry"])
DELIVERIES_KEY = AssetKey(["marts", "mart_provider_deliveries"])
MART_KEYS = sorted((key for key in dbt_models.keys if key.path[0] == "marts"), key=lambda k: k.path)
WATCHED_SOURCE = "ijw"  # the daily deliveries; reference, pgb and accountability come rarely
MART_MAX_AGE = timedelta(days=1)

LANDING_CHECK = "landing_received_recently"
DELIVERIES_CHECK = "providers_delivering"
MART_AGE_CHECK = "updated_within_a_day"


@asset_check(
    asset=REGISTRY_KEY,
    name=LANDING_CHECK,
    blocking=False,
    pool=WAREHOUSE_POOL,
    description=f"Warns when landing/{WATCHED_SOURCE}/ received no file for "
    "JEUGDHULP_LANDING_QUIET_DAYS days (default 3; resource setting landing_quiet_days): "
    "providers or the VECOZO transfer may have stopped delivering. Counts registered files "
    "(ingested or quarantined) and files waiting in landing/. Severity warn: never blocks.",
)
def landing_received_recently(
    context: AssetCheckExecutionContext, settings: JeugdhulpSettings
) -> AssetCheckResult:
    resolved = settings.get()
    now = datetime.now()
    per_source: list[tuple[str, datetime | None, int]] = []
    if resolved.warehouse_path.exists():
        with duckdb.connect(str(resolved.warehouse_path), read_only=True) as connection:
            per_source = connection.execute(
                "select source, max(ingested_at), count(*) filter (where ingested_at >= ?) "
                "from raw.file_registry group by source order by source",
                [now - timedelta(days=resolved.landing_quiet_days)],
            ).fetchall()
    registered = {source: last for source, last, _ in per_source}
    waiting = [
        datetime.fromtimestamp(path.stat().st_mtime)
        for path in pending_files(resolved, WATCHED_SOURCE)
        if path.exists()
    ]
    candidates = [t for t in [registered.get(WATCHED_SOURCE), *waiting] if t is not None]
    last = max(candidates) if candidates else None
    quiet_days = (now - last).total_seconds() / 86400 if last else None
    passed = quiet_days is not None and quiet_days < resolved.landing_quiet_days
    if last is None:
        description = f"landing/{WATCHED_SOURCE} never received a file"
    elif passed:
        description = f"landing/{WATCHED_SOURCE} last received a file {quiet_days:.1f} days ago"
    else:
        description = (
            f"landing/{WATCHED_SOURCE} received nothing for {quiet_days:.1f} days "
            f"(limit {resolved.landing_quiet_days}): is the delivery from VECOZO still running?"
        )
    table = ["| source | last received | files in window |", "|---|---|---|"]
    table += [f"| {s} | {t:%Y-%m-%d %H:%M} | {n} |" for s, t, n in per_source if t is not None]
    return AssetCheckResult(
        passed=passed,
        severity=AssetCheckSeverity.WARN,
        description=description,
        metadata={
            "quiet_days": round(quiet_days, 2) if quiet_days is not None else -1.0,
            "limit_days": resolved.landing_quiet_days,
            "files_waiting": len(waiting),
            "last_received": MetadataValue.text(last.isoformat(timespec="seconds"))
            if last
            else MetadataValue.text("never"),
            "by_source": MetadataValue.md("\n".join(table)),
        },
    )


@asset_check(
    asset=DELIVERIES_KEY,
    name=DELIVERIES_CHECK,
    blocking=False,
    pool=WAREHOUSE_POOL,
    description="Warns for each provider with allocations in care on the reporting date that "
    "declared no invoice line to the municipality for more than two months (dbt var "
    "delivery_silence_months): its care is not being invoiced, so costs and KPIs undercount. "
    "Severity warn: never blocks publishing.",
)
def providers_delivering(
    context: AssetCheckExecutionContext, settings: JeugdhulpSettings
) -> AssetCheckResult:
    resolved = settings.get()
    with duckdb.connect(str(resolved.warehouse_path), read_only=True) as connection:
        rows = connection.execute(
            "select municipality_code, provider_agb, allocations_in_care, clients_in_care, "
            "last_declaration_date, days_since_last_declaration, as_of "
            "from marts.mart_provider_deliveries where is_silent "
            "order by municipality_code, provider_agb"
        ).fetchall()
        total, as_of = connection.execute(
            "select count(distinct provider_agb), max(as_of) from marts.mart_provider_deliveries"
        ).fetchone()
    # the mart is per municipality × provider; a provider counts once, silent to any municipality
    silent = len({provider for _, provider, *_ in rows})
    table = [
        "| municipality | provider | allocations in care | clients | last declaration | days |",
        "|---|---|---|---|---|---|",
    ]
    table += [
        f"| {m} | {p} | {a} | {c} | {d or 'never'} | {'' if days is None else days} |"
        for m, p, a, c, d, days, _ in rows
    ]
    return AssetCheckResult(
        passed=not rows,
        severity=AssetCheckSeverity.WARN,
        description=(
            f"{silent} of {total} providers with clients in care declared nothing for more "
            f"than two months to {len(rows)} municipality–provider pairs (as of {as_of})"
            if rows
            else f"all {total} providers with clients in care declared recently (as of {as_of})"
        ),
        metadata={
            "silent_providers": silent,
            "silent_municipality_provider_pairs": len(rows),
            "providers_in_care": int(total),
            "silent": MetadataValue.md("\n".join(table)),
        },
    )


@multi_asset_check(
    name="marts_updated_within_a_day",
    specs=[
        AssetCheckSpec(
            MART_AGE_CHECK,
            asset=key,
            blocking=False,
            description=f"Warns when {'.'.join(key.path)} was last built more than a day ago "
            "(or never): the daily refresh did not run or stopped before dbt. Severity warn.",
        )
        for key in MART_KEYS
    ],
    can_subset=True,
    description="Age of every mart's last materialisation, from the Dagster instance.",
)
def marts_updated_within_a_day(context: AssetCheckExecutionContext):
    now = time.time()
    for check_key in sorted(context.selected_asset_check_keys, key=lambda k: k.asset_key.path):
        event = context.instance.get_latest_materialization_event(check_key.asset_key)
        if event is None:
            yield AssetCheckResult(
                asset_key=check_key.asset_key,
                check_name=MART_AGE_CHECK,
                passed=False,
                severity=AssetCheckSeverity.WARN,
                description="never built",
            )
            continue
        age = timedelta(seconds=now - event.timestamp)
        yield AssetCheckResult(
            asset_key=check_key.asset_key,
            check_name=MART_AGE_CHECK,
            passed=age <= MART_MAX_AGE,
            severity=AssetCheckSeverity.WARN,
            description=f"last built {age.total_seconds() / 3600:.1f} hours ago",
            metadata={
                "age_hours": round(age.total_seconds() / 3600, 2),
                "last_built": MetadataValue.timestamp(event.timestamp),
            },
        )


freshness_checks: list[AssetChecksDefinition] = [
    landing_received_recently,
    providers_delivering,
    marts_updated_within_a_day,
]

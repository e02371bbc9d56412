"""The publishing entry point: marts in, two tiers of folders (and PostgreSQL) out, with a report.

`published/intern/<code>/` (and `intern/regio/`): the warehouse's figures to the cent, for the
municipality's own staff. `published/openbaar/<code>/` (and `openbaar/regio/`): the publication
tables with primary and complementary suppression (jeugdhulp/publish/sdc.py), fit for open data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa

from jeugdhulp.publish.catalogue import MARTS, NEVER_PUBLISHED, MartSpec, is_forbidden_column
from jeugdhulp.publish.figures import compute
from jeugdhulp.publish.files import (
    REPORT_FILE,
    Staging,
    stale_municipality_folders,
    write_csv,
    write_parquet,
)
from jeugdhulp.publish.openbaar import (
    SCHEMA as OPENBAAR_SCHEMA,
)
from jeugdhulp.publish.openbaar import (
    csv_markers,
    openbaar_figures,
    suppress_openbaar,
    with_tier,
)
from jeugdhulp.publish.postgres import DEFAULT_ROLE_PREFIX, publish_postgres
from jeugdhulp.publish.report import PublishedFile, page_links, render
from jeugdhulp.publish.selection import (
    municipality_providers,
    receives,
    select_rows,
    targets,
)
from jeugdhulp.publish.warehouse import WorkCopy, open_work_copy
from jeugdhulp.settings import Settings

INTERN = "intern"
OPENBAAR = "openbaar"
TIERS = (INTERN, OPENBAAR)
_OWNED = {REPORT_FILE} | {f"{spec.name}.{ext}" for spec in MARTS for ext in ("csv", "parquet")}


@dataclass
class PublishReport:
    """What one publishing run did (the Dagster asset turns it into materialisation metadata)."""

    published_dir: str
    paths: list[str] = field(default_factory=list)
    municipalities: list[str] = field(default_factory=list)
    rows_per_mart: dict[str, int] = field(default_factory=dict)  # intern region set
    suppressed_cells: int = 0  # openbaar region set
    suppressed_cells_per_mart: dict[str, int] = field(default_factory=dict)
    openbaar_tables: list[str] = field(default_factory=list)
    skipped_marts: dict[str, str] = field(default_factory=dict)
    changed_folders: list[str] = field(default_factory=list)  # e.g. "intern/GM0546"
    removed_folders: list[str] = field(default_factory=list)
    postgres: bool = False
    postgres_detail: str = "JEUGDHULP_POSTGRES_DSN not set"
    notes: list[str] = field(default_factory=list)


def is_owned(name: str) -> bool:
    """Files publishing writes in a target folder; anything else there is carried over untouched."""
    return name in _OWNED


def _intern_copies(work: WorkCopy, specs: list[MartSpec]) -> None:
    """pub.<mart> = src.<mart>: the intern tier (and the intern report) reads them unsuppressed."""
    work.con.execute("CREATE SCHEMA IF NOT EXISTS pub")
    for spec in specs:
        work.con.execute(
            f"CREATE OR REPLACE TABLE pub.{spec.name} AS SELECT * FROM src.{spec.name}"
        )


def _retire_old_layout(staging: Staging, report: PublishReport) -> None:
    """Before the two tiers, folders were `published/<code>/`: retire those, and publishing's own
    files in `published/regio/` (its `kwaliteit/`, the Data Docs, stays)."""
    root = staging.published_dir
    for code in stale_municipality_folders(root, set()):
        staging.retire(code)
        report.removed_folders.append(code)
    old_region = root / "regio"
    if old_region.is_dir():
        for entry in old_region.iterdir():
            if entry.is_file() and is_owned(entry.name):
                entry.unlink()


def publish(
    settings: Settings,
    *,
    progress: Callable[[str], None] | None = None,
    role_prefix: str = DEFAULT_ROLE_PREFIX,
    audit: bool = True,
) -> PublishReport:
    """Publish every contract mart that exists in both tiers; absent ones are listed in
    `skipped_marts`. audit=False: complementary suppression by the heuristic only (tests of
    the audit use it to show what the LP refinement adds)."""
    say = progress or (lambda message: None)
    report = PublishReport(published_dir=str(settings.published_dir))
    say(f"reading marts from {settings.warehouse_path}")
    with open_work_copy(settings.warehouse_path) as work:
        specs = [spec for spec in MARTS if work.has(spec.name)]
        open_specs = [spec for spec in specs if spec.openbaar]
        report.skipped_marts = dict(work.skipped)
        report.notes = [f"{name} is never published (record level)" for name in NEVER_PUBLISHED]
        _intern_copies(work, specs)
        say("disclosure control of the openbaar tables")
        report.suppressed_cells_per_mart = suppress_openbaar(work, open_specs, audit=audit)
        report.suppressed_cells = sum(report.suppressed_cells_per_mart.values())
        report.openbaar_tables = [spec.name for spec in open_specs]
        report.rows_per_mart = {
            spec.name: work.con.execute(f"SELECT count(*) FROM src.{spec.name}").fetchone()[0]
            for spec in specs
        }
        everyone = targets(work, specs)
        report.municipalities = [target.code for target in everyone if not target.is_region]
        report.notes += work.notes

        staging = Staging(settings.published_dir, owned=is_owned)
        try:
            region_tables: dict[str, pa.Table] = {}
            openbaar_tables: dict[str, pa.Table] = {}
            for number, target in enumerate(everyone, start=1):
                say(f"publishing {target.code} ({number}/{len(everyone)})")
                intern = compute(work, target, settings.as_of, tier=INTERN)
                for tier in TIERS:
                    folder = staging.folder(f"{tier}/{target.code}")
                    files = []
                    tier_specs = specs if tier == INTERN else open_specs
                    schema = "pub" if tier == INTERN else OPENBAAR_SCHEMA
                    for spec in tier_specs:
                        if not receives(work, spec, target):
                            continue
                        table = select_rows(work, spec, target, schema=schema)
                        assert not any(is_forbidden_column(c) for c in table.column_names)
                        if target.is_region:
                            (region_tables if tier == INTERN else openbaar_tables)[spec.name] = (
                                table
                            )
                        write_parquet(table, folder / f"{spec.name}.parquet")
                        markers = csv_markers(spec) if tier == OPENBAAR else None
                        write_csv(table, folder / f"{spec.name}.csv", markers=markers)
                        files.append(
                            PublishedFile(
                                spec.name,
                                table.num_rows,
                                f"{spec.name}.csv",
                                f"{spec.name}.parquet",
                            )
                        )
                    figures = intern if tier == INTERN else openbaar_figures(work, intern)
                    links = page_links(
                        settings.published_dir,
                        tier,
                        target.code,
                        [(t.code, t.title) for t in everyone if not t.is_region],
                    )
                    html = render(with_tier(figures, tier), files, links)
                    (folder / REPORT_FILE).write_text(html, encoding="utf-8")

            if settings.postgres_dsn:
                say("loading PostgreSQL")
                result = publish_postgres(
                    settings.postgres_dsn,
                    region_tables,  # intern: the warehouse's figures, per municipality
                    report.municipalities,
                    municipality_providers(work),
                    role_prefix=role_prefix,
                    openbaar_tables=openbaar_tables,  # suppressed: schema openbaar
                )
                report.postgres = True
                report.postgres_detail = (
                    f"database {result.database}: {len(result.rows)} tables, "
                    f"{len(result.roles)} roles"
                )

            say("swapping the new folders in")
            for tier in TIERS:
                for target in everyone:
                    code = f"{tier}/{target.code}"
                    if staging.commit(code):
                        report.changed_folders.append(code)
                    live = settings.published_dir / code
                    report.paths += sorted(
                        str(path)
                        for path in live.iterdir()
                        if path.is_file() and is_owned(path.name)
                    )
                for code in stale_municipality_folders(
                    settings.published_dir / tier, {t.code for t in everyone}
                ):
                    staging.retire(f"{tier}/{code}")
                    report.removed_folders.append(f"{tier}/{code}")
            _retire_old_layout(staging, report)
        finally:
            staging.cleanup()
    say("published")
    return report

"""The publishing entry point: marts in, per-municipality folders (and PostgreSQL) out, with a report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa

from jeugdhulp.publish.catalogue import MARTS, NEVER_PUBLISHED, is_forbidden_column
from jeugdhulp.publish.figures import compute
from jeugdhulp.publish.files import (
    REPORT_FILE,
    Staging,
    stale_municipality_folders,
    write_csv,
    write_parquet,
)
from jeugdhulp.publish.postgres import DEFAULT_ROLE_PREFIX, publish_postgres
from jeugdhulp.publish.report import PublishedFile, render
from jeugdhulp.publish.selection import (
    municipality_providers,
    receives,
    select_rows,
    targets,
)
from jeugdhulp.publish.suppression import suppress_all
from jeugdhulp.publish.warehouse import open_work_copy
from jeugdhulp.settings import Settings

_OWNED = {REPORT_FILE} | {f"{spec.name}.{ext}" for spec in MARTS for ext in ("csv", "parquet")}


@dataclass
class PublishReport:
    """What one publishing run did (the Dagster asset turns it into materialisation metadata)."""

    published_dir: str
    paths: list[str] = field(default_factory=list)
    municipalities: list[str] = field(default_factory=list)
    rows_per_mart: dict[str, int] = field(default_factory=dict)
    suppressed_cells: int = 0
    suppressed_cells_per_mart: dict[str, int] = field(default_factory=dict)
    skipped_marts: dict[str, str] = field(default_factory=dict)
    changed_folders: list[str] = field(default_factory=list)
    removed_folders: list[str] = field(default_factory=list)
    postgres: bool = False
    postgres_detail: str = "JEUGDHULP_POSTGRES_DSN not set"
    notes: list[str] = field(default_factory=list)


def is_owned(name: str) -> bool:
    """Files publishing writes in a target folder; anything else there is carried over untouched."""
    return name in _OWNED


def publish(
    settings: Settings,
    *,
    progress: Callable[[str], None] | None = None,
    role_prefix: str = DEFAULT_ROLE_PREFIX,
) -> PublishReport:
    """Publish every contract mart that exists; absent ones are listed in `skipped_marts`."""
    say = progress or (lambda message: None)
    report = PublishReport(published_dir=str(settings.published_dir))
    say(f"reading marts from {settings.warehouse_path}")
    with open_work_copy(settings.warehouse_path) as work:
        specs = [spec for spec in MARTS if work.has(spec.name)]
        report.skipped_marts = dict(work.skipped)
        report.notes = [f"{name} is never published (record level)" for name in NEVER_PUBLISHED]
        suppressed = suppress_all(work, specs)
        report.rows_per_mart = {name: s.rows for name, s in suppressed.items()}
        report.suppressed_cells_per_mart = {name: s.cells for name, s in suppressed.items()}
        report.suppressed_cells = sum(s.cells for s in suppressed.values())
        everyone = targets(work, specs)
        report.municipalities = [target.code for target in everyone if not target.is_region]
        report.notes += work.notes

        staging = Staging(settings.published_dir, owned=is_owned)
        try:
            region_tables: dict[str, pa.Table] = {}
            for number, target in enumerate(everyone, start=1):
                say(f"publishing {target.code} ({number}/{len(everyone)})")
                folder = staging.folder(target.code)
                files = []
                for spec in specs:
                    if not receives(work, spec, target):
                        continue
                    table = select_rows(work, spec, target)
                    assert not any(is_forbidden_column(c) for c in table.column_names), spec.name
                    if target.is_region:
                        region_tables[spec.name] = table
                    write_parquet(table, folder / f"{spec.name}.parquet")
                    write_csv(table, folder / f"{spec.name}.csv")
                    files.append(
                        PublishedFile(
                            spec.name, table.num_rows, f"{spec.name}.csv", f"{spec.name}.parquet"
                        )
                    )
                html = render(compute(work, target, settings.as_of), files)
                (folder / REPORT_FILE).write_text(html, encoding="utf-8")

            if settings.postgres_dsn:
                say("loading PostgreSQL schema published")
                result = publish_postgres(
                    settings.postgres_dsn,
                    region_tables,
                    report.municipalities,
                    municipality_providers(work),
                    role_prefix=role_prefix,
                )
                report.postgres = True
                report.postgres_detail = (
                    f"database {result.database}: {len(result.rows)} tables, "
                    f"{len(result.roles)} roles"
                )

            say("swapping the new folders in")
            for target in everyone:
                if staging.commit(target.code):
                    report.changed_folders.append(target.code)
                live = settings.published_dir / target.code
                report.paths += sorted(
                    str(path) for path in live.iterdir() if path.is_file() and is_owned(path.name)
                )
            for code in stale_municipality_folders(
                settings.published_dir, {t.code for t in everyone}
            ):
                staging.retire(code)
                report.removed_folders.append(code)
        finally:
            staging.cleanup()
    say("published")
    return report

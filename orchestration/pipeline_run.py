"""`jeugdhulp run`: materialise the whole asset graph in-process and summarise what happened."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter

from jeugdhulp.settings import Settings
from orchestration.definitions import defs


@dataclass
class RunSummary:
    settings: Settings
    success: bool = False
    seconds: float = 0.0
    files_ingested: int = 0
    files_duplicate: int = 0
    files_quarantined: int = 0
    checks_passed: list[str] = field(default_factory=list)
    checks_warned: list[str] = field(default_factory=list)
    checks_failed: list[str] = field(default_factory=list)
    blocking_failed: list[str] = field(default_factory=list)
    marts_built: list[str] = field(default_factory=list)
    published: bool = False
    failed_steps: list[str] = field(default_factory=list)
    log_path: Path | None = None

    @property
    def ok(self) -> bool:
        return self.success and not self.blocking_failed and not self.failed_steps

    def render(self) -> str:
        lines = [
            "",
            f"jeugdhulp run — as of {self.settings.as_of} — {'OK' if self.ok else 'FAILED'} "
            f"in {self.seconds:.0f} s",
            f"  files:   {self.files_ingested} ingested, {self.files_quarantined} quarantined, "
            f"{self.files_duplicate} already known"
            + (f"  (reasons: {self.settings.quarantine_dir})" if self.files_quarantined else ""),
            f"  checks:  {len(self.checks_passed)} passed, {len(self.checks_warned)} warned, "
            f"{len(self.checks_failed)} failed",
        ]
        for name in self.checks_failed:
            lines.append(
                f"           ✗ {name}" + ("  [blocking]" if name in self.blocking_failed else "")
            )
        for name in self.checks_warned[:15]:
            lines.append(f"           ! {name}")
        if len(self.checks_warned) > 15:
            lines.append(f"           ! … and {len(self.checks_warned) - 15} more warnings")
        lines.append(
            f"  marts:   {len(self.marts_built)} built ({', '.join(self.marts_built) or 'none'})"
        )
        lines.append(f"  warehouse: {self.settings.warehouse_path}")
        if self.published:
            lines.append(f"  published: {self.settings.published_dir}")
        else:
            lines.append("  published: nothing (publishing did not run: see the failures above)")
        for step in self.failed_steps:
            lines.append(f"  failed step: {step}")
        if self.log_path:
            lines.append(f"  dbt log: {self.log_path}")
        return "\n".join(lines)


def _metadata_int(metadata: dict, name: str) -> int:
    value = metadata.get(name)
    return int(getattr(value, "value", value) or 0)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release_stale_cli_runs(instance: DagsterInstance) -> list[str]:
    """Mark earlier `jeugdhulp run`s whose process died as failed and free their pool slots.

    A run killed mid-way (power cut, OOM, Ctrl-C twice) keeps its claim on the single-writer
    "warehouse" pool; without this, the next run would wait for that slot forever.
    """
    released = []
    stale = instance.get_runs(
        filters=RunsFilter(
            statuses=[DagsterRunStatus.STARTED, DagsterRunStatus.STARTING],
            tags={"jeugdhulp/trigger": "cli"},
        )
    )
    for run in stale:
        pid = int(run.tags.get("jeugdhulp/pid", "0"))
        if pid and _process_alive(pid):
            continue
        instance.report_run_failed(
            run, "the process of this `jeugdhulp run` ended without finishing"
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        released.append(run.run_id)
    return released


def run_pipeline(settings: Settings, *, log_level: str = "WARNING") -> RunSummary:
    instance = DagsterInstance.get()
    for run_id in release_stale_cli_runs(instance):
        print(
            f"  released run {run_id[:8]}: it was interrupted earlier", file=sys.stderr, flush=True
        )
    job = defs.resolve_job_def("daily_refresh")
    started = time.monotonic()
    # dbt's own console lines go to a log file, so the terminal shows progress and the summary.
    log_path = settings.data_dir / "logs" / "dbt_last_run.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log_file, contextlib.redirect_stdout(log_file):
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"progress_logger": {"config": {"log_level": log_level}}}},
            tags={"jeugdhulp/trigger": "cli", "jeugdhulp/pid": str(os.getpid())},
        )
    summary = RunSummary(
        settings=settings,
        success=result.success,
        seconds=time.monotonic() - started,
        log_path=log_path,
    )
    counted_steps: set[str] = set()
    for event in result.all_events:
        if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            materialization = event.event_specific_data.materialization
            key = materialization.asset_key.path
            metadata = dict(materialization.metadata)
            if (
                event.step_key
                and event.step_key.startswith("ingest_")
                and event.step_key not in counted_steps
            ):
                counted_steps.add(event.step_key)
                summary.files_ingested += _metadata_int(metadata, "files_ingested")
                summary.files_duplicate += _metadata_int(metadata, "files_skipped_duplicate")
                summary.files_quarantined += _metadata_int(metadata, "files_quarantined")
            elif key == ["raw", "file_registry"]:
                summary.files_quarantined += _metadata_int(metadata, "stray_files_quarantined")
            elif key[0] == "marts":
                summary.marts_built.append(key[-1])
            elif key[0] == "published":
                summary.published = True
        elif event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            name = f"{'/'.join(evaluation.asset_key.path)}:{evaluation.check_name}"
            if evaluation.passed:
                summary.checks_passed.append(name)
            elif evaluation.severity.value == "WARN":
                summary.checks_warned.append(name)
            else:
                summary.checks_failed.append(name)
                if getattr(evaluation, "blocking", False):
                    summary.blocking_failed.append(name)
        elif event.event_type == DagsterEventType.STEP_FAILURE:
            summary.failed_steps.append(event.step_key or "?")
    summary.marts_built.sort()
    return summary

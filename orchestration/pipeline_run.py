"""`jeugdhulp run`: materialise the whole asset graph in-process and summarise what happened."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter

from jeugdhulp.processes import pid_alive
from jeugdhulp.quality.failing_files import summary_lines
from jeugdhulp.settings import Settings
from orchestration.definitions import defs
from orchestration.resources import run_config_for

# Signals: checks that flag something to act on but never withhold the figures. Known checks get
# a sentence; any other non-blocking failure is listed under its own name and verdict.
_SIGNAL_SENTENCES = {
    # check name: (metadata count, singular, plural)
    "late_invoicing": ("flagged_providers", "provider invoices late", "providers invoice late"),
    "incomplete_invoicing": (
        "flagged_providers",
        "provider invoices incompletely",
        "providers invoice incompletely",
    ),
    "providers_delivering": (
        "silent_providers",
        "provider with clients in care stopped invoicing",
        "providers with clients in care stopped invoicing",
    ),
}


@dataclass
class CheckVerdict:
    name: str  # schema/table:check
    description: str = ""
    metadata: dict = field(default_factory=dict)

    @property
    def check(self) -> str:
        return self.name.rsplit(":", 1)[-1]


@dataclass
class RunSummary:
    settings: Settings
    success: bool = False
    seconds: float = 0.0
    files_ingested: int = 0
    files_duplicate: int = 0
    files_quarantined: int = 0
    special_entries: int = 0  # symlinks, FIFOs, … in landing/: reported, never followed
    files_left: int = 0  # still arriving or changed while read: taken by the next run
    checks_passed: list[str] = field(default_factory=list)
    # failed, blocking (ERROR): what depends on the asset was not built or not published
    blocking: list[CheckVerdict] = field(default_factory=list)
    # failed, not blocking (WARN, or ERROR on a non-blocking check): act on it, figures published
    signals: list[CheckVerdict] = field(default_factory=list)
    marts_built: list[str] = field(default_factory=list)
    published: bool = False
    failed_steps: list[str] = field(default_factory=list)
    failure_reasons: dict[str, str] = field(default_factory=dict)  # step -> its root error
    log_path: Path | None = None

    @property
    def blocking_failed(self) -> list[str]:
        return [verdict.name for verdict in self.blocking]

    @property
    def checks_signalled(self) -> list[str]:
        return [verdict.name for verdict in self.signals]

    @property
    def ok(self) -> bool:
        return self.success and not self.blocking and not self.failed_steps

    def signal_headline(self) -> str:
        """One line: what the signals are about, e.g. '2 providers invoice late · 3 other'."""
        parts, others = [], 0
        for verdict in self.signals:
            known = _SIGNAL_SENTENCES.get(verdict.check)
            count = _metadata_int(verdict.metadata, known[0]) if known else 0
            if known and count:
                parts.append(f"{count} {known[1] if count == 1 else known[2]}")
            else:
                others += 1
        if others:
            parts.append(f"{others} other check{'s' if others != 1 else ''} to look at")
        return " · ".join(parts)

    def render(self) -> str:
        status = "OK" if self.ok else "FAILED"
        lines = [
            "",
            f"jeugdhulp run — as of {self.settings.as_of} — {status} in {self.seconds:.0f} s",
            f"  files:    {self.files_ingested} ingested, {self.files_quarantined} quarantined, "
            f"{self.files_duplicate} already known"
            + (f"  (reasons: {self.settings.quarantine_dir})" if self.files_quarantined else "")
            + (
                f"; {self.files_left} left for the next run (still arriving)"
                if self.files_left
                else ""
            )
            + (
                f"; {self.special_entries} links or special entries left untouched in landing/"
                if self.special_entries
                else ""
            ),
            f"  checks:   {len(self.checks_passed)} passed, {len(self.blocking)} blocking "
            f"failure{'s' if len(self.blocking) != 1 else ''}, {len(self.signals)} "
            f"signal{'s' if len(self.signals) != 1 else ''}",
        ]
        if self.blocking:
            lines.append("  blocking: what depends on these was not built or published")
            for verdict in self.blocking:
                lines.append(f"            ✗ {verdict.name}" + _detail(verdict))
                # the files whose rows fail it, and how to take one out (GX raw suites)
                files = verdict.metadata.get("failing_files")
                for line in summary_lines(getattr(files, "value", files)):
                    lines.append(f"              {line}")
        if self.signals:
            lines.append(f"  signals:  {self.signal_headline()}  (not blocking: published anyway)")
            for verdict in self.signals[:15]:
                lines.append(f"            ! {verdict.name}" + _detail(verdict))
            if len(self.signals) > 15:
                lines.append(f"            ! … and {len(self.signals) - 15} more")
        lines.append(
            f"  marts:    {len(self.marts_built)} built ({', '.join(self.marts_built) or 'none'})"
        )
        lines.append(f"  warehouse: {self.settings.warehouse_path}")
        if self.published:
            lines.append(
                f"  published: {self.settings.published_dir} (intern/: to the cent; openbaar/: "
                "with disclosure control)"
            )
        else:
            lines.append("  published: nothing (publishing did not run: see the failures above)")
        said: set[str] = set()
        for step in self.failed_steps:
            reason = self.failure_reasons.get(step, "")
            if reason and reason in said:
                reason = "(the same)"
            said.add(reason)
            lines.append(f"  failed step: {step}" + (f" — {reason}" if reason else ""))
        if self.log_path:
            lines.append(f"  dbt log: {self.log_path}")
        return "\n".join(lines)


def _detail(verdict: CheckVerdict) -> str:
    text = " ".join((verdict.description or "").split())
    return f" — {text[:140]}{'…' if len(text) > 140 else ''}" if text else ""


def _metadata_int(metadata: dict, name: str) -> int:
    value = metadata.get(name)
    return int(getattr(value, "value", value) or 0)


def _root_error(error) -> str:
    """'Type: message' of what the step raised (below Dagster's own wrapping errors)."""
    while (
        error is not None
        and (error.cls_name or "").startswith("Dagster")
        and getattr(error, "cause", None) is not None
    ):
        error = error.cause
    if error is None:
        return ""
    return " ".join((error.message or "").split())[:600]


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
        if pid and pid_alive(pid):
            continue
        instance.report_run_failed(
            run, "the process of this `jeugdhulp run` ended without finishing"
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        released.append(run.run_id)
    return released


def run_pipeline(
    settings: Settings,
    *,
    log_level: str = "WARNING",
    allow_development_key: bool = False,
    instance: DagsterInstance | None = None,
) -> RunSummary:
    """Run `daily_refresh` in this process with exactly `settings` (passed as run config)."""
    instance = instance or DagsterInstance.get()
    for run_id in release_stale_cli_runs(instance):
        print(
            f"  released run {run_id[:8]}: it was interrupted earlier", file=sys.stderr, flush=True
        )
    job = defs.resolve_job_def("daily_refresh")
    started = time.monotonic()
    run_config = run_config_for(settings, allow_development_key=allow_development_key)
    run_config["loggers"] = {"progress_logger": {"config": {"log_level": log_level}}}
    # dbt's own console lines go to a log file, so the terminal shows progress and the summary.
    log_path = settings.data_dir / "logs" / "dbt_last_run.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log_file, contextlib.redirect_stdout(log_file):
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config=run_config,
            tags={"jeugdhulp/trigger": "cli", "jeugdhulp/pid": str(os.getpid())},
        )
    summary = RunSummary(
        settings=settings,
        success=result.success,
        seconds=time.monotonic() - started,
        log_path=log_path,
    )
    counted_steps: set[str] = set()
    verdicts: dict[str, tuple] = {}  # a check evaluated twice counts once: its last verdict
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
                summary.special_entries += _metadata_int(metadata, "special_entries")
                summary.files_left += _metadata_int(metadata, "files_left")
            elif key == ["raw", "file_registry"]:
                summary.files_quarantined += _metadata_int(metadata, "stray_files_quarantined")
            elif key[0] == "marts":
                summary.marts_built.append(key[-1])
            elif key[0] == "published":
                summary.published = True
        elif event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            name = f"{'/'.join(evaluation.asset_key.path)}:{evaluation.check_name}"
            verdicts[name] = evaluation
        elif event.event_type == DagsterEventType.STEP_FAILURE:
            summary.failed_steps.append(event.step_key or "?")
            reason = _root_error(getattr(event.event_specific_data, "error", None))
            if reason:
                summary.failure_reasons[event.step_key or "?"] = reason
    for name in sorted(verdicts):
        evaluation = verdicts[name]
        if evaluation.passed:
            summary.checks_passed.append(name)
            continue
        verdict = CheckVerdict(
            name=name,
            description=evaluation.description or "",
            metadata=dict(evaluation.metadata or {}),
        )
        blocking = getattr(evaluation, "blocking", False) and evaluation.severity.value == "ERROR"
        (summary.blocking if blocking else summary.signals).append(verdict)
    summary.marts_built.sort()
    return summary

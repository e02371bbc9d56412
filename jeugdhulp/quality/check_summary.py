"""Sorts a run's asset-check evaluations into passed, warned and failed, for the run summary.

Works on anything shaped like Dagster's `AssetCheckEvaluation` (asset_key.path, check_name,
passed, severity.value, blocking), so this module needs no Dagster import.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class CheckSummary:
    """Check names as `schema/table:check`; a check evaluated twice counts once (its last verdict)."""

    passed: list[str] = field(default_factory=list)
    warned: list[str] = field(default_factory=list)  # failed with severity WARN
    failed: list[str] = field(default_factory=list)  # failed with severity ERROR
    blocking_failed: list[str] = field(default_factory=list)  # failed, ERROR, and blocking

    @property
    def blocked(self) -> bool:
        """True when a blocking check failed: Dagster skipped everything downstream of its asset."""
        return bool(self.blocking_failed)

    def line(self) -> str:
        return f"{len(self.passed)} passed, {len(self.warned)} warned, {len(self.failed)} failed"


def check_name(evaluation: Any) -> str:
    return f"{'/'.join(evaluation.asset_key.path)}:{evaluation.check_name}"


def summarise_check_results(evaluations: Iterable[Any]) -> CheckSummary:
    """Summarise `AssetCheckEvaluation`s, e.g. `result.get_asset_check_evaluations()` of a run."""
    latest: dict[str, Any] = {}
    for evaluation in evaluations:
        latest[check_name(evaluation)] = evaluation
    summary = CheckSummary()
    for name in sorted(latest):
        evaluation = latest[name]
        if evaluation.passed:
            summary.passed.append(name)
        elif getattr(evaluation.severity, "value", evaluation.severity) == "WARN":
            summary.warned.append(name)
        else:
            summary.failed.append(name)
            if getattr(evaluation, "blocking", False):
                summary.blocking_failed.append(name)
    return summary

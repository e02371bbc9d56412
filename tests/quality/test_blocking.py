"""Proof on the installed Dagster: a failed blocking check with severity ERROR stops downstream.

Mechanism: `blocking=True` on `@asset_check` (or on an `AssetCheckSpec` of a
`@multi_asset_check`). Dagster fails the check's step with DagsterAssetCheckFailedError and skips
every asset downstream of the checked asset. Severity WARN, or a non-blocking check, does not.
"""

from __future__ import annotations

import pytest
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    asset,
    asset_check,
    materialize,
    multi_asset_check,
)

UPSTREAM = AssetKey(["raw", "upstream"])
DOWNSTREAM = AssetKey(["published", "downstream"])


def _graph(severity: AssetCheckSeverity, *, blocking: bool, multi: bool):
    @asset(key=UPSTREAM)
    def upstream() -> None:
        return None

    @asset(key=DOWNSTREAM, deps=[UPSTREAM])
    def downstream() -> None:
        return None

    if multi:

        @multi_asset_check(
            specs=[AssetCheckSpec("toy", asset=UPSTREAM, blocking=blocking)], pool="warehouse"
        )
        def check():
            yield AssetCheckResult(
                asset_key=UPSTREAM, check_name="toy", passed=False, severity=severity
            )
    else:

        @asset_check(asset=UPSTREAM, name="toy", blocking=blocking, pool="warehouse")
        def check() -> AssetCheckResult:
            return AssetCheckResult(passed=False, severity=severity)

    return [upstream, downstream, check]


def _materialised(result) -> set[AssetKey]:
    return {event.asset_key for event in result.get_asset_materialization_events()}


@pytest.mark.parametrize("multi", [False, True], ids=["asset_check", "multi_asset_check"])
def test_blocking_error_check_stops_the_downstream_asset(multi):
    result = materialize(
        _graph(AssetCheckSeverity.ERROR, blocking=True, multi=multi), raise_on_error=False
    )
    assert not result.success
    assert _materialised(result) == {UPSTREAM}
    [evaluation] = result.get_asset_check_evaluations()
    assert (evaluation.passed, evaluation.severity, evaluation.blocking) == (
        False,
        AssetCheckSeverity.ERROR,
        True,
    )


@pytest.mark.parametrize(
    "severity,blocking",
    [(AssetCheckSeverity.WARN, True), (AssetCheckSeverity.ERROR, False)],
    ids=["blocking_warn", "non_blocking_error"],
)
@pytest.mark.parametrize("multi", [False, True], ids=["asset_check", "multi_asset_check"])
def test_warnings_and_non_blocking_checks_let_downstream_run(severity, blocking, multi):
    result = materialize(_graph(severity, blocking=blocking, multi=multi), raise_on_error=False)
    assert result.success
    assert _materialised(result) == {UPSTREAM, DOWNSTREAM}
    [evaluation] = result.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.severity == severity

"""One GX check step: validate raw suites from their watermarks, advance them, rebuild the Data Docs.

`run_suites_in_child` runs the step in a fresh (spawned) process through the standard library's
`ProcessPoolExecutor`, so the memory pandas, Arrow and GX take is returned to the system when the
step ends, before dbt runs; the report comes back pickled, without GX's own result objects.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import resource
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import duckdb

from jeugdhulp.processes import end_with_parent_process
from jeugdhulp.quality.data_docs import build_data_docs, load_saved_results, save_results, site_dir
from jeugdhulp.quality.results import SuiteResult
from jeugdhulp.quality.suites import SUITES_DIR, load_suite
from jeugdhulp.quality.validation import validate_definition
from jeugdhulp.quality.watermarks import read_watermarks, watermark_start, write_watermarks


@dataclass
class StepReport:
    """What one check step did: a result per suite, the watermarks after it, the docs."""

    results: list[SuiteResult]
    watermarks: dict[str, int]  # suite -> watermark after the step
    docs_path: Path | None = None
    docs_error: str | None = None
    peak_memory_mb: float | None = None  # of the process that validated
    watermark_error: str | None = None  # the watermarks could not be written (the verdicts stand)


def run_suites(
    settings,
    suite_names: Sequence[str],
    *,
    suites_dir: Path = SUITES_DIR,
    incremental: bool = True,
    batch_rows: int | None = None,
    docs: bool = True,
) -> StepReport:
    """Validate the suites (from their watermarks when `incremental`), advance the watermarks of
    those without a critical failure, and rebuild the Data Docs, in this process."""
    warehouse = settings.warehouse_path
    definitions = {name: load_suite(name, suites_dir) for name in suite_names}
    marks = read_watermarks(warehouse) if incremental else {}
    kept = {name: watermark_start(definition, marks) for name, definition in definitions.items()}
    results = [
        validate_definition(warehouse, definition, batch_rows=batch_rows, after_seq=kept[name])
        for name, definition in definitions.items()
    ]
    watermark_error = None
    try:
        moved = write_watermarks(warehouse, results, definitions)
    except duckdb.Error as exc:  # only costs work: the next run validates these rows again
        moved, watermark_error = {}, f"watermarks not advanced: {type(exc).__name__}: {exc}"
    after = {name: seq for name, seq in kept.items() if seq is not None} | moved
    report = StepReport(results=results, watermarks=after, watermark_error=watermark_error)
    if docs:
        # an incremental run without new rows keeps the page of the last rows validated
        fresh = [r for r in results if not r.nothing_new]
        index = site_dir(settings) / "index.html"
        try:
            if fresh or not index.exists():
                save_results(settings, fresh)
                index = build_data_docs(
                    settings, load_saved_results(settings, suites_dir), suites_dir=suites_dir
                )
            report.docs_path = index  # nothing new anywhere: the site stays as it is
        except Exception as exc:  # the checks' verdicts matter more than the docs page
            report.docs_error = f"{type(exc).__name__}: {exc}"
        report.results = _with_last_verdicts(settings, results, suites_dir)
    report.peak_memory_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return report


def _with_last_verdicts(settings, results: list, suites_dir: Path) -> list:
    """A suite that found no new rows keeps the verdict of the rows it validated last (saved with
    the Data Docs): a warning stays a warning on the quiet days after it, and the check reflects
    the data rather than only the day's new rows."""
    if not any(result.nothing_new for result in results):
        return results
    saved = {result.suite_name: result for result in load_saved_results(settings, suites_dir)}
    kept = []
    for result in results:
        last = saved.get(result.suite_name)
        if result.nothing_new and last is not None and not last.nothing_new:
            result = dataclasses.replace(last, carried_over=True)
        kept.append(result)
    return kept


class GXStepError(RuntimeError):
    """The child process that validates the suites failed; the message says how."""


def run_suites_in_child(
    settings,
    suite_names: Sequence[str],
    *,
    suites_dir: Path = SUITES_DIR,
    incremental: bool = True,
    batch_rows: int | None = None,
) -> StepReport:
    """`run_suites` in a fresh Python process, so its memory is returned when it ends (pandas, Arrow
    and GX keep what they took; the Dagster process would hold it while dbt runs next)."""
    context = multiprocessing.get_context("spawn")
    try:
        # the child ends with this process (jeugdhulp/processes.py): killed mid-step, it would
        # go on validating and writing watermarks into the warehouse outside the pool
        with ProcessPoolExecutor(
            max_workers=1, mp_context=context, initializer=end_with_parent_process
        ) as pool:
            future = pool.submit(
                _run_without_gx_objects,
                settings,
                list(suite_names),
                suites_dir=suites_dir,
                incremental=incremental,
                batch_rows=batch_rows,
            )
            return future.result()
    except BrokenProcessPool as exc:  # the child died (killed, out of memory) without an answer
        raise GXStepError(f"the Great Expectations process ended abruptly: {exc}") from exc
    except Exception as exc:
        raise GXStepError(
            f"the Great Expectations process failed: {type(exc).__name__}: {exc}"
        ) from exc


def _run_without_gx_objects(settings, suite_names, **options) -> StepReport:
    """`run_suites`, its results stripped of GX's own result (saved in the Data Docs already)."""
    report = run_suites(settings, suite_names, **options)
    report.results = [dataclasses.replace(r, gx_result=None) for r in report.results]
    return report

"""The compact console logger `jeugdhulp run` selects: one line per step, plus warnings."""

from __future__ import annotations

import logging
import sys
import time

from dagster import DagsterEventType, logger


@logger(config_schema={"log_level": str})
def progress_logger(init_context):
    """Console logger that shows one line per step (start, done, skipped) plus warnings."""
    level = getattr(logging, str(init_context.logger_config["log_level"]).upper(), logging.WARNING)
    log = logging.getLogger("jeugdhulp.run")
    log.propagate = False
    log.setLevel(logging.DEBUG)
    log.handlers = [_ProgressHandler(level)]
    return log


class _ProgressHandler(logging.Handler):
    def __init__(self, level: int) -> None:
        super().__init__(logging.DEBUG)
        self.threshold = level
        self.started: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        step = meta.get("step_key") or ""
        kind = getattr(event, "event_type", None)
        if kind == DagsterEventType.STEP_START:
            self.started[step] = time.monotonic()
            print(f"  ▶ {step}", file=sys.stderr, flush=True)
        elif kind == DagsterEventType.STEP_SUCCESS:
            seconds = time.monotonic() - self.started.get(step, time.monotonic())
            print(f"  ✓ {step} ({seconds:.1f} s)", file=sys.stderr, flush=True)
        elif kind == DagsterEventType.STEP_FAILURE:
            print(f"  ✗ {step} failed", file=sys.stderr, flush=True)
        elif kind == DagsterEventType.STEP_SKIPPED:
            print(
                f"  – {step} skipped (an upstream step or a blocking check failed)",
                file=sys.stderr,
                flush=True,
            )
        elif record.levelno >= self.threshold:
            print(
                f"  {record.levelname.lower()}: {record.getMessage()}", file=sys.stderr, flush=True
            )

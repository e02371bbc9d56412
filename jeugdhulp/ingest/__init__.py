"""Ingestion of the landing zone into the warehouse's raw schema (see runner.py for the guarantees)."""

from jeugdhulp.ingest.runner import (
    IngestReport,
    ingest_all,
    ingest_source,
    pending_files,
    quarantine_unknown,
)

__all__ = ["IngestReport", "ingest_all", "ingest_source", "pending_files", "quarantine_unknown"]

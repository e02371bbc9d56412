"""Dagster assets per pipeline stage: ingest, dbt, quality, publish."""

"""The landing sources: each folder of landing/ and the raw tables its files fill, declared once."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LandingSource:
    name: str  # the folder below landing/
    raw_tables: tuple[str, ...]  # the tables in schema raw its files land in
    description: str


# In ingestion order: reference data first, so a run's iJw files meet this run's code lists.
LANDING_SOURCES: tuple[LandingSource, ...] = (
    LandingSource(
        "reference",
        (
            "reference_providers",
            "reference_budget_ceilings",
            "reference_products",
            "reference_population",
            "reference_programme_budget",
        ),
        "regional reference data (CSV/XLSX): providers, budget ceilings, products, population, "
        "programme budget",
    ),
    LandingSource(
        "ijw",
        (
            "ijw_requests",
            "ijw_allocations",
            "ijw_starts",
            "ijw_stops",
            "ijw_invoice_lines",
            "ijw_rejected_lines",
        ),
        "iJw 3.2 messages (XML, one message per file)",
    ),
    LandingSource(
        "verantwoording",
        ("accountability",),
        "providers' annual accountability (CSV/XLSX)",
    ),
    LandingSource("pgb", ("pgb",), "SVB personal-budget spend (CSV/XLSX)"),
    LandingSource(
        "lokaal_team",
        ("local_team_registrations",),
        "the municipal team's own clients (CSV/XLSX, optional)",
    ),
    LandingSource(
        "beschikbaarheid",
        ("waiting_times",),
        "providers' monthly waiting-time deliveries (CSV/XLSX, optional)",
    ),
    LandingSource(
        "prognoses",
        ("provider_forecasts",),
        "providers' own year-end forecasts (CSV/XLSX, optional)",
    ),
)

SOURCES: tuple[str, ...] = tuple(source.name for source in LANDING_SOURCES)
SOURCE_TABLES: dict[str, tuple[str, ...]] = {s.name: s.raw_tables for s in LANDING_SOURCES}

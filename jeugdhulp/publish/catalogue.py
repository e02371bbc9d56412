"""What is published per mart: its columns, scope, small-cell suppression rules and Dutch labels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# A count of persons from 1 to 4 is suppressed; 0 is shown (it describes nobody).
MIN_PERSONS = 5

# Published name of the aggregate that replaces the record-level `marts.dq_findings`.
DQ_SUMMARY = "dq_findings_summary"

# Marts that never leave the warehouse in any form (record level, one row per client line).
NEVER_PUBLISHED = ("fct_invoice_lines",)


def is_forbidden_column(name: str) -> bool:
    """A column that could identify a person: the pseudonym or anything named after the BSN."""
    lowered = name.lower()
    return lowered == "client_key" or "bsn" in lowered


@dataclass(frozen=True)
class Cell:
    """A count of persons (or of records, at least one per person) and what is suppressed with it.

    The cell is suppressed when `count - offset` is 1 to 4: then `count` itself (unless
    `hide_count` is False) and every column in `with_columns` become NULL.
    """

    count: str
    with_columns: tuple[str, ...] = ()
    offset: int = 0
    hide_count: bool = True

    @property
    def suppressed_columns(self) -> tuple[str, ...]:
        return ((self.count,) if self.hide_count else ()) + self.with_columns


@dataclass(frozen=True)
class MartSpec:
    """How one mart is published.

    scope: "municipality" marts are split on `municipality_code`; "provider" marts (no
    municipality column) go to the region in full and to a municipality only for the providers
    that invoiced it (`mart_costs_monthly`).

    cells: rule 1, counts of persons and their amounts.
    amounts_by_population / population_keys: rule 2, for marts without a count of persons of
    their own: the amounts are suppressed unless mart_costs_monthly proves the row covers at least
    5 persons (the largest `clients` among the matching cost cells). `year` in the keys matches
    the year of `service_month`.
    """

    name: str
    scope: Literal["municipality", "provider"]
    columns: tuple[str, ...]
    grain: tuple[str, ...]
    cells: tuple[Cell, ...] = ()
    amounts_by_population: tuple[str, ...] = ()
    population_keys: tuple[str, ...] = ()
    title: str = ""

    @property
    def scope_column(self) -> str:
        return "municipality_code" if self.scope == "municipality" else "provider_agb"

    def required_columns(self) -> tuple[str, ...]:
        """Columns without which the mart cannot be split or suppressed safely."""
        needed = [self.scope_column, *(cell.count for cell in self.cells), *self.population_keys]
        return tuple(dict.fromkeys(needed))

    def person_count_columns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(cell.count for cell in self.cells if cell.offset == 0))


_KPI_VALUES = (
    "care_months",
    "avg_months_per_youth",
    "total_cost_eur",
    "avg_cost_per_youth_month",
    "intensity_hours_per_month",
    "total_cost_annualised_eur",
    "care_months_annualised",
)
_TIMELINESS_VALUES = (
    "amount_eur",
    "late_lines",
    "late_amount_eur",
    "late_share",
    "median_lag_days",
    "p90_lag_days",
)

MARTS: tuple[MartSpec, ...] = (
    MartSpec(
        name="mart_costs_monthly",
        title="Kosten per maand, aanbieder en product",
        scope="municipality",
        columns=(
            "municipality_code",
            "provider_agb",
            "product_category",
            "product_code",
            "segment",
            "service_month",
            "amount_eur",
            "volume",
            "clients",
        ),
        grain=("municipality_code", "provider_agb", "product_code", "service_month"),
        cells=(Cell("clients", ("amount_eur", "volume")),),
    ),
    MartSpec(
        name="mart_kpi_annual",
        title="Kerncijfers per jaar",
        scope="municipality",
        columns=(
            "municipality_code",
            "year",
            "unique_youths",
            "non_unique_youths",
            "care_months",
            "avg_months_per_youth",
            "total_cost_eur",
            "avg_cost_per_youth_month",
            "intensity_hours_per_month",
            "months_observed",
            "total_cost_annualised_eur",
            "care_months_annualised",
        ),
        grain=("municipality_code", "year"),
        cells=(
            Cell("unique_youths", ("non_unique_youths", *_KPI_VALUES)),
            Cell("non_unique_youths", ("unique_youths", *_KPI_VALUES)),
        ),
    ),
    MartSpec(
        name="mart_invoice_timeliness",
        title="Tijdigheid van declareren per aanbieder en maand",
        scope="provider",
        columns=("provider_agb", "service_month", "lines", *_TIMELINESS_VALUES),
        grain=("provider_agb", "service_month"),
        # Every person has at least one line, so 1 to 4 lines means 1 to 4 persons.
        # Late lines describe the provider's invoicing, not persons: the count stays, but the
        # amount of 1 to 4 late lines is hidden.
        cells=(
            Cell("lines", _TIMELINESS_VALUES),
            Cell("late_lines", ("late_amount_eur",), hide_count=False),
        ),
        amounts_by_population=("amount_eur", "late_amount_eur"),
        population_keys=("provider_agb", "service_month"),
    ),
    MartSpec(
        name="mart_invoicing_completeness",
        title="Volledigheid van declareren",
        scope="municipality",
        columns=(
            "provider_agb",
            "municipality_code",
            "service_month",
            "expected_care_months",
            "invoiced_care_months",
            "missing_care_months",
            "completeness_pct",
        ),
        grain=("municipality_code", "provider_agb", "service_month"),
        # An expected care month is one youth's allocation in that month: at least one per person.
        cells=(
            Cell(
                "expected_care_months",
                ("invoiced_care_months", "missing_care_months", "completeness_pct"),
            ),
        ),
    ),
    MartSpec(
        name="mart_budget_utilisation",
        title="Budgetbenutting per aanbieder",
        scope="provider",
        # provider_name and contract_type are not in the contract but describe the provider only
        columns=(
            "provider_agb",
            "year",
            "provider_name",
            "contract_type",
            "budget_ceiling_eur",
            "invoiced_eur",
            "forecast_eur",
            "utilisation_pct",
            "signal",
        ),
        grain=("provider_agb", "year"),
        amounts_by_population=("invoiced_eur", "forecast_eur", "utilisation_pct"),
        population_keys=("provider_agb", "year"),
    ),
    MartSpec(
        name="mart_throughput",
        title="Instroom, uitstroom en duur per halfjaar",
        scope="municipality",
        columns=(
            "municipality_code",
            "product_category",
            "half_year",
            "started",
            "started_repeat",
            "ended",
            "ended_by_plan",
            "running_at_end",
            "avg_duration_days_ended",
            "youths",
        ),
        grain=("municipality_code", "product_category", "half_year"),
        cells=(
            Cell(
                "youths",
                (
                    "started",
                    "started_repeat",
                    "ended",
                    "ended_by_plan",
                    "running_at_end",
                    "avg_duration_days_ended",
                ),
            ),
            Cell("started"),
            Cell("started_repeat"),
            Cell("ended", ("avg_duration_days_ended",)),
            Cell("ended_by_plan"),
            Cell("running_at_end"),
        ),
    ),
    MartSpec(
        name="mart_accountability_reconciliation",
        title="Productieverantwoording tegen declaraties",
        scope="municipality",
        columns=(
            "provider_agb",
            "municipality_code",
            "product_code",
            "year",
            "accountability_amount_eur",
            "invoiced_amount_eur",
            "difference_eur",
            "status",
            "delivered_on_time",
        ),
        grain=("municipality_code", "provider_agb", "product_code", "year"),
        amounts_by_population=(
            "accountability_amount_eur",
            "invoiced_amount_eur",
            "difference_eur",
        ),
        population_keys=("provider_agb", "municipality_code", "product_code", "year"),
    ),
    MartSpec(
        name="mart_settlement",
        title="Verrekening volgens verdeelsleutel T-2",
        scope="municipality",
        columns=(
            "municipality_code",
            "year",
            "actual_cost_eur",
            "key_share_pct",
            "key_based_cost_eur",
            "settlement_eur",
        ),
        grain=("municipality_code", "year"),
        amounts_by_population=("actual_cost_eur", "settlement_eur"),
        population_keys=("municipality_code", "year"),
    ),
    MartSpec(
        name="mart_cost_concentration",
        title="Kostenconcentratie (top-10 cliënten)",
        scope="municipality",
        columns=(
            "municipality_code",
            "year",
            "clients",
            "total_cost_eur",
            "top10_cost_eur",
            "top10_share_pct",
        ),
        grain=("municipality_code", "year"),
        cells=(
            Cell("clients", ("total_cost_eur", "top10_cost_eur", "top10_share_pct")),
            # total − top-10 is the cost of the other clients: hidden when they are 1 to 4.
            Cell("clients", ("top10_cost_eur", "top10_share_pct"), offset=10, hide_count=False),
        ),
    ),
    MartSpec(
        name="mart_referrers",
        title="Verwijzers",
        scope="municipality",
        columns=("municipality_code", "referrer_type", "year", "allocations", "youths", "cost_eur"),
        grain=("municipality_code", "year", "referrer_type"),
        cells=(
            Cell("youths", ("allocations", "cost_eur")),
            Cell("allocations", ("youths", "cost_eur")),
        ),
    ),
    MartSpec(
        name=DQ_SUMMARY,
        title="Datakwaliteit: bevindingen per regel",
        scope="municipality",
        columns=("municipality_code", "provider_agb", "rule_id", "severity", "findings"),
        grain=("municipality_code", "provider_agb", "rule_id", "severity"),
    ),
)

SPECS: dict[str, MartSpec] = {spec.name: spec for spec in MARTS}

# The warehouse table each published table comes from.
SOURCE_TABLE: dict[str, str] = {spec.name: spec.name for spec in MARTS} | {
    DQ_SUMMARY: "dq_findings"
}

# Columns dq_findings must have to be summarised (the rest is record-level detail, never published).
DQ_SOURCE_COLUMNS = ("municipality_code", "provider_agb", "rule_id", "severity")

# CSV headers for municipalities (Dutch); Parquet keeps the contract's English names.
DUTCH_LABELS: dict[str, str] = {
    "municipality_code": "Gemeentecode",
    "provider_agb": "AGB-code aanbieder",
    "product_category": "Productcategorie",
    "product_code": "Productcode",
    "segment": "Segment",
    "service_month": "Zorgmaand",
    "amount_eur": "Bedrag (€)",
    "volume": "Volume",
    "clients": "Aantal cliënten",
    "year": "Jaar",
    "unique_youths": "Unieke jeugdigen",
    "non_unique_youths": "Jeugdigen (niet uniek)",
    "care_months": "Zorgmaanden",
    "avg_months_per_youth": "Gem. zorgmaanden per jeugdige",
    "total_cost_eur": "Totale kosten (€)",
    "avg_cost_per_youth_month": "Gem. kosten per jeugdige per maand (€)",
    "intensity_hours_per_month": "Intensiteit (uren per maand)",
    "months_observed": "Maanden waargenomen",
    "total_cost_annualised_eur": "Totale kosten op jaarbasis (€)",
    "care_months_annualised": "Zorgmaanden op jaarbasis",
    "lines": "Declaratieregels",
    "late_lines": "Te late regels",
    "late_amount_eur": "Bedrag te laat (€)",
    "late_share": "Aandeel te laat",
    "median_lag_days": "Mediane vertraging (dagen)",
    "p90_lag_days": "Vertraging 90e percentiel (dagen)",
    "expected_care_months": "Verwachte zorgmaanden",
    "invoiced_care_months": "Gedeclareerde zorgmaanden",
    "missing_care_months": "Ontbrekende zorgmaanden",
    "completeness_pct": "Volledigheid (%)",
    "provider_name": "Naam aanbieder",
    "contract_type": "Contractvorm",
    "budget_ceiling_eur": "Budgetplafond (€)",
    "invoiced_eur": "Gedeclareerd (€)",
    "forecast_eur": "Prognose jaareinde (€)",
    "utilisation_pct": "Benutting (%)",
    "signal": "Signaal",
    "half_year": "Halfjaar",
    "started": "Gestart",
    "started_repeat": "Gestart, herhaald beroep",
    "ended": "Beëindigd",
    "ended_by_plan": "Beëindigd volgens plan",
    "running_at_end": "Lopend aan einde halfjaar",
    "avg_duration_days_ended": "Gem. duur beëindigd (dagen)",
    "youths": "Jeugdigen",
    "accountability_amount_eur": "Verantwoord bedrag (€)",
    "invoiced_amount_eur": "Gedeclareerd bedrag (€)",
    "difference_eur": "Verschil (€)",
    "status": "Status",
    "delivered_on_time": "Tijdig aangeleverd",
    "actual_cost_eur": "Werkelijke kosten (€)",
    "key_share_pct": "Verdeelsleutel T-2 (%)",
    "key_based_cost_eur": "Kosten volgens verdeelsleutel (€)",
    "settlement_eur": "Verrekening (€)",
    "top10_cost_eur": "Kosten top-10 cliënten (€)",
    "top10_share_pct": "Aandeel top-10 (%)",
    "referrer_type": "Verwijzer (COD327)",
    "allocations": "Toewijzingen",
    "cost_eur": "Kosten (€)",
    "rule_id": "Regel (retourcode)",
    "severity": "Ernst",
    "findings": "Aantal bevindingen",
}


def dutch_label(column: str) -> str:
    return DUTCH_LABELS.get(column, column)

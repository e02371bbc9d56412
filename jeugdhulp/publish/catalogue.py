"""What is published per mart: its columns, scope, counts of persons, margins and Dutch labels."""

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
class Shape:
    """A publication table with margins, as disclosure control and its audit see it.

    dims: (column, code of its total) per classifying column: a row whose dim holds the total
    code equals the sum of the rows with every other code, the other dims the same (amounts),
    and counts at least as many distinct persons as each of them and at most their sum.
    fixed: columns that split the table into independent tables (the year).
    link: the dims whose total rows, together, are the same cell in every table with the same
    link (a municipality's year total is one figure in each cost table).
    """

    dims: tuple[tuple[str, str], ...]
    fixed: tuple[str, ...] = ("year",)
    persons: str = "persons"
    amounts: tuple[str, ...] = ("amount_eur",)
    link: str = "costs"

    @property
    def dim_columns(self) -> tuple[str, ...]:
        return tuple(column for column, _ in self.dims)


@dataclass(frozen=True)
class MartSpec:
    """How one mart is published.

    scope: "municipality" marts are split on `municipality_code`; "provider" marts (no
    municipality column) go to the region in full and to a municipality only for the providers
    that invoiced it (`mart_costs_monthly`); "region" marts (the region's own figures, about no
    municipality, provider or person: the programme budget per segment) go to everyone in full.

    cells: rule 1, counts of persons and their amounts.
    amounts_by_population / population_keys: rule 2, for marts without a count of persons of
    their own: the amounts are suppressed unless mart_costs_monthly proves the row covers at least
    5 persons (the largest `clients` among the matching cost cells). `year` in the keys matches
    the year of `service_month`.
    Rules 1 to 3 are the old per-mart rules (docs/publishing.md); no code applies them any more
    (the module that did, suppression.py, is removed): the openbaar tier publishes the `shape`
    tables with jeugdhulp/publish/sdc.py, the intern tier the warehouse's figures as they are.
    `cells` and `population_keys` still name the columns a mart needs (required_columns).
    """

    name: str
    scope: Literal["municipality", "provider", "region"]
    columns: tuple[str, ...]
    grain: tuple[str, ...]
    cells: tuple[Cell, ...] = ()
    amounts_by_population: tuple[str, ...] = ()
    population_keys: tuple[str, ...] = ()
    title: str = ""
    # rule 3, complementary suppression (an old per-mart rule, no longer applied): row_sums =
    # (total, parts) whose parts add up to the total within a row; margin_groups /
    # margin_measures: the rows of one group together count the same persons as any other group's
    # total (mart_throughput gives every trajectory once per dimension), so per group the hidden
    # parts of a measure must add up to 0 or at least 5, else more parts are hidden.
    row_sums: tuple[tuple[str, tuple[str, ...]], ...] = ()
    margin_groups: tuple[str, ...] = ()
    margin_measures: tuple[str, ...] = ()
    # intern tier only (never in published/openbaar/, never in PostgreSQL schema openbaar)
    intern_only: bool = False
    # the warehouse schema the table is read from (publication models live in `publication`)
    schema: str = "marts"
    # a publication table (dbt_project/models/publication/) with margins: the openbaar tier
    # publishes only these, with primary and complementary suppression (jeugdhulp/publish/sdc.py)
    shape: Shape | None = None

    @property
    def openbaar(self) -> bool:
        return self.shape is not None and not self.intern_only

    @property
    def scope_column(self) -> str | None:
        """The column a reader's rows are chosen by (None: every reader gets every row)."""
        return {"municipality": "municipality_code", "provider": "provider_agb"}.get(self.scope)

    def required_columns(self) -> tuple[str, ...]:
        """Columns without which the mart cannot be split or suppressed safely."""
        scope = (self.scope_column,) if self.scope_column else ()
        needed = [*scope, *(cell.count for cell in self.cells), *self.population_keys]
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
    "forecast_cost_eur",
    "residential_days_per_month",
    "youths_per_1000",  # tells unique_youths with the population
)
# like for like: the observed months against the same months of the year before
_KPI_CHANGES = (
    "unique_youths_change_pct",
    "non_unique_youths_change_pct",
    "care_months_change_pct",
    "total_cost_change_pct",
    "avg_cost_per_youth_month_change_pct",
)
_KPI_OBSERVED = ("care_months_observed", "total_cost_observed_eur")
_KPI_PREVIOUS = ("previous_care_months_observed", "previous_total_cost_observed_eur")
_TIMELINESS_VALUES = (
    "amount_eur",
    "late_lines",
    "late_amount_eur",
    "late_share",
    "median_lag_days",
    "p90_lag_days",
)

# mart_product_norms: the figures of the year's care months (hidden with a small `clients`) and
# those comparing it with the year before (hidden with a small count in either year)
_NORM_CURRENT = (
    "amount_per_care_month_avg",
    "amount_per_care_month_stddev",
    "amount_per_care_month_p25",
    "amount_per_care_month_median",
    "amount_per_care_month_p75",
    "units_per_care_month_avg",
    "units_per_care_month_stddev",
    "units_per_care_month_p25",
    "units_per_care_month_median",
    "units_per_care_month_p75",
    "amount_index",
    "units_index",
    "amount_robust_z",
    "units_per_client",
)
_NORM_CHANGES = (
    "units_per_client_change_pct",
    "units_per_client_welch_t",
    "units_change_pct",
    "clients_change_pct",
    "clients_growth_z",
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
            "residential_days_per_month",
            "youths_per_1000",
            "months_observed",
            "total_cost_annualised_eur",
            "care_months_annualised",
            "forecast_cost_eur",
            "unique_youths_observed",
            "care_months_observed",
            "total_cost_observed_eur",
            "previous_unique_youths_observed",
            "previous_care_months_observed",
            "previous_total_cost_observed_eur",
            *_KPI_CHANGES,
        ),
        grain=("municipality_code", "year"),
        cells=(
            Cell(
                "unique_youths",
                ("non_unique_youths", *_KPI_VALUES, "unique_youths_observed", *_KPI_OBSERVED),
            ),
            Cell(
                "non_unique_youths",
                ("unique_youths", *_KPI_VALUES, "unique_youths_observed", *_KPI_OBSERVED),
            ),
            # each side of a comparison counted at its own grain (the observed months): a side
            # of 1 to 4 youths is hidden, and every change that would tell it
            Cell("unique_youths_observed", (*_KPI_OBSERVED, *_KPI_CHANGES)),
            Cell("previous_unique_youths_observed", (*_KPI_PREVIOUS, *_KPI_CHANGES)),
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
            "forecast_p10_eur",
            "forecast_p90_eur",
            "probability_over_ceiling",
            "utilisation_pct",
            "signal",
            "outside_ceilings",
            "ceiling_reached_on",
            "headroom_months",
        ),
        grain=("provider_agb", "year"),
        # the date, the headroom and the interval follow from the forecast: hidden with it
        amounts_by_population=(
            "invoiced_eur",
            "forecast_eur",
            "forecast_p10_eur",
            "forecast_p90_eur",
            "probability_over_ceiling",
            "utilisation_pct",
            "ceiling_reached_on",
            "headroom_months",
        ),
        population_keys=("provider_agb", "year"),
    ),
    MartSpec(
        name="mart_segment_budget",
        title="Programmabegroting per segment",
        scope="region",
        columns=(
            "segment",
            "year",
            "budget_eur",
            "invoiced_eur",
            "forecast_eur",
            "utilisation_pct",
            "signal",
        ),
        grain=("segment", "year"),
    ),
    MartSpec(
        name="mart_throughput",
        title="Instroom, uitstroom en duur per halfjaar",
        scope="municipality",
        columns=(
            "municipality_code",
            "dimension",
            "dimension_value",
            "dimension_label",
            "half_year",
            "started",
            "started_repeat",
            "ended",
            "ended_by_plan",
            "ended_premature",
            "ended_unknown",
            "transferred_out",
            "running_at_end",
            "is_complete_period",
            "avg_duration_days_ended",
            "youths",
        ),
        grain=("municipality_code", "dimension", "dimension_value", "half_year"),
        cells=(
            Cell(
                "youths",
                (
                    "started",
                    "started_repeat",
                    "ended",
                    "ended_by_plan",
                    "ended_premature",
                    "ended_unknown",
                    "transferred_out",
                    "running_at_end",
                    "avg_duration_days_ended",
                ),
            ),
            Cell("started"),
            Cell("started_repeat"),
            Cell("ended", ("avg_duration_days_ended",)),
            Cell("ended_by_plan"),
            Cell("ended_premature"),
            Cell("ended_unknown"),
            Cell("transferred_out"),
            Cell("running_at_end"),
        ),
        row_sums=(("ended", ("ended_by_plan", "ended_premature", "ended_unknown")),),
        margin_groups=("municipality_code", "half_year", "dimension"),
        margin_measures=(
            "started",
            "started_repeat",
            "ended",
            "ended_by_plan",
            "ended_premature",
            "ended_unknown",
            "transferred_out",
            "running_at_end",
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
            "key_share_pct",
            "contribution_eur",
            "regional_budget_eur",
            "regional_actual_eur",
            "settlement_eur",
            "forecast_settlement_eur",
            "actual_cost_eur",
            "key_based_cost_eur",
            "own_vs_key_eur",
        ),
        grain=("municipality_code", "year"),
        # the settlement is the key times the region's over- or underspend: about no person; the
        # municipality's own cost (and own − key × regional) is hidden below 5 persons
        amounts_by_population=("actual_cost_eur", "own_vs_key_eur"),
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
        name="mart_local_team",
        title="Lokaal team en specialistische jeugdhulp",
        scope="municipality",
        columns=(
            "municipality_code",
            "year",
            "youths_team_only",
            "youths_team_then_specialist",
            "median_days_team_to_specialist",
            "youths_specialist_without_team",
            "youths_total",
            "team_share_pct",
        ),
        grain=("municipality_code", "year"),
        cells=(
            Cell("youths_total", ("team_share_pct",)),
            # the share is youths_team_only / youths_total: hidden with either
            Cell("youths_team_only", ("team_share_pct",)),
            Cell("youths_team_then_specialist", ("median_days_team_to_specialist",)),
            Cell("youths_specialist_without_team"),
        ),
    ),
    MartSpec(
        name="mart_waiting_times",
        title="Wachttijden per aanbieder (Beschikbaarheidswijzer)",
        scope="provider",
        columns=(
            "provider_agb",
            "product_category",
            "report_month",
            "delivered",
            "waiting_weeks",
            "waiting_count",
            "capacity_open",
            "region_median_waiting_weeks",
            "near_ceiling_and_growing",
        ),
        grain=("provider_agb", "product_category", "report_month"),
        cells=(Cell("waiting_count"),),
    ),
    MartSpec(
        name="mart_residence_signals",
        title="Signalen woonplaatsbeginsel",
        scope="municipality",
        columns=(
            "municipality_code",
            "month",
            "months_billed_to_two",
            "overlapping_allocations",
            "invoice_other_than_allocation",
            "move_with_running_allocation",
        ),
        grain=("municipality_code", "month"),
        cells=(
            Cell("months_billed_to_two"),
            Cell("overlapping_allocations"),
            Cell("invoice_other_than_allocation"),
            Cell("move_with_running_allocation"),
        ),
    ),
    MartSpec(
        name="rpt_costs_provider_year",
        title="Kosten per aanbieder en jaar (met totalen)",
        scope="municipality",
        schema="publication",
        columns=(
            "municipality_code",
            "municipality_name",
            "provider_agb",
            "provider_name",
            "year",
            "persons",
            "amount_eur",
        ),
        grain=("municipality_code", "provider_agb", "year"),
        shape=Shape(dims=(("municipality_code", "regio"), ("provider_agb", "totaal"))),
    ),
    MartSpec(
        name="rpt_costs_segment_month",
        title="Kosten per segment en maand (met totalen)",
        scope="municipality",
        schema="publication",
        columns=(
            "municipality_code",
            "municipality_name",
            "segment",
            "segment_name",
            "year",
            "month",
            "month_name",
            "persons",
            "amount_eur",
        ),
        grain=("municipality_code", "year", "segment", "month"),
        shape=Shape(
            dims=(("municipality_code", "regio"), ("segment", "totaal"), ("month", "jaar"))
        ),
    ),
    MartSpec(
        name="rpt_costs_product_year",
        title="Kosten per productcategorie en jaar (met totalen)",
        scope="municipality",
        schema="publication",
        columns=(
            "municipality_code",
            "municipality_name",
            "product_category",
            "product_category_name",
            "year",
            "persons",
            "amount_eur",
        ),
        grain=("municipality_code", "product_category", "year"),
        shape=Shape(dims=(("municipality_code", "regio"), ("product_category", "totaal"))),
    ),
    # the report's monthly costs and budget view (docs/publishing.md): the figures of the intern
    # report as files beside it. 'regio' rows are the region (the shape only marks that margin:
    # intern only, never suppressed or published openbaar)
    MartSpec(
        name="rpt_report_monthly",
        title="Kosten per maand met cumulatief en verwachte eindstand (rapport)",
        scope="municipality",
        schema="publication",
        columns=(
            "municipality_code",
            "municipality_name",
            "year",
            "month",
            "month_name",
            "service_month",
            "amount_eur",
            "persons",
            "cumulative_eur",
            "is_still_coming_in",
            "expected_final_eur",
        ),
        grain=("municipality_code", "year", "month"),
        shape=Shape(dims=(("municipality_code", "regio"),), fixed=("year", "month")),
        intern_only=True,
    ),
    MartSpec(
        name="rpt_report_budget",
        title="Budget, kosten en jaarprognose per jaar (rapport)",
        scope="municipality",
        schema="publication",
        columns=(
            "municipality_code",
            "municipality_name",
            "year",
            "is_report_year",
            "persons",
            "actual_eur",
            "ceilings_eur",
            "key_share_pct",
            "ceiling_budget_eur",
            "budget_status",
            "forecast_eur",
            "forecast_method",
            "providers_without_forecast",
            "months_observed",
            "utilisation_pct",
            "signal",
        ),
        grain=("municipality_code", "year"),
        shape=Shape(dims=(("municipality_code", "regio"),), amounts=("actual_eur",)),
        intern_only=True,
    ),
    MartSpec(
        name="rpt_report_kpi",
        title="Kerncijfers per jaar, de regio opgeteld (rapport)",
        scope="municipality",
        schema="publication",
        columns=(
            "municipality_code",
            "municipality_name",
            "year",
            "months_observed",
            "unique_youths",
            "non_unique_youths",
            "care_months",
            "care_months_annualised",
            "total_cost_eur",
            "total_cost_annualised_eur",
            "forecast_cost_eur",
            "avg_months_per_youth",
            "avg_months_per_youth_annualised",
            "avg_cost_per_youth_month",
            "intensity_hours_per_month",
            *_KPI_CHANGES,
            "municipalities_left_out",
        ),
        grain=("municipality_code", "year"),
        shape=Shape(
            dims=(("municipality_code", "regio"),),
            persons="unique_youths",
            amounts=("total_cost_eur",),
        ),
        intern_only=True,
    ),
    MartSpec(
        name="rpt_report_lateness",
        title="Te laat gedeclareerde regels per aanbieder en jaar (rapport)",
        scope="municipality",
        schema="publication",
        columns=(
            "municipality_code",
            "provider_agb",
            "provider_name",
            "year",
            "lines",
            "late_lines",
            "late_pct",
        ),
        grain=("municipality_code", "provider_agb", "year"),
        shape=Shape(
            dims=(("municipality_code", "regio"), ("provider_agb", "totaal")),
            persons="lines",
            amounts=("late_lines",),
        ),
        intern_only=True,
    ),
    MartSpec(
        name="rpt_report_accountability",
        title="Productieverantwoording tegen declaraties per aanbieder en jaar (rapport)",
        scope="municipality",
        schema="publication",
        columns=(
            "municipality_code",
            "provider_agb",
            "provider_name",
            "year",
            "accountability_amount_eur",
            "invoiced_amount_eur",
            "difference_eur",
            "absolute_difference_eur",
            "products",
            "products_akkoord",
            "products_verschil",
            "products_geen_verantwoording",
            "products_geen_declaraties",
            "status",
            "delivered_on_time",
        ),
        grain=("municipality_code", "provider_agb", "year"),
        shape=Shape(
            dims=(("municipality_code", "regio"), ("provider_agb", "totaal")),
            persons="products_akkoord",
            amounts=("invoiced_amount_eur",),
        ),
        intern_only=True,
    ),
    MartSpec(
        name="rpt_report_completeness",
        title="Volledigheid van de declaraties per aanbieder en jaar (rapport)",
        scope="municipality",
        schema="publication",
        columns=(
            "municipality_code",
            "provider_agb",
            "provider_name",
            "year",
            "expected_care_months",
            "invoiced_care_months",
            "missing_care_months",
            "invoiced_pct",
        ),
        grain=("municipality_code", "provider_agb", "year"),
        shape=Shape(
            dims=(("municipality_code", "regio"), ("provider_agb", "totaal")),
            persons="expected_care_months",
            amounts=("invoiced_care_months", "missing_care_months"),
        ),
        intern_only=True,
    ),
    MartSpec(
        name="rpt_report_dq",
        title="Datakwaliteit: bevindingen per regel (rapport)",
        scope="municipality",
        schema="publication",
        columns=("municipality_code", "rule_id", "severity", "findings", "providers"),
        grain=("municipality_code", "rule_id", "severity"),
        shape=Shape(
            dims=(("municipality_code", "regio"),), fixed=(), persons="findings", amounts=()
        ),
        intern_only=True,
    ),
    MartSpec(
        name="rpt_report_referrers",
        title="Verwijzers per jaar, de regio opgeteld (rapport)",
        scope="municipality",
        schema="publication",
        columns=(
            "municipality_code",
            "year",
            "referrer_type",
            "referrer_description",
            "allocations",
            "youths",
            "cost_eur",
        ),
        grain=("municipality_code", "year", "referrer_type"),
        shape=Shape(
            dims=(("municipality_code", "regio"),), persons="youths", amounts=("cost_eur",)
        ),
        intern_only=True,
    ),
    MartSpec(
        name="rpt_report_throughput",
        title="Doorstroom per halfjaar en hulpvorm, met totalen (rapport)",
        scope="municipality",
        schema="publication",
        columns=(
            "municipality_code",
            "half_year",
            "hulpvorm",
            "hulpvorm_label",
            "youths",
            "started",
            "started_repeat",
            "ended",
            "ended_by_plan",
            "ended_premature",
            "running_at_end",
            "avg_duration_days_ended",
            "is_complete_period",
        ),
        grain=("municipality_code", "half_year", "hulpvorm"),
        shape=Shape(
            dims=(("municipality_code", "regio"), ("hulpvorm", "totaal")),
            fixed=("half_year",),
            persons="youths",
            amounts=(),
        ),
        intern_only=True,
    ),
    MartSpec(
        name=DQ_SUMMARY,
        title="Datakwaliteit: bevindingen per regel",
        scope="municipality",
        schema="publication",  # dbt: models/publication/dq_findings_summary.sql
        columns=("municipality_code", "provider_agb", "rule_id", "severity", "findings"),
        grain=("municipality_code", "provider_agb", "rule_id", "severity"),
    ),
    # issue 17: zorg in natura and PGB, clients per dimension, youths unknown to the municipality
    MartSpec(
        name="mart_costs_by_financing",
        title="Kosten en cliënten per financieringsvorm (ZIN/PGB), categorie en maand",
        scope="municipality",
        columns=(
            "municipality_code",
            "financing",
            "product_category",
            "product_category_description",
            "service_month",
            "amount_eur",
            "clients",
            "care_months",
        ),
        grain=("municipality_code", "financing", "product_category", "service_month"),
        cells=(Cell("clients", ("amount_eur", "care_months")),),
        # the categories of a month add up to the month's ZIN (mart_costs_monthly) or PGB cost
        margin_groups=("municipality_code", "financing", "service_month"),
        margin_measures=("clients",),
    ),
    MartSpec(
        name="mart_clients_by_dimension",
        title="Cliënten en kosten per jaar: per aanbieder, segment, categorie, product en ZIN/PGB",
        scope="municipality",
        columns=(
            "municipality_code",
            "year",
            "dimension",
            "dimension_value",
            "dimension_label",
            "clients",
            "care_months",
            "amount_eur",
            "amount_per_client_eur",
            "clients_per_1000_youths",
            "youths_0_17",
        ),
        grain=("municipality_code", "year", "dimension", "dimension_value"),
        cells=(
            Cell(
                "clients",
                ("care_months", "amount_eur", "amount_per_client_eur", "clients_per_1000_youths"),
            ),
        ),
        # a dimension's values add up to the total's amount (provider, segment, product: ZIN's)
        margin_groups=("municipality_code", "year", "dimension"),
        margin_measures=("clients",),
    ),
    MartSpec(
        name="mart_youths_unknown_to_municipality",
        title="Jeugdigen die de gemeente niet kent (alleen niet-gemeentelijke verwijzers)",
        scope="municipality",
        columns=(
            "municipality_code",
            "year",
            "youths",
            "youths_unknown_to_municipality",
            "youths_known_to_municipality",
            "cost_unknown_to_municipality_eur",
        ),
        grain=("municipality_code", "year"),
        cells=(
            Cell(
                "youths",
                (
                    "youths_unknown_to_municipality",
                    "youths_known_to_municipality",
                    "cost_unknown_to_municipality_eur",
                ),
            ),
            Cell("youths_unknown_to_municipality", ("cost_unknown_to_municipality_eur",)),
            # known = youths - unknown: a small complement hides the unknown count with it
            Cell(
                "youths_known_to_municipality",
                ("youths_unknown_to_municipality", "cost_unknown_to_municipality_eur"),
            ),
        ),
    ),
    # issue 17: the purchasing office's analyses (docs/purchasing_marts.md)
    MartSpec(
        name="mart_cost_change",
        title="Kostenverandering per categorie: volume-, intensiteits- en prijseffect",
        scope="municipality",
        columns=(
            "municipality_code",
            "product_category",
            "product_category_description",
            "year",
            "months_compared",
            "cost_eur",
            "previous_cost_eur",
            "clients",
            "previous_clients",
            "cost_change_eur",
            "volume_effect_eur",
            "intensity_effect_eur",
            "price_effect_eur",
        ),
        grain=("municipality_code", "product_category", "year"),
        cells=(
            Cell("clients", ("cost_eur", "cost_change_eur", "volume_effect_eur")),
            Cell("previous_clients", ("previous_cost_eur", "cost_change_eur")),
        ),
    ),
    # the top-10 case view: case level, so intern only (contract §4: no case-level table openbaar)
    MartSpec(
        name="mart_top_clients",
        title="Top-10 cliënten naar kosten (casussleutel per gemeente)",
        scope="municipality",
        columns=(
            "municipality_code",
            "year",
            "rank",
            "case_key",
            "amount_eur",
            "providers",
            "products",
            "months_in_care",
            "product_codes",
        ),
        grain=("municipality_code", "year", "rank"),
        intern_only=True,
    ),
    # the purchasing office's norms per product × year (level 'product', provider_agb NULL) and
    # each provider against them (level 'provider'). Provider scope: a municipality gets the rows
    # of the providers that invoiced it (each carries the product's norm); the product rows
    # (provider_agb NULL, over all providers) stay in the region set. No publication model:
    # intern tier only.
    MartSpec(
        name="mart_product_norms",
        title="Productnormen: bedrag en eenheden per zorgmaand, uitschieters en groei",
        scope="provider",
        columns=(
            "level",
            "product_code",
            "product_category",
            "year",
            "provider_agb",
            "months_compared",
            "is_complete_year",
            "clients",
            "care_months",
            "amount_eur",
            "units",
            *_NORM_CURRENT,
            "norm_amount_per_care_month",
            "providers_compared",
            "provider_median_amount_per_care_month",
            "outlier_rule_applies",
            "is_outlier",
            "previous_clients",
            "previous_units_per_client",
            "previous_units",
            *_NORM_CHANGES,
            "is_significant_rise",
            "is_significant_volume_growth",
        ),
        grain=("level", "product_code", "year", "provider_agb"),
        cells=(
            Cell("clients", ("care_months", "amount_eur", "units", *_NORM_CURRENT, *_NORM_CHANGES)),
            Cell(
                "previous_clients", ("previous_units_per_client", "previous_units", *_NORM_CHANGES)
            ),
        ),
        # the product row's amount is the sum of its providers': per product × year the hidden
        # providers must count 0 or at least 5 clients, else more are hidden
        margin_groups=("product_code", "year"),
        margin_measures=("clients",),
    ),
)

SPECS: dict[str, MartSpec] = {spec.name: spec for spec in MARTS}

# The Dutch name beside every coded column of a published table (issue 14): coded column →
# (kind in publication.rpt_labels, name column). The publisher adds the name column right after
# the code (jeugdhulp/publish/warehouse.py), one concept under one column name, as the rpt_*
# models name it. The names come from dbt (dbt_project/models/publication/rpt_labels.sql).
LABELS_RELATION = ("publication", "rpt_labels")
LABELLED: dict[str, tuple[str, str]] = {
    "municipality_code": ("municipality", "municipality_name"),
    "provider_agb": ("provider", "provider_name"),
    "product_category": ("product_category", "product_category_name"),
    "product_code": ("product", "product_name"),
    "segment": ("segment", "segment_name"),
    "referrer_type": ("referrer_type", "referrer_description"),
}
# a name a mart already carries under another column: then no second name is added
NAME_ALIASES: dict[str, tuple[str, ...]] = {
    "product_category": ("product_category_description",),
}


def name_columns_to_add(columns: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    """Per coded column of `columns` without a name column: (kind, name column) to add."""
    added: dict[str, tuple[str, str]] = {}
    for code, (kind, name) in LABELLED.items():
        if code not in columns:
            continue
        if name in columns or any(alias in columns for alias in NAME_ALIASES.get(code, ())):
            continue
        added[code] = (kind, name)
    return added


def with_name_columns(columns: tuple[str, ...]) -> tuple[str, ...]:
    """`columns` with each added name column right after its code."""
    added = name_columns_to_add(columns)
    result: list[str] = []
    for column in columns:
        result.append(column)
        if column in added:
            result.append(added[column][1])
    return tuple(result)


# CSV headers for municipalities (Dutch); Parquet keeps the contract's English names.
DUTCH_LABELS: dict[str, str] = {
    "municipality_code": "Gemeentecode",
    "municipality_name": "Gemeente",
    "persons": "Aantal personen (uniek)",
    "segment_name": "Segment (naam)",
    "month_name": "Maandnaam",
    "product_category_name": "Productcategorie (naam)",
    "suppressed": "Geheimhouding",
    "provider_agb": "AGB-code aanbieder",
    "product_category": "Productcategorie",
    "product_code": "Productcode",
    "product_name": "Product (naam)",
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
    "forecast_cost_eur": "Jaarprognose kosten (€)",
    "unique_youths_observed": "Unieke jeugdigen, waargenomen maanden",
    "care_months_observed": "Zorgmaanden, waargenomen maanden",
    "total_cost_observed_eur": "Kosten waargenomen maanden (€)",
    "previous_unique_youths_observed": "Unieke jeugdigen, dezelfde maanden vorig jaar",
    "previous_care_months_observed": "Zorgmaanden, dezelfde maanden vorig jaar",
    "previous_total_cost_observed_eur": "Kosten dezelfde maanden vorig jaar (€)",
    "unique_youths_change_pct": "Verandering unieke jeugdigen (%)",
    "non_unique_youths_change_pct": "Verandering jeugdigen niet uniek (%)",
    "care_months_change_pct": "Verandering zorgmaanden (%)",
    "total_cost_change_pct": "Verandering kosten (%)",
    "avg_cost_per_youth_month_change_pct": "Verandering kosten per zorgmaand (%)",
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
    "forecast_p10_eur": "Prognose: ondergrens P10 (€)",
    "forecast_p90_eur": "Prognose: bovengrens P90 (€)",
    "probability_over_ceiling": "Kans op overschrijding plafond (0–1)",
    "utilisation_pct": "Benutting (%)",
    "signal": "Signaal",
    "half_year": "Halfjaar",
    "started": "Gestart",
    "started_repeat": "Gestart, herhaald beroep",
    "ended": "Beëindigd",
    "ended_by_plan": "Beëindigd volgens plan",
    "ended_premature": "Beëindigd, voortijdig",
    "ended_unknown": "Beëindigd, reden onbekend",
    "transferred_out": "Doorstroom (binnen 30 dagen ander traject)",
    "is_complete_period": "Halfjaar compleet",
    "dimension": "Indeling",
    "dimension_value": "Code",
    "dimension_label": "Omschrijving",
    "running_at_end": "Lopend aan einde halfjaar",
    "avg_duration_days_ended": "Gem. duur beëindigd (dagen)",
    "youths": "Jeugdigen",
    "accountability_amount_eur": "Verantwoord bedrag (€)",
    "invoiced_amount_eur": "Gedeclareerd bedrag (€)",
    "difference_eur": "Verschil (€)",
    "status": "Status",
    "delivered_on_time": "Tijdig aangeleverd",
    "absolute_difference_eur": "Absoluut verschil (€)",
    "products_akkoord": "Producten akkoord",
    "products_verschil": "Producten met verschil",
    "products_geen_verantwoording": "Producten zonder verantwoording",
    "products_geen_declaraties": "Producten zonder declaraties",
    "actual_cost_eur": "Werkelijke kosten (€)",
    "key_share_pct": "Verdeelsleutel T-2 (%)",
    "is_report_year": "Rapportjaar",
    "actual_eur": "Kosten tot nu toe (€)",
    "ceilings_eur": "Budgetplafonds regio (€)",
    "ceiling_budget_eur": "Budget uit plafonds (€)",
    "budget_status": "Budgetstatus",
    "forecast_method": "Prognosemethode",
    "providers_without_forecast": "Aanbieders zonder prognose",
    "cumulative_eur": "Cumulatief (€)",
    "is_still_coming_in": "Declaraties komen nog binnen",
    "expected_final_eur": "Verwachte eindstand (€)",
    "avg_months_per_youth_annualised": "Gem. zorgmaanden per jeugdige (jaarbasis)",
    "municipalities_left_out": "Gemeenten niet vergeleken",
    "late_pct": "Te laat (%)",
    "invoiced_pct": "Gedeclareerd (%)",
    "referrer_description": "Verwijzer (omschrijving)",
    "hulpvorm": "Hulpvorm",
    "hulpvorm_label": "Hulpvorm (naam)",
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
    "outside_ceilings": "Route buiten de plafonds",
    "ceiling_reached_on": "Plafond bereikt op (prognose)",
    "headroom_months": "Ruimte tot plafond (maanden)",
    "budget_eur": "Programmabegroting (€)",
    "contribution_eur": "Bijdrage volgens verdeelsleutel (€)",
    "regional_budget_eur": "Programmabegroting regio (€)",
    "regional_actual_eur": "Werkelijke kosten regio (€)",
    "forecast_settlement_eur": "Verrekening op de prognose (€)",
    "own_vs_key_eur": "Eigen kosten − aandeel volgens sleutel (€)",
    "youths_team_only": "Jeugdigen alleen lokaal team",
    "youths_team_then_specialist": "Jeugdigen lokaal team, daarna specialistisch",
    "median_days_team_to_specialist": "Mediane dagen team tot specialistisch",
    "youths_specialist_without_team": "Jeugdigen specialistisch zonder lokaal team",
    "youths_total": "Jeugdigen totaal",
    "team_share_pct": "Aandeel zelf doen (%)",
    "report_month": "Peilmaand",
    "delivered": "Aangeleverd",
    "waiting_weeks": "Wachttijd (weken)",
    "waiting_count": "Aantal wachtenden",
    "capacity_open": "Capaciteit beschikbaar",
    "region_median_waiting_weeks": "Mediane wachttijd regio (weken)",
    "near_ceiling_and_growing": "Bijna aan plafond en wachtlijst groeit",
    "month": "Maand",
    "months_billed_to_two": "Cliënten met zorgmaand bij twee gemeenten gedeclareerd",
    "overlapping_allocations": "Cliënten met overlappende toewijzingen in twee gemeenten",
    "invoice_other_than_allocation": "Cliënten gedeclareerd bij andere gemeente dan toewijzing",
    "move_with_running_allocation": "Cliënten verhuisd met doorlopende oude toewijzing",
    "residential_days_per_month": "Verblijf (etmalen per zorgmaand)",
    "youths_per_1000": "Unieke jeugdigen per 1.000 jeugdigen 0-17",
    "financing": "Financieringsvorm (ZIN/PGB)",
    "product_category_description": "Productcategorie (omschrijving)",
    "amount_per_client_eur": "Bedrag per cliënt (€)",
    "clients_per_1000_youths": "Cliënten per 1.000 jeugdigen 0-17",
    "youths_0_17": "Jeugdigen 0-17 (inwoners)",
    "youths_unknown_to_municipality": "Jeugdigen onbekend bij de gemeente",
    "cost_unknown_to_municipality_eur": "Kosten jeugdigen onbekend bij de gemeente (€)",
    "youths_known_to_municipality": "Jeugdigen bekend bij de gemeente",
    # issue 17: purchasing office (mart_cost_change, mart_top_clients)
    "months_compared": "Vergeleken maanden (1 t/m)",
    "previous_cost_eur": "Kosten vorig jaar, zelfde maanden (€)",
    "previous_clients": "Aantal cliënten vorig jaar, zelfde maanden",
    "cost_change_eur": "Kostenverandering (€)",
    "volume_effect_eur": "Volume-effect: aantal cliënten (€)",
    "intensity_effect_eur": "Intensiteitseffect: eenheden per cliënt (€)",
    "price_effect_eur": "Prijseffect: tarief (€)",
    "rank": "Rang",
    "case_key": "Casussleutel",
    "providers": "Aantal aanbieders",
    "products": "Aantal producten",
    "months_in_care": "Maanden in zorg",
    "product_codes": "Productcodes",
    # issue 17: purchasing office (mart_product_norms)
    "level": "Niveau (product of aanbieder)",
    "is_complete_year": "Volledig jaar",
    "units": "Eenheden",
    "amount_per_care_month_avg": "Gem. bedrag per zorgmaand (€)",
    "amount_per_care_month_stddev": "Standaardafwijking bedrag per zorgmaand (€)",
    "amount_per_care_month_p25": "Bedrag per zorgmaand, 25e percentiel (€)",
    "amount_per_care_month_median": "Mediaan bedrag per zorgmaand (€)",
    "amount_per_care_month_p75": "Bedrag per zorgmaand, 75e percentiel (€)",
    "units_per_care_month_avg": "Gem. eenheden per zorgmaand",
    "units_per_care_month_stddev": "Standaardafwijking eenheden per zorgmaand",
    "units_per_care_month_p25": "Eenheden per zorgmaand, 25e percentiel",
    "units_per_care_month_median": "Mediaan eenheden per zorgmaand",
    "units_per_care_month_p75": "Eenheden per zorgmaand, 75e percentiel",
    "norm_amount_per_care_month": "Norm: gem. bedrag per zorgmaand product (€)",
    "amount_index": "Index bedrag t.o.v. norm (100 = norm)",
    "units_index": "Index eenheden t.o.v. norm (100 = norm)",
    "providers_compared": "Aanbieders vergeleken (voldoende omvang)",
    "provider_median_amount_per_care_month": "Mediaan gem. bedrag per zorgmaand aanbieders (€)",
    "amount_robust_z": "Robuuste z-score bedrag",
    "outlier_rule_applies": "Uitschieterregel van toepassing",
    "is_outlier": "Uitschieter (ver boven de norm)",
    "units_per_client": "Eenheden per cliënt",
    "previous_units_per_client": "Eenheden per cliënt vorig jaar, zelfde maanden",
    "previous_units": "Eenheden vorig jaar, zelfde maanden",
    "units_per_client_change_pct": "Verandering eenheden per cliënt (%)",
    "units_per_client_welch_t": "Welch t eenheden per cliënt",
    "is_significant_rise": "Significante stijging eenheden per cliënt",
    "units_change_pct": "Verandering eenheden (%)",
    "clients_change_pct": "Verandering aantal cliënten (%)",
    "clients_growth_z": "Toetsgrootheid groei cliënten (z)",
    "is_significant_volume_growth": "Significante volumegroei",
}


def dutch_label(column: str) -> str:
    return DUTCH_LABELS.get(column, column)

{#- The year-end forecast of every run, kept across runs: one row per provider × year × reporting
    date (JEUGDHULP_AS_OF of the run that made it), for the running year and the year before (the
    years whose invoicing is still arriving). A rerun on the same reporting date replaces that
    date's rows. full_refresh: false, so `dbt build --full-refresh` (a takeout, a changed var)
    never wipes the history; drop the table by hand to start it again.
    - forecast_eur, invoiced_eur: mart_budget_utilisation as of the reporting date.
    - naive_annualised_eur: what the municipalities do today, the amount invoiced on the months
      of the year whose invoice deadline had passed (months_observed, the rule of mart_kpi_annual)
      × 12 / months_observed: like mart_kpi_annual's annualisation, never the invoices of
      younger months over the older months' count; invoiced_eur for a year observed in full;
      null before the first observed month.
    - final_actual_eur: once the year is mature as of the current run (its December is
      forecast_maturity_days old), the accepted net cost of the year as invoiced now; filled in on
      every older row at each run.
    - forecast_error_pct, naive_error_pct = (estimate − final) / final × 100.
    - forecast_p10_eur, forecast_p90_eur: the interval of mart_budget_utilisation on that date.
      A table kept from before these columns existed gets them appended (on_schema_change), its
      old rows with null. -#}

{{ config(
    materialized='incremental',
    unique_key=['provider_agb', 'year', 'reporting_date'],
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    full_refresh=false
) }}

{%- set last_observed = add_months(month_start(as_of_date()), -(late_term_months() | int) - 1) -%}
{%- set maturity_days = var('forecast_maturity_days', 365) | int -%}
{#- an existing history from before the interval columns: its rows carry null until appended -#}
{%- set has_interval = is_incremental() and relation_has_column(this, 'forecast_p10_eur') -%}

with

unobserved as (

    -- invoiced so far on care months whose invoice deadline has not passed yet
    select provider_agb, year, sum(invoiced_eur) as invoiced_eur
    from {{ ref('int_provider_months_projected') }}
    where service_month > {{ last_observed }}
        and year >= extract(year from {{ as_of_date() }}) - 1
    group by provider_agb, year

),

this_run as (

    select
        budget.provider_agb,
        budget.year,
        cast({{ as_of_date() }} as date) as reporting_date,
        budget.forecast_eur,
        budget.invoiced_eur,
        budget.invoiced_eur - coalesce(unobserved.invoiced_eur, 0) as observed_invoiced_eur,
        budget.forecast_p10_eur,
        budget.forecast_p90_eur,
        least(
            12,
            greatest(
                0,
                (extract(year from {{ last_observed }}) - budget.year) * 12
                + extract(month from {{ last_observed }})
            )
        ) as months_observed

    from {{ ref('mart_budget_utilisation') }} as budget
    left join unobserved
        on unobserved.provider_agb = budget.provider_agb
        and unobserved.year = budget.year
    where budget.year >= extract(year from {{ as_of_date() }}) - 1

),

snapshots as (

    select
        provider_agb,
        year,
        reporting_date,
        forecast_eur,
        invoiced_eur,
        case
            when months_observed > 0 then round(observed_invoiced_eur * 12 / months_observed, 2)
        end as naive_annualised_eur,
        forecast_p10_eur,
        forecast_p90_eur

    from this_run

    {% if is_incremental() %}

        union all

        select
            provider_agb,
            year,
            reporting_date,
            forecast_eur,
            invoiced_eur,
            naive_annualised_eur,
            {% if has_interval -%}
                forecast_p10_eur,
                forecast_p90_eur
            {%- else -%}
                cast(null as decimal(18, 2)) as forecast_p10_eur,
                cast(null as decimal(18, 2)) as forecast_p90_eur
            {%- endif %}
        from {{ this }}
        where reporting_date <> {{ as_of_date() }}

    {% endif %}

),

finals as (

    select provider_agb, year, sum(invoiced_eur) as final_actual_eur
    from {{ ref('int_provider_months_projected') }}
    where make_date(year, 12, 31) + {{ maturity_days }} <= {{ as_of_date() }}
    group by provider_agb, year

),

mature_years as (

    select distinct year from snapshots
    where make_date(year, 12, 31) + {{ maturity_days }} <= {{ as_of_date() }}

),

final as (

    select
        cast(snapshots.provider_agb as varchar) as provider_agb,
        cast(snapshots.year as integer) as year,
        cast(snapshots.reporting_date as date) as reporting_date,
        cast(snapshots.forecast_eur as decimal(18, 2)) as forecast_eur,
        cast(snapshots.invoiced_eur as decimal(18, 2)) as invoiced_eur,
        cast(snapshots.naive_annualised_eur as decimal(18, 2)) as naive_annualised_eur,
        cast(
            case when mature_years.year is not null then coalesce(finals.final_actual_eur, 0) end
            as decimal(18, 2)
        ) as final_actual_eur,
        cast(
            round(
                100.0
                * (snapshots.forecast_eur - finals.final_actual_eur)
                / nullif(finals.final_actual_eur, 0),
                2
            )
            as decimal(18, 2)
        ) as forecast_error_pct,
        cast(
            round(
                100.0
                * (snapshots.naive_annualised_eur - finals.final_actual_eur)
                / nullif(finals.final_actual_eur, 0),
                2
            )
            as decimal(18, 2)
        ) as naive_error_pct,
        cast(snapshots.forecast_p10_eur as decimal(18, 2)) as forecast_p10_eur,
        cast(snapshots.forecast_p90_eur as decimal(18, 2)) as forecast_p90_eur

    from snapshots
    left join mature_years
        on mature_years.year = snapshots.year
    left join finals
        on finals.provider_agb = snapshots.provider_agb
        and finals.year = snapshots.year
        and mature_years.year is not null

)

select * from final

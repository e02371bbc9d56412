{#- The year-end forecast of every run, kept across runs: one row per provider × year × reporting
    date (JEUGDHULP_AS_OF of the run that made it), for the running year and the year before (the
    years whose invoicing is still arriving). A rerun on the same reporting date replaces that
    date's rows. full_refresh: false, so `dbt build --full-refresh` (a takeout, a changed var)
    never wipes the history; drop the table by hand to start it again.
    - forecast_eur, invoiced_eur: mart_budget_utilisation as of the reporting date.
    - naive_annualised_eur: what the municipalities do today, invoiced_eur × 12 / months_observed
      (the months of the year whose invoice deadline had passed, the rule of mart_kpi_annual);
      invoiced_eur for a year observed in full; null before the first observed month.
    - final_actual_eur: once the year is mature as of the current run (its December is
      forecast_maturity_days old), the accepted net cost of the year as invoiced now; filled in on
      every older row at each run.
    - forecast_error_pct, naive_error_pct = (estimate − final) / final × 100.
    The interval (forecast_p10/p90) is left to issue 16. -#}

{{ config(
    materialized='incremental',
    unique_key=['provider_agb', 'year', 'reporting_date'],
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    full_refresh=false
) }}

{%- set last_observed = add_months(month_start(as_of_date()), -(late_term_months() | int) - 1) -%}
{%- set maturity_days = var('forecast_maturity_days', 365) | int -%}

with

this_run as (

    select
        provider_agb,
        year,
        cast({{ as_of_date() }} as date) as reporting_date,
        forecast_eur,
        invoiced_eur,
        least(
            12,
            greatest(
                0,
                (extract(year from {{ last_observed }}) - year) * 12 + extract(month from {{ last_observed }})
            )
        ) as months_observed

    from {{ ref('mart_budget_utilisation') }}
    where year >= extract(year from {{ as_of_date() }}) - 1

),

snapshots as (

    select
        provider_agb,
        year,
        reporting_date,
        forecast_eur,
        invoiced_eur,
        case when months_observed > 0 then round(invoiced_eur * 12 / months_observed, 2) end
            as naive_annualised_eur

    from this_run

    {% if is_incremental() %}

        union all

        select
            provider_agb,
            year,
            reporting_date,
            forecast_eur,
            invoiced_eur,
            naive_annualised_eur
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
        ) as naive_error_pct

    from snapshots
    left join mature_years
        on mature_years.year = snapshots.year
    left join finals
        on finals.provider_agb = snapshots.provider_agb
        and finals.year = snapshots.year
        and mature_years.year is not null

)

select * from final

{#- A municipality's annual total cost in the KPI table is the sum of its monthly costs. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'mart_kpi_annual'}}}) }}

with

monthly as (

    select
        municipality_code,
        cast(extract(year from service_month) as integer) as year,
        sum(amount_eur) as amount_eur
    from {{ ref('mart_costs_monthly') }}
    group by municipality_code, cast(extract(year from service_month) as integer)

)

select
    kpi.municipality_code,
    kpi.year,
    kpi.total_cost_eur,
    monthly.amount_eur as monthly_amount_eur

from {{ ref('mart_kpi_annual') }} as kpi
full outer join monthly
    on monthly.municipality_code = kpi.municipality_code
    and monthly.year = kpi.year
where coalesce(kpi.total_cost_eur, 0) <> coalesce(monthly.amount_eur, 0)

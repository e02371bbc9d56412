{#- The ZIN side of the financing marts is the money and the youths of the cost and KPI marts:
    per municipality and month the ZIN rows of mart_costs_by_financing sum to mart_costs_monthly;
    per municipality and year mart_clients_by_dimension's ZIN cell has the KPI table's
    unique_youths, care_months and total_cost_eur. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'mart_clients_by_dimension'}}}) }}

with

financing as (

    select municipality_code, service_month, sum(amount_eur) as amount_eur
    from {{ ref('mart_costs_by_financing') }}
    where financing = 'ZIN'
    group by municipality_code, service_month

),

monthly as (

    select municipality_code, service_month, sum(amount_eur) as amount_eur
    from {{ ref('mart_costs_monthly') }}
    group by municipality_code, service_month

),

zin_cells as (

    select * from {{ ref('mart_clients_by_dimension') }}
    where dimension = 'financing'
        and dimension_value = 'ZIN'

)

select
    'mart_costs_by_financing' as mart,
    coalesce(financing.municipality_code, monthly.municipality_code) as municipality_code,
    cast(extract(year from coalesce(financing.service_month, monthly.service_month)) as integer) as year

from financing
full outer join monthly
    on monthly.municipality_code = financing.municipality_code
    and monthly.service_month = financing.service_month
where coalesce(financing.amount_eur, 0) <> coalesce(monthly.amount_eur, 0)

union all

select
    'mart_clients_by_dimension' as mart,
    coalesce(zin_cells.municipality_code, kpi.municipality_code) as municipality_code,
    coalesce(zin_cells.year, kpi.year) as year

from zin_cells
full outer join {{ ref('mart_kpi_annual') }} as kpi
    on kpi.municipality_code = zin_cells.municipality_code
    and kpi.year = zin_cells.year
where coalesce(zin_cells.clients, 0) <> coalesce(kpi.unique_youths, 0)
    or coalesce(zin_cells.care_months, 0) <> coalesce(kpi.care_months, 0)
    or coalesce(zin_cells.amount_eur, 0) <> coalesce(kpi.total_cost_eur, 0)

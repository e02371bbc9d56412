{#- The referrers' cost of a municipality-year adds up to its total cost (cost on unknown
    allocations sits under `onbekend`), the same total as mart_cost_concentration. One row per
    municipality-year that differs. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'mart_referrers'}}}) }}

with

referrers as (

    select municipality_code, year, sum(cost_eur) as cost_eur
    from {{ ref('mart_referrers') }}
    group by municipality_code, year

)

select
    coalesce(referrers.municipality_code, totals.municipality_code) as municipality_code,
    coalesce(referrers.year, totals.year) as year,
    referrers.cost_eur as referrers_cost_eur,
    totals.total_cost_eur

from referrers
full outer join {{ ref('mart_cost_concentration') }} as totals
    on totals.municipality_code = referrers.municipality_code
    and totals.year = referrers.year
where coalesce(referrers.cost_eur, 0) <> coalesce(totals.total_cost_eur, 0)

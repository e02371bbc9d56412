{#- mart_cost_change: the three effects add up to the cost change to the cent, and the change is
    the year's cost minus the year before's (docs/purchasing_marts.md). Returns the rows that do not. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'mart_cost_change'}}}) }}


select
    municipality_code,
    product_category,
    year,
    cost_change_eur,
    volume_effect_eur,
    intensity_effect_eur,
    price_effect_eur

from {{ ref('mart_cost_change') }}
where cost_change_eur <> volume_effect_eur + intensity_effect_eur + price_effect_eur
    or cost_change_eur <> cost_eur - previous_cost_eur

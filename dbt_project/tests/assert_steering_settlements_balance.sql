{#- The region's over- or underspend is shared by the T-2 key, divided by largest remainder: per
    region and year the municipalities' settlements add up exactly, to the cent, to regional
    actual − regional budget, their contributions to the regional budget, and their forecast
    settlements to regional forecast − regional budget (mart_settlement). One row per region-year
    and measure that does not balance. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'mart_settlement'}}}) }}

with

keyed as (

    select municipalities.region, settlement.*
    from {{ ref('mart_settlement') }} as settlement
    inner join {{ ref('municipalities') }} as municipalities
        on municipalities.municipality_code = settlement.municipality_code
    where settlement.key_share_pct is not null

),

sums as (

    select
        region,
        year,
        sum(settlement_eur) as settlements,
        max(regional_actual_eur - regional_budget_eur) as over_or_underspend,
        sum(contribution_eur) as contributions,
        max(regional_budget_eur) as budget,
        sum(forecast_settlement_eur) as forecast_settlements,
        max(regional_forecast_eur - regional_budget_eur) as forecast_over_or_underspend

    from keyed
    group by region, year

)

select region, year, 'settlement' as measure, settlements as summed, over_or_underspend as expected
from sums
where settlements is distinct from over_or_underspend

union all

select region, year, 'contribution' as measure, contributions, budget
from sums
where contributions is distinct from budget

union all

select region, year, 'forecast_settlement' as measure, forecast_settlements, forecast_over_or_underspend
from sums
where forecast_settlements is distinct from forecast_over_or_underspend

{#- Settlement with the region by the T-2 key (verdeelsleutel), per municipality and year, as the
    service organisation runs it (docs/contract.md §3, worked example there):
    - key_share = the municipality's share of its region's accepted cost in year − 2 (region from
      the municipalities seed). It needs a complete T-2 year: when the region's invoicing does not
      cover all twelve months of year − 2 (history too short), or the municipality is not in the
      seed, every key-based column is null, never a guess.
    - The municipalities fund the region's programme budget (int_programme_budget_current, summed
      over segments) by the key: contribution = key × regional budget.
    - The region's over- or underspend is shared by the same key: settlement = key × (regional
      actual − regional budget), positive = the municipality pays extra; forecast_settlement the
      same on the regional year-end forecast (int_provider_months_projected, the forecast of
      mart_budget_utilisation summed over providers).
    - own_vs_key = own actual − key × regional actual: information (the solidarity effect), not a
      settlement.
    The programme budget has no region column: it is the budget of the one region whose
    municipalities the landing zone holds. When municipalities of more than one seed region have
    cost, the budget cannot be attributed and budget, contribution and both settlements are null.
    Cents: contribution, settlement and forecast_settlement are divided by largest remainder
    (macro largest_remainder_cents), so that the municipalities' amounts add up exactly, to the
    cent, to the regional total: each gets floor(key × total) in whole cents, the cents left over
    go one each to the largest remainders (ties: municipality_code ascending). Exact integer
    arithmetic on cents (key = T-2 cents / regional T-2 cents), no floating point. own_vs_key and key_based_cost are rounded per row
    (half away from zero) and need not add up. -#}

with

monthly_cost as (

    select
        lines.municipality_code,
        lines.service_month,
        sum(lines.amount_eur) as amount_eur

    from {{ ref('fct_invoice_lines') }} as lines
    where not lines.is_rejected
        and lines.service_month is not null
        and lines.declaration_date <= {{ as_of_date() }}
        and lines.service_month <= {{ as_of_date() }}
    group by lines.municipality_code, lines.service_month

),

with_region as (

    select
        monthly_cost.*,
        cast(extract(year from monthly_cost.service_month) as integer) as year,
        municipalities.region

    from monthly_cost
    left join {{ ref('municipalities') }} as municipalities
        on municipalities.municipality_code = monthly_cost.municipality_code

),

municipality_years as (

    select municipality_code, region, year, sum(amount_eur) as actual_cost_eur
    from with_region
    group by municipality_code, region, year

),

region_months as (

    select region, service_month, sum(amount_eur) as amount_eur
    from with_region
    where region is not null
    group by region, service_month

),

region_years as (

    select
        region,
        cast(extract(year from service_month) as integer) as year,
        sum(amount_eur) as region_cost_eur,
        count(distinct case when amount_eur > 0 then service_month end) as months_with_cost

    from region_months
    group by region, cast(extract(year from service_month) as integer)

),

-- the region the programme budget belongs to: the only seed region with cost, else none
budget_region as (

    select case when count(distinct region) = 1 then min(region) end as region
    from municipality_years
    where region is not null

),

budget_years as (

    select year, sum(budget_eur) as budget_eur
    from {{ ref('int_programme_budget_current') }}
    group by year

),

forecast_years as (

    select year, sum(forecast_eur) as forecast_eur
    from {{ ref('int_provider_months_projected') }}
    group by year

),

cells as (

    -- a municipality with cost in the year, or with cost two years earlier (its key then applies)
    select municipality_code, region, year from municipality_years
    union
    select municipality_code, region, year + 2 as year from municipality_years
    where year + 2 <= extract(year from {{ as_of_date() }})

),

keyed as (

    select
        cells.municipality_code,
        cells.region,
        cells.year,
        coalesce(current_year.actual_cost_eur, 0) as actual_cost_eur,
        key_year_region.months_with_cost = 12
        and key_year_region.region_cost_eur > 0
        and cells.region is not null as has_key,
        -- the key as an exact fraction of whole cents
        cast(round(100 * coalesce(key_year.actual_cost_eur, 0)) as hugeint) as key_cents,
        cast(round(100 * key_year_region.region_cost_eur) as hugeint) as key_region_cents,
        region_now.region_cost_eur,
        case when budget_region.region = cells.region then budget_years.budget_eur end
            as region_budget_eur,
        case when budget_region.region = cells.region then forecast_years.forecast_eur end
            as region_forecast_eur

    from cells
    left join municipality_years as current_year
        on current_year.municipality_code = cells.municipality_code
        and current_year.year = cells.year
    left join municipality_years as key_year
        on key_year.municipality_code = cells.municipality_code
        and key_year.year = cells.year - 2
    left join region_years as key_year_region
        on key_year_region.region = cells.region
        and key_year_region.year = cells.year - 2
    left join region_years as region_now
        on region_now.region = cells.region
        and region_now.year = cells.year
    cross join budget_region
    left join budget_years
        on budget_years.year = cells.year
    left join forecast_years
        on forecast_years.year = cells.year

),

-- the three amounts divided by the key, one row per municipality × year × measure, in cents
to_divide as (

    select
        municipality_code,
        region,
        year,
        'contribution' as measure,
        key_cents,
        key_region_cents,
        cast(round(100 * region_budget_eur) as hugeint) as total_cents
    from keyed
    where has_key and region_budget_eur is not null

    union all

    select
        municipality_code,
        region,
        year,
        'settlement' as measure,
        key_cents,
        key_region_cents,
        cast(round(100 * (coalesce(region_cost_eur, 0) - region_budget_eur)) as hugeint)
            as total_cents
    from keyed
    where has_key and region_budget_eur is not null

    union all

    select
        municipality_code,
        region,
        year,
        'forecast_settlement' as measure,
        key_cents,
        key_region_cents,
        cast(round(100 * (region_forecast_eur - region_budget_eur)) as hugeint) as total_cents
    from keyed
    where has_key and region_budget_eur is not null and region_forecast_eur is not null

),

allocated as (

    {{ largest_remainder_cents('to_divide', 'region, year, measure') }}

),

divided as (

    select
        municipality_code,
        year,
        sum(case when measure = 'contribution' then cents end) as contribution_cents,
        sum(case when measure = 'settlement' then cents end) as settlement_cents,
        sum(case when measure = 'forecast_settlement' then cents end) as forecast_settlement_cents

    from allocated
    group by municipality_code, year

),

final as (

    select
        cast(keyed.municipality_code as varchar) as municipality_code,
        cast(keyed.year as integer) as year,
        cast(
            case when keyed.has_key then round(100.0 * keyed.key_cents / keyed.key_region_cents, 4) end
            as decimal(9, 4)
        ) as key_share_pct,
        cast(cast(divided.contribution_cents as decimal(18, 0)) * 0.01 as decimal(18, 2)) as contribution_eur,
        cast(keyed.actual_cost_eur as decimal(18, 2)) as actual_cost_eur,
        cast(keyed.region_cost_eur as decimal(18, 2)) as regional_actual_eur,
        cast(keyed.region_budget_eur as decimal(18, 2)) as regional_budget_eur,
        cast(keyed.region_forecast_eur as decimal(18, 2)) as regional_forecast_eur,
        cast(cast(divided.settlement_cents as decimal(18, 0)) * 0.01 as decimal(18, 2)) as settlement_eur,
        cast(cast(divided.forecast_settlement_cents as decimal(18, 0)) * 0.01 as decimal(18, 2))
            as forecast_settlement_eur,
        cast(
            case
                when keyed.has_key
                    then round(
                            cast(keyed.key_cents * round(100 * keyed.region_cost_eur) as decimal(38, 0))
                            / keyed.key_region_cents
                        ) / 100
            end
            as decimal(18, 2)
        ) as key_based_cost_eur

    from keyed
    left join divided
        on divided.municipality_code = keyed.municipality_code
        and divided.year = keyed.year

)

select
    municipality_code,
    year,
    key_share_pct,
    contribution_eur,
    actual_cost_eur,
    regional_actual_eur,
    regional_budget_eur,
    regional_forecast_eur,
    settlement_eur,
    forecast_settlement_eur,
    key_based_cost_eur,
    cast(actual_cost_eur - key_based_cost_eur as decimal(18, 2)) as own_vs_key_eur

from final

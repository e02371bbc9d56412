{#- Settlement by the T-2 key (verdeelsleutel) per municipality and year. actual = the
    municipality's accepted net cost of the year's care months (declared by JEUGDHULP_AS_OF; for
    the running year the cost so far). The key is the municipality's share of its region's cost
    two years earlier (region from the municipalities seed); key-based cost = key × the region's
    actual cost of the year; settlement = actual − key-based (positive: the municipality used more
    than its key share and pays the difference). The key needs a complete T-2 year: when the
    region's invoicing does not cover all twelve months of year − 2 (history too short), or the
    municipality is not in the seed, key, key-based cost and settlement are null, never a guess. -#}

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
        cells.year,
        coalesce(current_year.actual_cost_eur, 0) as actual_cost_eur,
        case
            when key_year_region.months_with_cost = 12 and key_year_region.region_cost_eur > 0
                then coalesce(key_year.actual_cost_eur, 0) / key_year_region.region_cost_eur
        end as key_share,
        coalesce(region_now.region_cost_eur, 0) as region_cost_eur

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

),

final as (

    select
        cast(municipality_code as varchar) as municipality_code,
        cast(year as integer) as year,
        cast(actual_cost_eur as decimal(18, 2)) as actual_cost_eur,
        cast(round(100 * key_share, 4) as decimal(9, 4)) as key_share_pct,
        cast(round(key_share * region_cost_eur, 2) as decimal(18, 2)) as key_based_cost_eur,
        cast(actual_cost_eur - round(key_share * region_cost_eur, 2) as decimal(18, 2)) as settlement_eur

    from keyed

)

select * from final

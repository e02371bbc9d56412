{#- Each municipality's cost change per product category against the year before, split exactly
    into a volume (clients), an intensity (units per client) and a price (tariff) effect
    (docs/purchasing_marts.md has the method and a worked example).

    Like for like: year Y and year Y-1 both over the months 1 .. months_observed of Y (a complete
    year: all twelve). Rows for every municipality × category with cost in either period, for the
    years after the first year with invoiced care and with an observed month.

    C0, C1 = accepted net cost of the two periods; V0, V1 = distinct clients with a net cost above
    zero in the municipality × category × period. Chained (volume, then intensity, then price):
      C1* = the later period's units valued at the earlier period's price per unit, product by
            product (P0 = C0 / U0 of the product; a product without units and cost above zero in
            the earlier period keeps its own later price: no price effect for it)
      volume_effect    = (V1 - V0) × C0 / V0, rounded to the cent (a category new in Y, V0 = 0:
                         C1* - C0, all of its cost at old prices is volume)
      intensity_effect = C1* - C0 - volume_effect (the change of cost per client at old prices)
      price_effect     = C1 - C1* (the tariff change on the units of Y)
    C1* is rounded to the cent once, so the three effects are decimals that add up to
    cost_change_eur = C1 - C0 exactly; the only rounding residue (under a cent) sits in the
    intensity effect. -#}

with

client_months as (

    select * from {{ ref('int_purchasing_client_months') }}

),

data_years as (

    select
        year,
        max(months_observed) as months_observed

    from client_months
    group by year

),

comparison_years as (

    select
        year,
        months_observed

    from data_years
    where months_observed > 0
        and year > (select min(first_years.year) from data_years as first_years)

),

-- each row once for its own year (current) and once as the earlier period of the next year, both
-- over the months 1 .. months_observed of the compared year
periods as (

    select
        municipality_code,
        product_category,
        product_code,
        client_key,
        year,
        month_no,
        'current' as period,
        amount_eur,
        units

    from client_months

    union all

    select
        municipality_code,
        product_category,
        product_code,
        client_key,
        year + 1 as year,
        month_no,
        'previous' as period,
        amount_eur,
        units

    from client_months

),

compared as (

    select periods.*
    from periods
    inner join comparison_years
        on comparison_years.year = periods.year
        and comparison_years.months_observed >= periods.month_no

),

per_product as (

    select
        municipality_code,
        product_category,
        product_code,
        year,
        sum(case when period = 'current' then amount_eur else 0 end) as cost_1,
        sum(case when period = 'current' then units else 0 end) as units_1,
        sum(case when period = 'previous' then amount_eur else 0 end) as cost_0,
        sum(case when period = 'previous' then units else 0 end) as units_0

    from compared
    group by municipality_code, product_category, product_code, year

),

-- the later period's units at the earlier period's price per unit of the product
at_previous_prices as (

    select
        municipality_code,
        product_category,
        year,
        sum(cost_1) as cost_1,
        sum(cost_0) as cost_0,
        round(
            sum(
                case
                    when units_0 > 0 and cost_0 > 0 and units_1 <> 0
                        then cast(units_1 as double) * cast(cost_0 as double) / units_0
                    else cast(cost_1 as double)
                end
            ),
            2
        ) as cost_1_at_previous_prices

    from per_product
    group by municipality_code, product_category, year

),

client_totals as (

    select
        municipality_code,
        product_category,
        year,
        client_key,
        sum(case when period = 'current' then amount_eur else 0 end) as cost_1,
        sum(case when period = 'previous' then amount_eur else 0 end) as cost_0

    from compared
    group by municipality_code, product_category, year, client_key

),

clients as (

    select
        municipality_code,
        product_category,
        year,
        sum(case when cost_1 > 0 then 1 else 0 end) as clients_1,
        sum(case when cost_0 > 0 then 1 else 0 end) as clients_0

    from client_totals
    group by municipality_code, product_category, year

),

combined as (

    select
        prices.municipality_code,
        prices.product_category,
        prices.year,
        comparison_years.months_observed,
        cast(prices.cost_1 as decimal(18, 2)) as cost_1,
        cast(prices.cost_0 as decimal(18, 2)) as cost_0,
        cast(prices.cost_1_at_previous_prices as decimal(18, 2)) as cost_1_at_previous_prices,
        clients.clients_1,
        clients.clients_0

    from at_previous_prices as prices
    inner join clients
        on clients.municipality_code = prices.municipality_code
        and clients.product_category = prices.product_category
        and clients.year = prices.year
    inner join comparison_years
        on comparison_years.year = prices.year

),

effects as (

    select
        *,
        cast(
            case
                when clients_0 > 0
                    then round(cast(clients_1 - clients_0 as double) * cast(cost_0 as double) / clients_0, 2)
                else cost_1_at_previous_prices - cost_0
            end
            as decimal(18, 2)
        ) as volume_effect

    from combined

),

final as (

    select
        cast(municipality_code as varchar) as municipality_code,
        cast(effects.product_category as varchar) as product_category,
        cast(coalesce(categories.description, effects.product_category) as varchar)
            as product_category_description,
        cast(year as integer) as year,
        cast(months_observed as integer) as months_compared,
        months_observed = 12 as is_complete_year,
        cast(cost_1 as decimal(18, 2)) as cost_eur,
        cast(cost_0 as decimal(18, 2)) as previous_cost_eur,
        cast(clients_1 as bigint) as clients,
        cast(clients_0 as bigint) as previous_clients,
        cast(cost_1_at_previous_prices as decimal(18, 2)) as cost_at_previous_prices_eur,
        cast(cost_1 - cost_0 as decimal(18, 2)) as cost_change_eur,
        cast(volume_effect as decimal(18, 2)) as volume_effect_eur,
        cast(cost_1_at_previous_prices - cost_0 - volume_effect as decimal(18, 2)) as intensity_effect_eur,
        cast(cost_1 - cost_1_at_previous_prices as decimal(18, 2)) as price_effect_eur

    from effects
    left join {{ ref('code_product_categories') }} as categories
        on categories.product_category = effects.product_category

)

select * from final

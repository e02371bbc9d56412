{#- The month-of-year profile of the stock of allocations in care (docs/forecast.md, step 1c), as
    known on the reporting date. Where new clients start less in the summer and more in the autumn,
    the stock in care in September is low for the time of year and recovers by November; projecting
    the rest of the year from September's stock would count that dip as a lasting fall.
    - Per product category and month: the value per day (int_allocation_cost_rates.cost_per_day)
      of the allocations in care on the month's 15th, divided by the mean of the months within six
      months either side (a centred level, so growth or decline is not read as a season). Only
      months whose whole centred window lies between the first invoiced care month (allocations
      from before the records begin are only those that survived into them: a stock that seems to
      grow) and the month before the reporting month; the latest `forecast_season_months` (36).
    - A category's index of a month of the year: the mean of those ratios in that month of the
      year, shrunk towards the region's index (all categories together) with the
      empirical-Bayes weight of macro month_of_year_shrinkage (while no month of the year has
      been measured twice, allocation-months / (allocation-months +
      `forecast_stock_season_shrinkage` (200))); 1 where the history is too short. The twelve indices are normalised to a mean of 1.
    - A provider's index: its categories' indices weighted by the value of its allocations in care
      on as_of − `forecast_report_delay_days`, else the region's index.
    One row per provider with a started allocation and month of the year. -#}

{%- set season_months = var('forecast_season_months', 36) | int -%}
{%- set shrinkage = var('forecast_stock_season_shrinkage', 200) | int -%}
{%- set report_delay_days = var('forecast_report_delay_days', 14) | int -%}

with

allocations as (

    select
        provider_agb,
        coalesce(product_category, 'onbekend') as product_category,
        allocation_start_date,
        allocation_end_date,
        care_start_date,
        care_end_date,
        cost_per_day

    from {{ ref('int_allocation_cost_rates') }}

),

first_invoiced as (

    select min(service_month) as first_month
    from {{ ref('fct_invoice_lines') }}
    where not is_rejected
        and service_month is not null
        and declaration_date <= {{ as_of_date() }}

),

months as (

    {{ month_series(
        '(select first_month from first_invoiced)',
        add_months(month_start(as_of_date()), -1)
    ) }}

),

in_care as (

    select
        months.month_start as service_month,
        allocations.product_category,
        allocations.cost_per_day

    from months
    inner join allocations
        on allocations.care_start_date <= months.month_start + 14
        and (allocations.care_end_date is null or allocations.care_end_date >= months.month_start + 14)
        and (
            allocations.allocation_start_date is null
            or allocations.allocation_start_date <= months.month_start + 14
        )
        and (
            allocations.allocation_end_date is null
            or allocations.allocation_end_date >= months.month_start + 14
        )

),

category_months as (

    select product_category, service_month, sum(cost_per_day) as stock_per_day, count(*) as allocations
    from in_care
    group by product_category, service_month

    union all

    select '*' as product_category, service_month, sum(cost_per_day) as stock_per_day, count(*) as allocations
    from in_care
    group by service_month

),

-- the month's stock against the mean of the twelve months around it (all thirteen observed)
ratios as (

    select
        month.product_category,
        month.service_month,
        month.allocations,
        month.stock_per_day / avg(around.stock_per_day) as ratio

    from category_months as month
    inner join category_months as around
        on around.product_category = month.product_category
        and around.service_month between {{ add_months('month.service_month', -6) }}
        and {{ add_months('month.service_month', 6) }}
    where month.service_month >= {{ add_months('(select first_month from first_invoiced)', 6) }}
        and month.service_month <= {{ add_months(month_start(as_of_date()), -7) }}
        and month.service_month > {{ add_months(month_start(as_of_date()), -7 - season_months) }}
    group by month.product_category, month.service_month, month.allocations, month.stock_per_day
    having count(*) = 13 and avg(around.stock_per_day) > 0

),

month_of_year as (

    {{ month_of_year_shrinkage('ratios', 'allocations', shrinkage) }}

),

categories as (

    select distinct product_category from allocations

),

calendar_months as (

    select cast(range as integer) as month_of_year
    from range(1, 13)

),

category_index as (

    {{ category_month_index('month_of_year', 'categories', 'calendar_months', '1.0') }}

),

-- the day on which the stock is read (as int_provider_months_projected reads it)
read_on as (

    select cast({{ as_of_date() }} - {{ report_delay_days }} as date) as stock_day

),

-- each provider's mix of categories: the value of its allocations in care on that day
provider_mix as (

    select
        allocations.provider_agb,
        allocations.product_category,
        sum(case
            when allocations.care_start_date <= read_on.stock_day
                and (allocations.care_end_date is null or allocations.care_end_date >= read_on.stock_day)
                and (
                    allocations.allocation_start_date is null
                    or allocations.allocation_start_date <= read_on.stock_day
                )
                and (
                    allocations.allocation_end_date is null
                    or allocations.allocation_end_date >= read_on.stock_day
                )
                then greatest(allocations.cost_per_day, 0)
            else 0
        end) as value_in_care

    from allocations
    cross join read_on
    group by allocations.provider_agb, allocations.product_category

),

provider_weights as (

    select
        provider_agb,
        product_category,
        case
            when sum(value_in_care) over (partition by provider_agb) > 0
                then value_in_care / sum(value_in_care) over (partition by provider_agb)
        end as weight

    from provider_mix

),

providers as (

    select distinct provider_agb from allocations

),

provider_index as (

    {{ provider_month_index('providers', 'calendar_months', 'provider_weights', 'category_index') }}

)

select
    cast(provider_agb as varchar) as provider_agb,
    cast(month_of_year as integer) as month_of_year,
    cast(month_index as double) as stock_index

from provider_index

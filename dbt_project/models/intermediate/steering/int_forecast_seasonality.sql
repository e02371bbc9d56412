{#- The month-of-year profile of each provider's cost (docs/forecast.md, step 1b), learned from
    mature history as known on the reporting date: some care is lower in the summer or in December
    (ambulant, day care), residential care is not.
    - Per product category and mature care month (the latest `forecast_season_months` months at
      least `forecast_maturity_days` old): the accepted net cost per day of the month, divided by
      the mean cost per day of the mature months within six months either side (a centred level,
      so growth or decline is not read as a season).
    - The category's index of a month of the year: the mean of those ratios in that month of the
      year, shrunk towards the region's index (all categories together) with the
      empirical-Bayes weight of macro month_of_year_shrinkage (how steadily the category differs
      from the region, against its own noise; while no month of the year has been measured twice,
      lines / (lines + `forecast_season_shrinkage_lines`)); a month of the year without mature
      history has index 1. The twelve indices are normalised to a day-weighted mean of 1.
    - A provider's index: its categories' indices weighted by its accepted cost per category over
      the twelve care months before the reporting month (else over all its months); a provider
      without invoices gets the region's index.
    One row per provider (every provider with invoices up to as_of) and month of the year. -#}

{%- set maturity_days = var('forecast_maturity_days', 365) | int -%}
{%- set season_months = var('forecast_season_months', 36) | int -%}
{%- set shrinkage_lines = var('forecast_season_shrinkage_lines', 200) | int -%}

with

lines as (

    select
        provider_agb,
        coalesce(product_category, 'onbekend') as product_category,
        service_month,
        debit_credit,
        amount_eur

    from {{ ref('fct_invoice_lines') }}
    where not is_rejected
        and service_month is not null
        and declaration_date <= {{ as_of_date() }}
        and service_month <= {{ as_of_date() }}

),

mature_months as (

    select service_month
    from (
        select
            service_month,
            row_number() over (order by service_month desc) as recency_rank
        from (select distinct service_month from lines) as known_months
        where {{ days_between(month_end('service_month'), as_of_date()) }} >= {{ maturity_days }}
    ) as ranked
    where recency_rank <= {{ season_months }}

),

-- cost per day per category (and the region as category '*') in every mature month
category_months as (

    select
        lines.product_category,
        lines.service_month,
        sum(lines.amount_eur) / extract(day from {{ month_end('lines.service_month') }}) as cost_per_day,
        sum(case when lines.debit_credit = 'D' then 1 else 0 end) as debit_lines

    from lines
    inner join mature_months
        on mature_months.service_month = lines.service_month
    group by lines.product_category, lines.service_month

    union all

    select
        '*' as product_category,
        lines.service_month,
        sum(lines.amount_eur) / extract(day from {{ month_end('lines.service_month') }}) as cost_per_day,
        sum(case when lines.debit_credit = 'D' then 1 else 0 end) as debit_lines

    from lines
    inner join mature_months
        on mature_months.service_month = lines.service_month
    group by lines.service_month

),

-- the month's cost per day against the mean of the mature months within six months either side
ratios as (

    select
        month.product_category,
        month.service_month,
        month.debit_lines,
        month.cost_per_day / avg(around.cost_per_day) as ratio

    from category_months as month
    inner join category_months as around
        on around.product_category = month.product_category
        and around.service_month between {{ add_months('month.service_month', -6) }}
        and {{ add_months('month.service_month', 6) }}
    group by month.product_category, month.service_month, month.debit_lines, month.cost_per_day
    having avg(around.cost_per_day) > 0

),

month_of_year as (

    {{ month_of_year_shrinkage('ratios', 'debit_lines', shrinkage_lines) }}

),

categories as (

    select distinct product_category from lines

),

calendar_months as (

    select
        cast(range as integer) as month_of_year,
        -- days of the month in a common year: the weight of the normalisation
        extract(day from {{ month_end("make_date(2023, cast(range as integer), 1)") }}) as days
    from range(1, 13)

),

category_index as (

    {{ category_month_index('month_of_year', 'categories', 'calendar_months', 'calendar_months.days') }}

),

-- each provider's mix of categories: the twelve care months before the reporting month, else all
provider_mix as (

    select
        provider_agb,
        product_category,
        greatest(sum(case
            when service_month >= {{ add_months(month_start(as_of_date()), -12) }}
                and service_month < {{ month_start(as_of_date()) }}
                then amount_eur
            else 0
        end), 0) as recent_eur,
        greatest(sum(amount_eur), 0) as all_eur

    from lines
    group by provider_agb, product_category

),

provider_weights as (

    select
        provider_agb,
        product_category,
        case
            when sum(recent_eur) over (partition by provider_agb) > 0
                then recent_eur / sum(recent_eur) over (partition by provider_agb)
            when sum(all_eur) over (partition by provider_agb) > 0
                then all_eur / sum(all_eur) over (partition by provider_agb)
        end as weight

    from provider_mix

),

providers as (

    select distinct provider_agb from lines

),

provider_index as (

    {{ provider_month_index('providers', 'calendar_months', 'provider_weights', 'category_index') }}

)

select
    cast(provider_agb as varchar) as provider_agb,
    cast(month_of_year as integer) as month_of_year,
    cast(month_index as double) as season_index

from provider_index

{#- What each started allocation costs per day of care, as known on the reporting date: the
    forecast's view of the active allocations (docs/forecast.md). Only starts (JW305) and stops
    (JW307) sent on or before JEUGDHULP_AS_OF count. care_end_date is the last definitive stop
    (reason other than 20). cost_per_day = accepted net amount of the allocation's invoiced care
    months (net > 0, declared by as_of) / the days of care in those months (from care start to
    care end within the month), each day weighted by its month's season index
    (int_forecast_seasonality): a cost per day of a seasonally plain month, so an allocation
    invoiced only in the summer is not valued at its summer cost. An allocation without such
    invoices yet (a new one, or one of a new provider) is valued from what was allocated: volume × tariff (products.csv, the version
    valid on as_of, else the latest; unit 83 is euros) per day by its frequency (per day, per week
    / 7, per month × 12 / 365, a total / the allocation's days), × the provider's invoiced share
    of that value over its invoiced allocations (Σ invoiced / Σ allocated value of their invoiced
    days), shrunk towards the region's share with weight n / (n + 5), n = those allocations.
    Without a tariff value: the average rate of the provider's allocations for the same product,
    else the region's for that product, else 0; rate_basis says which.
    extension_share (the same on every row): how often an allocation that reached its Einddatum
    while in care was extended, learned from the allocations whose first Einddatum lies between
    as_of − `forecast_report_delay_days` − 365 days and 45 days before that (extensions are sent
    before the Einddatum): started by as_of, not definitively stopped before that Einddatum; the
    share of them with a later JW301 version (sent by as_of) that moves the Einddatum on or drops
    it. Null below 20 such allocations (the forecast then assumes they run on). -#}

{%- set report_delay_days = var('forecast_report_delay_days', 14) | int -%}

with

allocations as (

    select *
    from {{ ref('int_allocations_resolved') }}
    where not is_deleted

),

seasonality as (

    select * from {{ ref('int_forecast_seasonality') }}

),

care_starts as (

    select
        municipality_code,
        provider_agb,
        allocation_number,
        min(start_date) as care_start_date

    from {{ ref('int_starts_resolved') }}
    where message_date <= {{ as_of_date() }}
        and start_date <= {{ as_of_date() }}
    group by municipality_code, provider_agb, allocation_number

),

care_ends as (

    select
        municipality_code,
        provider_agb,
        allocation_number,
        max(end_date) as care_end_date

    from {{ ref('int_stops_resolved') }}
    where message_date <= {{ as_of_date() }}
        and not is_temporary
    group by municipality_code, provider_agb, allocation_number

),

allocation_versions as (

    select
        municipality_code,
        allocation_number,
        message_date,
        end_date,
        row_number() over (
            partition by municipality_code, allocation_number
            order by message_date, message_id, file_id, record_position
        ) as version_number

    from {{ ref('stg_ijw__allocations') }}
    where message_date <= {{ as_of_date() }}

),

first_ends as (

    select
        first_versions.municipality_code,
        first_versions.allocation_number,
        first_versions.end_date,
        max(case
            when later.version_number is not null
                and (later.end_date is null or later.end_date > first_versions.end_date)
                then 1
            else 0
        end) as is_extended

    from allocation_versions as first_versions
    left join allocation_versions as later
        on later.municipality_code = first_versions.municipality_code
        and later.allocation_number = first_versions.allocation_number
        and later.version_number > first_versions.version_number
    where first_versions.version_number = 1
        and first_versions.end_date
        between cast({{ as_of_date() }} - {{ report_delay_days }} - 365 as date)
        and cast({{ as_of_date() }} - {{ report_delay_days }} - 45 as date)
    group by first_versions.municipality_code, first_versions.allocation_number, first_versions.end_date

),

extension as (

    select
        case when count(*) >= 20 then avg(first_ends.is_extended) end as extension_share

    from first_ends
    inner join care_starts
        on care_starts.municipality_code = first_ends.municipality_code
        and care_starts.allocation_number = first_ends.allocation_number
        and care_starts.care_start_date < first_ends.end_date
    left join care_ends
        on care_ends.municipality_code = first_ends.municipality_code
        and care_ends.allocation_number = first_ends.allocation_number
    where care_ends.care_end_date is null or care_ends.care_end_date >= first_ends.end_date

),

tariffs as (

    select
        product_category,
        product_code,
        tariff_eur,
        row_number() over (
            partition by product_category, product_code
            order by
                case
                    when (valid_from is null or valid_from <= {{ as_of_date() }})
                        and (valid_to is null or valid_to >= {{ as_of_date() }})
                        then 0
                    else 1
                end,
                valid_from desc nulls last
        ) as version_rank

    from {{ ref('stg_reference__products') }}
    where tariff_eur is not null

),

started as (

    select
        allocations.municipality_code,
        allocations.provider_agb,
        allocations.allocation_number,
        allocations.product_category,
        allocations.product_code,
        allocations.start_date as allocation_start_date,
        allocations.end_date as allocation_end_date,
        care_starts.care_start_date,
        care_ends.care_end_date,
        allocations.volume
        * coalesce(tariffs.tariff_eur, case when allocations.unit = '83' then 1.0 end)
        * case allocations.frequency
            when '1' then 1.0
            when '2' then 1.0 / 7
            when '4' then 12.0 / 365
            when '6'
                then 1.0 / nullif(1 + {{ days_between('allocations.start_date', 'allocations.end_date') }}, 0)
        end as allocated_cost_per_day

    from allocations
    left join tariffs
        on tariffs.product_category = allocations.product_category
        and tariffs.product_code = allocations.product_code
        and tariffs.version_rank = 1
    inner join care_starts
        on care_starts.municipality_code = allocations.municipality_code
        and care_starts.provider_agb = allocations.provider_agb
        and care_starts.allocation_number = allocations.allocation_number
    left join care_ends
        on care_ends.municipality_code = allocations.municipality_code
        and care_ends.provider_agb = allocations.provider_agb
        and care_ends.allocation_number = allocations.allocation_number

),

invoiced_months as (

    select
        municipality_code,
        provider_agb,
        allocation_number,
        service_month,
        sum(amount_eur) as amount_eur

    from {{ ref('fct_invoice_lines') }}
    where not is_rejected
        and allocation_number is not null
        and service_month is not null
        and declaration_date <= {{ as_of_date() }}
    group by municipality_code, provider_agb, allocation_number, service_month
    having sum(amount_eur) > 0

),

care_days as (

    select
        started.municipality_code,
        started.provider_agb,
        started.allocation_number,
        invoiced_months.amount_eur,
        greatest(1, 1 + {{ days_between(
            'greatest(invoiced_months.service_month, coalesce(started.care_start_date, invoiced_months.service_month))',
            'least(' ~ month_end('invoiced_months.service_month') ~ ', coalesce(started.care_end_date, ' ~ month_end('invoiced_months.service_month') ~ '))'
        ) }}) as care_days,
        -- a day of care in a seasonally low month counts for less: an allocation that has only
        -- been invoiced in the summer is not valued at its summer cost for the whole year
        coalesce(seasonality.season_index, 1.0) as season_index

    from started
    inner join invoiced_months
        on invoiced_months.municipality_code = started.municipality_code
        and invoiced_months.provider_agb = started.provider_agb
        and invoiced_months.allocation_number = started.allocation_number
    left join seasonality
        on seasonality.provider_agb = started.provider_agb
        and seasonality.month_of_year = extract(month from invoiced_months.service_month)

),

own_rates as (

    select
        municipality_code,
        provider_agb,
        allocation_number,
        sum(amount_eur) / sum(care_days * season_index) as cost_per_day,
        sum(care_days * season_index) as weighted_days

    from care_days
    group by municipality_code, provider_agb, allocation_number

),

-- how much of the allocated value a provider invoices, over its invoiced allocations
provider_usage as (

    select
        started.provider_agb,
        sum(own_rates.cost_per_day * own_rates.weighted_days) as invoiced_eur,
        sum(started.allocated_cost_per_day * own_rates.weighted_days) as allocated_eur,
        count(*) as allocations

    from started
    inner join own_rates
        on own_rates.municipality_code = started.municipality_code
        and own_rates.provider_agb = started.provider_agb
        and own_rates.allocation_number = started.allocation_number
    where started.allocated_cost_per_day > 0
    group by started.provider_agb

),

region_usage as (

    select sum(invoiced_eur) / nullif(sum(allocated_eur), 0) as usage_share
    from provider_usage

),

usage_shares as (

    select
        provider_usage.provider_agb,
        case
            when region_usage.usage_share is null then null
            else (
                provider_usage.allocations * provider_usage.invoiced_eur / provider_usage.allocated_eur
                + 5 * region_usage.usage_share
            ) / (provider_usage.allocations + 5)
        end as usage_share

    from provider_usage
    cross join region_usage
    cross join extension

),

rated as (

    select
        started.*,
        own_rates.cost_per_day as own_cost_per_day

    from started
    left join own_rates
        on own_rates.municipality_code = started.municipality_code
        and own_rates.provider_agb = started.provider_agb
        and own_rates.allocation_number = started.allocation_number

),

provider_product_rates as (

    select provider_agb, product_code, avg(own_cost_per_day) as cost_per_day
    from rated
    where own_cost_per_day is not null
    group by provider_agb, product_code

),

region_product_rates as (

    select product_code, avg(own_cost_per_day) as cost_per_day
    from rated
    where own_cost_per_day is not null
    group by product_code

),

final as (

    select
        cast(rated.municipality_code as varchar) as municipality_code,
        cast(rated.provider_agb as varchar) as provider_agb,
        cast(rated.allocation_number as varchar) as allocation_number,
        cast(rated.product_category as varchar) as product_category,
        cast(rated.product_code as varchar) as product_code,
        cast(rated.allocation_start_date as date) as allocation_start_date,
        cast(rated.allocation_end_date as date) as allocation_end_date,
        cast(rated.care_start_date as date) as care_start_date,
        cast(rated.care_end_date as date) as care_end_date,
        cast(coalesce(
            rated.own_cost_per_day,
            rated.allocated_cost_per_day * coalesce(usage_shares.usage_share, region_usage.usage_share),
            provider_product_rates.cost_per_day,
            region_product_rates.cost_per_day, 0
        ) as double) as cost_per_day,
        cast(rated.allocated_cost_per_day as double) as allocated_cost_per_day,
        cast(extension.extension_share as double) as extension_share,
        cast(case
            when rated.own_cost_per_day is not null then 'invoiced'
            when rated.allocated_cost_per_day is not null
                and coalesce(usage_shares.usage_share, region_usage.usage_share) is not null
                then 'allocation_tariff'
            when provider_product_rates.cost_per_day is not null then 'provider_product'
            when region_product_rates.cost_per_day is not null then 'region_product'
            else 'none'
        end as varchar) as rate_basis

    from rated
    left join provider_product_rates
        on provider_product_rates.provider_agb = rated.provider_agb
        and provider_product_rates.product_code = rated.product_code
    left join region_product_rates
        on region_product_rates.product_code = rated.product_code
    left join usage_shares
        on usage_shares.provider_agb = rated.provider_agb
    cross join region_usage
    cross join extension

)

select * from final

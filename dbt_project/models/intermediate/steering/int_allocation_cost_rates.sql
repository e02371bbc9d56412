{#- What each started allocation costs per day of care, as known on the reporting date: the
    forecast's view of the active allocations (docs/forecast.md). Only starts (JW305) and stops
    (JW307) sent on or before JEUGDHULP_AS_OF count. care_end_date is the last definitive stop
    (reason other than 20). cost_per_day = accepted net amount of the allocation's invoiced care
    months (net > 0, declared by as_of) / the days of care in those months (from care start to
    care end within the month). An allocation without such invoices yet (a new one) gets the
    average rate of the provider's allocations for the same product, else the region's for that
    product, else 0; rate_basis says which. -#}

with

allocations as (

    select *
    from {{ ref('int_allocations_resolved') }}
    where not is_deleted

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

started as (

    select
        allocations.municipality_code,
        allocations.provider_agb,
        allocations.allocation_number,
        allocations.product_code,
        allocations.start_date as allocation_start_date,
        allocations.end_date as allocation_end_date,
        care_starts.care_start_date,
        care_ends.care_end_date

    from allocations
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
        ) }}) as care_days

    from started
    inner join invoiced_months
        on invoiced_months.municipality_code = started.municipality_code
        and invoiced_months.provider_agb = started.provider_agb
        and invoiced_months.allocation_number = started.allocation_number

),

own_rates as (

    select
        municipality_code,
        provider_agb,
        allocation_number,
        sum(amount_eur) / sum(care_days) as cost_per_day

    from care_days
    group by municipality_code, provider_agb, allocation_number

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
        cast(rated.product_code as varchar) as product_code,
        cast(rated.allocation_start_date as date) as allocation_start_date,
        cast(rated.allocation_end_date as date) as allocation_end_date,
        cast(rated.care_start_date as date) as care_start_date,
        cast(rated.care_end_date as date) as care_end_date,
        cast(coalesce(
            rated.own_cost_per_day, provider_product_rates.cost_per_day,
            region_product_rates.cost_per_day, 0
        ) as double) as cost_per_day,
        cast(case
            when rated.own_cost_per_day is not null then 'invoiced'
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

)

select * from final

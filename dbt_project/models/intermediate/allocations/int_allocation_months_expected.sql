{#- The care months the region may expect an invoice for (docs/contract.md §3,
    mart_invoicing_completeness): one row per allocation × month where the allocation recurs
    (frequency 1, 2 or 4), is not deleted, is valid in the month, was started (JW305) on or before
    the month's end, was not ended (JW307, reason other than 20) before the month's start, and whose
    invoice deadline for that month has passed as of the reporting date. -#}

with

recurring_allocations as (

    select *
    from {{ ref('int_allocations_resolved') }}
    where not is_deleted
        and frequency in ('1', '2', '4')
        and start_date is not null

),

first_starts as (

    select
        municipality_code,
        provider_agb,
        allocation_number,
        min(start_date) as first_start_date

    from {{ ref('int_starts_resolved') }}
    group by municipality_code, provider_agb, allocation_number

),

definitive_ends as (

    -- a temporary stop (reason 20) keeps the allocation expected; several definitive stops:
    -- the last reported end counts
    select
        municipality_code,
        provider_agb,
        allocation_number,
        max(end_date) as end_date

    from {{ ref('int_stops_resolved') }}
    where not is_temporary
    group by municipality_code, provider_agb, allocation_number

),

months as (

    {{ month_series(
        '(select ' ~ month_start('min(start_date)') ~ ' from recurring_allocations)',
        month_start(as_of_date())
    ) }}

),

allocation_months as (

    select
        allocations.municipality_code,
        allocations.provider_agb,
        allocations.allocation_number,
        allocations.client_key,
        allocations.product_category,
        allocations.product_code,
        allocations.frequency,
        months.month_start as service_month,
        {{ invoice_deadline('months.month_start') }} as invoice_deadline,
        starts.first_start_date,
        ends.end_date as definitive_end_date

    from recurring_allocations as allocations
    inner join first_starts as starts
        on starts.municipality_code = allocations.municipality_code
        and starts.provider_agb = allocations.provider_agb
        and starts.allocation_number = allocations.allocation_number
    left join definitive_ends as ends
        on ends.municipality_code = allocations.municipality_code
        and ends.provider_agb = allocations.provider_agb
        and ends.allocation_number = allocations.allocation_number
    -- valid in the month: the allocation period overlaps it
    inner join months
        on allocations.start_date <= {{ month_end('months.month_start') }}
        and (allocations.end_date is null or months.month_start <= allocations.end_date)

),

expected as (

    select *
    from allocation_months
    where first_start_date <= {{ month_end('service_month') }}
        and (definitive_end_date is null or definitive_end_date >= service_month)
        and invoice_deadline < {{ as_of_date() }}

)

select * from expected

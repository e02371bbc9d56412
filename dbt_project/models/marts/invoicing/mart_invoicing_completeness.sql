{#- Invoicing completeness per provider, municipality and care month: of the care months the
    region may expect (int_allocation_months_expected), how many were invoiced, i.e. have an
    accepted net debit (signed sum of accepted lines > 0) for that allocation and month.
    Only care months from the first care month of any invoice line in the warehouse on: before
    the warehouse's invoice history starts nothing could have been received, so an allocation
    running since earlier would otherwise show all its older months as missing. -#}

with

expected_months as (

    select * from {{ ref('int_allocation_months_expected') }}
    where service_month >= (select min(service_month) from {{ ref('fct_invoice_lines') }})

),

invoiced_allocation_months as (

    select
        municipality_code,
        provider_agb,
        allocation_number,
        service_month

    from {{ ref('fct_invoice_lines') }}
    where not is_rejected
        and allocation_number is not null
    group by municipality_code, provider_agb, allocation_number, service_month
    having sum(amount_eur) > 0

),

matched as (

    select
        expected_months.provider_agb,
        expected_months.municipality_code,
        expected_months.service_month,
        invoiced.allocation_number is not null as is_invoiced

    from expected_months
    left join invoiced_allocation_months as invoiced
        on invoiced.municipality_code = expected_months.municipality_code
        and invoiced.provider_agb = expected_months.provider_agb
        and invoiced.allocation_number = expected_months.allocation_number
        and invoiced.service_month = expected_months.service_month

),

per_provider_month as (

    select
        provider_agb,
        municipality_code,
        service_month,
        count(*) as expected_care_months,
        sum(case when is_invoiced then 1 else 0 end) as invoiced_care_months

    from matched
    group by provider_agb, municipality_code, service_month

),

final as (

    select
        cast(provider_agb as varchar) as provider_agb,
        cast(municipality_code as varchar) as municipality_code,
        cast(service_month as date) as service_month,
        cast(expected_care_months as bigint) as expected_care_months,
        cast(invoiced_care_months as bigint) as invoiced_care_months,
        cast(expected_care_months - invoiced_care_months as bigint) as missing_care_months,
        cast(round(100.0 * invoiced_care_months / expected_care_months, 2) as decimal(18, 2))
            as completeness_pct

    from per_provider_month

)

select * from final

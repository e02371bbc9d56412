{#- Woonplaatsbeginsel signals per municipality × month (docs/contract.md §3): per signal the
    number of distinct clients with at least one finding of that kind for the municipality in
    that month (int_residence_findings_detected; each also a row of dq_findings). A municipality
    × month without any signal has no row. Published as counts with small-cell suppression;
    the findings (client pseudonyms) stay in the warehouse. -#}

with

findings as (

    select * from {{ ref('int_residence_findings_detected') }}

),

final as (

    select
        municipality_code,
        signal_month as month,
        cast(count(distinct case when signal = 'months_billed_to_two' then client_key end) as integer)
            as months_billed_to_two,
        cast(count(distinct case when signal = 'overlapping_allocations' then client_key end) as integer)
            as overlapping_allocations,
        cast(
            count(distinct case when signal = 'invoice_other_than_allocation' then client_key end)
            as integer
        ) as invoice_other_than_allocation,
        cast(
            count(distinct case when signal = 'move_with_running_allocation' then client_key end)
            as integer
        ) as move_with_running_allocation

    from findings
    group by municipality_code, signal_month

)

select * from final

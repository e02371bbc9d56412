{#- How promptly each provider invoices each care month. Counts the debit lines a provider sent
    (rejected ones included: a late line the municipality refuses was still sent late); credits
    are left out because a correction's date says nothing about when the care was first invoiced. -#}

with

debit_lines as (

    select *
    from {{ ref('fct_invoice_lines') }}
    where debit_credit = 'D'
        and service_month is not null

),

per_provider_month as (

    select
        provider_agb,
        service_month,
        count(*) as lines,
        sum(amount_eur) as amount_eur,
        sum(case when is_late then 1 else 0 end) as late_lines,
        sum(case when is_late then amount_eur else 0 end) as late_amount_eur,
        {{ percentile_cont('lag_days', 0.5) }} as median_lag_days,
        {{ percentile_cont('lag_days', 0.9) }} as p90_lag_days,
        max(invoice_deadline) as invoice_deadline

    from debit_lines
    group by provider_agb, service_month

),

final as (

    select
        cast(provider_agb as varchar) as provider_agb,
        cast(service_month as date) as service_month,
        cast(lines as bigint) as lines,
        cast(amount_eur as decimal(18, 2)) as amount_eur,
        cast(late_lines as bigint) as late_lines,
        cast(late_amount_eur as decimal(18, 2)) as late_amount_eur,
        cast(round(1.0 * late_lines / lines, 4) as decimal(9, 4)) as late_share,
        cast(round(median_lag_days, 1) as decimal(9, 1)) as median_lag_days,
        cast(round(p90_lag_days, 1) as decimal(9, 1)) as p90_lag_days,
        cast(invoice_deadline as date) as invoice_deadline,
        cast(invoice_deadline < {{ as_of_date() }} as boolean) as is_deadline_passed

    from per_provider_month

)

select * from final

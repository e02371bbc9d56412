{#- What had been invoiced, and how late, as known on the reporting date: accepted net amount per
    provider, care month and lag (days from the month's last day to the declaration date), over
    the lines declared on or before JEUGDHULP_AS_OF only. The forecast learns from and grosses up
    exactly this, so a rerun with an earlier as_of sees what the region saw then. -#}

with

arrived_lines as (

    select
        provider_agb,
        service_month,
        lag_days,
        debit_credit,
        amount_eur

    from {{ ref('fct_invoice_lines') }}
    where not is_rejected
        and service_month is not null
        and lag_days is not null
        and declaration_date <= {{ as_of_date() }}
        and service_month <= {{ as_of_date() }}

),

summed as (

    select
        provider_agb,
        service_month,
        lag_days,
        sum(amount_eur) as amount_eur,
        sum(case when debit_credit = 'D' then 1 else 0 end) as debit_lines

    from arrived_lines
    group by provider_agb, service_month, lag_days

)

select
    cast(provider_agb as varchar) as provider_agb,
    cast(service_month as date) as service_month,
    cast(lag_days as integer) as lag_days,
    cast(amount_eur as decimal(18, 2)) as amount_eur,
    cast(debit_lines as bigint) as debit_lines

from summed

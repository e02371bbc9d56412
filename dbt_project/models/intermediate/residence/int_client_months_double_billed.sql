{#- Woonplaatsbeginsel: care days of one client invoiced to two municipalities (docs/contract.md §3,
    mart_residence_signals `months_billed_to_two`). One row per client × service_month × municipality
    that shares billed days with another municipality.

    A client lives in one municipality on any day, so each day of care is paid by one. Per client ×
    service_month × municipality: the accepted lines (not rejected by a JW325), credits netting
    their debits. A municipality has billed the month when its accepted net amount is > 0 (a
    credit netting the month to zero is not billed); its billed days are the periods
    (ProductPeriode, start through end inclusive) of its accepted debit lines that no accepted
    credit cancels. The signal: two municipalities that both billed the client's month with at
    least one billed day in common. Across providers: whichever provider invoiced the day, the
    client can only have lived in one of the two. A month split at a move (days before the move to
    the old municipality, from the move on to the new one) shares no day and is no signal. -#}

with

accepted_lines as (

    select
        municipality_code,
        provider_agb,
        client_key,
        service_month,
        reference_number,
        previous_reference_number,
        debit_credit,
        period_start,
        coalesce(period_end, {{ month_end('service_month') }}) as period_end,
        amount_eur

    from {{ ref('fct_invoice_lines') }}
    where not is_rejected
        and client_key is not null
        and service_month is not null
        and period_start is not null

),

credited_references as (

    select distinct provider_agb, previous_reference_number as reference_number
    from accepted_lines
    where debit_credit = 'C'
        and previous_reference_number is not null

),

billed_months as (

    select
        client_key,
        service_month,
        municipality_code,
        sum(amount_eur) as net_amount_eur

    from accepted_lines
    group by client_key, service_month, municipality_code
    having sum(amount_eur) > 0

),

billed_days as (

    select
        lines.client_key,
        lines.service_month,
        lines.municipality_code,
        lines.provider_agb,
        lines.period_start,
        lines.period_end

    from accepted_lines as lines
    inner join billed_months
        on billed_months.client_key = lines.client_key
        and billed_months.service_month = lines.service_month
        and billed_months.municipality_code = lines.municipality_code
    left join credited_references as credited
        on credited.provider_agb = lines.provider_agb
        and credited.reference_number = lines.reference_number
    where lines.debit_credit = 'D'
        and credited.reference_number is null

),

shared_days as (

    select distinct
        own.client_key,
        own.service_month,
        own.municipality_code,
        other.municipality_code as other_municipality_code

    from billed_days as own
    inner join billed_days as other
        on other.client_key = own.client_key
        and other.service_month = own.service_month
        and other.municipality_code <> own.municipality_code
        and other.period_start <= own.period_end
        and other.period_end >= own.period_start

),

provider_amounts as (

    -- what each provider netted for the client's month at each municipality, for the message
    select
        client_key,
        service_month,
        municipality_code,
        provider_agb,
        sum(amount_eur) as net_amount_eur

    from accepted_lines
    group by client_key, service_month, municipality_code, provider_agb

),

municipality_summaries as (

    select
        client_key,
        service_month,
        municipality_code,
        -- the provider with the largest net amount (ties: the lowest AGB) names the finding
        first(provider_agb order by net_amount_eur desc, provider_agb asc) as main_provider_agb,
        string_agg(
            'aanbieder ' || provider_agb || ': ' || {{ dutch_amount('net_amount_eur') }} || ' euro',
            ', ' order by provider_agb
        ) as providers_text

    from provider_amounts
    group by client_key, service_month, municipality_code

),

final as (

    select
        shared_days.client_key,
        shared_days.service_month,
        shared_days.municipality_code,
        own.main_provider_agb as provider_agb,
        cast(billed_months.net_amount_eur as decimal(18, 2)) as net_amount_eur,
        own.providers_text,
        string_agg(
            shared_days.other_municipality_code || ' (' || other.providers_text || ')',
            ' en bij ' order by shared_days.other_municipality_code
        ) as other_municipalities_text,
        count(*) as other_municipalities

    from shared_days
    inner join billed_months
        on billed_months.client_key = shared_days.client_key
        and billed_months.service_month = shared_days.service_month
        and billed_months.municipality_code = shared_days.municipality_code
    inner join municipality_summaries as own
        on own.client_key = shared_days.client_key
        and own.service_month = shared_days.service_month
        and own.municipality_code = shared_days.municipality_code
    inner join municipality_summaries as other
        on other.client_key = shared_days.client_key
        and other.service_month = shared_days.service_month
        and other.municipality_code = shared_days.other_municipality_code
    group by
        shared_days.client_key,
        shared_days.service_month,
        shared_days.municipality_code,
        own.main_provider_agb,
        billed_months.net_amount_eur,
        own.providers_text

)

select * from final

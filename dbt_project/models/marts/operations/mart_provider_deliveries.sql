{#- Does every provider with clients in care still invoice? Per municipality and provider with at
    least one allocation in care on the reporting date: the last invoice line it declared (on or
    before that date) and whether that is more than `delivery_silence_months` (default 2) months
    ago. The Dagster freshness check `providers_delivering` warns for each silent provider. -#}

{%- set silence_months = var('delivery_silence_months', 2) | int %}

with

allocations_in_care as (

    select
        municipality_code,
        provider_agb,
        count(*) as allocations_in_care,
        count(distinct client_key) as clients_in_care
    from {{ ref('int_allocations_resolved') }}
    where not is_deleted
        and start_date <= {{ as_of_date() }}
        and (end_date is null or end_date >= {{ as_of_date() }})
    group by municipality_code, provider_agb

),

declarations as (

    select
        municipality_code,
        provider_agb,
        max(declaration_date) as last_declaration_date
    from {{ ref('fct_invoice_lines') }}
    where declaration_date <= {{ as_of_date() }}
    group by municipality_code, provider_agb

)

select
    care.municipality_code,
    care.provider_agb,
    cast(care.allocations_in_care as integer) as allocations_in_care,
    cast(care.clients_in_care as integer) as clients_in_care,
    declarations.last_declaration_date,
    cast(
        {{ days_between('declarations.last_declaration_date', as_of_date()) }} as integer
    ) as days_since_last_declaration,
    coalesce(
        declarations.last_declaration_date
        < {{ add_months(as_of_date(), -silence_months) }},
        true
    ) as is_silent,
    cast({{ silence_months }} as integer) as silence_months,
    cast({{ as_of_date() }} as date) as as_of
from allocations_in_care as care
left join declarations
    on declarations.municipality_code = care.municipality_code
    and declarations.provider_agb = care.provider_agb

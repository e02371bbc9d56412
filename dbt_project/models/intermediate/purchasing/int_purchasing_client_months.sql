{#- The purchasing office's base (docs/purchasing_marts.md): accepted net amount and units per
    municipality × client × provider × product × care month, from the accepted (not rejected)
    lines declared on or before JEUGDHULP_AS_OF for care up to it (the money of
    mart_cost_concentration). Credits net their debits out. Every row keeps its sign: a row whose
    net amount is 0 or below is no care month, the marts decide what to count.

    months_observed = the months of the row's year whose invoice deadline (the lateness rule's
    term) has passed as of JEUGDHULP_AS_OF, as in mart_kpi_annual (12 for a complete year);
    months_observed_next_year the same for the year after. A year is compared like for like with
    the year before: both on the months 1 .. months_observed of the later year. -#}

{%- set last_observed = add_months(month_start(as_of_date()), -(late_term_months() | int) - 1) -%}

with

accepted_lines as (

    select
        municipality_code,
        client_key,
        provider_agb,
        product_code,
        service_month,
        product_category,
        unit,
        amount_eur,
        volume

    from {{ ref('fct_invoice_lines') }}
    where not is_rejected
        and service_month is not null
        and declaration_date <= {{ as_of_date() }}
        and service_month <= {{ as_of_date() }}

),

client_months as (

    select
        municipality_code,
        client_key,
        provider_agb,
        product_code,
        service_month,
        max(product_category) as product_category,
        max(unit) as unit,
        sum(amount_eur) as amount_eur,
        sum(volume) as units

    from accepted_lines
    group by municipality_code, client_key, provider_agb, product_code, service_month

),

with_year as (

    select
        *,
        cast(extract(year from service_month) as integer) as year,
        cast(extract(month from service_month) as integer) as month_no

    from client_months

),

final as (

    select
        cast(municipality_code as varchar) as municipality_code,
        cast(client_key as varchar) as client_key,
        cast(provider_agb as varchar) as provider_agb,
        cast(product_code as varchar) as product_code,
        cast(service_month as date) as service_month,
        cast(product_category as varchar) as product_category,
        cast(unit as varchar) as unit,
        cast(amount_eur as decimal(18, 2)) as amount_eur,
        cast(units as bigint) as units,
        year,
        month_no,
        cast(
            least(
                12,
                greatest(
                    0,
                    (extract(year from {{ last_observed }}) - year) * 12
                    + extract(month from {{ last_observed }})
                )
            ) as integer
        ) as months_observed,
        cast(
            least(
                12,
                greatest(
                    0,
                    (extract(year from {{ last_observed }}) - year - 1) * 12
                    + extract(month from {{ last_observed }})
                )
            ) as integer
        ) as months_observed_next_year

    from with_year

)

select * from final

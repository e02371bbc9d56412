{#- Every client's care and cost per month, by financing form: ZIN (zorg in natura, the iJw
    invoices) and PGB (persoonsgebonden budget, the SVB's spend). One row per financing ×
    municipality × client × provider × product_code × month (PGB: provider and product_code null,
    product_category its finest level).

    ZIN: amount_eur = the accepted net amount invoiced to the municipality (credits netted, so
    it sums to mart_costs_monthly); is_care_month = the care month (int_care_months_netted:
    client × provider × product_code × month netting above zero) counts for this municipality,
    so a care month split over two municipalities is a care month of one, as in mart_kpi_annual.
    segment = that of the product version valid in the month (latest valid_from when several),
    as mart_costs_monthly.
    PGB: amount_eur = the SVB spend of the municipality for the client, product category and
    month; a PGB care month is a client × product category × month whose spend for the
    municipality is above zero (PGB has no provider or product code, so the category is its
    finest grain; a client with PGB in two categories has two PGB care months that month). -#}

with

accepted_lines as (

    select *
    from {{ ref('fct_invoice_lines') }}
    where not is_rejected
        and service_month is not null

),

zin_cells as (

    select
        municipality_code,
        client_key,
        provider_agb,
        product_code,
        service_month,
        max(product_category) as product_category,
        sum(amount_eur) as amount_eur

    from accepted_lines
    group by municipality_code, client_key, provider_agb, product_code, service_month

),

care_months as (

    select municipality_code, client_key, provider_agb, product_code, service_month
    from {{ ref('int_care_months_netted') }}

),

segments as (

    select
        zin_cells.municipality_code,
        zin_cells.client_key,
        zin_cells.provider_agb,
        zin_cells.product_code,
        zin_cells.service_month,
        products.segment,
        row_number() over (
            partition by
                zin_cells.municipality_code,
                zin_cells.client_key,
                zin_cells.provider_agb,
                zin_cells.product_code,
                zin_cells.service_month
            order by products.valid_from desc
        ) as version_rank

    from zin_cells
    inner join {{ ref('stg_reference__products') }} as products
        on products.product_code = zin_cells.product_code
        and products.product_category = zin_cells.product_category
        and (products.valid_from is null or products.valid_from <= {{ month_end('zin_cells.service_month') }})
        and (products.valid_to is null or products.valid_to >= zin_cells.service_month)

),

zin as (

    select
        'ZIN' as financing,
        zin_cells.municipality_code,
        zin_cells.client_key,
        zin_cells.provider_agb,
        zin_cells.product_code,
        zin_cells.product_category,
        segments.segment,
        zin_cells.service_month,
        zin_cells.amount_eur,
        care_months.client_key is not null as is_care_month

    from zin_cells
    left join care_months
        on care_months.municipality_code = zin_cells.municipality_code
        and care_months.client_key is not distinct from zin_cells.client_key
        and care_months.provider_agb is not distinct from zin_cells.provider_agb
        and care_months.product_code is not distinct from zin_cells.product_code
        and care_months.service_month = zin_cells.service_month
    left join segments
        on segments.municipality_code = zin_cells.municipality_code
        and segments.client_key is not distinct from zin_cells.client_key
        and segments.provider_agb is not distinct from zin_cells.provider_agb
        and segments.product_code is not distinct from zin_cells.product_code
        and segments.service_month = zin_cells.service_month
        and segments.version_rank = 1

),

pgb as (

    select
        'PGB' as financing,
        municipality_code,
        client_key,
        cast(null as varchar) as provider_agb,
        cast(null as varchar) as product_code,
        product_category,
        cast(null as varchar) as segment,
        spend_month as service_month,
        sum(amount_eur) as amount_eur,
        sum(amount_eur) > 0 as is_care_month

    from {{ ref('stg_pgb__spend') }}
    where spend_month is not null
        and municipality_code is not null
        and client_key is not null
    group by municipality_code, client_key, product_category, spend_month

),

final as (

    select
        cast(financing as varchar) as financing,
        cast(municipality_code as varchar) as municipality_code,
        cast(client_key as varchar) as client_key,
        cast(provider_agb as varchar) as provider_agb,
        cast(product_code as varchar) as product_code,
        cast(product_category as varchar) as product_category,
        cast(segment as varchar) as segment,
        cast(service_month as date) as service_month,
        cast(amount_eur as decimal(18, 2)) as amount_eur,
        cast(is_care_month as boolean) as is_care_month

    from zin

    union all

    select
        cast(financing as varchar) as financing,
        cast(municipality_code as varchar) as municipality_code,
        cast(client_key as varchar) as client_key,
        cast(provider_agb as varchar) as provider_agb,
        cast(product_code as varchar) as product_code,
        cast(product_category as varchar) as product_category,
        cast(segment as varchar) as segment,
        cast(service_month as date) as service_month,
        cast(amount_eur as decimal(18, 2)) as amount_eur,
        cast(is_care_month as boolean) as is_care_month

    from pgb

)

select * from final

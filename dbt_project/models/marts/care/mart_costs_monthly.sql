{#- Accepted cost per municipality, provider, product and care month. Amounts and volumes are
    signed sums of the accepted (not rejected) lines, so a credit nets its debit out; a client
    counts when their own net amount in the cell is above zero. -#}

with

accepted_lines as (

    select *
    from {{ ref('fct_invoice_lines') }}
    where not is_rejected
        and service_month is not null

),

client_cells as (

    select
        municipality_code,
        provider_agb,
        product_code,
        service_month,
        client_key,
        max(product_category) as product_category,
        sum(amount_eur) as net_amount_eur,
        sum(volume) as net_volume

    from accepted_lines
    group by municipality_code, provider_agb, product_code, service_month, client_key

),

cells as (

    select
        municipality_code,
        provider_agb,
        product_code,
        service_month,
        max(product_category) as product_category,
        sum(net_amount_eur) as amount_eur,
        sum(net_volume) as volume,
        sum(case when net_amount_eur > 0 then 1 else 0 end) as clients

    from client_cells
    group by municipality_code, provider_agb, product_code, service_month

),

products as (

    select * from {{ ref('stg_reference__products') }}

),

-- the segment of the product version valid in the care month; the latest version when several are
segments as (

    select
        cells.municipality_code,
        cells.provider_agb,
        cells.product_code,
        cells.service_month,
        products.segment,
        row_number() over (
            partition by cells.municipality_code, cells.provider_agb, cells.product_code, cells.service_month
            order by products.valid_from desc
        ) as version_rank

    from cells
    inner join products
        on products.product_code = cells.product_code
        and products.product_category = cells.product_category
        and (products.valid_from is null or products.valid_from <= {{ month_end('cells.service_month') }})
        and (products.valid_to is null or products.valid_to >= cells.service_month)

),

final as (

    select
        cast(cells.municipality_code as varchar) as municipality_code,
        cast(cells.provider_agb as varchar) as provider_agb,
        cast(cells.product_code as varchar) as product_code,
        cast(cells.service_month as date) as service_month,
        cast(cells.product_category as varchar) as product_category,
        cast(segments.segment as varchar) as segment,
        cast(cells.amount_eur as decimal(18, 2)) as amount_eur,
        cast(cells.volume as bigint) as volume,
        cast(cells.clients as bigint) as clients

    from cells
    left join segments
        on segments.municipality_code = cells.municipality_code
        and segments.provider_agb = cells.provider_agb
        and segments.product_code = cells.product_code
        and segments.service_month = cells.service_month
        and segments.version_rank = 1

)

select * from final

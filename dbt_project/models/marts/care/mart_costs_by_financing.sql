{#- Cost and clients by financing form (docs/contract.md §3): ZIN (zorg in natura, the accepted
    iJw invoice lines) and PGB (persoonsgebonden budget, the SVB's spend) per municipality,
    product category and month, from int_client_months_financed. amount_eur = the signed net
    amount (ZIN: invoiced to the municipality, summing to mart_costs_monthly; PGB: spent);
    clients = distinct clients with a care month of that financing in the category and month
    (ZIN: a care month counted for this municipality, as mart_kpi_annual; PGB: net spend above
    zero); care_months likewise. A product category the lines or the SVB leave empty is
    `onbekend`. -#}

with

client_months as (

    select * from {{ ref('int_client_months_financed') }}

),

cells as (

    select
        municipality_code,
        financing,
        coalesce(product_category, 'onbekend') as product_category,
        service_month,
        sum(amount_eur) as amount_eur,
        count(distinct case when is_care_month then client_key end) as clients,
        sum(case when is_care_month then 1 else 0 end) as care_months

    from client_months
    group by municipality_code, financing, coalesce(product_category, 'onbekend'), service_month

),

final as (

    select
        cast(cells.municipality_code as varchar) as municipality_code,
        cast(cells.financing as varchar) as financing,
        cast(cells.product_category as varchar) as product_category,
        cast(coalesce(categories.description, 'Onbekend') as varchar) as product_category_description,
        cast(cells.service_month as date) as service_month,
        cast(cells.amount_eur as decimal(18, 2)) as amount_eur,
        cast(cells.clients as bigint) as clients,
        cast(cells.care_months as bigint) as care_months

    from cells
    left join {{ ref('code_product_categories') }} as categories
        on categories.product_category = cells.product_category

)

select * from final

{#- Cost per municipality × product category × year, with all categories ('totaal') per
    municipality and the region ('regio'). persons = distinct persons in that very cell. -#}

{{ config(materialized='table', schema='publication') }}

with

cells as (

    select
        municipality_code,
        coalesce(product_category, 'onbekend') as product_category,
        year(service_month) as year,
        client_key,
        amount_eur

    from {{ ref('rpt__client_cells') }}

),

grouped as (

    select
        coalesce(municipality_code, 'regio') as municipality_code,
        coalesce(product_category, 'totaal') as product_category,
        year,
        count(distinct client_key) as persons,
        sum(amount_eur) as amount_eur

    from cells
    group by grouping sets (
        (municipality_code, product_category, year),
        (municipality_code, year),
        (product_category, year),
        (year)
    )

),

labels as (

    select * from {{ ref('rpt__labels') }}

),

final as (

    select
        cast(grouped.municipality_code as varchar) as municipality_code,
        cast(coalesce(municipality.label, grouped.municipality_code) as varchar)
            as municipality_name,
        cast(grouped.product_category as varchar) as product_category,
        cast(coalesce(category.label, 'Productcategorie ' || grouped.product_category) as varchar)
            as product_category_name,
        cast(grouped.year as integer) as year,
        cast(grouped.persons as bigint) as persons,
        cast(grouped.amount_eur as decimal(18, 2)) as amount_eur

    from grouped
    left join labels as municipality
        on municipality.kind = 'municipality' and municipality.code = grouped.municipality_code
    left join labels as category
        on category.kind = 'product_category' and category.code = grouped.product_category

)

select * from final

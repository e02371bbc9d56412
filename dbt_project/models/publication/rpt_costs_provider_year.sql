{#- Cost per municipality × provider × year with the totals a controller adds up: all providers
    ('totaal') per municipality, and the region ('regio') per provider and in all. persons =
    distinct persons with an accepted line in that very cell (not a sum of monthly counts). -#}

{{ config(materialized='table', schema='publication') }}

with

cells as (

    select
        municipality_code,
        provider_agb,
        year(service_month) as year,
        client_key,
        amount_eur

    from {{ ref('rpt__client_cells') }}

),

grouped as (

    select
        coalesce(municipality_code, 'regio') as municipality_code,
        coalesce(provider_agb, 'totaal') as provider_agb,
        year,
        count(distinct client_key) as persons,
        sum(amount_eur) as amount_eur

    from cells
    group by grouping sets (
        (municipality_code, provider_agb, year),
        (municipality_code, year),
        (provider_agb, year),
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
        cast(grouped.provider_agb as varchar) as provider_agb,
        cast(coalesce(provider.label, 'AGB ' || grouped.provider_agb) as varchar) as provider_name,
        cast(grouped.year as integer) as year,
        cast(grouped.persons as bigint) as persons,
        cast(grouped.amount_eur as decimal(18, 2)) as amount_eur

    from grouped
    left join labels as municipality
        on municipality.kind = 'municipality' and municipality.code = grouped.municipality_code
    left join labels as provider
        on provider.kind = 'provider' and provider.code = grouped.provider_agb

)

select * from final

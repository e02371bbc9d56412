{#- The report's referrers (docs/publishing.md): per target, year and referrer type the
    allocations, youths and cost of mart_referrers; the region ('regio') sums the municipalities
    (a youth referred in two municipalities counts in both, as in the municipalities' rows). -#}

{{ config(materialized='table', schema='publication') }}

with

referrers as (

    select * from {{ ref('mart_referrers') }}

),

grouped as (

    select
        coalesce(municipality_code, 'regio') as municipality_code,
        year,
        referrer_type,
        max(referrer_description) as referrer_description,
        sum(allocations) as allocations,
        sum(youths) as youths,
        sum(cost_eur) as cost_eur

    from referrers
    group by grouping sets ((municipality_code, year, referrer_type), (year, referrer_type))

),

final as (

    select
        cast(municipality_code as varchar) as municipality_code,
        cast(year as integer) as year,
        cast(referrer_type as varchar) as referrer_type,
        cast(referrer_description as varchar) as referrer_description,
        cast(allocations as bigint) as allocations,
        cast(youths as bigint) as youths,
        cast(cost_eur as decimal(18, 2)) as cost_eur

    from grouped

)

select * from final

{#- The Dutch name of each product and provider code as the reference files give it, for the marts
    that label a dimension value (mart_throughput, mart_clients_by_dimension): a product's
    description from its latest version (latest valid_from, then the later row), a provider's
    name from its first row. -#}

with

product_versions as (

    select
        product_code,
        product_description,
        row_number() over (
            partition by product_code
            order by valid_from desc nulls last, record_position desc
        ) as version_rank

    from {{ ref('stg_reference__products') }}

),

provider_rows as (

    select
        provider_agb,
        provider_name,
        row_number() over (partition by provider_agb order by record_position) as position_rank

    from {{ ref('stg_reference__providers') }}

),

final as (

    select
        cast('product_code' as varchar) as dimension,
        cast(product_code as varchar) as dimension_value,
        cast(product_description as varchar) as dimension_label
    from product_versions
    where version_rank = 1

    union all

    select
        cast('provider' as varchar) as dimension,
        cast(provider_agb as varchar) as dimension_value,
        cast(provider_name as varchar) as dimension_label
    from provider_rows
    where position_rank = 1

)

select * from final

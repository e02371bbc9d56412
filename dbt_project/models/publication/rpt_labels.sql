{#- The Dutch name of every code a published table shows (docs/publishing.md): the publisher
    puts it beside the code in each published file (jeugdhulp/publish/warehouse.py). The kinds of
    rpt__labels (municipalities, providers, product categories, segments, months, the totals'
    codes), each product's description (int_reference_labels) and each referrer type's
    (COD327, seed code_referrer_types). Reference data only: no figures. -#}

{{ config(materialized='table', schema='publication') }}

with

report_labels as (

    select
        kind,
        code,
        label

    from {{ ref('rpt__labels') }}

),

products as (

    select
        'product' as kind,
        dimension_value as code,
        dimension_label as label

    from {{ ref('int_reference_labels') }}
    where dimension = 'product_code' and dimension_value is not null

),

referrer_types as (

    select
        'referrer_type' as kind,
        lpad(cast(referrer_type_code as varchar), 2, '0') as code,
        description as label

    from {{ ref('code_referrer_types') }}

),

combined as (

    select * from report_labels
    union all
    select * from products
    union all
    select * from referrer_types

),

final as (

    select
        cast(kind as varchar) as kind,
        cast(code as varchar) as code,
        cast(label as varchar) as label

    from combined

)

select * from final

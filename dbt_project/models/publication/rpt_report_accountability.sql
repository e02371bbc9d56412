{#- The report's accountability reconciliation (docs/publishing.md): per target, provider and
    accounting year, the provider's accountability (productieverantwoording, due 1 April of the
    next year) against its accepted invoices, summed over the products of
    mart_accountability_reconciliation. A municipality's rows are its own; the region's ('regio')
    every municipality's. provider_agb 'totaal': all providers of the target together.
    products_* count the product rows per status; status is the provider's worst: verschil, then
    geen verantwoording, then geen declaraties, else akkoord. -#}

{{ config(materialized='table', schema='publication') }}

with

reconciliation as (

    select * from {{ ref('mart_accountability_reconciliation') }}

),

per_target as (

    select
        municipality_code,
        provider_agb,
        year,
        accountability_amount_eur,
        invoiced_amount_eur,
        difference_eur,
        status,
        delivered_on_time
    from reconciliation

    union all

    select
        'regio' as municipality_code,
        provider_agb,
        year,
        accountability_amount_eur,
        invoiced_amount_eur,
        difference_eur,
        status,
        delivered_on_time
    from reconciliation

),

grouped as (

    select
        municipality_code,
        coalesce(provider_agb, 'totaal') as provider_agb,
        year,
        sum(accountability_amount_eur) as accountability_amount_eur,
        sum(invoiced_amount_eur) as invoiced_amount_eur,
        sum(difference_eur) as difference_eur,
        sum(abs(difference_eur)) as absolute_difference_eur,
        count(*) as products,
        count(*) filter (where status = 'akkoord') as products_akkoord,
        count(*) filter (where status = 'verschil') as products_verschil,
        count(*) filter (where status = 'geen_verantwoording') as products_geen_verantwoording,
        count(*) filter (where status = 'geen_declaraties') as products_geen_declaraties,
        -- on time only when every row of the cell is; null while none is due yet
        bool_and(delivered_on_time) as delivered_on_time

    from per_target
    group by grouping sets ((municipality_code, provider_agb, year), (municipality_code, year))

),

labels as (

    select * from {{ ref('rpt__labels') }}

),

final as (

    select
        cast(grouped.municipality_code as varchar) as municipality_code,
        cast(grouped.provider_agb as varchar) as provider_agb,
        cast(coalesce(provider.label, 'AGB ' || grouped.provider_agb) as varchar) as provider_name,
        cast(grouped.year as integer) as year,
        cast(grouped.accountability_amount_eur as decimal(18, 2)) as accountability_amount_eur,
        cast(grouped.invoiced_amount_eur as decimal(18, 2)) as invoiced_amount_eur,
        cast(grouped.difference_eur as decimal(18, 2)) as difference_eur,
        cast(grouped.absolute_difference_eur as decimal(18, 2)) as absolute_difference_eur,
        cast(grouped.products as bigint) as products,
        cast(grouped.products_akkoord as bigint) as products_akkoord,
        cast(grouped.products_verschil as bigint) as products_verschil,
        cast(grouped.products_geen_verantwoording as bigint) as products_geen_verantwoording,
        cast(grouped.products_geen_declaraties as bigint) as products_geen_declaraties,
        cast(
            case
                when grouped.products_verschil > 0 then 'verschil'
                when grouped.products_geen_verantwoording > 0 then 'geen verantwoording'
                when grouped.products_geen_declaraties > 0 then 'geen declaraties'
                else 'akkoord'
            end as varchar
        ) as status,
        grouped.delivered_on_time

    from grouped
    left join labels as provider
        on provider.kind = 'provider' and provider.code = grouped.provider_agb

)

select * from final

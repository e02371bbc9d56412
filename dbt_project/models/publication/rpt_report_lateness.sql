{#- The report's late invoicing per provider (docs/publishing.md): per target and year, each
    provider's lines of the year's care months and how many came in after the deadline
    (mart_invoice_timeliness, provider level: the region's figures of the provider). A
    municipality's page lists the providers that invoiced it (any row in mart_costs_monthly); the
    region's ('regio') every provider. provider_agb 'totaal': those providers together. -#}

{{ config(materialized='table', schema='publication') }}

with

timeliness as (

    select
        provider_agb,
        extract(year from service_month) as year,
        sum(lines) as lines,
        sum(late_lines) as late_lines

    from {{ ref('mart_invoice_timeliness') }}
    group by provider_agb, extract(year from service_month)

),

target_providers as (

    select distinct municipality_code, provider_agb
    from {{ ref('mart_costs_monthly') }}
    where municipality_code is not null

    union all

    select distinct 'regio' as municipality_code, provider_agb
    from timeliness

),

cells as (

    select
        target_providers.municipality_code,
        timeliness.provider_agb,
        timeliness.year,
        timeliness.lines,
        coalesce(timeliness.late_lines, 0) as late_lines

    from target_providers
    inner join timeliness
        on timeliness.provider_agb = target_providers.provider_agb

),

grouped as (

    select
        municipality_code,
        coalesce(provider_agb, 'totaal') as provider_agb,
        year,
        sum(lines) as lines,
        sum(late_lines) as late_lines

    from cells
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
        cast(grouped.lines as bigint) as lines,
        cast(grouped.late_lines as bigint) as late_lines,
        cast(case when grouped.lines > 0 then 100.0 * grouped.late_lines / grouped.lines end as double)
            as late_pct

    from grouped
    left join labels as provider
        on provider.kind = 'provider' and provider.code = grouped.provider_agb

)

select * from final

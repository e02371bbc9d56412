{#- The report's invoicing completeness per provider (docs/publishing.md): per target and year,
    the care months the allocations expect of each provider, those invoiced and those missing
    (mart_invoicing_completeness, summed over the year's care months; the region 'regio' over the
    municipalities). provider_agb 'totaal': all providers of the target. -#}

{{ config(materialized='table', schema='publication') }}

with

completeness as (

    select
        municipality_code,
        provider_agb,
        extract(year from service_month) as year,
        expected_care_months,
        invoiced_care_months,
        missing_care_months

    from {{ ref('mart_invoicing_completeness') }}

),

grouped as (

    select
        coalesce(municipality_code, 'regio') as municipality_code,
        coalesce(provider_agb, 'totaal') as provider_agb,
        year,
        sum(expected_care_months) as expected_care_months,
        sum(invoiced_care_months) as invoiced_care_months,
        sum(missing_care_months) as missing_care_months

    from completeness
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
        cast(grouped.provider_agb as varchar) as provider_agb,
        cast(coalesce(provider.label, 'AGB ' || grouped.provider_agb) as varchar) as provider_name,
        cast(grouped.year as integer) as year,
        cast(grouped.expected_care_months as bigint) as expected_care_months,
        cast(grouped.invoiced_care_months as bigint) as invoiced_care_months,
        cast(grouped.missing_care_months as bigint) as missing_care_months,
        cast(
            case
                when grouped.expected_care_months > 0
                    then 100.0 * coalesce(grouped.invoiced_care_months, 0) / grouped.expected_care_months
            end
            as double
        ) as invoiced_pct

    from grouped
    left join labels as provider
        on provider.kind = 'provider' and provider.code = grouped.provider_agb

)

select * from final

{#- Cost per municipality × segment × care month, with every margin: all segments ('totaal'),
    the whole year (month 'jaar') and the region ('regio'). persons = distinct persons in that
    very cell: a person in care in three months counts once in the year row. -#}

{{ config(materialized='table', schema='publication') }}

with

cells as (

    select
        municipality_code,
        segment,
        year(service_month) as year,
        lpad(cast(month(service_month) as varchar), 2, '0') as month,
        client_key,
        amount_eur

    from {{ ref('rpt__client_cells') }}

),

grouped as (

    select
        coalesce(municipality_code, 'regio') as municipality_code,
        coalesce(segment, 'totaal') as segment,
        year,
        coalesce(month, 'jaar') as month,
        count(distinct client_key) as persons,
        sum(amount_eur) as amount_eur

    from cells
    group by grouping sets (
        (municipality_code, segment, year, month),
        (municipality_code, segment, year),
        (municipality_code, year, month),
        (municipality_code, year),
        (segment, year, month),
        (segment, year),
        (year, month),
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
        cast(grouped.segment as varchar) as segment,
        cast(coalesce(segment_label.label, grouped.segment) as varchar) as segment_name,
        cast(grouped.year as integer) as year,
        cast(grouped.month as varchar) as month,
        cast(month_label.label as varchar) as month_name,
        cast(grouped.persons as bigint) as persons,
        cast(grouped.amount_eur as decimal(18, 2)) as amount_eur

    from grouped
    left join labels as municipality
        on municipality.kind = 'municipality' and municipality.code = grouped.municipality_code
    left join labels as segment_label
        on segment_label.kind = 'segment' and segment_label.code = grouped.segment
    left join labels as month_label
        on month_label.kind = 'month' and month_label.code = grouped.month

)

select * from final

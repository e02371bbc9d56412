{#- The report's throughput (docs/publishing.md, docs/throughput_method.md): per target,
    half-year and hulpvorm (each trajectory once: the mart's 'hulpvorm' dimension) the youths,
    starts, ends and running trajectories of mart_throughput; hulpvorm 'totaal' = all hulpvormen,
    'regio' = all municipalities (sums: a youth in two municipalities counts in both). The
    average duration of the ended trajectories is weighted by `ended`. is_complete_period: every
    row of the half-year in the mart is complete (the same for every target). -#}

{{ config(materialized='table', schema='publication') }}

with

throughput as (

    select * from {{ ref('mart_throughput') }}
    where dimension = 'hulpvorm'

),

completeness as (

    select half_year, bool_and(is_complete_period) as is_complete_period
    from {{ ref('mart_throughput') }}
    group by half_year

),

grouped as (

    select
        coalesce(municipality_code, 'regio') as municipality_code,
        half_year,
        coalesce(dimension_value, 'totaal') as hulpvorm,
        max(dimension_label) as hulpvorm_label,
        sum(youths) as youths,
        sum(started) as started,
        sum(started_repeat) as started_repeat,
        sum(ended) as ended,
        sum(ended_by_plan) as ended_by_plan,
        sum(ended_premature) as ended_premature,
        sum(running_at_end) as running_at_end,
        sum(avg_duration_days_ended * ended) as duration_days_ended

    from throughput
    group by grouping sets (
        (municipality_code, half_year, dimension_value),
        (municipality_code, half_year),
        (half_year, dimension_value),
        (half_year)
    )

),

final as (

    select
        cast(grouped.municipality_code as varchar) as municipality_code,
        cast(grouped.half_year as varchar) as half_year,
        cast(grouped.hulpvorm as varchar) as hulpvorm,
        cast(
            case when grouped.hulpvorm = 'totaal' then 'Alle hulpvormen' else grouped.hulpvorm_label end
            as varchar
        ) as hulpvorm_label,
        cast(grouped.youths as bigint) as youths,
        cast(grouped.started as bigint) as started,
        cast(grouped.started_repeat as bigint) as started_repeat,
        cast(grouped.ended as bigint) as ended,
        cast(grouped.ended_by_plan as bigint) as ended_by_plan,
        cast(grouped.ended_premature as bigint) as ended_premature,
        cast(grouped.running_at_end as bigint) as running_at_end,
        cast(
            case when grouped.ended > 0 then grouped.duration_days_ended / grouped.ended end as double
        ) as avg_duration_days_ended,
        cast(completeness.is_complete_period as boolean) as is_complete_period

    from grouped
    left join completeness
        on completeness.half_year = grouped.half_year

)

select * from final

{#- The report's KPI table (docs/publishing.md), per target and year: a municipality's row is its
    mart_kpi_annual row; the region ('regio') is the sum of the municipalities (a youth who moved
    in the year counts in both; intensity is not summable and stays null). The region's
    months_observed is the largest of its municipalities'; its averages are ratios of its sums.
    Like for like: the region's change compares the observed months of the year with the same
    months of the year before, both sides summed over the municipalities that have both sides
    (municipalities_left_out counts the others); the average cost per youth-month changes as
    (cost / care months) on each side. avg_months_per_youth_annualised: care_months_annualised /
    non_unique_youths, for a year still incomplete. -#}

{{ config(materialized='table', schema='publication') }}

with

kpi as (

    select * from {{ ref('mart_kpi_annual') }}

),

compared as (

    select
        *,
        unique_youths_observed is not null
        and previous_unique_youths_observed is not null
        and care_months_observed is not null
        and previous_care_months_observed is not null
        and total_cost_observed_eur is not null
        and previous_total_cost_observed_eur is not null as has_both_sides

    from kpi

),

region as (

    select
        'regio' as municipality_code,
        year,
        max(months_observed) as months_observed,
        sum(unique_youths) as unique_youths,
        sum(non_unique_youths) as non_unique_youths,
        sum(care_months) as care_months,
        sum(care_months_annualised) as care_months_annualised,
        sum(total_cost_eur) as total_cost_eur,
        sum(total_cost_annualised_eur) as total_cost_annualised_eur,
        sum(forecast_cost_eur) as forecast_cost_eur,
        sum(case when has_both_sides then unique_youths_observed end) as youths_now,
        sum(case when has_both_sides then previous_unique_youths_observed end) as youths_before,
        sum(case when has_both_sides then care_months_observed end) as months_now,
        sum(case when has_both_sides then previous_care_months_observed end) as months_before,
        sum(case when has_both_sides then total_cost_observed_eur end) as cost_now,
        sum(case when has_both_sides then previous_total_cost_observed_eur end) as cost_before,
        count(*) filter (where not has_both_sides) as municipalities_left_out

    from compared
    group by year

),

region_rows as (

    select
        municipality_code,
        year,
        months_observed,
        unique_youths,
        non_unique_youths,
        care_months,
        care_months_annualised,
        total_cost_eur,
        total_cost_annualised_eur,
        forecast_cost_eur,
        case when non_unique_youths > 0 then 1.0 * care_months / non_unique_youths end
            as avg_months_per_youth,
        case when care_months > 0 then 1.0 * total_cost_eur / care_months end
            as avg_cost_per_youth_month,
        cast(null as double) as intensity_hours_per_month,
        case when youths_before > 0 then round(100.0 * youths_now / youths_before - 100, 2) end
            as unique_youths_change_pct,
        cast(null as double) as non_unique_youths_change_pct,
        case when months_before > 0 then round(100.0 * months_now / months_before - 100, 2) end
            as care_months_change_pct,
        case when cost_before > 0 then round(100.0 * cost_now / cost_before - 100, 2) end
            as total_cost_change_pct,
        case
            when months_now > 0 and months_before > 0 and cost_before > 0
                then round(
                        100.0 * (1.0 * cost_now / months_now) / (1.0 * cost_before / months_before) - 100, 2
                    )
        end as avg_cost_per_youth_month_change_pct,
        municipalities_left_out

    from region

),

municipality_rows as (

    select
        municipality_code,
        year,
        months_observed,
        unique_youths,
        non_unique_youths,
        care_months,
        care_months_annualised,
        total_cost_eur,
        total_cost_annualised_eur,
        forecast_cost_eur,
        avg_months_per_youth,
        avg_cost_per_youth_month,
        intensity_hours_per_month,
        unique_youths_change_pct,
        non_unique_youths_change_pct,
        care_months_change_pct,
        total_cost_change_pct,
        avg_cost_per_youth_month_change_pct,
        cast(null as bigint) as municipalities_left_out

    from kpi

),

combined as (

    select * from municipality_rows
    union all
    select * from region_rows

),

labels as (

    select * from {{ ref('rpt__labels') }}

),

final as (

    select
        cast(combined.municipality_code as varchar) as municipality_code,
        cast(coalesce(municipality.label, combined.municipality_code) as varchar) as municipality_name,
        cast(combined.year as integer) as year,
        cast(combined.months_observed as integer) as months_observed,
        cast(combined.unique_youths as bigint) as unique_youths,
        cast(combined.non_unique_youths as bigint) as non_unique_youths,
        cast(combined.care_months as bigint) as care_months,
        cast(combined.care_months_annualised as decimal(18, 2)) as care_months_annualised,
        cast(combined.total_cost_eur as decimal(18, 2)) as total_cost_eur,
        cast(combined.total_cost_annualised_eur as decimal(18, 2)) as total_cost_annualised_eur,
        cast(combined.forecast_cost_eur as decimal(18, 2)) as forecast_cost_eur,
        cast(combined.avg_months_per_youth as double) as avg_months_per_youth,
        cast(
            case
                when combined.non_unique_youths > 0
                    then 1.0 * combined.care_months_annualised / combined.non_unique_youths
            end
            as double
        ) as avg_months_per_youth_annualised,
        cast(combined.avg_cost_per_youth_month as double) as avg_cost_per_youth_month,
        cast(combined.intensity_hours_per_month as double) as intensity_hours_per_month,
        cast(combined.unique_youths_change_pct as double) as unique_youths_change_pct,
        cast(combined.non_unique_youths_change_pct as double) as non_unique_youths_change_pct,
        cast(combined.care_months_change_pct as double) as care_months_change_pct,
        cast(combined.total_cost_change_pct as double) as total_cost_change_pct,
        cast(combined.avg_cost_per_youth_month_change_pct as double)
            as avg_cost_per_youth_month_change_pct,
        cast(combined.municipalities_left_out as bigint) as municipalities_left_out

    from combined
    left join labels as municipality
        on municipality.kind = 'municipality' and municipality.code = combined.municipality_code

)

select * from final

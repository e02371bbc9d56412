{#- Every allocation (not deleted, started by JEUGDHULP_AS_OF) once per calendar year its period
    overlaps, with its referrer type (int_allocations_referred): the allocations and years
    mart_referrers and mart_youths_unknown_to_municipality count. Years run from the first
    allocation's year to the reporting year. -#}

with

allocations as (

    select * from {{ ref('int_allocations_referred') }}
    where start_date is not null
        and start_date <= {{ as_of_date() }}

),

years as (

    select cast(year_start as date) as year_start, cast(extract(year from year_start) as integer) as year
    from (
        {{ month_series(
            "(select cast(cast(extract(year from min(start_date)) as varchar) || '-01-01' as date) from allocations)",
            month_start(as_of_date())
        ) }}
    ) as months (year_start)
    where extract(month from year_start) = 1

),

final as (

    select
        allocations.municipality_code,
        allocations.allocation_number,
        allocations.client_key,
        allocations.referrer_type,
        years.year

    from allocations
    inner join years
        on allocations.start_date <= cast(cast(years.year as varchar) || '-12-31' as date)
        and (allocations.end_date is null or years.year_start <= allocations.end_date)

)

select * from final

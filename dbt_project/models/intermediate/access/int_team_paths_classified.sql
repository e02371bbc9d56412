{#- Each youth helped by the municipal team or by specialist care, per municipality × year, with
    the path they took (docs/contract.md §3, mart_local_team).

    Team: a usable registration (int_team_registrations_assessed) of the municipality overlapping
    the year: started on or before 31 December (and the reporting date), not ended before 1
    January; `first_team_start` is the earliest start among them (it may lie in an earlier year).
    Specialist care in the municipality in the year: a care month counted for the municipality
    (int_care_months_netted: accepted net amount > 0) or an effective JW305 start of an allocation
    of the municipality, in the year and on or before the reporting date. `first_specialist_date`
    is the earliest JW305 start in the year; for a youth without one (care running on from an
    earlier year, or invoiced without a start message) the first day of the first care month of
    the year.

    path: `team_only` (team, no specialist care), `team_then_specialist` (first_team_start on or
    before first_specialist_date; days_team_to_specialist = the days in between),
    `specialist_then_team` (the team came later), `specialist_without_team` (no team registration
    overlapping the year). Only municipality × years with at least one team registration are
    kept: without an export, no one can tell "no team contact" from "not delivered". -#}

with

as_of as (

    select {{ as_of_date() }} as as_of_date

),

registrations as (

    select
        registrations.client_key,
        registrations.municipality_code,
        registrations.start_date,
        least(coalesce(registrations.end_date, as_of.as_of_date), as_of.as_of_date) as end_date

    from {{ ref('int_team_registrations_assessed') }} as registrations
    cross join as_of
    where registrations.is_usable

),

years as (

    select distinct cast(extract(year from month_start) as integer) as year
    from (
        {{ month_series(
            "(select min(start_date) from " ~ ref('int_team_registrations_assessed') ~ " where is_usable)",
            as_of_date()
        ) }}
    ) as months

),

team as (

    select
        registrations.municipality_code,
        registrations.client_key,
        years.year,
        min(registrations.start_date) as first_team_start

    from registrations
    inner join years
        on registrations.start_date <= cast(cast(years.year as varchar) || '-12-31' as date)
        and registrations.end_date >= cast(cast(years.year as varchar) || '-01-01' as date)
    group by 1, 2, 3

),

care_months as (

    select
        municipality_code,
        client_key,
        cast(extract(year from service_month) as integer) as year,
        min(service_month) as first_care_month

    from {{ ref('int_care_months_netted') }}
    where service_month <= {{ as_of_date() }}
    group by 1, 2, 3

),

starts as (

    select
        municipality_code,
        client_key,
        cast(extract(year from start_date) as integer) as year,
        min(start_date) as first_start

    from {{ ref('int_starts_resolved') }}
    where start_date <= {{ as_of_date() }}
    group by 1, 2, 3

),

specialist as (

    select
        coalesce(starts.municipality_code, care_months.municipality_code) as municipality_code,
        coalesce(starts.client_key, care_months.client_key) as client_key,
        coalesce(starts.year, care_months.year) as year,
        coalesce(starts.first_start, care_months.first_care_month) as first_specialist_date

    from starts
    full outer join care_months
        on care_months.municipality_code = starts.municipality_code
        and care_months.client_key = starts.client_key
        and care_months.year = starts.year

),

team_years as (

    select distinct municipality_code, year from team

),

classified as (

    select
        coalesce(team.municipality_code, specialist.municipality_code) as municipality_code,
        coalesce(team.client_key, specialist.client_key) as client_key,
        coalesce(team.year, specialist.year) as year,
        team.first_team_start,
        specialist.first_specialist_date,
        case
            when specialist.client_key is null then 'team_only'
            when team.client_key is null then 'specialist_without_team'
            when team.first_team_start <= specialist.first_specialist_date
                then 'team_then_specialist'
            else 'specialist_then_team'
        end as path

    from team
    full outer join specialist
        on specialist.municipality_code = team.municipality_code
        and specialist.client_key = team.client_key
        and specialist.year = team.year

),

final as (

    select
        classified.municipality_code,
        classified.client_key,
        classified.year,
        classified.first_team_start,
        classified.first_specialist_date,
        classified.path,
        case
            when classified.path = 'team_then_specialist'
                then {{ days_between('classified.first_team_start', 'classified.first_specialist_date') }}
        end as days_team_to_specialist

    from classified
    inner join team_years
        on team_years.municipality_code = classified.municipality_code
        and team_years.year = classified.year

)

select * from final

{#- Inflow, outflow and durations per municipality, product category and half-year (CBS
    Beleidsinformatie Jeugd), over the trajectories of int_trajectories_merged.
    A start counts for the municipality of the trajectory's first record, an end (and its
    duration) for that of its last record; running_at_end for the municipality of the latest
    record started on or before the half-year's last day; youths are distinct clients with a
    record in care during the half-year, per municipality of that record. Half-years run from
    the first start up to the one holding JEUGDHULP_AS_OF. -#}

with

trajectories as (

    select * from {{ ref('int_trajectories_merged') }}

),

records as (

    select * from {{ ref('int_care_records_linked') }}

),

first_half_year as (

    select
        cast(
            cast(extract(year from min(start_date)) as varchar)
            || case when extract(month from min(start_date)) < 7 then '-01-01' else '-07-01' end
            as date
        ) as period_start

    from trajectories

),

calendar as (

    select
        month_start as period_start,
        {{ month_end(add_months('month_start', 5)) }} as period_end,
        (
            cast(extract(year from month_start) as varchar)
            || case when extract(month from month_start) = 1 then '-H1' else '-H2' end
        ) as half_year

    from (
        {{ month_series('(select period_start from first_half_year)', month_start(as_of_date())) }}
    ) as months
    where extract(month from month_start) in (1, 7)

),

started as (

    select
        trajectories.start_municipality_code as municipality_code,
        trajectories.product_category,
        calendar.half_year,
        count(*) as started,
        sum(case when trajectories.is_repeat then 1 else 0 end) as started_repeat

    from trajectories
    inner join calendar
        on trajectories.start_date between calendar.period_start and calendar.period_end
    group by 1, 2, 3

),

ended as (

    select
        trajectories.end_municipality_code as municipality_code,
        trajectories.product_category,
        calendar.half_year,
        count(*) as ended,
        sum(case when trajectories.end_reason = '31' then 1 else 0 end) as ended_by_plan,
        avg({{ days_between('trajectories.start_date', 'trajectories.end_date') }}) as avg_duration_days_ended

    from trajectories
    inner join calendar
        on trajectories.end_date between calendar.period_start and calendar.period_end
    group by 1, 2, 3

),

running_trajectories as (

    select
        trajectories.trajectory_id,
        calendar.half_year,
        calendar.period_end

    from trajectories
    inner join calendar
        on calendar.period_end >= trajectories.start_date
        and (trajectories.end_date is null or calendar.period_end < trajectories.end_date)

),

running_municipality as (

    select
        running_trajectories.half_year,
        records.municipality_code,
        records.product_category,
        row_number() over (
            partition by running_trajectories.trajectory_id, running_trajectories.half_year
            order by records.start_date desc, records.municipality_code desc, records.allocation_number desc
        ) as latest_rank

    from running_trajectories
    inner join records
        on records.trajectory_id = running_trajectories.trajectory_id
        and records.start_date <= running_trajectories.period_end

),

running as (

    select
        municipality_code,
        product_category,
        half_year,
        count(*) as running_at_end

    from running_municipality
    where latest_rank = 1
    group by 1, 2, 3

),

youths as (

    select
        records.municipality_code,
        records.product_category,
        calendar.half_year,
        count(distinct records.client_key) as youths

    from records
    inner join calendar
        on calendar.period_end >= records.start_date
        and (records.record_end_date is null or calendar.period_start <= records.record_end_date)
    group by 1, 2, 3

),

cells as (

    select municipality_code, product_category, half_year from started
    union
    select municipality_code, product_category, half_year from ended
    union
    select municipality_code, product_category, half_year from running
    union
    select municipality_code, product_category, half_year from youths

),

final as (

    select
        cast(cells.municipality_code as varchar) as municipality_code,
        cast(cells.product_category as varchar) as product_category,
        cast(cells.half_year as varchar) as half_year,
        cast(coalesce(started.started, 0) as bigint) as started,
        cast(coalesce(started.started_repeat, 0) as bigint) as started_repeat,
        cast(coalesce(ended.ended, 0) as bigint) as ended,
        cast(coalesce(ended.ended_by_plan, 0) as bigint) as ended_by_plan,
        cast(coalesce(running.running_at_end, 0) as bigint) as running_at_end,
        cast(round(ended.avg_duration_days_ended, 1) as decimal(9, 1)) as avg_duration_days_ended,
        cast(coalesce(youths.youths, 0) as bigint) as youths

    from cells
    left join started
        on started.municipality_code = cells.municipality_code
        and started.product_category is not distinct from cells.product_category
        and started.half_year = cells.half_year
    left join ended
        on ended.municipality_code = cells.municipality_code
        and ended.product_category is not distinct from cells.product_category
        and ended.half_year = cells.half_year
    left join running
        on running.municipality_code = cells.municipality_code
        and running.product_category is not distinct from cells.product_category
        and running.half_year = cells.half_year
    left join youths
        on youths.municipality_code = cells.municipality_code
        and youths.product_category is not distinct from cells.product_category
        and youths.half_year = cells.half_year

)

select * from final

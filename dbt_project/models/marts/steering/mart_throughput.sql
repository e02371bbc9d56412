{#- Inflow, outflow and durations per municipality × dimension × half-year (CBS Beleidsinformatie
    Jeugd, docs/throughput_method.md), over the trajectories of int_trajectories_merged (client ×
    provider × CBS hulpvorm). Each figure is given three times, once per dimension: `hulpvorm`
    (CBS form of help), `product_code` and `provider` (AGB code), each with its Dutch name
    (dimension_label: the CBS name, the product's latest description, the provider's name).
    - A half-year is observed up to its reference date: its last day, or JEUGDHULP_AS_OF when
      that is earlier (the running half-year, is_complete_period false). Starts and ends count
      when they fall between the half-year's first day and the reference date; running_at_end
      counts the trajectories started on or before the reference date and not ended by it.
    - A start counts for the municipality and product code of the trajectory's first record, an
      end (its class, doorstroom and duration) for those of its last record, running_at_end for
      those of the latest record started by the reference date; youths are distinct clients with
      a record in care during the observed part of the half-year, per record.
    Half-years run from the first start to the one holding JEUGDHULP_AS_OF. -#}

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

half_years as (

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

calendar as (

    select
        period_start,
        period_end,
        half_year,
        least(period_end, {{ as_of_date() }}) as reference_date,
        period_end <= {{ as_of_date() }} as is_complete_period

    from half_years

),

-- one row per counted event, with the attributes each dimension reads
start_events as (

    select
        trajectories.start_municipality_code as municipality_code,
        calendar.half_year,
        trajectories.provider_agb,
        trajectories.hulpvorm,
        trajectories.start_product_code as product_code,
        trajectories.client_key,
        'start' as event,
        trajectories.is_repeat,
        cast(null as varchar) as end_class,
        false as is_transferred_out,
        cast(null as integer) as duration_days

    from trajectories
    inner join calendar
        on trajectories.start_date between calendar.period_start and calendar.reference_date

),

end_events as (

    select
        trajectories.end_municipality_code as municipality_code,
        calendar.half_year,
        trajectories.provider_agb,
        trajectories.hulpvorm,
        trajectories.end_product_code as product_code,
        trajectories.client_key,
        'end' as event,
        false as is_repeat,
        trajectories.end_class,
        trajectories.is_transferred_out,
        {{ days_between('trajectories.start_date', 'trajectories.end_date') }} as duration_days

    from trajectories
    inner join calendar
        on trajectories.end_date between calendar.period_start and calendar.reference_date

),

running_records as (

    select
        records.municipality_code,
        calendar.half_year,
        records.provider_agb,
        records.hulpvorm,
        records.product_code,
        records.client_key,
        row_number() over (
            partition by trajectories.trajectory_id, calendar.half_year
            order by records.start_date desc, records.municipality_code desc, records.allocation_number desc
        ) as latest_rank

    from trajectories
    inner join calendar
        on calendar.reference_date >= trajectories.start_date
        and (trajectories.end_date is null or calendar.reference_date < trajectories.end_date)
    inner join records
        on records.trajectory_id = trajectories.trajectory_id
        and records.start_date <= calendar.reference_date

),

running_events as (

    select
        municipality_code,
        half_year,
        provider_agb,
        hulpvorm,
        product_code,
        client_key,
        'running' as event,
        false as is_repeat,
        cast(null as varchar) as end_class,
        false as is_transferred_out,
        cast(null as integer) as duration_days

    from running_records
    where latest_rank = 1

),

care_events as (

    select
        records.municipality_code,
        calendar.half_year,
        records.provider_agb,
        records.hulpvorm,
        records.product_code,
        records.client_key,
        'care' as event,
        false as is_repeat,
        cast(null as varchar) as end_class,
        false as is_transferred_out,
        cast(null as integer) as duration_days

    from records
    inner join calendar
        on calendar.reference_date >= records.start_date
        and (records.record_end_date is null or calendar.period_start <= records.record_end_date)

),

events as (

    select * from start_events
    union all
    select * from end_events
    union all
    select * from running_events
    union all
    select * from care_events

),

dimensions as (

    select 'hulpvorm' as dimension
    union all
    select 'product_code' as dimension
    union all
    select 'provider' as dimension

),

cells as (

    select
        events.municipality_code,
        dimensions.dimension,
        case dimensions.dimension
            when 'hulpvorm' then events.hulpvorm
            when 'product_code' then events.product_code
            else events.provider_agb
        end as dimension_value,
        events.half_year,
        sum(case when events.event = 'start' then 1 else 0 end) as started,
        sum(case when events.event = 'start' and events.is_repeat then 1 else 0 end) as started_repeat,
        sum(case when events.event = 'end' then 1 else 0 end) as ended,
        sum(case when events.end_class = 'volgens_plan' then 1 else 0 end) as ended_by_plan,
        sum(case when events.end_class = 'voortijdig' then 1 else 0 end) as ended_premature,
        sum(case when events.end_class = 'onbekend' then 1 else 0 end) as ended_unknown,
        sum(case when events.is_transferred_out then 1 else 0 end) as transferred_out,
        sum(case when events.event = 'running' then 1 else 0 end) as running_at_end,
        avg(events.duration_days) as avg_duration_days_ended,
        count(distinct case when events.event = 'care' then events.client_key end) as youths

    from events
    cross join dimensions
    group by 1, 2, 3, 4

),

hulpvorm_labels as (

    select hulpvorm as dimension_value, description as dimension_label
    from {{ ref('code_cbs_hulpvormen') }}

),

labels as (

    select 'hulpvorm' as dimension, dimension_value, dimension_label from hulpvorm_labels
    union all
    select dimension, dimension_value, dimension_label from {{ ref('int_reference_labels') }}

),

final as (

    select
        cast(cells.municipality_code as varchar) as municipality_code,
        cast(cells.dimension as varchar) as dimension,
        cast(cells.dimension_value as varchar) as dimension_value,
        cast(labels.dimension_label as varchar) as dimension_label,
        cast(cells.half_year as varchar) as half_year,
        cast(cells.started as bigint) as started,
        cast(cells.started_repeat as bigint) as started_repeat,
        cast(cells.ended as bigint) as ended,
        cast(cells.ended_by_plan as bigint) as ended_by_plan,
        cast(cells.ended_premature as bigint) as ended_premature,
        cast(cells.ended_unknown as bigint) as ended_unknown,
        cast(cells.transferred_out as bigint) as transferred_out,
        cast(cells.running_at_end as bigint) as running_at_end,
        cast(calendar.is_complete_period as boolean) as is_complete_period,
        cast(round(cells.avg_duration_days_ended, 1) as decimal(9, 1)) as avg_duration_days_ended,
        cast(cells.youths as bigint) as youths

    from cells
    inner join calendar
        on calendar.half_year = cells.half_year
    left join labels
        on labels.dimension = cells.dimension
        and labels.dimension_value = cells.dimension_value

)

select * from final

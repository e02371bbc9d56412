{#- Trajectories (CBS): the merged care records of one client × provider × product category
    (int_care_records_linked). start_date = first start; end_date = last end, null while any
    record is open (still in care, or temporarily stopped without a restart). end_reason is the
    reason of the stop that gave the last end. A trajectory is a repeat (herhaald beroep) when
    the same client had another trajectory, at any provider and in any category, that ended at
    least 2 days before this start (at least one day without care) and no more than 5 years
    before it. The municipality at the start and at the end are those of the first and the
    last record. -#}

with

records as (

    select * from {{ ref('int_care_records_linked') }}

),

ordered as (

    select
        *,
        row_number() over (
            partition by trajectory_id
            order by start_date, municipality_code, allocation_number
        ) as first_rank,
        row_number() over (
            partition by trajectory_id
            order by
                coalesce(record_end_date, cast('9999-12-31' as date)) desc,
                start_date desc, municipality_code desc, allocation_number desc
        ) as last_rank

    from records

),

trajectories as (

    select
        trajectory_id,
        client_key,
        provider_agb,
        product_category,
        min(start_date) as start_date,
        case when count(*) = count(record_end_date) then max(record_end_date) end as end_date,
        max(case when first_rank = 1 then municipality_code end) as start_municipality_code,
        max(case when last_rank = 1 then municipality_code end) as end_municipality_code,
        max(case when last_rank = 1 then end_reason end) as last_end_reason,
        count(*) as record_count

    from ordered
    group by trajectory_id, client_key, provider_agb, product_category

),

with_reason as (

    select
        trajectory_id,
        client_key,
        provider_agb,
        product_category,
        start_date,
        end_date,
        case when end_date is not null then last_end_reason end as end_reason,
        start_municipality_code,
        end_municipality_code,
        record_count

    from trajectories

),

repeats as (

    select distinct current_trajectory.trajectory_id

    from with_reason as current_trajectory
    inner join with_reason as earlier
        on earlier.client_key = current_trajectory.client_key
        and earlier.trajectory_id <> current_trajectory.trajectory_id
        and earlier.end_date is not null
        and earlier.end_date <= current_trajectory.start_date - 2
        and earlier.end_date >= {{ add_months('current_trajectory.start_date', -60) }}

),

final as (

    select
        cast(with_reason.trajectory_id as varchar) as trajectory_id,
        cast(with_reason.client_key as varchar) as client_key,
        cast(with_reason.provider_agb as varchar) as provider_agb,
        cast(with_reason.product_category as varchar) as product_category,
        cast(with_reason.start_date as date) as start_date,
        cast(with_reason.end_date as date) as end_date,
        cast(with_reason.end_reason as varchar) as end_reason,
        cast(with_reason.start_municipality_code as varchar) as start_municipality_code,
        cast(with_reason.end_municipality_code as varchar) as end_municipality_code,
        cast(with_reason.record_count as integer) as record_count,
        cast(repeats.trajectory_id is not null as boolean) as is_repeat

    from with_reason
    left join repeats
        on repeats.trajectory_id = with_reason.trajectory_id

)

select * from final

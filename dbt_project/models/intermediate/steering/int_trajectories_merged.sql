{#- Trajectories (CBS Beleidsinformatie Jeugd, docs/throughput_method.md): the merged care
    records of one client × provider × CBS hulpvorm (int_care_records_linked). start_date = first
    start; end_date = last end, null while any record is open (still in care, or temporarily
    stopped without a restart). end_reason is the JZ588 reason of the stop that gave the last end,
    end_class its CBS class (seed code_end_reasons.cbs_end_class; onbekend when the reason has
    none). The municipality and product code at the start and at the end are those of the first
    and of the last record.
    - is_repeat (herhaald beroep): the client had another trajectory, at any provider and in any
      hulpvorm, that ended at least 2 days before this start (at least one day without care in
      between) and on or after the first day of the half-year of this start minus 5 years: the
      look-back is measured from the reporting period, not from the start date.
    - is_transferred_out (doorstroom): the trajectory ended and the client started another
      trajectory, with another provider or in another hulpvorm, on the end date or at most
      30 days after it.
    - "The client" is one youth: the same client key with the same birth year on the
      allocations (either unknown counts as the same). A BSN never passes to another person,
      but one that arrives with another birth year is another youth's (a mistyped number that
      happens to pass the 11-proof, or a test number reused in synthetic data), and that
      youth's care is no earlier care of this one. -#}

with

records as (

    select * from {{ ref('int_care_records_linked') }}

),

end_classes as (

    select end_reason_code, cbs_end_class
    from {{ ref('code_end_reasons') }}

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
        hulpvorm,
        min(start_date) as start_date,
        case when count(*) = count(record_end_date) then max(record_end_date) end as end_date,
        max(case when first_rank = 1 then municipality_code end) as start_municipality_code,
        max(case when last_rank = 1 then municipality_code end) as end_municipality_code,
        max(case when first_rank = 1 then product_code end) as start_product_code,
        max(case when last_rank = 1 then product_code end) as end_product_code,
        max(case when last_rank = 1 then end_reason end) as last_end_reason,
        count(*) as record_count,
        min(birth_year) as birth_year

    from ordered
    group by trajectory_id, client_key, provider_agb, hulpvorm

),

with_reason as (

    select
        trajectories.trajectory_id,
        trajectories.client_key,
        trajectories.provider_agb,
        trajectories.hulpvorm,
        trajectories.start_date,
        trajectories.end_date,
        case when trajectories.end_date is not null then trajectories.last_end_reason end as end_reason,
        case
            when trajectories.end_date is not null
                then coalesce(end_classes.cbs_end_class, 'onbekend')
        end as end_class,
        trajectories.start_municipality_code,
        trajectories.end_municipality_code,
        trajectories.start_product_code,
        trajectories.end_product_code,
        trajectories.record_count,
        trajectories.birth_year,
        -- first day of the half-year holding the start: the reporting period's start
        cast(
            cast(extract(year from trajectories.start_date) as varchar)
            || case when extract(month from trajectories.start_date) < 7 then '-01-01' else '-07-01' end
            as date
        ) as period_start

    from trajectories
    left join end_classes
        on end_classes.end_reason_code = trajectories.last_end_reason

),

repeats as (

    select distinct current_trajectory.trajectory_id

    from with_reason as current_trajectory
    inner join with_reason as earlier
        on earlier.client_key = current_trajectory.client_key
        -- the same youth: no other birth year (unknown on either side counts as the same)
        and coalesce(earlier.birth_year = current_trajectory.birth_year, true)
        and earlier.trajectory_id <> current_trajectory.trajectory_id
        and earlier.end_date is not null
        and earlier.end_date <= current_trajectory.start_date - 2
        and earlier.end_date >= {{ add_months('current_trajectory.period_start', -60) }}

),

transfers as (

    select distinct ending.trajectory_id

    from with_reason as ending
    inner join with_reason as following
        on following.client_key = ending.client_key
        and coalesce(following.birth_year = ending.birth_year, true)
        and (
            following.provider_agb <> ending.provider_agb
            or following.hulpvorm <> ending.hulpvorm
        )
        and following.start_date >= ending.end_date
        and following.start_date <= ending.end_date + 30

),

final as (

    select
        cast(with_reason.trajectory_id as varchar) as trajectory_id,
        cast(with_reason.client_key as varchar) as client_key,
        cast(with_reason.provider_agb as varchar) as provider_agb,
        cast(with_reason.hulpvorm as varchar) as hulpvorm,
        cast(with_reason.start_date as date) as start_date,
        cast(with_reason.end_date as date) as end_date,
        cast(with_reason.end_reason as varchar) as end_reason,
        cast(with_reason.end_class as varchar) as end_class,
        cast(with_reason.start_municipality_code as varchar) as start_municipality_code,
        cast(with_reason.end_municipality_code as varchar) as end_municipality_code,
        cast(with_reason.start_product_code as varchar) as start_product_code,
        cast(with_reason.end_product_code as varchar) as end_product_code,
        cast(with_reason.record_count as integer) as record_count,
        cast(repeats.trajectory_id is not null as boolean) as is_repeat,
        cast(transfers.trajectory_id is not null as boolean) as is_transferred_out

    from with_reason
    left join repeats
        on repeats.trajectory_id = with_reason.trajectory_id
    left join transfers
        on transfers.trajectory_id = with_reason.trajectory_id

)

select * from final

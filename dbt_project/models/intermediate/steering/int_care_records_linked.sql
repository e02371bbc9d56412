{#- Care records for throughput (CBS Beleidsinformatie Jeugd, docs/throughput_method.md): one row
    per effective start (JW305) with the stop (JW307) that ends it, grouped into trajectories.
    - The product category and code are the allocation's, else those on the start message; the
      category gives the CBS form of help (seed code_product_categories.cbs_hulpvorm). Records
      whose category has no CBS hulpvorm (42 transport, 47-49 justice, unknown) form no
      trajectory and are left out here.
    - The group is client × provider × hulpvorm.
    - A definitive stop (reason other than 20) for the same allocation and start date ends the
      record; with several, the last reported counts. A temporary stop (reason 20) is no end:
      the record is bridged to the group's next start, or stays open when there is none.
    - Records that overlap (a start on or before the latest end so far; the end date is the last
      day of care) form one trajectory: first start, last end, open when any record in it is
      open. Adjoining records (a start the day after that end) are NOT merged (CBS rule).
    - birth_year: the client's birth year on the allocation (JW301 Client/Geboortedatum), which
      tells the youth apart where one BSN stands for two people (int_trajectories_merged). -#}

with

allocations as (

    select municipality_code, allocation_number, product_category, product_code, birth_year
    from {{ ref('int_allocations_resolved') }}

),

hulpvormen as (

    select product_category, cbs_hulpvorm as hulpvorm
    from {{ ref('code_product_categories') }}
    where cbs_hulpvorm is not null

),

coded_starts as (

    select
        starts.municipality_code,
        starts.provider_agb,
        starts.allocation_number,
        starts.client_key,
        coalesce(allocations.product_category, starts.product_category) as product_category,
        coalesce(allocations.product_code, starts.product_code) as product_code,
        allocations.birth_year,
        starts.start_date

    from {{ ref('int_starts_resolved') }} as starts
    left join allocations
        on allocations.municipality_code = starts.municipality_code
        and allocations.allocation_number = starts.allocation_number
    where starts.start_date is not null

),

starts as (

    select
        coded_starts.*,
        hulpvormen.hulpvorm

    from coded_starts
    inner join hulpvormen
        on hulpvormen.product_category = coded_starts.product_category

),

stops as (

    select
        municipality_code,
        provider_agb,
        allocation_number,
        start_date,
        end_date,
        end_reason,
        is_temporary,
        row_number() over (
            partition by municipality_code, provider_agb, allocation_number, start_date, is_temporary
            order by message_date desc, end_date desc, file_id desc, record_position desc
        ) as report_rank

    from {{ ref('int_stops_resolved') }}
    where end_date is not null

),

records as (

    select
        starts.*,
        definitive.end_date as definitive_end_date,
        definitive.end_reason,
        temporary.end_date as paused_on

    from starts
    left join stops as definitive
        on definitive.municipality_code = starts.municipality_code
        and definitive.provider_agb = starts.provider_agb
        and definitive.allocation_number = starts.allocation_number
        and definitive.start_date = starts.start_date
        and not definitive.is_temporary
        and definitive.report_rank = 1
    left join stops as temporary
        on temporary.municipality_code = starts.municipality_code
        and temporary.provider_agb = starts.provider_agb
        and temporary.allocation_number = starts.allocation_number
        and temporary.start_date = starts.start_date
        and temporary.is_temporary
        and temporary.report_rank = 1

),

bridged as (

    select
        *,
        case
            when definitive_end_date is not null then definitive_end_date
            when paused_on is not null then lead(start_date) over group_order
        end as record_end_date

    from records
    window group_order as (
        partition by client_key, provider_agb, hulpvorm
        order by start_date, municipality_code, allocation_number
    )

),

-- the latest end so far among the group's earlier records (far future while one is open);
-- a start after it (even the very next day) begins a new trajectory
running_ends as (

    select
        *,
        max(coalesce(record_end_date, cast('9999-12-31' as date))) over (
            partition by client_key, provider_agb, hulpvorm
            order by start_date, municipality_code, allocation_number
            rows between unbounded preceding and 1 preceding
        ) as previous_end_date

    from bridged

),

islands as (

    select
        *,
        sum(case
            when previous_end_date is null or start_date > previous_end_date then 1
            else 0
        end) over (
            partition by client_key, provider_agb, hulpvorm
            order by start_date, municipality_code, allocation_number
            rows between unbounded preceding and current row
        ) as trajectory_seq

    from running_ends

),

final as (

    select
        cast(md5(
            client_key || '|' || provider_agb || '|' || hulpvorm || '|'
            || cast(trajectory_seq as varchar)
        ) as varchar) as trajectory_id,
        cast(client_key as varchar) as client_key,
        cast(provider_agb as varchar) as provider_agb,
        cast(hulpvorm as varchar) as hulpvorm,
        cast(product_category as varchar) as product_category,
        cast(product_code as varchar) as product_code,
        cast(municipality_code as varchar) as municipality_code,
        cast(allocation_number as varchar) as allocation_number,
        cast(start_date as date) as start_date,
        cast(record_end_date as date) as record_end_date,
        cast(definitive_end_date as date) as definitive_end_date,
        cast(end_reason as varchar) as end_reason,
        cast(paused_on as date) as paused_on,
        cast(trajectory_seq as integer) as trajectory_seq,
        cast(birth_year as integer) as birth_year

    from islands

)

select * from final

{#- Effective care stops: per stop (allocation, start and Einddatum) the latest JW307 counts, and
    a latest one with StatusAanlevering 3 means the provider deleted that stop. A stop with end
    reason 20 is temporary: care is interrupted, not ended. -#}

with

stop_records as (

    select * from {{ ref('stg_ijw__stops') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by municipality_code, provider_agb, allocation_number, start_date, end_date
            order by
                message_date desc,
                message_id desc,
                file_id desc,
                record_position desc
        ) as recency_rank

    from stop_records

),

effective_stops as (

    select
        municipality_code,
        provider_agb,
        allocation_number,
        client_key,
        product_category,
        product_code,
        allocation_start_date,
        start_date,
        end_date,
        end_reason,
        coalesce(end_reason = '20', false) as is_temporary,
        message_date,
        file_id,
        record_position

    from ranked
    where recency_rank = 1
        and coalesce(delivery_status, '1') <> '3'

)

select * from effective_stops

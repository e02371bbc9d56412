{#- Effective care starts: per start (allocation and Begindatum) the latest JW305 counts, and a
    latest one with StatusAanlevering 3 means the provider deleted that start. -#}

with

start_records as (

    select * from {{ ref('stg_ijw__starts') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by municipality_code, provider_agb, allocation_number, start_date
            order by
                message_date desc,
                message_id desc,
                file_id desc,
                record_position desc
        ) as recency_rank

    from start_records

),

effective_starts as (

    select
        municipality_code,
        provider_agb,
        allocation_number,
        client_key,
        product_category,
        product_code,
        allocation_start_date,
        start_date,
        message_date,
        file_id,
        record_position

    from ranked
    where recency_rank = 1
        and coalesce(delivery_status, '1') <> '3'

)

select * from effective_starts

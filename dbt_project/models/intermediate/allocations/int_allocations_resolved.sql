{#- The current version of every allocation: a later JW301 for the same ToewijzingNummer
    replaces the earlier one (an extension is a new Einddatum, RedenWijziging 13 deletes it). -#}

with

allocation_versions as (

    select * from {{ ref('stg_ijw__allocations') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by municipality_code, allocation_number
            order by
                message_date desc,
                message_id desc,
                file_id desc,
                record_position desc
        ) as recency_rank,
        count(*) over (partition by municipality_code, allocation_number) as version_count

    from allocation_versions

),

current_versions as (

    select
        municipality_code,
        provider_agb,
        allocation_number,
        client_key,
        birth_year,
        provider_reference,
        product_category,
        product_code,
        allocation_date,
        start_date,
        end_date,
        change_reason,
        coalesce(change_reason = '13', false) as is_deleted,
        volume,
        unit,
        frequency,
        budget_eur,
        version_count,
        message_date as last_message_date,
        file_id,
        record_position

    from ranked
    where recency_rank = 1

)

select * from current_versions

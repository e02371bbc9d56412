{#- Who referred each allocation: the referrer type (COD327) of the JW315 request whose
    ReferentieAanbieder the provider repeated in the JW301. Matched on provider and
    ReferentieAanbieder; when several requests match, a request for the same client wins, then
    the latest one sent on or before the allocation date, then the latest. An allocation with
    no matching request has referrer_type null. Deleted allocations are left out. -#}

with

allocations as (

    select *
    from {{ ref('int_allocations_resolved') }}
    where not is_deleted

),

requests as (

    select
        provider_agb,
        provider_reference,
        client_key,
        referrer_type,
        message_date,
        file_id,
        record_position

    from {{ ref('stg_ijw__requests') }}
    where provider_reference is not null

),

candidates as (

    select
        allocations.municipality_code,
        allocations.allocation_number,
        requests.referrer_type,
        row_number() over (
            partition by allocations.municipality_code, allocations.allocation_number
            order by
                case when requests.client_key = allocations.client_key then 0 else 1 end,
                case when requests.message_date <= allocations.allocation_date then 0 else 1 end,
                requests.message_date desc,
                requests.file_id desc,
                requests.record_position desc
        ) as match_rank

    from allocations
    inner join requests
        on requests.provider_agb = allocations.provider_agb
        and requests.provider_reference = allocations.provider_reference

),

final as (

    select
        cast(allocations.municipality_code as varchar) as municipality_code,
        cast(allocations.provider_agb as varchar) as provider_agb,
        cast(allocations.allocation_number as varchar) as allocation_number,
        cast(allocations.client_key as varchar) as client_key,
        cast(allocations.product_category as varchar) as product_category,
        cast(allocations.product_code as varchar) as product_code,
        cast(allocations.start_date as date) as start_date,
        cast(allocations.end_date as date) as end_date,
        cast(candidates.referrer_type as varchar) as referrer_type

    from allocations
    left join candidates
        on candidates.municipality_code = allocations.municipality_code
        and candidates.allocation_number = allocations.allocation_number
        and candidates.match_rank = 1

)

select * from final

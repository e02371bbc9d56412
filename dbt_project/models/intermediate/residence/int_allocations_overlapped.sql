{#- Woonplaatsbeginsel: allocations (JW301) of one client from two municipalities valid on the
    same day (docs/contract.md §3, mart_residence_signals). One row per overlapping pair.

    Allocation: the current version (int_allocations_resolved), not deleted (RedenWijziging 13),
    with a client; valid from start_date through end_date inclusive (no end date: open-ended).
    A version whose end date lies before its start is valid on no day. Two allocations overlap
    when they share at least one day: one ending the day before the other starts adjoins, it does
    not overlap.

    Each pair is classified once:
    - `move_with_running_allocation`: the pair has the shape of a move from the earlier
      allocation's municipality (A) to the later one's (B): every allocation of the client from A
      started before the client's first allocation from B (a municipality takes over, the old one
      allocates nothing after), and the later allocation starts strictly after the earlier one. A
      should have ended its allocation the day before B's first allocation starts (RedenWijziging
      07). Signalled only once the reporting date is `residence_move_grace_days` (dbt var) or more
      after B's first start: the old municipality gets that long to process the move; a fresher
      overlap is pending (`is_pending`), no finding yet.
    - `overlapping_allocations`: every other overlap: two municipalities allocating side by side
      (the same start day, or allocations of both following each other in turn).
    The two classes are disjoint: a pair is in exactly one. -#}

with

allocations as (

    select
        municipality_code,
        allocation_number,
        provider_agb,
        client_key,
        product_code,
        start_date,
        end_date,
        coalesce(end_date, cast('9999-12-31' as date)) as valid_until,
        file_id

    from {{ ref('int_allocations_resolved') }}
    where not is_deleted
        and client_key is not null
        and start_date is not null
        and coalesce(end_date, cast('9999-12-31' as date)) >= start_date

),

client_municipalities as (

    select
        client_key,
        municipality_code,
        min(start_date) as first_start,
        max(start_date) as last_start

    from allocations
    group by client_key, municipality_code

),

pairs as (

    -- each unordered pair once: `earlier` starts first (same day: the lower municipality code)
    select
        earlier.client_key,
        earlier.municipality_code,
        earlier.allocation_number,
        earlier.provider_agb,
        earlier.product_code,
        earlier.start_date,
        earlier.end_date,
        earlier.file_id,
        later.municipality_code as later_municipality_code,
        later.allocation_number as later_allocation_number,
        later.provider_agb as later_provider_agb,
        later.product_code as later_product_code,
        later.start_date as later_start_date,
        later.end_date as later_end_date,
        later.file_id as later_file_id,
        later.start_date as overlap_start,
        least(earlier.valid_until, later.valid_until) as overlap_end

    from allocations as earlier
    inner join allocations as later
        on later.client_key = earlier.client_key
        and later.municipality_code <> earlier.municipality_code
        and (
            later.start_date > earlier.start_date
            or (
                later.start_date = earlier.start_date
                and later.municipality_code > earlier.municipality_code
            )
        )
        and later.start_date <= earlier.valid_until

),

classified as (

    select
        pairs.*,
        new_place.first_start as move_date,
        pairs.start_date < pairs.later_start_date
        and old_place.last_start < new_place.first_start as is_move

    from pairs
    inner join client_municipalities as old_place
        on old_place.client_key = pairs.client_key
        and old_place.municipality_code = pairs.municipality_code
    inner join client_municipalities as new_place
        on new_place.client_key = pairs.client_key
        and new_place.municipality_code = pairs.later_municipality_code

),

final as (

    select
        client_key,
        case when is_move then 'move_with_running_allocation' else 'overlapping_allocations' end
            as signal,
        municipality_code,
        allocation_number,
        provider_agb,
        product_code,
        start_date,
        end_date,
        file_id,
        later_municipality_code,
        later_allocation_number,
        later_provider_agb,
        later_product_code,
        later_start_date,
        later_end_date,
        later_file_id,
        overlap_start,
        -- null: open-ended (both allocations run without an end date)
        case when overlap_end < cast('9999-12-31' as date) then overlap_end end as overlap_end,
        case when is_move then move_date end as move_date,
        coalesce(
            is_move
            and {{ as_of_date() }} < move_date + {{ residence_move_grace_days() }},
            false
        ) as is_pending

    from classified

)

select * from final

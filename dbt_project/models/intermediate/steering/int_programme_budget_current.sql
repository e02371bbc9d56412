{#- The programme budget (begroting) per year × segment as it stands on JEUGDHULP_AS_OF: of all
    rows adopted on or before as_of, the one with the latest adopted_on counts (a
    begrotingswijziging amends only the segments it names; the others keep their earlier
    amount). On the same adopted_on the later delivery (ingested_seq) wins, a corrected
    re-delivery; within one file the last row. Segments are matched case-insensitively (the
    spelling of the winning row is kept). -#}

with

rows_adopted as (

    select
        year,
        segment,
        lower(segment) as segment_key,
        budget_eur,
        adopted_on,
        ingested_seq,
        file_id,
        record_position

    from {{ ref('stg_reference__programme_budget') }}
    where adopted_on <= {{ as_of_date() }}

),

ranked as (

    select
        *,
        count(*) over (partition by year, segment_key) as versions,
        row_number() over (
            partition by year, segment_key
            order by adopted_on desc, ingested_seq desc nulls last, file_id desc, record_position desc
        ) as version_rank

    from rows_adopted

),

final as (

    select
        cast(year as integer) as year,
        cast(segment as varchar) as segment,
        cast(budget_eur as decimal(18, 2)) as budget_eur,
        cast(adopted_on as date) as adopted_on,
        cast(versions as bigint) as versions

    from ranked
    where version_rank = 1

)

select * from final

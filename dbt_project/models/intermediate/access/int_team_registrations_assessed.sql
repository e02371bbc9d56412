{#- Every delivered team registration line (docs/contract.md §2.6), judged and de-duplicated.

    A line is unusable, with the reason, when its BSN fails the 11-proef (`bsn_invalid`: it
    cannot be linked to the iJw client), its municipality is not one of the seed
    (`unknown_municipality`), its start lies before `access_min_date` or after the reporting date
    (`start_out_of_range`), or its end lies before its start (`end_before_start`). Such a line is
    loaded and kept here, counted in no mart, and reported in dq_findings.

    Exports overlap (a running registration is exported again, later with its end filled in):
    per client × municipality × start date the line of the latest delivered file counts
    (highest ingested_seq, then the last line). -#}

with

registrations as (

    select * from {{ ref('stg_lokaal_team__registrations') }}

),

files as (

    select file_id, landed_path, ingested_seq from {{ ref('stg_ingest__files') }}

),

municipalities as (

    select municipality_code from {{ ref('municipalities') }}

),

judged as (

    select
        registrations.*,
        files.landed_path as source_file,
        files.ingested_seq,
        case
            when not coalesce(registrations.is_bsn_valid, false) then 'bsn_invalid'
            when municipalities.municipality_code is null then 'unknown_municipality'
            when registrations.start_date < cast('{{ var("access_min_date") }}' as date)
                or registrations.start_date > {{ as_of_date() }}
                then 'start_out_of_range'
            when registrations.end_date < registrations.start_date then 'end_before_start'
        end as invalid_reason

    from registrations
    left join files
        on files.file_id = registrations.file_id
    left join municipalities
        on municipalities.municipality_code = registrations.municipality_code

),

ranked as (

    select
        *,
        row_number() over (
            partition by client_key, municipality_code, start_date
            order by ingested_seq desc, file_id desc, record_position desc
        ) as delivery_rank

    from judged

),

final as (

    select
        file_id,
        record_position,
        source_file,
        client_key,
        municipality_code,
        start_date,
        end_date,
        support_type,
        invalid_reason,
        delivery_rank = 1 as is_current,
        delivery_rank = 1 and invalid_reason is null as is_usable

    from ranked

)

select * from final

with

source as (

    select * from {{ source('ingest', 'file_registry') }}

),

renamed as (

    select
        file_id,
        source as landing_source,
        landed_path,
        stored_path,
        size_bytes,
        status,
        status = 'ingested' as is_ingested,
        reason as quarantine_reason,
        content_type,
        rows_loaded,
        ingested_at,
        ingested_seq

    from source

)

select * from renamed

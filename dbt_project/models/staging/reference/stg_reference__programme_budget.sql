{#- Every programme-budget row of every ingested programme_budget delivery (not only the latest:
    a later delivery amends, it does not replace; int_programme_budget_current resolves which row
    counts). ingested_seq orders deliveries for the tie-break on the same adopted_on. -#}

with

source as (

    select * from {{ source('reference', 'programme_budget') }}

),

registry as (

    select file_id, ingested_seq, ingested_at
    from {{ source('ingest', 'file_registry') }}
    where content_type = 'programme_budget'
        and status = 'ingested'

),

renamed as (

    select
        source.file_id,
        source.record_position,
        registry.ingested_seq,
        registry.ingested_at,
        source.year,
        trim(source.segment) as segment,
        cast(source.budget_eur as decimal(18, 2)) as budget_eur,
        source.adopted_on

    from source
    inner join registry
        on registry.file_id = source.file_id

)

select * from renamed

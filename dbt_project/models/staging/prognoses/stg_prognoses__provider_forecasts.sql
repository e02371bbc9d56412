{#- Providers' own year-end forecasts per year and reference date (peildatum), summed over
    segments when a provider forecasts per segment. Of several deliveries for the same provider,
    year and peildatum the latest ingested one counts (a corrected re-delivery replaces it as a
    whole). Only forecasts made on or before JEUGDHULP_AS_OF count. -#}

with

source as (

    select * from {{ source('prognoses', 'provider_forecasts') }}

),

registry as (

    select file_id, ingested_seq
    from {{ source('ingest', 'file_registry') }}
    where source = 'prognoses'
        and status = 'ingested'

),

delivered as (

    select
        source.file_id,
        registry.ingested_seq,
        {{ to_agb_code('source.agb_code') }} as provider_agb,
        source.jaar as year,
        source.peildatum as reference_date,
        nullif(trim(source.segment), '') as segment,
        cast(source.prognose_eur as decimal(18, 2)) as forecast_eur

    from source
    inner join registry
        on registry.file_id = source.file_id
    where source.peildatum <= {{ as_of_date() }}

),

latest_file as (

    select
        *,
        max(ingested_seq) over (partition by provider_agb, year, reference_date) as latest_seq

    from delivered

),

final as (

    select
        provider_agb,
        cast(year as integer) as year,
        cast(reference_date as date) as reference_date,
        cast(sum(forecast_eur) as decimal(18, 2)) as provider_forecast_eur,
        count(distinct segment) as segments,
        min(file_id) as file_id

    from latest_file
    where ingested_seq = latest_seq
    group by provider_agb, year, reference_date

)

select * from final

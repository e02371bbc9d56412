with

source as (

    {{ latest_file_rows(source('reference', 'population'), source('ingest', 'file_registry'), 'population') }}

),

renamed as (

    select
        file_id,
        record_position,
        {{ to_municipality_code('municipality_code') }} as municipality_code,
        year,
        youth_0_17 as youths_0_17

    from source

)

select * from renamed

with

source as (

    {{ latest_file_rows(source('reference', 'providers'), source('ingest', 'file_registry'), 'providers') }}

),

renamed as (

    select
        file_id,
        record_position,
        {{ to_agb_code('agb_code') }} as provider_agb,
        trim(name) as provider_name,
        lower(trim(contract_type)) as contract_type

    from source

)

select * from renamed

with

source as (

    select * from {{ source('lokaal_team', 'registrations') }}

),

renamed as (

    select
        file_id,
        record_position,
        client_key,
        bsn_valid as is_bsn_valid,
        {{ to_municipality_code('gemeente_code') }} as municipality_code,
        startdatum as start_date,
        einddatum as end_date,
        trim(soort_ondersteuning) as support_type

    from source

)

select * from renamed

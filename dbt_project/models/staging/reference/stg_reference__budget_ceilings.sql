with

source as (

    {{ latest_file_rows(
        source('reference', 'budget_ceilings'), source('ingest', 'file_registry'), 'budget_ceilings'
    ) }}

),

renamed as (

    select
        file_id,
        record_position,
        {{ to_agb_code('agb_code') }} as provider_agb,
        year,
        cast(budget_ceiling_eur as decimal(18, 2)) as budget_ceiling_eur

    from source

)

select * from renamed

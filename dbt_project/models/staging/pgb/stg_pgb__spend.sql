with

source as (

    select * from {{ source('pgb', 'spend') }}

),

renamed as (

    select
        file_id,
        record_position,
        client_key,
        bsn_valid as is_bsn_valid,
        {{ to_municipality_code('gemeente_code') }} as municipality_code,
        -- `maand` is YYYY-MM; a malformed value becomes null (and fails the not_null test)
        {{ safe_cast("trim(maand) || '-01'", 'date') }} as spend_month,
        {{ to_two_digit_code('productcategorie') }} as product_category,
        cast(bedrag_eur as decimal(18, 2)) as amount_eur

    from source

)

select * from renamed

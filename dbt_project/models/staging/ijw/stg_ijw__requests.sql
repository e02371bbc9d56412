with

source as (

    select * from {{ source('ijw', 'requests') }}

),

renamed as (

    select
        file_id,
        record_position,
        message_id,
        message_date,

        -- JW315 goes from the provider to the municipality asked to allocate
        {{ to_agb_code('sender') }} as provider_agb,
        {{ to_municipality_code('receiver') }} as municipality_code,

        client_key,
        bsn_valid as is_bsn_valid,
        birth_year,
        provider_reference,
        {{ to_two_digit_code('product_category') }} as product_category,
        trim(product_code) as product_code,
        requested_start_date,
        requested_end_date,
        volume,
        {{ to_two_digit_code('unit') }} as unit,
        trim(frequency) as frequency,
        {{ to_two_digit_code('referrer_type') }} as referrer_type

    from source

)

select * from renamed

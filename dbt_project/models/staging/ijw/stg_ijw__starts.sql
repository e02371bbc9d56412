with

source as (

    select * from {{ source('ijw', 'starts') }}

),

renamed as (

    select
        file_id,
        record_position,
        message_id,
        message_date,

        -- JW305 goes from the provider to the municipality
        {{ to_agb_code('sender') }} as provider_agb,
        {{ to_municipality_code('receiver') }} as municipality_code,

        client_key,
        bsn_valid as is_bsn_valid,
        birth_year,
        trim(allocation_number) as allocation_number,
        {{ to_two_digit_code('product_category') }} as product_category,
        trim(product_code) as product_code,
        allocation_start_date,
        start_date,
        trim(delivery_status) as delivery_status

    from source

)

select * from renamed

with

source as (

    select * from {{ source('ijw', 'allocations') }}

),

renamed as (

    select
        -- lineage
        file_id,
        record_position,
        message_id,
        message_date,

        -- JW301 goes from the (financially responsible) municipality to the provider
        {{ to_municipality_code('sender') }} as municipality_code,
        {{ to_agb_code('receiver') }} as provider_agb,

        client_key,
        bsn_valid as is_bsn_valid,
        birth_year,
        trim(allocation_number) as allocation_number,
        provider_reference,
        {{ to_two_digit_code('product_category') }} as product_category,
        trim(product_code) as product_code,
        allocation_date,
        allocation_time,
        start_date,
        end_date,
        {{ to_two_digit_code('change_reason') }} as change_reason,
        volume,
        {{ to_two_digit_code('unit') }} as unit,
        trim(frequency) as frequency,
        {{ cents_to_eur('budget_cents') }} as budget_eur

    from source

)

select * from renamed

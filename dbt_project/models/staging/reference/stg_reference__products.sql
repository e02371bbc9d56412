with

source as (

    {{ latest_file_rows(source('reference', 'products'), source('ingest', 'file_registry'), 'products') }}

),

renamed as (

    select
        file_id,
        record_position,
        {{ to_two_digit_code('product_category') }} as product_category,
        trim(product_code) as product_code,
        trim(description) as product_description,
        {{ to_two_digit_code('unit') }} as unit,
        cast(tariff_eur as decimal(18, 2)) as tariff_eur,
        valid_from,
        valid_to,
        trim(segment) as segment

    from source

)

select * from renamed

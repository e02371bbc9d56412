with

source as (

    select * from {{ source('ijw', 'invoice_lines') }}
    -- a line with an amount, volume or tariff beyond the plausible bounds is reported
    -- (implausible_value, int_file_findings_detected) and kept out of every sum
    where {{ is_plausible_line() }}

),

renamed as (

    select
        -- one JW323 Prestatie; its position in its file identifies it for good
        file_id || ':' || cast(record_position as varchar) as invoice_line_id,
        file_id,
        record_position,
        message_id,
        message_date,

        -- JW323 goes from the provider to the financially responsible municipality
        {{ to_agb_code('sender') }} as provider_agb,
        {{ to_municipality_code('receiver') }} as municipality_code,

        trim(declaration_number) as declaration_number,
        declaration_period_start,
        declaration_period_end,
        declaration_date,

        client_key,
        bsn_valid as is_bsn_valid,
        trim(reference_number) as reference_number,
        trim(previous_reference_number) as previous_reference_number,
        trim(allocation_number) as allocation_number,
        {{ to_two_digit_code('product_category') }} as product_category,
        trim(product_code) as product_code,
        period_start,
        period_end,
        {{ month_start('period_start') }} as service_month,

        upper(trim(debit_credit)) as debit_credit,
        -- DebetCredit signs both amount and volume, so credits net their debit out in any sum
        volume * {{ debit_credit_sign('debit_credit') }} as volume,
        {{ to_two_digit_code('unit') }} as unit,
        {{ cents_to_eur('tariff_cents') }} as tariff_eur,
        cast({{ cents_to_eur('amount_cents') }} * {{ debit_credit_sign('debit_credit') }} as decimal(18, 2))
            as amount_eur

    from source

)

select * from renamed

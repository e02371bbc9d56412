with

source as (

    select * from {{ source('ijw', 'rejected_lines') }}
    -- a line with an amount, volume or tariff beyond the plausible bounds is reported
    -- (implausible_value, int_file_findings_detected) and kept out of every sum
    where {{ is_plausible_line() }}

),

renamed as (

    select
        file_id,
        record_position,
        message_id,
        message_date,

        -- JW325 answers the provider that sent the JW323
        {{ to_municipality_code('sender') }} as municipality_code,
        {{ to_agb_code('receiver') }} as provider_agb,

        trim(declaration_number) as declaration_number,
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
        volume * {{ debit_credit_sign('debit_credit') }} as volume,
        {{ to_two_digit_code('unit') }} as unit,
        {{ cents_to_eur('tariff_cents') }} as tariff_eur,
        cast({{ cents_to_eur('amount_cents') }} * {{ debit_credit_sign('debit_credit') }} as decimal(18, 2))
            as amount_eur,
        return_codes

    from source

)

select * from renamed

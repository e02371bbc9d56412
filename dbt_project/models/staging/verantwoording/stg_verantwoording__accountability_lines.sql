with

source as (

    select * from {{ source('verantwoording', 'accountability') }}

),

renamed as (

    select
        file_id,
        record_position,
        boekjaar as fiscal_year,
        {{ to_agb_code('agb_code') }} as provider_agb,
        {{ to_municipality_code('gemeente_code') }} as municipality_code,
        {{ to_two_digit_code('productcategorie') }} as product_category,
        trim(productcode) as product_code,
        volume,
        {{ to_two_digit_code('eenheid') }} as unit,
        cast(bedrag_eur as decimal(18, 2)) as amount_eur,
        aantal_clienten as client_count,
        case lower(trim(accountantsverklaring))
            when 'ja' then true
            when 'nee' then false
        end as has_auditor_statement,
        datum_aanlevering as delivered_on

    from source

)

select * from renamed

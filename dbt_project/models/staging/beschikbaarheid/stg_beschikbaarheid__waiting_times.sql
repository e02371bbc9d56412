with

source as (

    select * from {{ source('beschikbaarheid', 'waiting_times') }}

),

renamed as (

    select
        file_id,
        record_position,
        peildatum as reference_date,
        {{ month_start('peildatum') }} as report_month,
        {{ to_agb_code('agb_code') }} as provider_agb,
        {{ to_two_digit_code('productcategorie') }} as product_category,
        cast(wachttijd_weken as decimal(18, 2)) as waiting_weeks,
        aantal_wachtend as waiting_count,
        case lower(trim(capaciteit_beschikbaar))
            when 'ja' then true
            when 'nee' then false
        end as is_capacity_open

    from source

)

select * from renamed

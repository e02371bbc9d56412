{#- Intensity per care month (client × provider × product_code × service_month), from the
    accepted lines of all municipalities (as int_care_months_netted nets them): non-residential
    hours = the signed volume of lines in a time unit other than etmaal (01 minute = 1/60 h,
    04 hour, 16 dagdeel = 4 h; code_units.minutes_per_unit); residential days = the signed volume
    of lines in unit 14 (etmaal, 24-hour residential care). A care month with both kinds of line
    has both; one with neither (output units 82-84) has neither. Only keys that are care months
    (int_care_months_netted) are kept. -#}

with

accepted_lines as (

    select *
    from {{ ref('fct_invoice_lines') }}
    where not is_rejected
        and service_month is not null

),

units as (

    select unit_code, minutes_per_unit
    from {{ ref('code_units') }}
    where is_time_unit

),

per_key as (

    select
        accepted_lines.client_key,
        accepted_lines.provider_agb,
        accepted_lines.product_code,
        accepted_lines.service_month,
        -- etmaal (14) is residential care: counted in days, not in hours
        sum(case when units.unit_code <> '14' then 1 else 0 end) as hour_lines,
        sum(case when units.unit_code <> '14' then accepted_lines.volume * units.minutes_per_unit end)
            as hour_minutes,
        sum(case when units.unit_code = '14' then 1 else 0 end) as day_lines,
        sum(case when units.unit_code = '14' then accepted_lines.volume end) as residential_days

    from accepted_lines
    left join units
        on units.unit_code = accepted_lines.unit
    group by
        accepted_lines.client_key,
        accepted_lines.provider_agb,
        accepted_lines.product_code,
        accepted_lines.service_month

),

care_months as (

    select client_key, provider_agb, product_code, service_month
    from {{ ref('int_care_months_netted') }}

),

final as (

    select
        cast(care_months.client_key as varchar) as client_key,
        cast(care_months.provider_agb as varchar) as provider_agb,
        cast(care_months.product_code as varchar) as product_code,
        cast(care_months.service_month as date) as service_month,
        cast(coalesce(per_key.hour_lines, 0) > 0 as boolean) as has_hour_unit,
        -- minutes are exact: divide once at the end
        cast(case when per_key.hour_lines > 0 then per_key.hour_minutes / 60.0 end as double)
            as non_residential_hours,
        cast(coalesce(per_key.day_lines, 0) > 0 as boolean) as has_day_unit,
        cast(case when per_key.day_lines > 0 then per_key.residential_days end as bigint)
            as residential_days

    from care_months
    inner join per_key
        on per_key.client_key is not distinct from care_months.client_key
        and per_key.provider_agb is not distinct from care_months.provider_agb
        and per_key.product_code is not distinct from care_months.product_code
        and per_key.service_month = care_months.service_month

)

select * from final

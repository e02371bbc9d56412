{#- The municipal KPI table (docs/contract.md §3, mart_kpi_annual) per municipality and year of the
    care month. Youths and care months come from int_care_months_netted (each care month counted for
    one municipality); total cost is the accepted net amount invoiced to the municipality, the same
    money as mart_costs_monthly. Intensity (int_care_months_intensity) is split: hours per care
    month over the care months with a non-residential time unit (01 minute, 04 hour, 16 dagdeel),
    and days per care month over the care months with etmaal (14, residential care) lines.
    youths_per_1000 = unique_youths per 1,000 youths aged 0-17 (population.csv, the year's row or
    else the latest earlier year's).
    Like for like: months_observed = the months of the year whose invoice deadline (the lateness
    rule's term, var late_term_months: the last day of the month that many months later) lies
    before JEUGDHULP_AS_OF, i.e. January up to the month late_term_months + 1 before as_of's month
    (as of 4 December with a term of 1: January-October, 10). The observed values count only
    those months; the annualised values are observed × 12 / months_observed (null at 0), equal to
    the actual ones for a complete year. The *_change_pct compare the observed months with the
    same months of the year before (a complete year: the whole previous year), so a running year
    is never set against a year of twelve months, nor its barely invoiced last months counted.
    forecast_cost_eur = the year-end forecast (int_provider_forecast_split, by municipality). -#}

{%- set last_observed = add_months(month_start(as_of_date()), -(late_term_months() | int) - 1) -%}

with

care_months as (

    select
        netted.*,
        cast(extract(year from netted.service_month) as integer) as service_year,
        coalesce(intensity.has_hour_unit, false) as has_hour_unit,
        intensity.non_residential_hours,
        coalesce(intensity.has_day_unit, false) as has_day_unit,
        intensity.residential_days
    from {{ ref('int_care_months_netted') }} as netted
    left join {{ ref('int_care_months_intensity') }} as intensity
        on intensity.client_key is not distinct from netted.client_key
        and intensity.provider_agb is not distinct from netted.provider_agb
        and intensity.product_code is not distinct from netted.product_code
        and intensity.service_month = netted.service_month

),

care_per_year as (

    select
        municipality_code,
        service_year,
        count(distinct client_key) as unique_youths,
        count(distinct client_key || '|' || provider_agb || '|' || product_code) as non_unique_youths,
        count(*) as care_months,
        sum(case when has_hour_unit then non_residential_hours end) as hour_unit_hours,
        sum(case when has_hour_unit then 1 else 0 end) as hour_unit_care_months,
        sum(case when has_day_unit then residential_days end) as residential_days,
        sum(case when has_day_unit then 1 else 0 end) as day_unit_care_months

    from care_months
    group by municipality_code, service_year

),

cost_per_year as (

    select
        municipality_code,
        cast(extract(year from service_month) as integer) as service_year,
        sum(amount_eur) as total_cost_eur

    from {{ ref('fct_invoice_lines') }}
    where not is_rejected
        and service_month is not null
    group by municipality_code, cast(extract(year from service_month) as integer)

),

municipality_years as (

    select
        coalesce(care.municipality_code, cost.municipality_code) as municipality_code,
        coalesce(care.service_year, cost.service_year) as service_year,
        coalesce(care.unique_youths, 0) as unique_youths,
        coalesce(care.non_unique_youths, 0) as non_unique_youths,
        coalesce(care.care_months, 0) as care_months,
        care.hour_unit_hours,
        coalesce(care.hour_unit_care_months, 0) as hour_unit_care_months,
        care.residential_days,
        coalesce(care.day_unit_care_months, 0) as day_unit_care_months,
        coalesce(cost.total_cost_eur, 0) as total_cost_eur

    from care_per_year as care
    full outer join cost_per_year as cost
        on cost.municipality_code = care.municipality_code
        and cost.service_year = care.service_year

),

-- the last month whose invoice deadline has passed
observed as (

    select
        *,
        cast(
            least(
                12,
                greatest(
                    0,
                    (extract(year from {{ last_observed }}) - service_year) * 12
                    + extract(month from {{ last_observed }})
                )
            ) as integer
        ) as months_observed

    from municipality_years

),

-- per municipality, year and month of the year: care months, cost and the youths (and client ×
-- provider × product) first seen in the year in that month, to count any first k months
monthly as (

    select
        municipality_code, service_year, month_no, sum(care_months) as care_months,
        sum(cost_eur) as cost_eur, sum(new_youths) as new_youths, sum(new_pairs) as new_pairs
    from (
        select
            municipality_code,
            service_year,
            cast(extract(month from service_month) as integer) as month_no,
            count(*) as care_months,
            0 as cost_eur,
            0 as new_youths,
            0 as new_pairs
        from care_months
        group by municipality_code, service_year, extract(month from service_month)

        union all

        select
            municipality_code,
            cast(extract(year from service_month) as integer) as service_year,
            cast(extract(month from service_month) as integer) as month_no,
            0 as care_months,
            sum(amount_eur) as cost_eur,
            0 as new_youths,
            0 as new_pairs
        from {{ ref('fct_invoice_lines') }}
        where not is_rejected
            and service_month is not null
        group by municipality_code, extract(year from service_month), extract(month from service_month)

        union all

        select
            municipality_code,
            service_year,
            first_month_no as month_no,
            0 as care_months,
            0 as cost_eur,
            count(*) as new_youths,
            0 as new_pairs
        from (
            select
                municipality_code, service_year, client_key,
                min(cast(extract(month from service_month) as integer)) as first_month_no
            from care_months
            group by municipality_code, service_year, client_key
        ) as first_youth
        group by municipality_code, service_year, first_month_no

        union all

        select
            municipality_code,
            service_year,
            first_month_no as month_no,
            0 as care_months,
            0 as cost_eur,
            0 as new_youths,
            count(*) as new_pairs
        from (
            select
                municipality_code, service_year, client_key, provider_agb, product_code,
                min(cast(extract(month from service_month) as integer)) as first_month_no
            from care_months
            group by municipality_code, service_year, client_key, provider_agb, product_code
        ) as first_pair
        group by municipality_code, service_year, first_month_no
    ) as parts
    group by municipality_code, service_year, month_no

),

-- the observed months of each year, and the same months of the year before
windows as (

    select municipality_code, service_year, months_observed, service_year as window_year, 'current' as side
    from observed
    union all
    select
        municipality_code, service_year, months_observed, service_year - 1 as window_year, 'previous' as side
    from observed

),

windowed as (

    select
        windows.municipality_code,
        windows.service_year,
        windows.side,
        count(monthly.month_no) as months_with_data,
        coalesce(sum(monthly.care_months), 0) as care_months,
        coalesce(sum(monthly.cost_eur), 0) as cost_eur,
        coalesce(sum(monthly.new_youths), 0) as youths,
        coalesce(sum(monthly.new_pairs), 0) as pairs

    from windows
    left join monthly
        on monthly.municipality_code = windows.municipality_code
        and monthly.service_year = windows.window_year
        and monthly.month_no <= windows.months_observed
    group by windows.municipality_code, windows.service_year, windows.side

),

compared as (

    select
        observed.*,
        cur.care_months as care_months_observed,
        cur.cost_eur as total_cost_observed_eur,
        cur.youths as unique_youths_observed,
        cur.pairs as non_unique_youths_observed,
        prev.months_with_data > 0 as has_previous,
        prev.care_months as previous_care_months,
        prev.cost_eur as previous_total_cost_eur,
        prev.youths as previous_unique_youths,
        prev.pairs as previous_non_unique_youths

    from observed
    inner join windowed as cur
        on cur.municipality_code = observed.municipality_code
        and cur.service_year = observed.service_year
        and cur.side = 'current'
    inner join windowed as prev
        on prev.municipality_code = observed.municipality_code
        and prev.service_year = observed.service_year
        and prev.side = 'previous'

),

-- the population row of the year, else of the latest earlier year
population as (

    select municipality_code, service_year, youths_0_17
    from (
        select
            observed.municipality_code,
            observed.service_year,
            population.youths_0_17,
            row_number() over (
                partition by observed.municipality_code, observed.service_year
                order by population.year desc
            ) as year_rank
        from observed
        inner join {{ ref('stg_reference__population') }} as population
            on population.municipality_code = observed.municipality_code
            and population.year <= observed.service_year
    ) as ranked
    where year_rank = 1

),

forecasts as (

    select municipality_code, year as service_year, sum(forecast_eur) as forecast_cost_eur
    from {{ ref('int_provider_forecast_split') }}
    where municipality_code is not null
    group by municipality_code, year

),

final as (

    select
        cast(compared.municipality_code as varchar) as municipality_code,
        cast(compared.service_year as integer) as year,
        cast(unique_youths as bigint) as unique_youths,
        cast(non_unique_youths as bigint) as non_unique_youths,
        cast(care_months as bigint) as care_months,
        cast(round(1.0 * care_months / nullif(non_unique_youths, 0), 2) as decimal(18, 2))
            as avg_months_per_youth,
        cast(total_cost_eur as decimal(18, 2)) as total_cost_eur,
        cast(round(total_cost_eur / nullif(care_months, 0), 2) as decimal(18, 2)) as avg_cost_per_youth_month,
        cast(round(hour_unit_hours / nullif(hour_unit_care_months, 0), 2) as decimal(18, 2))
            as intensity_hours_per_month,
        cast(round(residential_days / nullif(day_unit_care_months, 0), 2) as decimal(18, 2))
            as residential_days_per_month,
        cast({{ exact_ratio('unique_youths * 1000', 'population.youths_0_17') }} as decimal(18, 2))
            as youths_per_1000,
        cast(months_observed as integer) as months_observed,
        cast(months_observed = 12 as boolean) as is_year_complete,
        cast(round(total_cost_observed_eur * 12 / nullif(months_observed, 0), 2) as decimal(18, 2))
            as total_cost_annualised_eur,
        cast(round(care_months_observed * 12.0 / nullif(months_observed, 0), 2) as decimal(18, 2))
            as care_months_annualised,
        cast(round(forecasts.forecast_cost_eur, 2) as decimal(18, 2)) as forecast_cost_eur,
        cast(total_cost_observed_eur as decimal(18, 2)) as total_cost_observed_eur,
        cast(case when has_previous then previous_total_cost_eur end as decimal(18, 2))
            as previous_total_cost_observed_eur,
        -- what the changes compare, summable over municipalities (the region's report) and
        -- counted at their own grain (published only when both sides have 0 or 5+ youths)
        cast(unique_youths_observed as bigint) as unique_youths_observed,
        cast(case when has_previous then previous_unique_youths end as bigint)
            as previous_unique_youths_observed,
        cast(care_months_observed as bigint) as care_months_observed,
        cast(case when has_previous then previous_care_months end as bigint)
            as previous_care_months_observed,
        {{ kpi_change_pct('unique_youths_observed', 'previous_unique_youths') }} as unique_youths_change_pct,
        {{ kpi_change_pct('non_unique_youths_observed', 'previous_non_unique_youths') }}
            as non_unique_youths_change_pct,
        {{ kpi_change_pct('care_months_observed', 'previous_care_months') }} as care_months_change_pct,
        {{ kpi_change_pct('total_cost_observed_eur', 'previous_total_cost_eur') }} as total_cost_change_pct,
        {{ kpi_change_pct(
            'total_cost_observed_eur / nullif(care_months_observed, 0)',
            'previous_total_cost_eur / nullif(previous_care_months, 0)'
        ) }} as avg_cost_per_youth_month_change_pct

    from compared
    left join forecasts
        on forecasts.municipality_code = compared.municipality_code
        and forecasts.service_year = compared.service_year
    left join population
        on population.municipality_code = compared.municipality_code
        and population.service_year = compared.service_year

)

select * from final

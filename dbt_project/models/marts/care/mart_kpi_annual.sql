{#- The municipal KPI table (docs/contract.md §3, mart_kpi_annual) per municipality and year of the
    care month. Youths and care months come from int_care_months_netted (each care month counted for
    one municipality); total cost is the accepted net amount invoiced to the municipality, the same
    money as mart_costs_monthly. Intensity counts only care months with a time unit.
    An incomplete year is annualised naively: months_observed is the number of complete months
    of the year before the reporting date (as of 1 November: 10), and the annualised values are
    the year-to-date values × 12 / months_observed (equal to the actual ones for a complete year,
    null when no month of the year is complete yet). -#}

with

care_months as (

    select
        *,
        cast(extract(year from service_month) as integer) as service_year
    from {{ ref('int_care_months_netted') }}

),

care_per_year as (

    select
        municipality_code,
        service_year,
        count(distinct client_key) as unique_youths,
        count(distinct client_key || '|' || provider_agb || '|' || product_code) as non_unique_youths,
        count(*) as care_months,
        sum(case when has_time_unit then care_hours end) as time_unit_hours,
        sum(case when has_time_unit then 1 else 0 end) as time_unit_care_months

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
        care.time_unit_hours,
        coalesce(care.time_unit_care_months, 0) as time_unit_care_months,
        coalesce(cost.total_cost_eur, 0) as total_cost_eur

    from care_per_year as care
    full outer join cost_per_year as cost
        on cost.municipality_code = care.municipality_code
        and cost.service_year = care.service_year

),

observed as (

    select
        *,
        case
            when service_year < extract(year from {{ as_of_date() }}) then 12
            when service_year = extract(year from {{ as_of_date() }})
                then extract(month from {{ as_of_date() }}) - 1
            else 0
        end as months_observed

    from municipality_years

),

final as (

    select
        cast(municipality_code as varchar) as municipality_code,
        cast(service_year as integer) as year,
        cast(unique_youths as bigint) as unique_youths,
        cast(non_unique_youths as bigint) as non_unique_youths,
        cast(care_months as bigint) as care_months,
        cast(round(1.0 * care_months / nullif(non_unique_youths, 0), 2) as decimal(18, 2))
            as avg_months_per_youth,
        cast(total_cost_eur as decimal(18, 2)) as total_cost_eur,
        cast(round(total_cost_eur / nullif(care_months, 0), 2) as decimal(18, 2)) as avg_cost_per_youth_month,
        cast(round(time_unit_hours / nullif(time_unit_care_months, 0), 2) as decimal(18, 2))
            as intensity_hours_per_month,
        cast(months_observed as integer) as months_observed,
        cast(months_observed = 12 as boolean) as is_year_complete,
        cast(round(total_cost_eur * 12 / nullif(months_observed, 0), 2) as decimal(18, 2))
            as total_cost_annualised_eur,
        cast(round(care_months * 12.0 / nullif(months_observed, 0), 2) as decimal(18, 2))
            as care_months_annualised

    from observed

)

select * from final

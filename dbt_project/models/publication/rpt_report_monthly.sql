{#- The report's cost per month (docs/publishing.md), per target: every municipality and the
    region ('regio'), per year and care month up to the reporting month. Months from January to
    the target's last month with cost (or, later, with invoices still to come) are all present;
    a month without cost has amount_eur null and persons 0.
    - amount_eur, persons: the accepted lines of the month (rpt__client_cells, so they equal the
      'totaal' rows of rpt_costs_segment_month); persons are distinct in that target-month.
    - cumulative_eur: the year's cost up to and including the month, up to the last month with
      cost (null after it).
    - is_still_coming_in / expected_final_eur: a care month whose invoicing is still developing
      (int_provider_months_projected: month_status 'developing', learned completion in
      int_invoice_completion_learned) and for which the target has an amount still to come. The
      region's still-to-come amount is the providers' outstanding_eur; a municipality's is its part
      of each provider's outstanding_eur: its share of the provider's cost in that very month,
      or, when the provider invoiced nothing in the month (a missing declaration), its share of
      the provider's cost in the year so far (nothing when it has none). expected_final_eur =
      amount + that part; null for months not still coming in. The municipalities' parts add up
      to the region's except for providers without any cost in the year. -#}

{{ config(materialized='table', schema='publication') }}

with

cells as (

    select
        municipality_code,
        provider_agb,
        service_month,
        client_key,
        amount_eur

    from {{ ref('rpt__client_cells') }}
    where service_month <= {{ month_start(as_of_date()) }}

),

target_months as (

    select
        coalesce(municipality_code, 'regio') as municipality_code,
        service_month,
        count(distinct client_key) as persons,
        sum(amount_eur) as amount_eur

    from cells
    group by grouping sets ((municipality_code, service_month), (service_month))

),

own_provider_months as (

    select municipality_code, provider_agb, service_month, sum(amount_eur) as amount_eur
    from cells
    group by municipality_code, provider_agb, service_month

),

provider_months as (

    select provider_agb, service_month, sum(amount_eur) as amount_eur
    from cells
    group by provider_agb, service_month

),

own_provider_years as (

    select
        municipality_code,
        provider_agb,
        extract(year from service_month) as year,
        sum(amount_eur) as amount_eur

    from cells
    group by municipality_code, provider_agb, extract(year from service_month)

),

provider_years as (

    select provider_agb, extract(year from service_month) as year, sum(amount_eur) as amount_eur
    from cells
    group by provider_agb, extract(year from service_month)

),

developing as (

    select provider_agb, service_month, outstanding_eur
    from {{ ref('int_provider_months_projected') }}
    where month_status = 'developing'
        and service_month <= {{ month_start(as_of_date()) }}

),

municipalities as (

    select distinct municipality_code from cells

),

-- a municipality's part of each provider's amount still to come
municipality_outstanding as (

    select
        municipalities.municipality_code,
        developing.service_month,
        sum(
            developing.outstanding_eur
            * coalesce(
                case
                    when provider_months.amount_eur > 0
                        then coalesce(own_provider_months.amount_eur, 0) / provider_months.amount_eur
                end,
                case
                    when provider_years.amount_eur > 0
                        then coalesce(own_provider_years.amount_eur, 0) / provider_years.amount_eur
                end,
                0
            )
        ) as outstanding_eur

    from developing
    cross join municipalities
    left join provider_months
        on provider_months.provider_agb = developing.provider_agb
        and provider_months.service_month = developing.service_month
    left join own_provider_months
        on own_provider_months.municipality_code = municipalities.municipality_code
        and own_provider_months.provider_agb = developing.provider_agb
        and own_provider_months.service_month = developing.service_month
    left join provider_years
        on provider_years.provider_agb = developing.provider_agb
        and provider_years.year = extract(year from developing.service_month)
    left join own_provider_years
        on own_provider_years.municipality_code = municipalities.municipality_code
        and own_provider_years.provider_agb = developing.provider_agb
        and own_provider_years.year = extract(year from developing.service_month)
    group by municipalities.municipality_code, developing.service_month

),

outstanding as (

    select municipality_code, service_month, round(outstanding_eur, 2) as outstanding_eur
    from municipality_outstanding

    union all

    select
        'regio' as municipality_code,
        service_month,
        round(sum(outstanding_eur), 2) as outstanding_eur

    from developing
    group by service_month

),

-- the target's months: with cost, or with something still to come
active_months as (

    select municipality_code, service_month from target_months
    union
    select municipality_code, service_month from outstanding where outstanding_eur > 0

),

target_years as (

    select
        active_months.municipality_code,
        extract(year from active_months.service_month) as year,
        max(active_months.service_month) as last_month,
        max(target_months.service_month) as last_cost_month

    from active_months
    left join target_months
        on target_months.municipality_code = active_months.municipality_code
        and target_months.service_month = active_months.service_month
    group by active_months.municipality_code, extract(year from active_months.service_month)

),

month_numbers as (

    select numbers.month_number
    from (
        values (1), (2), (3), (4), (5), (6), (7), (8), (9), (10), (11), (12)
    ) as numbers (month_number)

),

spine as (

    select
        target_years.municipality_code,
        target_years.year,
        month_numbers.month_number as month,
        cast(
            cast(target_years.year as varchar) || '-'
            || lpad(cast(month_numbers.month_number as varchar), 2, '0') || '-01' as date
        ) as service_month,
        target_years.last_month,
        target_years.last_cost_month

    from target_years
    cross join month_numbers

),

months as (

    select
        spine.municipality_code,
        spine.year,
        spine.month,
        spine.service_month,
        target_months.amount_eur,
        coalesce(target_months.persons, 0) as persons,
        case
            when spine.service_month <= spine.last_cost_month
                then sum(coalesce(target_months.amount_eur, 0)) over (
                        partition by spine.municipality_code, spine.year
                        order by spine.month
                        rows between unbounded preceding and current row
                    )
        end as cumulative_eur,
        coalesce(outstanding.outstanding_eur, 0) > 0 as is_still_coming_in,
        outstanding.outstanding_eur

    from spine
    left join target_months
        on target_months.municipality_code = spine.municipality_code
        and target_months.service_month = spine.service_month
    left join outstanding
        on outstanding.municipality_code = spine.municipality_code
        and outstanding.service_month = spine.service_month
    where spine.service_month <= spine.last_month

),

labels as (

    select * from {{ ref('rpt__labels') }}

),

final as (

    select
        cast(months.municipality_code as varchar) as municipality_code,
        cast(coalesce(municipality.label, months.municipality_code) as varchar) as municipality_name,
        cast(months.year as integer) as year,
        cast(months.month as integer) as month,
        cast(month_label.label as varchar) as month_name,
        cast(months.service_month as date) as service_month,
        cast(months.amount_eur as decimal(18, 2)) as amount_eur,
        cast(months.persons as bigint) as persons,
        cast(months.cumulative_eur as decimal(18, 2)) as cumulative_eur,
        cast(months.is_still_coming_in as boolean) as is_still_coming_in,
        cast(
            case
                when months.is_still_coming_in
                    then coalesce(months.amount_eur, 0) + months.outstanding_eur
            end
            as decimal(18, 2)
        ) as expected_final_eur

    from months
    left join labels as municipality
        on municipality.kind = 'municipality' and municipality.code = months.municipality_code
    left join labels as month_label
        on month_label.kind = 'month'
        and month_label.code = lpad(cast(months.month as varchar), 2, '0')

)

select * from final

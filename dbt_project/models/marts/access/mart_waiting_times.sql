{#- Providers' waiting times per provider × product category × month (docs/contract.md §3): what
    each provider reported to the Beschikbaarheidswijzer, whether an owed delivery is missing,
    the region's median per category and month, and a combined signal: a provider near its
    budget ceiling whose waiting list grows. Owed and delivered: int_waiting_time_months_expected. -#}

with

months as (

    select * from {{ ref('int_waiting_time_months_expected') }}

),

utilisation as (

    select provider_agb, year, utilisation_pct, signal
    from {{ ref('mart_budget_utilisation') }}

),

region_medians as (

    select
        product_category,
        report_month,
        {{ percentile_cont('waiting_weeks', 0.5) }} as region_median_waiting_weeks,
        count(waiting_weeks) as region_providers_reporting

    from months
    where waiting_weeks is not null
    group by 1, 2

),

with_previous as (

    select
        months.*,
        lag(months.report_month) over provider_category as previous_month,
        lag(months.waiting_count) over provider_category as previous_waiting_count

    from months
    window provider_category as (
        partition by months.provider_agb, months.product_category
        order by months.report_month
    )

),

final as (

    select
        cast(with_previous.provider_agb as varchar) as provider_agb,
        cast(with_previous.product_category as varchar) as product_category,
        cast(with_previous.report_month as date) as report_month,
        cast(with_previous.is_expected as boolean) as is_expected,
        cast(with_previous.is_delivered as boolean) as delivered,
        cast(with_previous.waiting_weeks as decimal(9, 2)) as waiting_weeks,
        cast(with_previous.waiting_count as integer) as waiting_count,
        cast(with_previous.is_capacity_open as boolean) as capacity_open,
        cast(round(region_medians.region_median_waiting_weeks, 2) as decimal(9, 2))
            as region_median_waiting_weeks,
        cast(coalesce(region_medians.region_providers_reporting, 0) as integer)
            as region_providers_reporting,
        -- the previous calendar month's count; a gap (month not delivered) gives no comparison
        cast(
            case
                when with_previous.previous_month = {{ add_months('with_previous.report_month', -1) }}
                    then with_previous.previous_waiting_count
            end as integer
        ) as previous_waiting_count,
        cast(utilisation.utilisation_pct as decimal(9, 2)) as utilisation_pct,
        cast(utilisation.signal as varchar) as utilisation_signal,
        cast(
            coalesce(
                utilisation.signal in ('dreigende_overschrijding', 'overschrijding')
                and with_previous.previous_month = {{ add_months('with_previous.report_month', -1) }}
                and with_previous.waiting_count > with_previous.previous_waiting_count,
                false
            ) as boolean
        ) as near_ceiling_and_growing,
        cast(with_previous.source_file as varchar) as source_file

    from with_previous
    left join region_medians
        on region_medians.product_category = with_previous.product_category
        and region_medians.report_month = with_previous.report_month
    left join utilisation
        on utilisation.provider_agb = with_previous.provider_agb
        and utilisation.year = cast(extract(year from with_previous.report_month) as integer)

)

select * from final

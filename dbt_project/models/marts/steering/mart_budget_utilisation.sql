{#- Budget-ceiling utilisation per provider and year, with a year-end forecast that includes care
    delivered but not yet invoiced (int_provider_months_projected, docs/forecast.md). The signal
    is read from utilisation_pct as published (2 decimals), so a reader sees the same boundary:
    > 100 overschrijding, > 95 dreigende_overschrijding, < 80 onderbesteding, else op_koers;
    null without a ceiling. A ceiling of zero has no percentage; any forecast cost crosses it.
    Routes outside the ceilings (contract_type nee_tenzij, expertteam, maatwerk: no bestedingsruimte)
    are flagged outside_ceilings, so the report shows them as one block with their totals.
    ceiling_reached_on: the day the cumulative year-end cost of the year's care months (forecast_eur
    per month, in month order) reaches the ceiling, a month's cost spread evenly over its days
    (the first day d with cumulative before the month + cost × d / days ≥ ceiling); null when the
    year's forecast stays below it. A ceiling of zero is reached on the first day of the first
    month with cost. headroom_months (running year only): (ceiling − forecast to date) / monthly
    run rate, where forecast to date = forecast_eur of the care months up to the reporting month
    and the run rate = the mean expected_eur (int_provider_months_projected) of the reporting month
    and the months after it in the year; negative when the ceiling is already passed, null without
    a ceiling or run rate.
    forecast_p10_eur, forecast_p90_eur, probability_over_ceiling: the forecast's uncertainty,
    calibrated on backtests (int_provider_forecast_interval). The signal stays on forecast_eur
    (the median); the interval and probability tell how sure a 96% is. -#}

with

months as (

    select * from {{ ref('int_provider_months_projected') }}

),

ceilings as (

    select
        provider_agb,
        year,
        sum(budget_ceiling_eur) as budget_ceiling_eur

    from {{ ref('stg_reference__budget_ceilings') }}
    where year <= extract(year from {{ as_of_date() }})
    group by provider_agb, year

),

providers as (

    select provider_agb, provider_name, contract_type
    from (
        select
            *,
            row_number() over (partition by provider_agb order by record_position) as position_rank
        from {{ ref('stg_reference__providers') }}
    ) as ranked
    where position_rank = 1

),

per_year as (

    select
        provider_agb,
        year,
        sum(invoiced_eur) as invoiced_eur,
        sum(outstanding_eur) as outstanding_eur,
        sum(projected_eur) as projected_eur,
        sum(forecast_eur) as forecast_eur

    from months
    group by provider_agb, year

),

-- the day the cumulative cost of the year's care months reaches the ceiling
cumulative as (

    select
        months.provider_agb,
        months.year,
        months.service_month,
        months.forecast_eur,
        coalesce(
            sum(months.forecast_eur) over (
                partition by months.provider_agb, months.year
                order by months.service_month
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as cost_before_eur,
        ceilings.budget_ceiling_eur,
        extract(day from {{ month_end('months.service_month') }}) as days_in_month

    from months
    inner join ceilings
        on ceilings.provider_agb = months.provider_agb
        and ceilings.year = months.year

),

ceiling_dates as (

    select
        provider_agb,
        year,
        min(
            case
                when budget_ceiling_eur <= 0 then service_month
                else service_month + cast(
                        least(
                            days_in_month,
                            greatest(
                                1,
                                ceil((budget_ceiling_eur - cost_before_eur) * days_in_month / forecast_eur)
                            )
                        ) - 1 as integer
                    )
            end
        ) as ceiling_reached_on

    from cumulative
    where forecast_eur > 0
        and cost_before_eur + forecast_eur >= budget_ceiling_eur
    group by provider_agb, year

),

-- the running year: forecast to date and the monthly run rate from the reporting month on
headroom as (

    select
        provider_agb,
        year,
        sum(case when service_month <= {{ month_start(as_of_date()) }} then forecast_eur else 0 end)
            as forecast_to_date_eur,
        avg(case when service_month >= {{ month_start(as_of_date()) }} then expected_eur end)
            as run_rate_eur

    from months
    where year = extract(year from {{ as_of_date() }})
    group by provider_agb, year

),

intervals as (

    select * from {{ ref('int_provider_forecast_interval') }}

),

provider_years as (

    select provider_agb, year from per_year where invoiced_eur <> 0 or forecast_eur <> 0
    union
    select provider_agb, year from ceilings

),

utilisation as (

    select
        provider_years.provider_agb,
        provider_years.year,
        providers.provider_name,
        providers.contract_type,
        ceilings.budget_ceiling_eur,
        coalesce(per_year.invoiced_eur, 0) as invoiced_eur,
        coalesce(per_year.outstanding_eur, 0) as outstanding_eur,
        coalesce(per_year.projected_eur, 0) as projected_eur,
        coalesce(per_year.forecast_eur, 0) as forecast_eur,
        case
            when ceilings.budget_ceiling_eur > 0
                then round(100.0 * coalesce(per_year.forecast_eur, 0) / ceilings.budget_ceiling_eur, 2)
        end as utilisation_pct,
        ceiling_dates.ceiling_reached_on,
        coalesce(intervals.forecast_p10_eur, per_year.forecast_eur, 0) as forecast_p10_eur,
        coalesce(intervals.forecast_p90_eur, per_year.forecast_eur, 0) as forecast_p90_eur,
        -- a provider-year without an interval row (no forecast at all): certain either way
        case
            when ceilings.budget_ceiling_eur is null then null
            when intervals.probability_over_ceiling is not null then intervals.probability_over_ceiling
            when coalesce(per_year.forecast_eur, 0) > ceilings.budget_ceiling_eur then 1
            else 0
        end as probability_over_ceiling,
        case
            when headroom.run_rate_eur > 0
                then round(
                        (ceilings.budget_ceiling_eur - headroom.forecast_to_date_eur) / headroom.run_rate_eur,
                        1
                    )
        end as headroom_months

    from provider_years
    left join per_year
        on per_year.provider_agb = provider_years.provider_agb
        and per_year.year = provider_years.year
    left join ceilings
        on ceilings.provider_agb = provider_years.provider_agb
        and ceilings.year = provider_years.year
    left join providers
        on providers.provider_agb = provider_years.provider_agb
    left join ceiling_dates
        on ceiling_dates.provider_agb = provider_years.provider_agb
        and ceiling_dates.year = provider_years.year
    left join headroom
        on headroom.provider_agb = provider_years.provider_agb
        and headroom.year = provider_years.year
    left join intervals
        on intervals.provider_agb = provider_years.provider_agb
        and intervals.year = provider_years.year

),

final as (

    select
        cast(provider_agb as varchar) as provider_agb,
        cast(year as integer) as year,
        cast(provider_name as varchar) as provider_name,
        cast(contract_type as varchar) as contract_type,
        cast(budget_ceiling_eur as decimal(18, 2)) as budget_ceiling_eur,
        cast(invoiced_eur as decimal(18, 2)) as invoiced_eur,
        cast(outstanding_eur as decimal(18, 2)) as outstanding_eur,
        cast(projected_eur as decimal(18, 2)) as projected_eur,
        cast(forecast_eur as decimal(18, 2)) as forecast_eur,
        cast(utilisation_pct as decimal(18, 2)) as utilisation_pct,
        cast(
            {{ budget_signal('budget_ceiling_eur', 'forecast_eur', 'utilisation_pct') }} as varchar
        ) as signal,
        cast({{ as_of_date() }} as date) as as_of_date,
        cast(coalesce(contract_type in ('nee_tenzij', 'expertteam', 'maatwerk'), false) as boolean)
            as outside_ceilings,
        cast(ceiling_reached_on as date) as ceiling_reached_on,
        cast(headroom_months as decimal(18, 1)) as headroom_months,
        cast(forecast_p10_eur as decimal(18, 2)) as forecast_p10_eur,
        cast(forecast_p90_eur as decimal(18, 2)) as forecast_p90_eur,
        cast(probability_over_ceiling as decimal(4, 3)) as probability_over_ceiling

    from utilisation

)

select * from final

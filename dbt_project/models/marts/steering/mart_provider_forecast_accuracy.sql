{#- How good the providers' own forecasts are (prognoses, "niet altijd kloppen"), next to ours:
    per provider × year × reference date (peildatum) of a provider forecast,
    provider_forecast_eur (stg_prognoses__provider_forecasts, summed over segments),
    our_forecast_eur = mart_forecast_history's forecast_eur of a run on exactly that date (null
    when no run had that reporting date), final_actual_eur once the year is mature (the history's,
    else the accepted net cost of the year as invoiced now when the year is mature),
    provider_error_pct and our_error_pct = (forecast − final) / final × 100. Reliability summary per
    provider (on every row of the provider): provider_mape_pct = mean absolute provider_error_pct
    over its forecasts with a final, our_mape_pct the same for ours on the same rows, and
    forecasts_judged = how many. -#}

{%- set maturity_days = var('forecast_maturity_days', 365) | int -%}

with

prognoses as (

    select * from {{ ref('stg_prognoses__provider_forecasts') }}

),

history as (

    select * from {{ ref('mart_forecast_history') }}

),

finals as (

    select provider_agb, year, sum(invoiced_eur) as final_actual_eur
    from {{ ref('int_provider_months_projected') }}
    where make_date(year, 12, 31) + {{ maturity_days }} <= {{ as_of_date() }}
    group by provider_agb, year

),

joined as (

    select
        prognoses.provider_agb,
        prognoses.year,
        prognoses.reference_date,
        prognoses.provider_forecast_eur,
        history.forecast_eur as our_forecast_eur,
        case
            when make_date(prognoses.year, 12, 31) + {{ maturity_days }} <= {{ as_of_date() }}
                then coalesce(finals.final_actual_eur, 0)
        end as final_actual_eur

    from prognoses
    left join history
        on history.provider_agb = prognoses.provider_agb
        and history.year = prognoses.year
        and history.reporting_date = prognoses.reference_date
    left join finals
        on finals.provider_agb = prognoses.provider_agb
        and finals.year = prognoses.year

),

errors as (

    select
        *,
        round(100.0 * (provider_forecast_eur - final_actual_eur) / nullif(final_actual_eur, 0), 2)
            as provider_error_pct,
        round(100.0 * (our_forecast_eur - final_actual_eur) / nullif(final_actual_eur, 0), 2)
            as our_error_pct

    from joined

),

final as (

    select
        cast(provider_agb as varchar) as provider_agb,
        cast(year as integer) as year,
        cast(reference_date as date) as reference_date,
        cast(provider_forecast_eur as decimal(18, 2)) as provider_forecast_eur,
        cast(our_forecast_eur as decimal(18, 2)) as our_forecast_eur,
        cast(final_actual_eur as decimal(18, 2)) as final_actual_eur,
        cast(provider_error_pct as decimal(18, 2)) as provider_error_pct,
        cast(our_error_pct as decimal(18, 2)) as our_error_pct,
        cast(count(provider_error_pct) over (partition by provider_agb) as bigint) as forecasts_judged,
        cast(round(avg(abs(provider_error_pct)) over (partition by provider_agb), 2) as decimal(18, 2))
            as provider_mape_pct,
        cast(
            round(
                avg(case when provider_error_pct is not null then abs(our_error_pct) end)
                    over (partition by provider_agb),
                2
            )
            as decimal(18, 2)
        ) as our_mape_pct

    from errors

)

select * from final

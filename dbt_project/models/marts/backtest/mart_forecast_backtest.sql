{#- The forecast's track record on the region's own data: what the year-end forecast and the naive
    annualisation said on each replayed reporting date (`jeugdhulp backtest --year Y`,
    jeugdhulp/forecasting/backtest.py: the warehouse cut back to what had arrived by the date, the
    real dbt project built as of it), set against the provider's final cost of the year.
    - The replays come from backtest.forecast_replays, which only the backtest command writes; a
      warehouse on which no backtest ran has no such table, and this model is then empty.
    - final_actual_eur: the accepted net cost of the year's care months as the warehouse knows it
      now (int_invoice_lags_summed), once the year is mature (its December forecast_maturity_days
      old as of JEUGDHULP_AS_OF), else null; 0 for a replayed provider without cost.
    - *_error_eur = estimate − final; *_error_pct = that ÷ final × 100 (null when final is 0); a
      missing naive annualisation (January: no month observed) counts as 0.
    - final_over_ceiling: the final cost exceeds the budget ceiling. -#}

{%- set replays = forecast_replays_relation() -%}
{%- set maturity_days = var('forecast_maturity_days', 365) | int -%}

with

replays as (

    {% if replays is not none -%}
        select
            provider_agb,
            year,
            reporting_date,
            budget_ceiling_eur,
            invoiced_eur,
            forecast_eur,
            forecast_p10_eur,
            forecast_p90_eur,
            probability_over_ceiling,
            signal,
            naive_annualised_eur,
            replayed_at
        from {{ replays }}
    {%- else -%}
        select
            cast(null as varchar) as provider_agb,
            cast(null as integer) as year,
            cast(null as date) as reporting_date,
            cast(null as decimal(18, 2)) as budget_ceiling_eur,
            cast(null as decimal(18, 2)) as invoiced_eur,
            cast(null as decimal(18, 2)) as forecast_eur,
            cast(null as decimal(18, 2)) as forecast_p10_eur,
            cast(null as decimal(18, 2)) as forecast_p90_eur,
            cast(null as double) as probability_over_ceiling,
            cast(null as varchar) as signal,
            cast(null as decimal(18, 2)) as naive_annualised_eur,
            cast(null as timestamp) as replayed_at
        where false
    {%- endif %}

),

finals as (

    select
        provider_agb,
        cast(extract(year from service_month) as integer) as year,
        sum(amount_eur) as final_actual_eur

    from {{ ref('int_invoice_lags_summed') }}
    group by 1, 2

),

judged as (

    select
        replays.*,
        case
            when make_date(replays.year, 12, 31) + {{ maturity_days }} <= {{ as_of_date() }}
                then coalesce(finals.final_actual_eur, 0)
        end as final_actual_eur

    from replays
    left join finals
        on
        finals.provider_agb = replays.provider_agb
        and finals.year = replays.year

),

final as (

    select
        cast(provider_agb as varchar) as provider_agb,
        cast(year as integer) as year,
        cast(reporting_date as date) as reporting_date,
        cast(budget_ceiling_eur as decimal(18, 2)) as budget_ceiling_eur,
        cast(invoiced_eur as decimal(18, 2)) as invoiced_eur,
        cast(forecast_eur as decimal(18, 2)) as forecast_eur,
        cast(forecast_p10_eur as decimal(18, 2)) as forecast_p10_eur,
        cast(forecast_p90_eur as decimal(18, 2)) as forecast_p90_eur,
        cast(probability_over_ceiling as double) as probability_over_ceiling,
        cast(signal as varchar) as signal,
        cast(naive_annualised_eur as decimal(18, 2)) as naive_annualised_eur,
        cast(final_actual_eur as decimal(18, 2)) as final_actual_eur,
        cast(forecast_eur - final_actual_eur as decimal(18, 2)) as forecast_error_eur,
        cast(coalesce(naive_annualised_eur, 0) - final_actual_eur as decimal(18, 2))
            as naive_error_eur,
        cast(
            round(100.0 * (forecast_eur - final_actual_eur) / nullif(final_actual_eur, 0), 2)
            as decimal(18, 2)
        ) as forecast_error_pct,
        cast(
            round(
                100.0 * (coalesce(naive_annualised_eur, 0) - final_actual_eur)
                / nullif(final_actual_eur, 0),
                2
            )
            as decimal(18, 2)
        ) as naive_error_pct,
        cast(
            budget_ceiling_eur > 0 and final_actual_eur > budget_ceiling_eur as boolean
        ) as final_over_ceiling,
        cast(replayed_at as timestamp) as replayed_at

    from judged

)

select * from final

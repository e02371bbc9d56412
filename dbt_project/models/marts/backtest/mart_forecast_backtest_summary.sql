{#- Per year and replayed reporting date, how good the forecast was (mart_forecast_backtest; only
    mature years, whose final cost is known):
    - forecast_wape_pct, naive_wape_pct: cost-weighted mean absolute percentage error,
      Σ |estimate − final| ÷ Σ final × 100 over the providers with a final cost above zero (a
      € 10M provider's miss weighs a thousand times a € 10k one's); naive_to_forecast_ratio =
      naive ÷ forecast (how many times smaller the forecast's error is);
    - over_ceiling: providers whose final cost exceeded their ceiling; over_ceiling_signalled: of
      those, signalled on the date (overschrijding or dreigende_overschrijding);
    - false_overschrijding, false_dreigend: providers signalled so while their final cost stayed
      within the ceiling; providers_with_ceiling: the providers they are counted among;
    - interval_coverage_pct: cost-weighted share of the final cost inside the forecast's P10–P90
      interval, over the providers with cost that have an interval (null without one). -#}

with

judged as (

    select * from {{ ref('mart_forecast_backtest') }}
    where final_actual_eur is not null

),

final as (

    select
        cast(year as integer) as year,
        cast(reporting_date as date) as reporting_date,
        cast(count(*) filter (where final_actual_eur > 0) as bigint) as providers,
        cast(sum(final_actual_eur) filter (where final_actual_eur > 0) as decimal(18, 2))
            as final_actual_eur,
        cast(
            round(
                100.0 * sum(abs(forecast_error_eur)) filter (where final_actual_eur > 0)
                / nullif(sum(final_actual_eur) filter (where final_actual_eur > 0), 0),
                2
            )
            as decimal(18, 2)
        ) as forecast_wape_pct,
        cast(
            round(
                100.0 * sum(abs(naive_error_eur)) filter (where final_actual_eur > 0)
                / nullif(sum(final_actual_eur) filter (where final_actual_eur > 0), 0),
                2
            )
            as decimal(18, 2)
        ) as naive_wape_pct,
        cast(
            round(
                sum(abs(naive_error_eur)) filter (where final_actual_eur > 0)
                / nullif(sum(abs(forecast_error_eur)) filter (where final_actual_eur > 0), 0),
                2
            )
            as decimal(18, 2)
        ) as naive_to_forecast_ratio,
        cast(count(*) filter (where final_over_ceiling) as bigint) as over_ceiling,
        cast(
            count(*) filter (
                where final_over_ceiling and signal in ('overschrijding', 'dreigende_overschrijding')
            )
            as bigint
        ) as over_ceiling_signalled,
        cast(
            count(*) filter (where signal = 'overschrijding' and not coalesce(final_over_ceiling, false))
            as bigint
        ) as false_overschrijding,
        cast(
            count(*) filter (
                where signal = 'dreigende_overschrijding' and not coalesce(final_over_ceiling, false)
            )
            as bigint
        ) as false_dreigend,
        cast(count(*) filter (where budget_ceiling_eur > 0) as bigint) as providers_with_ceiling,
        cast(
            round(
                100.0 * sum(final_actual_eur) filter (
                    where
                    final_actual_eur > 0
                    and final_actual_eur between forecast_p10_eur and forecast_p90_eur
                )
                / nullif(
                    sum(final_actual_eur) filter (
                        where
                        final_actual_eur > 0
                        and forecast_p10_eur is not null
                        and forecast_p90_eur is not null
                    ),
                    0
                ),
                1
            )
            as decimal(18, 1)
        ) as interval_coverage_pct

    from judged
    group by year, reporting_date

)

select * from final

{#- Programme budget per segment against invoiced cost and the year-end forecast (uitnutting per
    segment), as mart_budget_utilisation does per provider against its ceiling.
    - budget_eur: the programme budget as it stands on as_of (int_programme_budget_current).
    - invoiced_eur: accepted net amount of the year's care months declared on or before as_of,
      by the segment of the product version valid in the care month (products.csv, the rule of
      mart_costs_monthly); a product without a segment counts under `onbekend`.
    - forecast_eur: the provider forecast of mart_budget_utilisation split over segments by
      product (int_provider_forecast_split): each provider's invoiced part goes to the segments
      it was invoiced in; its part not yet invoiced (outstanding + projected) is split in
      proportion to the provider's invoiced amount per municipality × segment in the same year
      (cells with a net credit weigh 0); a provider with nothing invoiced in the year by its mix
      over all its care months up to as_of; a provider without any invoiced cost under
      `onbekend`. The split is in whole cents (largest remainder), so Σ over segments = Σ over
      providers of forecast_eur, to the cent.
    - utilisation_pct = forecast / budget × 100, signal as mart_budget_utilisation (macro
      budget_signal).
    - forecast_p10_eur / forecast_p90_eur: each provider's interval half-widths (forecast − p10,
      p90 − forecast; int_provider_forecast_interval) in proportion to its forecast in the
      segment, combined over providers as the root of the sum of squares (their errors taken as
      independent: the segment's interval is relatively narrower than a provider's).
    Rows: every segment × year up to as_of's year with a budget, invoiced cost or forecast. -#}

with

split as (

    select * from {{ ref('int_provider_forecast_split') }}

),

segment_years as (

    select
        year,
        segment_key,
        min(segment) as segment,
        sum(invoiced_eur) as invoiced_eur,
        sum(forecast_eur) as forecast_eur

    from split
    group by year, segment_key

),

-- each provider's interval half-widths, in proportion to its forecast in the segment
provider_segment_spread as (

    select
        split.year,
        split.segment_key,
        case
            when intervals.forecast_eur > 0
                then (intervals.forecast_eur - intervals.forecast_p10_eur) * sum(split.forecast_eur)
                    / intervals.forecast_eur
            else 0
        end as lower_eur,
        case
            when intervals.forecast_eur > 0
                then (intervals.forecast_p90_eur - intervals.forecast_eur) * sum(split.forecast_eur)
                    / intervals.forecast_eur
            else 0
        end as upper_eur

    from split
    inner join {{ ref('int_provider_forecast_interval') }} as intervals
        on intervals.provider_agb = split.provider_agb
        and intervals.year = split.year
    group by
        split.year,
        split.segment_key,
        split.provider_agb,
        intervals.forecast_eur,
        intervals.forecast_p10_eur,
        intervals.forecast_p90_eur

),

segment_spread as (

    select
        year,
        segment_key,
        sqrt(sum(cast(lower_eur as double) * cast(lower_eur as double))) as lower_eur,
        sqrt(sum(cast(upper_eur as double) * cast(upper_eur as double))) as upper_eur

    from provider_segment_spread
    group by year, segment_key

),

budgets as (

    select year, lower(segment) as segment_key, segment, budget_eur
    from {{ ref('int_programme_budget_current') }}

),

combined as (

    select
        coalesce(budgets.year, segment_years.year) as year,
        coalesce(budgets.segment, segment_years.segment) as segment,
        budgets.budget_eur,
        coalesce(segment_years.invoiced_eur, 0) as invoiced_eur,
        round(coalesce(segment_years.forecast_eur, 0), 2) as forecast_eur,
        coalesce(segment_spread.lower_eur, 0) as lower_eur,
        coalesce(segment_spread.upper_eur, 0) as upper_eur

    from budgets
    full outer join segment_years
        on segment_years.year = budgets.year
        and segment_years.segment_key = budgets.segment_key
    left join segment_spread
        on segment_spread.year = segment_years.year
        and segment_spread.segment_key = segment_years.segment_key

),

final as (

    select
        cast(segment as varchar) as segment,
        cast(year as integer) as year,
        cast(budget_eur as decimal(18, 2)) as budget_eur,
        cast(invoiced_eur as decimal(18, 2)) as invoiced_eur,
        cast(forecast_eur as decimal(18, 2)) as forecast_eur,
        cast(round(forecast_eur - lower_eur, 2) as decimal(18, 2)) as forecast_p10_eur,
        cast(round(forecast_eur + upper_eur, 2) as decimal(18, 2)) as forecast_p90_eur,
        cast(
            case when budget_eur > 0 then round(100.0 * forecast_eur / budget_eur, 2) end
            as decimal(18, 2)
        ) as utilisation_pct

    from combined
    where year <= extract(year from {{ as_of_date() }})

)

select
    segment,
    year,
    budget_eur,
    invoiced_eur,
    forecast_eur,
    forecast_p10_eur,
    forecast_p90_eur,
    utilisation_pct,
    cast({{ budget_signal('budget_eur', 'forecast_eur', 'utilisation_pct') }} as varchar) as signal,
    cast({{ as_of_date() }} as date) as as_of_date

from final

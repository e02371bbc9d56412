{#- The provider forecast split over segments (mart_segment_budget) adds up to the providers'
    forecast (mart_budget_utilisation) and the invoiced amounts to theirs, per year: within a cent
    per segment for the rounding of each segment's sum. One row per year that does not. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'mart_segment_budget'}}}) }}

with

segments as (

    select year, sum(forecast_eur) as forecast_eur, sum(invoiced_eur) as invoiced_eur, count(*) as segments
    from {{ ref('mart_segment_budget') }}
    group by year

),

providers as (

    select year, sum(forecast_eur) as forecast_eur, sum(invoiced_eur) as invoiced_eur
    from {{ ref('mart_budget_utilisation') }}
    group by year

)

select
    segments.year,
    segments.forecast_eur as segment_forecast_eur,
    providers.forecast_eur as provider_forecast_eur,
    segments.invoiced_eur as segment_invoiced_eur,
    providers.invoiced_eur as provider_invoiced_eur

from segments
inner join providers
    on providers.year = segments.year
where abs(segments.forecast_eur - providers.forecast_eur) > 0.01 * segments.segments
    or segments.invoiced_eur <> providers.invoiced_eur

{#- The report's budget view (docs/publishing.md), per target (every municipality and the region,
    'regio') and year with cost, the care months up to the reporting month:
    - actual_eur, persons: the accepted cost of the year so far and the distinct persons in it;
    - ceiling_budget_eur: the region's budget ceilings of the year (mart_budget_utilisation,
      summed over providers); a municipality's part is its T-2 key share (mart_settlement) of
      them, in cents by largest remainder on the exact key (as mart_settlement divides the
      budget), so the municipalities' parts add up to the ceilings to the cent.
      budget_status says why it is null: 'geen_plafonds' (no ceilings for the year) or
      'geen_verdeelsleutel' (no key share for the municipality);
    - forecast_eur: per provider the region's year-end forecast (mart_budget_utilisation:
      forecast_eur / invoiced_eur, care not yet invoiced included) applied to the target's own cost
      at that provider; a provider without a forecast (nothing invoiced in the mart) is
      extrapolated × 12 / months_observed (the region's care months with cost in the year so
      far). The region's forecast of a provider is divided over the municipalities in whole cents
      by largest remainder on their own cost there, so the municipalities add up to the region to
      the cent. forecast_method says so in Dutch for the report;
    - utilisation_pct = forecast / budget in percent (2 decimals) and signal from it, as
      mart_budget_utilisation (macro budget_signal);
    - is_report_year: the latest year with cost (the year the report is about). -#}

{{ config(materialized='table', schema='publication') }}

with

cells as (

    select
        municipality_code,
        provider_agb,
        extract(year from service_month) as year,
        service_month,
        client_key,
        amount_eur

    from {{ ref('rpt__client_cells') }}
    where service_month <= {{ month_start(as_of_date()) }}

),

actuals as (

    select
        coalesce(municipality_code, 'regio') as municipality_code,
        year,
        count(distinct client_key) as persons,
        sum(amount_eur) as actual_eur

    from cells
    group by grouping sets ((municipality_code, year), (year))

),

own_provider_years as (

    select
        coalesce(municipality_code, 'regio') as municipality_code,
        provider_agb,
        year,
        sum(amount_eur) as amount_eur

    from cells
    group by grouping sets ((municipality_code, provider_agb, year), (provider_agb, year))

),

months_observed as (

    select year, count(distinct service_month) as months_observed
    from cells
    group by year

),

utilisation as (

    select * from {{ ref('mart_budget_utilisation') }}

),

factors as (

    select
        provider_agb,
        year,
        case when invoiced_eur > 0 then 1.0 * forecast_eur / invoiced_eur end as factor

    from utilisation

),

ceilings as (

    select year, sum(budget_ceiling_eur) as ceilings_eur
    from utilisation
    group by year

),

-- per target and provider: the target's own cost × the provider's factor (else × 12 / months)
provider_forecasts as (

    select
        own_provider_years.municipality_code,
        own_provider_years.provider_agb,
        own_provider_years.year,
        own_provider_years.amount_eur,
        own_provider_years.amount_eur
        * coalesce(factors.factor, 12.0 / nullif(months_observed.months_observed, 0), 1.0)
            as forecast_eur,
        factors.factor is null as without_forecast

    from own_provider_years
    left join factors
        on factors.provider_agb = own_provider_years.provider_agb
        and factors.year = own_provider_years.year
    left join months_observed
        on months_observed.year = own_provider_years.year

),

-- the region's forecast of each provider in whole cents, divided over the municipalities by
-- their own cost there (largest remainder), so the municipalities add up to the region to the cent
forecast_to_divide as (

    select
        own.municipality_code,
        own.provider_agb,
        own.year,
        cast(round(100 * own.amount_eur) as hugeint) as key_cents,
        cast(round(100 * region.amount_eur) as hugeint) as key_region_cents,
        cast(round(100 * region.forecast_eur) as hugeint) as total_cents

    from provider_forecasts as own
    inner join provider_forecasts as region
        on region.municipality_code = 'regio'
        and region.provider_agb = own.provider_agb
        and region.year = own.year
    where own.municipality_code <> 'regio' and region.amount_eur > 0

),

forecast_divided as (

    {{ largest_remainder_cents('forecast_to_divide', 'provider_agb, year') }}

),

-- a provider whose cost in the region is not above 0 (credits): each target rounded on its own
municipal_forecasts as (

    select
        own.municipality_code,
        own.provider_agb,
        own.year,
        coalesce(
            forecast_divided.cents, cast(round(100 * own.forecast_eur) as hugeint)
        ) as forecast_cents

    from provider_forecasts as own
    left join forecast_divided
        on forecast_divided.municipality_code = own.municipality_code
        and forecast_divided.provider_agb = own.provider_agb
        and forecast_divided.year = own.year
    where own.municipality_code <> 'regio'

),

forecasts as (

    select
        coalesce(municipal_forecasts.municipality_code, 'regio') as municipality_code,
        municipal_forecasts.year,
        cast(sum(municipal_forecasts.forecast_cents) as decimal(18, 0)) * 0.01 as forecast_eur,
        count(distinct provider_forecasts.provider_agb) filter (where provider_forecasts.without_forecast)
            as providers_without_forecast

    from municipal_forecasts
    inner join provider_forecasts
        on provider_forecasts.municipality_code = municipal_forecasts.municipality_code
        and provider_forecasts.provider_agb = municipal_forecasts.provider_agb
        and provider_forecasts.year = municipal_forecasts.year
    group by grouping sets (
        (municipal_forecasts.municipality_code, municipal_forecasts.year), (municipal_forecasts.year)
    )

),

settlement as (

    select * from {{ ref('mart_settlement') }}

),

key_shares as (

    select municipality_code, year, key_share_pct
    from settlement

),

-- the ceilings divided by the T-2 key as mart_settlement divides the budget: the key in whole
-- cents (the municipality's accepted cost of year − 2 over the sum of the key holders', from
-- mart_settlement's rows of that year), the cents by largest remainder, so the municipalities'
-- shares add up to the ceilings exactly
ceiling_to_divide as (

    select
        now.municipality_code,
        now.year,
        cast(round(100 * coalesce(key_year.actual_cost_eur, 0)) as hugeint) as key_cents,
        sum(cast(round(100 * coalesce(key_year.actual_cost_eur, 0)) as hugeint))
            over (partition by now.year) as key_region_cents,
        cast(round(100 * ceilings.ceilings_eur) as hugeint) as total_cents

    from settlement as now
    inner join ceilings
        on ceilings.year = now.year
    left join settlement as key_year
        on key_year.municipality_code = now.municipality_code
        and key_year.year = now.year - 2
    where now.key_share_pct is not null and ceilings.ceilings_eur is not null

),

ceiling_shares as (

    {{ largest_remainder_cents('ceiling_to_divide', 'year') }}

),

budgets as (

    select
        actuals.municipality_code,
        actuals.year,
        actuals.persons,
        actuals.actual_eur,
        ceilings.ceilings_eur,
        case
            when actuals.municipality_code = 'regio' then 100.0 else key_shares.key_share_pct
        end as key_share_pct,
        case
            when actuals.municipality_code = 'regio' then ceilings.ceilings_eur
            else cast(ceiling_shares.cents as decimal(18, 0)) * 0.01
        end as ceiling_budget_eur,
        case
            when ceilings.ceilings_eur is null then 'geen_plafonds'
            when actuals.municipality_code <> 'regio' and key_shares.key_share_pct is null
                then 'geen_verdeelsleutel'
            else 'ok'
        end as budget_status,
        forecasts.forecast_eur,
        coalesce(forecasts.providers_without_forecast, 0) as providers_without_forecast,
        months_observed.months_observed

    from actuals
    left join ceilings
        on ceilings.year = actuals.year
    left join key_shares
        on key_shares.municipality_code = actuals.municipality_code
        and key_shares.year = actuals.year
    left join ceiling_shares
        on ceiling_shares.municipality_code = actuals.municipality_code
        and ceiling_shares.year = actuals.year
    left join forecasts
        on forecasts.municipality_code = actuals.municipality_code
        and forecasts.year = actuals.year
    left join months_observed
        on months_observed.year = actuals.year

),

rounded as (

    select
        municipality_code,
        year,
        persons,
        cast(actual_eur as decimal(18, 2)) as actual_eur,
        cast(ceilings_eur as decimal(18, 2)) as ceilings_eur,
        cast(key_share_pct as decimal(9, 4)) as key_share_pct,
        cast(ceiling_budget_eur as decimal(18, 2)) as ceiling_budget_eur,
        budget_status,
        cast(forecast_eur as decimal(18, 2)) as forecast_eur,
        providers_without_forecast,
        months_observed

    from budgets

),

labels as (

    select * from {{ ref('rpt__labels') }}

),

final as (

    select
        cast(rounded.municipality_code as varchar) as municipality_code,
        cast(coalesce(municipality.label, rounded.municipality_code) as varchar) as municipality_name,
        cast(rounded.year as integer) as year,
        cast(rounded.year = max(rounded.year) over () as boolean) as is_report_year,
        cast(rounded.persons as bigint) as persons,
        rounded.actual_eur,
        rounded.ceilings_eur,
        rounded.key_share_pct,
        rounded.ceiling_budget_eur,
        cast(rounded.budget_status as varchar) as budget_status,
        rounded.forecast_eur,
        cast(
            'per aanbieder de regionale jaarprognose (inclusief nog niet gedeclareerde zorg), '
            || 'naar rato van de eigen kosten'
            || case
                when rounded.providers_without_forecast > 0
                    then '; ' || cast(rounded.providers_without_forecast as varchar)
                        || ' aanbieder(s) zonder prognose doorgetrokken × 12/'
                        || cast(rounded.months_observed as varchar)
                else ''
            end
            as varchar
        ) as forecast_method,
        cast(rounded.providers_without_forecast as bigint) as providers_without_forecast,
        cast(rounded.months_observed as bigint) as months_observed,
        cast(
            case
                when rounded.ceiling_budget_eur > 0
                    then round(100.0 * rounded.forecast_eur / rounded.ceiling_budget_eur, 2)
            end
            as decimal(18, 2)
        ) as utilisation_pct,
        cast(
            {{ budget_signal(
                'rounded.ceiling_budget_eur',
                'rounded.forecast_eur',
                'round(100.0 * rounded.forecast_eur / nullif(rounded.ceiling_budget_eur, 0), 2)'
            ) }}
            as varchar
        ) as signal

    from rounded
    left join labels as municipality
        on municipality.kind = 'municipality' and municipality.code = rounded.municipality_code

)

select * from final

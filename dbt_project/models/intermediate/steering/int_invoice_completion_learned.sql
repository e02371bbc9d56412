{#- How complete a still-developing care month's invoicing is on the reporting date, learned from
    history (docs/forecast.md). A care month is mature once `forecast_maturity_days` have passed
    since its last day; its amount by then counts as final. For each developing month (younger
    than that, up to the reporting month) its age is the days from its last day to as_of, and
    the completion share at that age is: of the final amounts of the latest
    `forecast_history_months` mature months, the share declared within that many days.
    Per provider that share is noisy when the provider has few lines, so it is shrunk towards the
    region's share: weight = lines / (lines + `forecast_shrinkage_lines`), lines = the provider's
    accepted debit lines in those mature months. Without any mature history the share is 1
    (nothing is grossed up).
    started_share: the same share over only the mature months whose invoicing had begun by that
    age (a positive amount at a lag within it), shrunk the same way with the lines of those
    months; null where no mature month of the region had begun by then. It is what has usually
    arrived of a month that has begun to arrive: a provider that declares a quarter at once has
    either nothing or nearly all of a month, which the plain share (a mix of both) cannot say. -#}

{%- set maturity_days = var('forecast_maturity_days', 365) | int -%}
{%- set history_months = var('forecast_history_months', 24) | int -%}
{%- set shrinkage_lines = var('forecast_shrinkage_lines', 100) | int -%}

with

lags as (

    select * from {{ ref('int_invoice_lags_summed') }}

),

aged_months as (

    select distinct
        service_month,
        {{ days_between(month_end('service_month'), as_of_date()) }} as age_days

    from lags

),

mature_window as (

    select service_month
    from (
        select
            service_month,
            row_number() over (order by service_month desc) as recency_rank
        from aged_months
        where age_days >= {{ maturity_days }}
    ) as ranked
    where recency_rank <= {{ history_months }}

),

developing_months as (

    select
        month_start as service_month,
        {{ days_between(month_end('month_start'), as_of_date()) }} as age_days

    from (
        {{ month_series(
            month_start(as_of_date() ~ ' - ' ~ maturity_days),
            month_start(as_of_date())
        ) }}
    ) as months
    where {{ days_between(month_end('month_start'), as_of_date()) }} < {{ maturity_days }}

),

-- each mature month of a provider by lag, within the maturity horizon, with the lag of its first
-- positive amount: the day its invoicing began
history_months as (

    select
        lags.provider_agb,
        lags.service_month,
        lags.lag_days,
        lags.amount_eur,
        lags.debit_lines,
        min(case when lags.amount_eur > 0 then lags.lag_days end) over (
            partition by lags.provider_agb, lags.service_month
        ) as first_lag_days

    from lags
    inner join mature_window
        on mature_window.service_month = lags.service_month
    where lags.lag_days <= {{ maturity_days }}

),

-- final amounts of the mature months by lag: what arrived within the maturity horizon
history as (

    select
        provider_agb,
        lag_days,
        sum(amount_eur) as amount_eur,
        sum(debit_lines) as debit_lines

    from history_months
    group by provider_agb, lag_days

),

-- the same shares over only the mature months whose invoicing had begun by that age
provider_started as (

    select
        history_months.provider_agb,
        developing_months.service_month,
        sum(
            case
                when history_months.lag_days <= developing_months.age_days then history_months.amount_eur
                else 0
            end
        ) as arrived_eur,
        sum(history_months.amount_eur) as final_eur,
        sum(history_months.debit_lines) as debit_lines

    from history_months
    inner join developing_months
        on developing_months.age_days >= history_months.first_lag_days
    group by history_months.provider_agb, developing_months.service_month

),

region_started as (

    select
        service_month,
        sum(arrived_eur) as arrived_eur,
        sum(final_eur) as final_eur

    from provider_started
    group by service_month

),

provider_history as (

    select
        provider_agb,
        sum(amount_eur) as final_eur,
        sum(debit_lines) as debit_lines

    from history
    group by provider_agb

),

provider_arrived as (

    select
        history.provider_agb,
        developing_months.service_month,
        sum(
            case when history.lag_days <= developing_months.age_days then history.amount_eur else 0 end
        ) as arrived_eur

    from history
    cross join developing_months
    group by history.provider_agb, developing_months.service_month

),

region_arrived as (

    select
        provider_arrived.service_month,
        sum(provider_arrived.arrived_eur) as arrived_eur,
        (select sum(final_eur) from provider_history) as final_eur

    from provider_arrived
    group by provider_arrived.service_month

),

providers as (

    select distinct provider_agb from lags

),

shares as (

    select
        providers.provider_agb,
        developing_months.service_month,
        developing_months.age_days,
        {{ arrived_share('provider_arrived.arrived_eur', 'provider_history.final_eur') }} as provider_share,
        {{ arrived_share('region_arrived.arrived_eur', 'region_arrived.final_eur') }} as region_share,
        {{ lines_weight('provider_history.debit_lines', 'provider_history.final_eur', shrinkage_lines) }}
            as provider_weight,
        coalesce(provider_history.debit_lines, 0) as history_lines,
        {{ arrived_share('provider_started.arrived_eur', 'provider_started.final_eur') }}
            as provider_started_share,
        {{ arrived_share('region_started.arrived_eur', 'region_started.final_eur') }} as region_started_share,
        {{ lines_weight('provider_started.debit_lines', 'provider_started.final_eur', shrinkage_lines) }}
            as started_weight

    from providers
    cross join developing_months
    left join provider_history
        on provider_history.provider_agb = providers.provider_agb
    left join provider_arrived
        on provider_arrived.provider_agb = providers.provider_agb
        and provider_arrived.service_month = developing_months.service_month
    left join region_arrived
        on region_arrived.service_month = developing_months.service_month
    left join provider_started
        on provider_started.provider_agb = providers.provider_agb
        and provider_started.service_month = developing_months.service_month
    left join region_started
        on region_started.service_month = developing_months.service_month

),

final as (

    select
        cast(provider_agb as varchar) as provider_agb,
        cast(service_month as date) as service_month,
        cast(age_days as integer) as age_days,
        cast(provider_share as double) as provider_share,
        cast(region_share as double) as region_share,
        cast(provider_weight as double) as provider_weight,
        cast(history_lines as bigint) as history_lines,
        cast(
            case
                when region_share is null then 1.0
                when provider_share is null then region_share
                else provider_weight * provider_share + (1 - provider_weight) * region_share
            end
            as double
        ) as completion_share,
        -- for a month whose invoicing has begun: null where no mature month had begun by that age
        cast(
            case
                when region_started_share is null then null
                when provider_started_share is null then region_started_share
                else started_weight * provider_started_share + (1 - started_weight) * region_started_share
            end
            as double
        ) as started_share

    from shares

)

select * from final

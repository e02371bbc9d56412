{#- Year-end cost per provider and care month (docs/forecast.md), as of JEUGDHULP_AS_OF:
    - mature months (int_invoice_completion_learned has no row: invoicing complete): as invoiced;
    - developing months, up to the reporting month: invoiced + what is still to come,
      (1 − completion share) × the month's expected cost (Bornhuetter-Ferguson), where for a
      month with something invoiced the share is the one of months whose invoicing had begun
      by that age (arrival_share: started_share, else completion_share); when less than
      `forecast_gap_ratio` of the usual share has arrived, a declaration is missing (a skipped or
      late month, not less care) and the whole expected cost is taken, never less than invoiced
      (only while an allocation was in care: a provider without clients has nothing to invoice);
    - months after the reporting month: the expected cost.
    The expected cost of a month blends two estimates with weight `forecast_allocation_weight`
    on the second, both measured over the `forecast_run_rate_months` care months before the
    reporting month that are at least `forecast_min_completion` complete and with something
    invoiced (nothing invoiced is a skipped declaration, or no care yet):
    - run rate: the median over those months of invoiced / (arrival share × days), a cost
      per day, × the month's days;
    - active allocations: the allocations in care on the month's reference day (the 15th; for
      the reporting month and later as_of − `forecast_report_delay_days`, because starts and
      stops arrive with a delay) at their own cost per day (int_allocation_cost_rates), × days,
      × the median over those months of invoiced / (arrival share × days × that value).
    The medians keep a late or partial declaration in the window from dragging the level down.
    Seasonality (int_forecast_seasonality): every month's cost is measured and projected relative
    to the provider's month-of-year index, so a seasonally low month neither lowers the level nor
    counts as a missing declaration, and the projection follows the year's shape. The stock in
    care is divided by its own month-of-year index (int_forecast_stock_seasonality) of the month
    it was counted in, so a stock low only for the time of year is not projected as a fall.
    Known events: both estimates follow the allocations in care. The run rate is scaled by the
    month's allocation value / the median allocation value of the usable window months, so a
    definitive stop or a new start moves the whole estimate. For months after the reporting month
    the allocations in care on as_of − delay, and those started later but known by as_of (as
    the stops known by then count), count while their care has not ended (a known definitive
    stop) and, past their Einddatum, at the learned extension share (int_allocation_cost_rates),
    judged on the month's 15th.
    A month without any allocation in care expects nothing, and does not tell the level (care
    that began after its 15th or ended before it: a new or returning provider's first month). A provider with no
    usable month (a new one) is valued from its allocations alone (their value: own invoices,
    else allocated volume × tariff), nothing in the months none is in care; without allocations
    from the window on it falls back to Σ invoiced / Σ (arrival share × days × index); one
    whose window months had no allocation in care (no allocation data) uses the run rate
    alone. -#}

{%- set run_rate_months = var('forecast_run_rate_months', 6) | int -%}
{%- set allocation_weight = var('forecast_allocation_weight', 0.5) | float -%}
{%- set min_completion = var('forecast_min_completion', 0.5) | float -%}
{%- set gap_ratio = var('forecast_gap_ratio', 0.5) | float -%}
{%- set report_delay_days = var('forecast_report_delay_days', 14) | int -%}
{%- set follow_weight = var('forecast_run_rate_follow', 1.0) | float -%}

with

lags as (

    select * from {{ ref('int_invoice_lags_summed') }}

),

completion as (

    select * from {{ ref('int_invoice_completion_learned') }}

),

allocations as (

    select * from {{ ref('int_allocation_cost_rates') }}

),

seasonality as (

    select * from {{ ref('int_forecast_seasonality') }}

),

stock_seasonality as (

    select * from {{ ref('int_forecast_stock_seasonality') }}

),

ceilings as (

    select provider_agb, year
    from {{ ref('stg_reference__budget_ceilings') }}
    where year <= extract(year from {{ as_of_date() }})

),

invoiced as (

    select
        provider_agb,
        service_month,
        sum(amount_eur) as invoiced_eur

    from lags
    group by provider_agb, service_month

),

providers as (

    select provider_agb from invoiced
    union
    select provider_agb from ceilings

),

months as (

    {{ month_series(
        '(select least(min(service_month), ' ~ month_start(as_of_date()) ~ ') from invoiced)',
        "cast(cast(extract(year from " ~ as_of_date() ~ ") as varchar) || '-12-01' as date)"
    ) }}

),

-- the day on which each month's active allocations are counted
reference_days as (

    select
        month_start as service_month,
        case
            when month_start < {{ month_start(as_of_date()) }}
                then least(
                        cast(month_start + 14 as date),
                        cast({{ as_of_date() }} - {{ report_delay_days }} as date)
                    )
            else cast({{ as_of_date() }} - {{ report_delay_days }} as date)
        end as reference_day,
        cast(month_start + 14 as date) as mid_day,
        month_start > {{ month_start(as_of_date()) }} as is_future

    from months

),

-- the last day whose starts count: for the months after the reporting month every start known by
-- as_of, as every known stop counts (counting the stops reported since the reference day but not
-- the starts would take out exits and leave out their replacements)
count_days as (

    select
        *,
        case when is_future then {{ as_of_date() }} else reference_day end as known_day

    from reference_days

),

active_value as (

    select
        allocations.provider_agb,
        count_days.service_month,
        sum(
            allocations.cost_per_day
            * case
                when not count_days.is_future then 1.0
                -- a known definitive stop before the month's 15th: no more care
                when allocations.care_end_date < count_days.mid_day then 0.0
                -- past its Einddatum: extended at the learned share
                when allocations.allocation_end_date < count_days.mid_day
                    then coalesce(allocations.extension_share, 1.0)
                else 1.0
            end
        ) as allocated_cost_per_day

    from count_days
    inner join allocations
        on allocations.care_start_date <= count_days.known_day
        and (allocations.care_end_date is null or allocations.care_end_date >= count_days.reference_day)
        and (
            allocations.allocation_start_date is null
            or allocations.allocation_start_date <= count_days.known_day
        )
        and (
            allocations.allocation_end_date is null
            or allocations.allocation_end_date >= count_days.reference_day
        )
    group by allocations.provider_agb, count_days.service_month

),

grid as (

    select
        providers.provider_agb,
        months.month_start as service_month,
        extract(day from {{ month_end('months.month_start') }}) as days_in_month,
        coalesce(invoiced.invoiced_eur, 0) as invoiced_eur,
        coalesce(active_value.allocated_cost_per_day, 0) as allocated_cost_per_day,
        -- the stock in care for the time of year of the day it is counted on
        coalesce(active_value.allocated_cost_per_day, 0)
        / coalesce(stock_seasonality.stock_index, 1.0) as allocated_level_per_day,
        coalesce(seasonality.season_index, 1.0) as season_index,
        case
            when months.month_start > {{ month_start(as_of_date()) }} then 0.0
            else coalesce(completion.completion_share, 1.0)
        end as completion_share,
        -- what has usually arrived by now of a month whose invoicing has begun: a provider that
        -- declares a quarter at once has either nothing or nearly all of a month
        case
            when months.month_start > {{ month_start(as_of_date()) }} then 0.0
            when coalesce(invoiced.invoiced_eur, 0) > 0
                then coalesce(completion.started_share, completion.completion_share, 1.0)
            else coalesce(completion.completion_share, 1.0)
        end as arrival_share,
        case
            when months.month_start > {{ month_start(as_of_date()) }} then 'projected'
            when completion.service_month is not null then 'developing'
            else 'mature'
        end as month_status

    from providers
    cross join months
    left join invoiced
        on invoiced.provider_agb = providers.provider_agb
        and invoiced.service_month = months.month_start
    left join completion
        on completion.provider_agb = providers.provider_agb
        and completion.service_month = months.month_start
    left join active_value
        on active_value.provider_agb = providers.provider_agb
        and active_value.service_month = months.month_start
    left join seasonality
        on seasonality.provider_agb = providers.provider_agb
        and seasonality.month_of_year = extract(month from months.month_start)
    inner join reference_days
        on reference_days.service_month = months.month_start
    left join stock_seasonality
        on stock_seasonality.provider_agb = providers.provider_agb
        and stock_seasonality.month_of_year = extract(month from reference_days.reference_day)

),

rate_window as (

    select *
    from grid
    where service_month >= {{ add_months(month_start(as_of_date()), -run_rate_months) }}
        and service_month < {{ month_start(as_of_date()) }}

),

-- whether the provider has allocation data: any allocation in care from the window on
allocation_data as (

    select
        provider_agb,
        max(allocated_cost_per_day) > 0 as has_allocations

    from grid
    where service_month >= {{ add_months(month_start(as_of_date()), -run_rate_months) }}
    group by provider_agb

),

-- months that tell the provider's level: mostly invoiced by now, and something invoiced (nothing
-- invoiced is a skipped declaration while allocations were in care, else no care yet: a
-- provider's months before its first client say nothing about its level), and, for a provider
-- with allocations, one in care on the month's 15th (else its care began later in the month or
-- ended earlier: a few days, such as a new or returning provider's first month)
usable_months as (

    select rate_window.*
    from rate_window
    inner join allocation_data
        on allocation_data.provider_agb = rate_window.provider_agb
    where rate_window.arrival_share >= {{ min_completion }}
        and rate_window.invoiced_eur > 0
        and (rate_window.allocated_cost_per_day > 0 or not allocation_data.has_allocations)

),

medians as (

    select
        provider_agb,
        {{ percentile_cont('invoiced_eur / (arrival_share * days_in_month * season_index)', 0.5) }}
            as median_cost_per_day,
        {{ percentile_cont(
            'case when allocated_level_per_day > 0' ~
            ' then invoiced_eur / (arrival_share * days_in_month * season_index * allocated_level_per_day) end',
            0.5) }}
            as allocation_scale,
        {{ percentile_cont('case when allocated_level_per_day > 0 then allocated_level_per_day end', 0.5) }}
            as reference_allocated_per_day

    from usable_months
    group by provider_agb

),

rates as (

    select
        rate_window.provider_agb,
        max(medians.median_cost_per_day) as median_cost_per_day,
        case
            when sum(rate_window.arrival_share * rate_window.days_in_month * rate_window.season_index) > 0
                then sum(rate_window.invoiced_eur)
                    / sum(rate_window.arrival_share * rate_window.days_in_month * rate_window.season_index)
        end as pooled_cost_per_day,
        max(medians.allocation_scale) as allocation_scale,
        max(medians.reference_allocated_per_day) as reference_allocated_per_day,
        count(medians.provider_agb) > 0 as has_usable_months

    from rate_window
    left join medians
        on medians.provider_agb = rate_window.provider_agb
    group by rate_window.provider_agb

),

expected as (

    select
        grid.*,
        coalesce(rates.median_cost_per_day, rates.pooled_cost_per_day, 0)
        * grid.days_in_month * grid.season_index
        -- the run rate follows the allocations in care: a stop or start moves it too
        * case
            when rates.allocation_scale is not null and rates.reference_allocated_per_day > 0
                then 1 + {{ follow_weight }}
                    * (grid.allocated_level_per_day / rates.reference_allocated_per_day - 1)
            else 1.0
        end as run_rate_eur,
        case
            when rates.allocation_scale is not null
                then rates.allocation_scale * grid.allocated_level_per_day
                    * grid.days_in_month * grid.season_index
            -- a new provider: its allocations at their value until its invoices tell its level
            when not coalesce(rates.has_usable_months, false) and grid.allocated_cost_per_day > 0
                then grid.allocated_cost_per_day * grid.days_in_month * grid.season_index
        end as allocation_based_eur,
        not coalesce(rates.has_usable_months, false) as is_new,
        allocation_data.has_allocations

    from grid
    left join rates
        on rates.provider_agb = grid.provider_agb
    inner join allocation_data
        on allocation_data.provider_agb = grid.provider_agb

),

blended as (

    select
        *,
        case
            -- a new provider with allocations: only the months they are in care cost anything
            when is_new and has_allocations then coalesce(allocation_based_eur, 0)
            when allocation_based_eur is null then run_rate_eur
            -- no allocation in care: nothing to invoice (a new client needs an allocation first)
            when allocated_cost_per_day = 0 then 0
            when is_new then allocation_based_eur
            else {{ allocation_weight }} * allocation_based_eur + (1 - {{ allocation_weight }}) * run_rate_eur
        end as expected_eur

    from expected

),

completed as (

    select
        *,
        case
            when month_status <> 'developing' then 0
            when invoiced_eur < {{ gap_ratio }} * completion_share * expected_eur
                and (allocated_cost_per_day > 0 or allocation_based_eur is null)
                then greatest(expected_eur - invoiced_eur, (1 - completion_share) * expected_eur)
            else (1 - arrival_share) * expected_eur
        end as outstanding_eur,
        case when month_status = 'projected' then expected_eur else 0 end as projected_eur

    from blended

),

final as (

    select
        cast(provider_agb as varchar) as provider_agb,
        cast(service_month as date) as service_month,
        cast(extract(year from service_month) as integer) as year,
        cast(month_status as varchar) as month_status,
        cast(invoiced_eur as decimal(18, 2)) as invoiced_eur,
        cast(completion_share as double) as completion_share,
        cast(arrival_share as double) as arrival_share,
        cast(season_index as double) as season_index,
        cast(allocated_cost_per_day as double) as allocated_cost_per_day,
        cast(run_rate_eur as decimal(18, 2)) as run_rate_eur,
        cast(allocation_based_eur as decimal(18, 2)) as allocation_based_eur,
        cast(expected_eur as decimal(18, 2)) as expected_eur,
        cast(outstanding_eur as decimal(18, 2)) as outstanding_eur,
        cast(projected_eur as decimal(18, 2)) as projected_eur,
        cast(invoiced_eur + outstanding_eur + projected_eur as decimal(18, 2)) as forecast_eur

    from completed

)

select * from final

{#- The purchasing office's norms per product and year, and each provider against them
    (docs/purchasing_marts.md). Region-wide: a care month = client × provider × product × month
    whose accepted net amount (all municipalities together, declared by JEUGDHULP_AS_OF) is above
    zero; its amount and units are the net sums. A year counts its observed months only (those
    whose invoice deadline has passed, as mart_kpi_annual), and is compared with the same months
    of the year before.

    level 'product' (provider_agb null): the product's norm, i.e. mean, standard deviation and
    quartiles of amount and units per care month over all its care months; level 'provider': the
    same over the provider's care months, with its position against the norm (index = provider
    mean / product mean × 100).

    is_outlier (provider rows; vars purchasing_*): the provider has at least
    purchasing_outlier_min_care_months care months and purchasing_outlier_min_clients clients of
    the product in the year (it qualifies), at least purchasing_outlier_min_providers providers
    qualify for the product, and the provider's mean amount per care month is at least
    purchasing_outlier_min_ratio × the median of the qualifying providers' means and its robust
    z-score 0.6745 × (mean - median) / MAD over those providers' means is above
    purchasing_outlier_robust_z (Iglewicz-Hoaglin; MAD 0: the ratio alone decides).

    units_per_client = units / distinct clients in the year (like for like); its change against
    the year before is a significant rise when both years have at least
    purchasing_change_min_clients clients, the rise is at least purchasing_rise_min_pct % and
    Welch's t of the clients' units (year against year before) exceeds 1.96 (one-sided 2.5 %).
    Volume growth: clients and units against the year before; is_significant_volume_growth when
    the year before had at least purchasing_change_min_clients clients, clients grew by at least
    purchasing_growth_min_pct %, units grew, and (C1 - C0) / sqrt(C1 + C0) > 1.96 (two Poisson
    counts). -#}

{%- set min_care_months = var('purchasing_outlier_min_care_months', 24) | int -%}
{%- set min_clients = var('purchasing_outlier_min_clients', 10) | int -%}
{%- set min_providers = var('purchasing_outlier_min_providers', 5) | int -%}
{%- set min_ratio = var('purchasing_outlier_min_ratio', 1.5) | float -%}
{%- set robust_z = var('purchasing_outlier_robust_z', 3.5) | float -%}
{%- set change_min_clients = var('purchasing_change_min_clients', 10) | int -%}
{%- set rise_min_pct = var('purchasing_rise_min_pct', 10) | float -%}
{%- set growth_min_pct = var('purchasing_growth_min_pct', 5) | float -%}

with

client_months as (

    select * from {{ ref('int_purchasing_client_months') }}

),

care_months as (

    select
        client_key,
        provider_agb,
        product_code,
        service_month,
        year,
        month_no,
        max(product_category) as product_category,
        max(months_observed) as months_observed,
        max(months_observed_next_year) as months_observed_next_year,
        sum(amount_eur) as amount_eur,
        sum(units) as units

    from client_months
    group by client_key, provider_agb, product_code, service_month, year, month_no
    having sum(amount_eur) > 0

),

observed as (

    select * from care_months
    where month_no <= months_observed

),

-- mean, spread and quartiles per product (provider_agb null) and per product × provider
stats as (

    select
        case when grouping(provider_agb) = 1 then 'product' else 'provider' end as level,
        product_code,
        year,
        provider_agb,
        max(product_category) as product_category,
        max(months_observed) as months_observed,
        count(distinct client_key) as clients,
        count(*) as care_months,
        sum(amount_eur) as amount_eur,
        sum(units) as units,
        avg(amount_eur) as amount_avg,
        stddev_samp(amount_eur) as amount_stddev,
        {{ percentile_cont('amount_eur', 0.25) }} as amount_p25,
        {{ percentile_cont('amount_eur', 0.5) }} as amount_median,
        {{ percentile_cont('amount_eur', 0.75) }} as amount_p75,
        avg(units) as units_avg,
        stddev_samp(units) as units_stddev,
        {{ percentile_cont('units', 0.25) }} as units_p25,
        {{ percentile_cont('units', 0.5) }} as units_median,
        {{ percentile_cont('units', 0.75) }} as units_p75

    from observed
    group by grouping sets ((product_code, year), (product_code, year, provider_agb))

),

-- each client's units per product (and per provider) in the year and, like for like, as the
-- earlier period of the next year
client_units as (

    select
        product_code,
        provider_agb,
        client_key,
        year,
        'current' as period,
        sum(units) as units

    from care_months
    where month_no <= months_observed
    group by product_code, provider_agb, client_key, year

    union all

    select
        product_code,
        provider_agb,
        client_key,
        year + 1 as year,
        'previous' as period,
        sum(units) as units

    from care_months
    where month_no <= months_observed_next_year
    group by product_code, provider_agb, client_key, year + 1

),

client_units_by_level as (

    select
        case when grouping(provider_agb) = 1 then 'product' else 'provider' end as level,
        product_code,
        year,
        provider_agb,
        period,
        sum(units) as units

    from client_units
    group by grouping sets (
        (product_code, year, period, client_key),
        (product_code, year, period, client_key, provider_agb)
    )

),

change as (

    select
        level,
        product_code,
        year,
        provider_agb,
        sum(case when period = 'current' then 1 else 0 end) as clients_1,
        avg(case when period = 'current' then units end) as mean_1,
        var_samp(case when period = 'current' then units end) as var_1,
        sum(case when period = 'previous' then 1 else 0 end) as clients_0,
        avg(case when period = 'previous' then units end) as mean_0,
        var_samp(case when period = 'previous' then units end) as var_0,
        sum(case when period = 'previous' then units else 0 end) as units_0

    from client_units_by_level
    group by level, product_code, year, provider_agb

),

qualifying as (

    select
        product_code,
        year,
        count(*) as providers_qualifying,
        median(amount_avg) as provider_median,
        mad(amount_avg) as provider_mad

    from stats
    where level = 'provider'
        and care_months >= {{ min_care_months }}
        and clients >= {{ min_clients }}
    group by product_code, year

),

joined as (

    select
        stats.*,
        products.amount_avg as product_amount_avg,
        products.units_avg as product_units_avg,
        change.clients_0,
        change.mean_0,
        change.units_0,
        case
            when change.clients_0 > 0 and change.mean_0 > 0
                then 100.0 * change.mean_1 / change.mean_0 - 100
        end as units_per_client_change,
        case
            when change.clients_1 > 1 and change.clients_0 > 1 and change.var_1 + change.var_0 > 0
                then (change.mean_1 - change.mean_0)
                    / sqrt(change.var_1 / change.clients_1 + change.var_0 / change.clients_0)
        end as welch_t,
        case
            when stats.clients + change.clients_0 > 0
                then (stats.clients - change.clients_0) / sqrt(stats.clients + change.clients_0)
        end as clients_z,
        coalesce(qualifying.providers_qualifying, 0) as providers_qualifying,
        qualifying.provider_median,
        qualifying.provider_mad,
        stats.level = 'provider'
        and stats.care_months >= {{ min_care_months }}
        and stats.clients >= {{ min_clients }}
        and coalesce(qualifying.providers_qualifying, 0) >= {{ min_providers }} as outlier_rule_applies

    from stats
    inner join stats as products
        on products.level = 'product'
        and products.product_code = stats.product_code
        and products.year = stats.year
    left join change
        on change.level = stats.level
        and change.product_code = stats.product_code
        and change.year = stats.year
        and change.provider_agb is not distinct from stats.provider_agb
    left join qualifying
        on qualifying.product_code = stats.product_code
        and qualifying.year = stats.year

),

final as (

    select
        cast(level as varchar) as level,
        cast(product_code as varchar) as product_code,
        cast(product_category as varchar) as product_category,
        cast(year as integer) as year,
        cast(provider_agb as varchar) as provider_agb,
        cast(months_observed as integer) as months_compared,
        months_observed = 12 as is_complete_year,
        cast(clients as bigint) as clients,
        cast(care_months as bigint) as care_months,
        cast(amount_eur as decimal(18, 2)) as amount_eur,
        cast(units as bigint) as units,
        cast(round(amount_avg, 2) as decimal(18, 2)) as amount_per_care_month_avg,
        cast(round(amount_stddev, 2) as decimal(18, 2)) as amount_per_care_month_stddev,
        cast(round(amount_p25, 2) as decimal(18, 2)) as amount_per_care_month_p25,
        cast(round(amount_median, 2) as decimal(18, 2)) as amount_per_care_month_median,
        cast(round(amount_p75, 2) as decimal(18, 2)) as amount_per_care_month_p75,
        cast(round(units_avg, 2) as decimal(18, 2)) as units_per_care_month_avg,
        cast(round(units_stddev, 2) as decimal(18, 2)) as units_per_care_month_stddev,
        cast(round(units_p25, 2) as decimal(18, 2)) as units_per_care_month_p25,
        cast(round(units_median, 2) as decimal(18, 2)) as units_per_care_month_median,
        cast(round(units_p75, 2) as decimal(18, 2)) as units_per_care_month_p75,
        cast(round(product_amount_avg, 2) as decimal(18, 2)) as norm_amount_per_care_month,
        cast(round(100.0 * amount_avg / nullif(product_amount_avg, 0), 2) as decimal(9, 2)) as amount_index,
        cast(round(100.0 * units_avg / nullif(product_units_avg, 0), 2) as decimal(9, 2)) as units_index,
        cast(providers_qualifying as bigint) as providers_compared,
        cast(round(provider_median, 2) as decimal(18, 2)) as provider_median_amount_per_care_month,
        cast(
            case
                when level = 'provider' and provider_mad > 0
                    then round(0.6745 * (amount_avg - provider_median) / provider_mad, 2)
            end
            as decimal(12, 2)
        ) as amount_robust_z,
        outlier_rule_applies,
        coalesce(
            outlier_rule_applies
            and amount_avg >= {{ min_ratio }} * provider_median
            and (
                provider_mad = 0
                or 0.6745 * (amount_avg - provider_median) / provider_mad > {{ robust_z }}
            ),
            false
        ) as is_outlier,
        cast(round(cast(units as double) / nullif(clients, 0), 2) as decimal(18, 2)) as units_per_client,
        cast(clients_0 as bigint) as previous_clients,
        cast(round(mean_0, 2) as decimal(18, 2)) as previous_units_per_client,
        cast(round(units_per_client_change, 2) as decimal(9, 2)) as units_per_client_change_pct,
        cast(round(welch_t, 2) as decimal(12, 2)) as units_per_client_welch_t,
        coalesce(
            clients >= {{ change_min_clients }}
            and clients_0 >= {{ change_min_clients }}
            and units_per_client_change >= {{ rise_min_pct }}
            and welch_t > 1.96,
            false
        ) as is_significant_rise,
        cast(units_0 as bigint) as previous_units,
        cast(
            case when units_0 > 0 then round(100.0 * units / units_0 - 100, 2) end as decimal(9, 2)
        ) as units_change_pct,
        cast(
            case when clients_0 > 0 then round(100.0 * clients / clients_0 - 100, 2) end
            as decimal(9, 2)
        ) as clients_change_pct,
        cast(round(clients_z, 2) as decimal(12, 2)) as clients_growth_z,
        coalesce(
            clients_0 >= {{ change_min_clients }}
            and 100.0 * clients / clients_0 - 100 >= {{ growth_min_pct }}
            and units > units_0
            and clients_z > 1.96,
            false
        ) as is_significant_volume_growth

    from joined

)

select * from final

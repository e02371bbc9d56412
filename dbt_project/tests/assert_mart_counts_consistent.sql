{#- Counts that must hold by construction: parts never exceed their whole, counts are not
    negative, shares stay in range, the p90 lag is not below the median. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'mart_invoicing_completeness'}}}) }}

select 'mart_invoicing_completeness' as mart, provider_agb, service_month
from {{ ref('mart_invoicing_completeness') }}
where invoiced_care_months > expected_care_months
    or missing_care_months <> expected_care_months - invoiced_care_months
    or completeness_pct not between 0 and 100
    or invoiced_care_months < 0

union all

select 'mart_invoice_timeliness' as mart, provider_agb, service_month
from {{ ref('mart_invoice_timeliness') }}
where late_lines > lines
    or late_share not between 0 and 1
    or lines < 1
    or late_lines < 0
    or p90_lag_days < median_lag_days

union all

select 'mart_kpi_annual' as mart, municipality_code, cast(null as date) as service_month
from {{ ref('mart_kpi_annual') }}
where unique_youths > non_unique_youths
    or non_unique_youths > care_months
    or months_observed not between 0 and 12

union all

select 'mart_costs_monthly' as mart, provider_agb, service_month
from {{ ref('mart_costs_monthly') }}
where clients < 0

union all

select 'mart_cost_concentration' as mart, municipality_code, cast(null as date) as service_month
from {{ ref('mart_cost_concentration') }}
where top10_share_pct not between 0 and 100

union all

select 'mart_budget_utilisation' as mart, provider_agb, cast(null as date) as service_month
from {{ ref('mart_budget_utilisation') }}
where utilisation_pct < 0

union all

select 'mart_referrers' as mart, municipality_code, cast(null as date) as service_month
from {{ ref('mart_referrers') }}
where allocations < 0

union all

select 'mart_settlement' as mart, municipality_code, cast(null as date) as service_month
from {{ ref('mart_settlement') }}
where key_share_pct not between 0 and 100

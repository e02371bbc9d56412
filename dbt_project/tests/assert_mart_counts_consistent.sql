{#- Counts that must hold by construction: parts never exceed their whole, shares stay in range. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'mart_invoicing_completeness'}}}) }}

select 'mart_invoicing_completeness' as mart, provider_agb, service_month
from {{ ref('mart_invoicing_completeness') }}
where invoiced_care_months > expected_care_months
    or missing_care_months <> expected_care_months - invoiced_care_months
    or completeness_pct not between 0 and 100

union all

select 'mart_invoice_timeliness' as mart, provider_agb, service_month
from {{ ref('mart_invoice_timeliness') }}
where late_lines > lines
    or late_share not between 0 and 1

union all

select 'mart_kpi_annual' as mart, municipality_code, cast(null as date) as service_month
from {{ ref('mart_kpi_annual') }}
where unique_youths > non_unique_youths
    or non_unique_youths > care_months
    or months_observed not between 0 and 12

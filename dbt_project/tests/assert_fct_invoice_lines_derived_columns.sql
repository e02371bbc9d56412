{#- Derived columns agree with their definition: service_month is a first of the month, lag_days
    = declaration_date - last day of service_month. One row per line that disagrees. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'fct_invoice_lines'}}}) }}

select invoice_line_id, service_month, declaration_date, lag_days
from {{ ref('fct_invoice_lines') }}
where service_month <> {{ month_start('service_month') }}
    or lag_days <> {{ days_between(month_end('service_month'), 'declaration_date') }}

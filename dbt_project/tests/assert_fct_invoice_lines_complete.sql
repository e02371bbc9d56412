{#- Every JW323 line in raw is in fct_invoice_lines, with the current rejection verdict: the
    incremental fact table must not drift from a full rebuild. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'fct_invoice_lines'}}}) }}

select
    assessed.invoice_line_id,
    assessed.is_rejected as expected_is_rejected,
    fact.is_rejected as stored_is_rejected

from {{ ref('int_invoice_lines_assessed') }} as assessed
left join {{ ref('fct_invoice_lines') }} as fact
    on fact.invoice_line_id = assessed.invoice_line_id
where fact.invoice_line_id is null
    or fact.is_rejected <> assessed.is_rejected

{#- Privacy: a client_key must be a pseudonym, never something shaped like a BSN (9 digits). -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'fct_invoice_lines'}}}) }}

select client_key
from {{ ref('fct_invoice_lines') }}
where {{ regex_matches('client_key', "'^[0-9]{8,9}$'") }}

{#- The accepted net amount per municipality and month must be the same in the incremental
    fact table and in mart_costs_monthly (built from scratch): a difference means the
    incremental run missed a new line or a later JW325 rejection. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'mart_costs_monthly'}}}) }}

with

fact as (

    select municipality_code, service_month, sum(amount_eur) as amount_eur
    from {{ ref('fct_invoice_lines') }}
    where not is_rejected
        and service_month is not null
    group by municipality_code, service_month

),

mart as (

    select municipality_code, service_month, sum(amount_eur) as amount_eur
    from {{ ref('mart_costs_monthly') }}
    group by municipality_code, service_month

)

select
    coalesce(fact.municipality_code, mart.municipality_code) as municipality_code,
    coalesce(fact.service_month, mart.service_month) as service_month,
    fact.amount_eur as fact_amount_eur,
    mart.amount_eur as mart_amount_eur

from fact
full outer join mart
    on mart.municipality_code = fact.municipality_code
    and mart.service_month = fact.service_month
where coalesce(fact.amount_eur, 0) <> coalesce(mart.amount_eur, 0)

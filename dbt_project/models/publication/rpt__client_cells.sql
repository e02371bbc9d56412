{#- One row per person per published cost cell at the finest grain the publication models use
    (municipality × provider × product category × segment × care month): the accepted (not
    rejected) lines' net amount. Ephemeral: it carries client_key and never becomes a table; the
    rpt_* models count distinct persons from it at each published cell's own grain. -#}

{{ config(materialized='ephemeral') }}

with

accepted_lines as (

    select
        municipality_code,
        provider_agb,
        product_code,
        service_month,
        client_key,
        amount_eur

    from {{ ref('fct_invoice_lines') }}
    where not is_rejected
        and service_month is not null

),

-- the category and segment exactly as mart_costs_monthly has them, so totals reconcile
cost_cells as (

    select
        municipality_code,
        provider_agb,
        product_code,
        service_month,
        product_category,
        segment

    from {{ ref('mart_costs_monthly') }}

),

final as (

    select
        accepted_lines.municipality_code,
        accepted_lines.provider_agb,
        cost_cells.product_category,
        coalesce(cost_cells.segment, 'onbekend') as segment,
        accepted_lines.service_month,
        accepted_lines.client_key,
        sum(accepted_lines.amount_eur) as amount_eur

    from accepted_lines
    inner join cost_cells
        on cost_cells.municipality_code = accepted_lines.municipality_code
        and cost_cells.provider_agb = accepted_lines.provider_agb
        and cost_cells.product_code = accepted_lines.product_code
        and cost_cells.service_month = accepted_lines.service_month
    group by all

)

select * from final

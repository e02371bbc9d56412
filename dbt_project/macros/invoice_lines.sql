{#- The municipality's verdict and the timeliness of JW323 lines (int_invoice_lines_assessed
    documents the rules). `invoice_lines` is a relation or CTE with the columns of
    stg_ijw__invoice_lines; the result is a SELECT. A macro so that fct_invoice_lines can assess
    just the lines an incremental run takes, instead of every line ever received. -#}
{% macro assess_invoice_lines(invoice_lines) -%}
select
    invoice_lines.invoice_line_id,
    invoice_lines.file_id,
    invoice_lines.record_position,
    invoice_lines.provider_agb,
    invoice_lines.municipality_code,
    invoice_lines.declaration_number,
    invoice_lines.declaration_date,
    invoice_lines.reference_number,
    invoice_lines.previous_reference_number,
    invoice_lines.client_key,
    invoice_lines.allocation_number,
    invoice_lines.product_category,
    invoice_lines.product_code,
    invoice_lines.period_start,
    invoice_lines.period_end,
    invoice_lines.service_month,
    invoice_lines.debit_credit,
    invoice_lines.volume,
    invoice_lines.unit,
    invoice_lines.tariff_eur,
    invoice_lines.amount_eur,
    rejections.rejection_file_id is not null as is_rejected,
    rejections.rejection_file_id,
    rejections.rejection_return_codes,
    {{ days_between(month_end('invoice_lines.service_month'), 'invoice_lines.declaration_date') }} as lag_days,
    {{ invoice_deadline('invoice_lines.service_month') }} as invoice_deadline,
    invoice_lines.declaration_date > {{ invoice_deadline('invoice_lines.service_month') }} as is_late

from {{ invoice_lines }} as invoice_lines
left join (
    -- one row per rejected line; when several JW325s list it, the first answer is its lineage
    select
        provider_agb,
        declaration_number,
        reference_number,
        file_id as rejection_file_id,
        return_codes as rejection_return_codes
    from (
        select
            *,
            row_number() over (
                partition by provider_agb, declaration_number, reference_number
                order by message_date, file_id, record_position
            ) as answer_rank
        from {{ ref('stg_ijw__rejected_lines') }}
    ) as ranked_rejections
    where answer_rank = 1
) as rejections
    on rejections.provider_agb = invoice_lines.provider_agb
    and rejections.declaration_number = invoice_lines.declaration_number
    and rejections.reference_number = invoice_lines.reference_number
{%- endmacro %}

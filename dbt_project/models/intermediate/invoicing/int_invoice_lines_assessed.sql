{#- Every JW323 line with the municipality's verdict and its timeliness: rejected when a JW325
    lists a line with the same provider (JW325 receiver), declaration number and reference
    number; late when declared after the invoice deadline of its care month. Neither depends on
    the reporting date, so a line's assessment only changes when a JW325 arrives for it. -#}

with

invoice_lines as (

    select * from {{ ref('stg_ijw__invoice_lines') }}

),

rejections as (

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

),

assessed as (

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

    from invoice_lines
    left join rejections
        on rejections.provider_agb = invoice_lines.provider_agb
        and rejections.declaration_number = invoice_lines.declaration_number
        and rejections.reference_number = invoice_lines.reference_number

)

select * from assessed

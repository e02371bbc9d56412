{#- One row per JW323 line, incremental. A full build selects every line. An incremental build
    selects (a) the lines of raw files not yet in this table (file lineage), and (b) lines stored
    as not rejected for which a JW325 rejection now exists: a JW325 may arrive long after its
    JW323, and a rejection is final, so (b) is exactly the set whose is_rejected changed.
    Only those lines are assessed (macro assess_invoice_lines), so a daily run's cost follows
    what arrived that day. delete+insert on invoice_line_id then replaces those rows. lag_days and is_late depend on the
    line and the var late_term_months only, never on the reporting date, so stored rows stay
    right; after changing late_term_months, run with --full-refresh. A post-hook records how far
    the registry had got (macros/incremental_files.sql): the incremental models that read this
    one take no file beyond it. -#}

-- depends_on: {{ ref('stg_ijw__rejected_lines') }}
-- depends_on: {{ ref('stg_ijw__invoice_lines') }}
-- depends_on: {{ source('ingest', 'file_registry') }}

{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='invoice_line_id',
        on_schema_change='fail',
        post_hook="{{ advance_watermark() }}"
    )
}}

with

{% if is_incremental() %}

    loaded_files as (

        select distinct file_id from {{ this }}

    ),

    newly_rejected as (

        select stored.invoice_line_id
        from {{ this }} as stored
        inner join {{ ref('stg_ijw__rejected_lines') }} as rejections
            on rejections.provider_agb = stored.provider_agb
            and rejections.declaration_number = stored.declaration_number
            and rejections.reference_number = stored.reference_number
        where not stored.is_rejected

    ),

    -- only these lines are assessed: the cost of a daily run follows what arrived, not history
    taken_lines as (

        select *
        from {{ ref('stg_ijw__invoice_lines') }}
        where file_id not in (select file_id from loaded_files)
            or invoice_line_id in (select invoice_line_id from newly_rejected)

    ),

    selected_lines as (

        {{ assess_invoice_lines('taken_lines') }}

    ),

{% else %}

    selected_lines as (

        select * from {{ ref('int_invoice_lines_assessed') }}

    ),

{% endif %}

final as (

    select
        cast(invoice_line_id as varchar) as invoice_line_id,
        cast(provider_agb as varchar) as provider_agb,
        cast(municipality_code as varchar) as municipality_code,
        cast(declaration_number as varchar) as declaration_number,
        cast(reference_number as varchar) as reference_number,
        cast(previous_reference_number as varchar) as previous_reference_number,
        cast(client_key as varchar) as client_key,
        cast(allocation_number as varchar) as allocation_number,
        cast(product_category as varchar) as product_category,
        cast(product_code as varchar) as product_code,
        cast(service_month as date) as service_month,
        cast(period_start as date) as period_start,
        cast(period_end as date) as period_end,
        cast(debit_credit as varchar) as debit_credit,
        cast(volume as bigint) as volume,
        cast(unit as varchar) as unit,
        cast(tariff_eur as decimal(18, 2)) as tariff_eur,
        cast(amount_eur as decimal(18, 2)) as amount_eur,
        cast(declaration_date as date) as declaration_date,
        cast(is_rejected as boolean) as is_rejected,
        cast(rejection_return_codes as varchar) as rejection_return_codes,
        cast(lag_days as integer) as lag_days,
        cast(invoice_deadline as date) as invoice_deadline,
        cast(is_late as boolean) as is_late,
        cast(file_id as varchar) as file_id,
        cast(record_position as integer) as record_position,
        cast(rejection_file_id as varchar) as rejection_file_id

    from selected_lines

)

select * from final

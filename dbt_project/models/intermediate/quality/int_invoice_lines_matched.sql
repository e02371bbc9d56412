{#- Every JW323 line beside what the rules compare it with: the allocation it names (current
    version, only when it belongs to the same provider and client and is not deleted; a line
    with an invalid BSN is matched without the client, as that is its own finding), the contract
    tariff of its product on the first day of its period (products.csv), whether the provider has
    credited it, and the landed path of its file.

    Incremental: a run re-matches only the lines that files arrived since its last build can
    have changed (macro invoice_lines_touched: new lines, late rejections, credits naming a
    debit, changed allocations, a new product list) and replaces their rows. -#}

-- depends_on: {{ ref('stg_ijw__allocations') }}
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

{% if is_incremental() -%}

    touched_lines as (

        {{ invoice_lines_touched() }}

    ),

    touched_files as (

        select distinct file_id
        from {{ ref('fct_invoice_lines') }}
        where invoice_line_id in (select invoice_line_id from touched_lines)

    ),

{% endif -%}

invoice_lines as (

    select
        assessed.*,
        staged.is_bsn_valid

    from {{ ref('fct_invoice_lines') }} as assessed
    left join {{ ref('stg_ijw__invoice_lines') }} as staged
        on staged.invoice_line_id = assessed.invoice_line_id
    {%- if is_incremental() %}
        and staged.file_id in (select file_id from touched_files)
    where assessed.invoice_line_id in (select invoice_line_id from touched_lines)
    {%- endif %}

),

credited_references as (

    -- every credit ever received: a line re-matched for another reason keeps its credit
    select distinct provider_agb, previous_reference_number as reference_number
    from {{ ref('fct_invoice_lines') }}
    where debit_credit = 'C'
        and previous_reference_number is not null

),

allocations as (

    select * from {{ ref('int_allocations_resolved') }}

),

products as (

    -- one tariff per product and validity start, should products.csv repeat a row
    select product_category, product_code, valid_from, valid_to, tariff_eur
    from (
        select
            *,
            row_number() over (
                partition by product_category, product_code, valid_from
                order by tariff_eur desc
            ) as duplicate_rank
        from {{ ref('stg_reference__products') }}
    ) as ranked_products
    where duplicate_rank = 1

),

files as (

    select file_id, landed_path from {{ ref('stg_ingest__files') }}

),

matched as (

    select
        invoice_lines.*,
        files.landed_path as source_file,
        credited.reference_number is not null as is_credited,

        -- the allocation as the municipality knows it; a deleted one or one of another provider
        -- or client is no allocation for this line (9338)
        allocations.allocation_number is not null as has_allocation,
        allocations.product_category as allocation_product_category,
        allocations.product_code as allocation_product_code,
        allocations.unit as allocation_unit,
        allocations.frequency as allocation_frequency,
        allocations.volume as allocation_volume,
        allocations.budget_eur as allocation_budget_eur,
        allocations.start_date as allocation_start_date,
        allocations.end_date as allocation_end_date,

        products.tariff_eur as contract_tariff_eur

    from invoice_lines
    left join allocations
        on allocations.municipality_code = invoice_lines.municipality_code
        and allocations.allocation_number = invoice_lines.allocation_number
        and allocations.provider_agb = invoice_lines.provider_agb
        and (
            allocations.client_key = invoice_lines.client_key
            or coalesce(invoice_lines.is_bsn_valid, true) = false
        )
        and not allocations.is_deleted
    left join products
        on products.product_category = invoice_lines.product_category
        and products.product_code = invoice_lines.product_code
        and products.valid_from <= invoice_lines.period_start
        and (products.valid_to is null or products.valid_to >= invoice_lines.period_start)
    left join files
        on files.file_id = invoice_lines.file_id
    left join credited_references as credited
        on invoice_lines.debit_credit = 'D'
        and credited.provider_agb = invoice_lines.provider_agb
        and credited.reference_number = invoice_lines.reference_number

)

select * from matched

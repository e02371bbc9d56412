{#- Findings that need more than one line: how declarations, debits and credits relate.

    9333  declaration number not unique: a provider used it in more than one JW323 file; every
          file after the first (by declaration date, then ingestion order) is a finding
    9389  second debit for the same period: a debit, not credited since, for the same client,
          allocation and product whose period overlaps an earlier debit that was neither rejected
          nor credited (earlier: declared before, or in the same declaration with a lower
          reference). A credited debit was corrected, so it is no second debit.
    8017  credit without a debit: a credit line whose VorigReferentieNummer names no debit line
          of the same provider
    8214  gap in consecutive invoice periods: a month before a provider's last declaration
          period for which it sent no declaration to any municipality, although it invoiced care
          delivered in that month (later: the provider skipped the month and caught up); one
          finding per municipality whose care was caught up

    Incremental: every rule compares lines of one provider, so a run deletes the findings of the
    providers with a line in a file since its last build (or a line a new JW325 rejected) and
    judges exactly those providers again (macro invoice_providers_touched). -#}

-- depends_on: {{ ref('fct_invoice_lines') }}
-- depends_on: {{ source('ingest', 'file_registry') }}

{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{% if is_incremental() %}delete from {{ this }} where provider_agb in (
                      select provider_agb from ({{ invoice_providers_touched() }}) as touched
                  ){% endif %}",
        post_hook="{{ advance_watermark() }}"
    )
}}

with

{% if is_incremental() -%}

    touched_providers as (

        {{ invoice_providers_touched() }}

    ),

{% endif -%}

lines as (

    select * from {{ ref('int_invoice_lines_matched') }}
    {%- if is_incremental() %}
        where provider_agb in (select provider_agb from touched_providers)
    {%- endif %}

),

files as (

    select file_id, ingested_seq from {{ ref('stg_ingest__files') }}

),

declaration_files as (

    select
        lines.provider_agb,
        lines.municipality_code,
        lines.declaration_number,
        lines.file_id,
        min(lines.source_file) as source_file,
        min(lines.declaration_date) as declaration_date,
        min(files.ingested_seq) as ingested_seq

    from lines
    left join files
        on files.file_id = lines.file_id
    group by lines.provider_agb, lines.municipality_code, lines.declaration_number, lines.file_id

),

ranked_declaration_files as (

    select
        *,
        row_number() over (
            partition by provider_agb, declaration_number
            order by declaration_date, ingested_seq nulls last, file_id
        ) as use_rank,
        first_value(source_file) over (
            partition by provider_agb, declaration_number
            order by declaration_date, ingested_seq nulls last, file_id
        ) as first_source_file

    from declaration_files

),

duplicate_declaration_numbers as (

    select
        '9333' as rule_id,
        provider_agb,
        municipality_code,
        source_file,
        declaration_number as record_ref,
        'Declaratienummer ' || declaration_number || ' is niet uniek: eerder gebruikt in '
        || coalesce(first_source_file, 'een ander bestand') || '.' as message

    from ranked_declaration_files
    where use_rank > 1

),

debits as (

    select * from lines where debit_credit = 'D'

),

credits as (

    select * from lines where debit_credit = 'C'

),

credited_references as (

    select distinct provider_agb, previous_reference_number as reference_number
    from credits
    where previous_reference_number is not null

),

standing_debits as (

    -- debits that still count: not rejected by a JW325 and not cancelled by a credit
    select debits.*
    from debits
    left join credited_references as credited
        on credited.provider_agb = debits.provider_agb
        and credited.reference_number = debits.reference_number
    where not debits.is_rejected
        and credited.reference_number is null

),

second_debits as (

    select
        '9389' as rule_id,
        later.provider_agb,
        later.municipality_code,
        later.source_file,
        later.reference_number as record_ref,
        'Tweede debet voor dezelfde periode ' || cast(later.period_start as varchar) || ' t/m '
        || cast(later.period_end as varchar) || ': referentie ' || min(earlier.reference_number)
        || ' is al gedeclareerd en niet gecrediteerd.' as message

    from debits as later
    left join credited_references as later_credited
        on later_credited.provider_agb = later.provider_agb
        and later_credited.reference_number = later.reference_number
    inner join standing_debits as earlier
        on earlier.provider_agb = later.provider_agb
        and earlier.client_key = later.client_key
        and earlier.product_code = later.product_code
        and coalesce(earlier.allocation_number, '') = coalesce(later.allocation_number, '')
        and earlier.period_start <= later.period_end
        and earlier.period_end >= later.period_start
        and earlier.invoice_line_id <> later.invoice_line_id
        -- earlier: declared before, or in the same declaration with a lower reference
        and (
            earlier.declaration_date < later.declaration_date
            or (
                earlier.declaration_date = later.declaration_date
                and earlier.reference_number < later.reference_number
            )
        )
    where later_credited.reference_number is null
    group by
        later.provider_agb, later.municipality_code, later.source_file, later.reference_number,
        later.period_start, later.period_end

),

debit_references as (

    select distinct provider_agb, reference_number from debits

),

credits_without_debit as (

    select
        '8017' as rule_id,
        credits.provider_agb,
        credits.municipality_code,
        credits.source_file,
        credits.reference_number as record_ref,
        case
            when credits.previous_reference_number is null
                then 'Creditprestatie zonder vorig referentienummer.'
            else 'Creditprestatie verwijst naar referentie ' || credits.previous_reference_number
                || ', maar daarvoor is geen debetprestatie ontvangen.'
        end as message

    from credits
    left join debit_references as debit
        on debit.provider_agb = credits.provider_agb
        and debit.reference_number = credits.previous_reference_number
    where debit.reference_number is null

),

declared_months as (

    select distinct provider_agb, {{ month_start('declaration_period_start') }} as period_month
    from {{ ref('stg_ijw__invoice_lines') }}
    where declaration_period_start is not null
        {%- if is_incremental() %}
            and provider_agb in (select provider_agb from touched_providers)
        {%- endif %}

),

last_declared_months as (

    select provider_agb, max(period_month) as last_month
    from declared_months
    group by provider_agb

),

invoiced_care_months as (

    select distinct provider_agb, municipality_code, service_month
    from lines
    where service_month is not null

),

skipped_months as (

    -- a month the provider sent no declaration for, to any municipality, although it delivered
    -- care then (declared later); one finding per municipality that care was for
    select
        '8214' as rule_id,
        care.provider_agb,
        care.municipality_code,
        cast(null as varchar) as source_file,
        substr(cast(care.service_month as varchar), 1, 7) as record_ref,
        'Geen declaratie over ' || substr(cast(care.service_month as varchar), 1, 7)
        || ', terwijl zorg in die maand later wel is gedeclareerd (gat in de declaratieperiodes).' as message

    from invoiced_care_months as care
    inner join last_declared_months as latest
        on latest.provider_agb = care.provider_agb
        and latest.last_month > care.service_month
    left join declared_months as declared
        on declared.provider_agb = care.provider_agb
        and declared.period_month = care.service_month
    where declared.period_month is null

),

findings as (

    select rule_id, 'error' as severity, provider_agb, municipality_code, source_file, record_ref, message
    from duplicate_declaration_numbers
    union all
    select rule_id, 'error' as severity, provider_agb, municipality_code, source_file, record_ref, message
    from second_debits
    union all
    select rule_id, 'error' as severity, provider_agb, municipality_code, source_file, record_ref, message
    from credits_without_debit
    union all
    select rule_id, 'warn' as severity, provider_agb, municipality_code, source_file, record_ref, message
    from skipped_months

)

select * from findings

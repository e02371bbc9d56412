{#- Findings on single JW323 debit lines, each under the municipality's return code: the checks a
    municipality runs on a line before it pays. Credit lines repeat their debit and are checked by
    8017 (int_declaration_findings_detected) instead, so one defect yields one finding.

    9346  amount differs from volume × tariff (unit 83, euro's, has no tariff: exempt)
    9338  no allocation with this number for this provider and client (or it was deleted)
    9339  product category differs from the allocation's
    9340  product code differs from the allocation's (when the allocation names one)
    9341  unit differs from the allocation's (when the allocation has a volume in a unit)
    9307  care period starts before the allocation's start date
    9308  care period ends after the allocation's end date
    0611  tariff differs from the contract tariff in products.csv on the period's first day
    9321  volume above what the allocation allows in the line's period: volume × days (frequency
          1, per day), volume × days / 7 rounded up (2, per week), volume (4, per month; 6, total)
    9322  amount above the allocation's budget (budget allocations, unit 83)
    The volume rules allow `dq_volume_tolerance_pct` (default 10 %) above the allocation, as
    municipalities do for small differences, and skip lines the provider has since credited:
    the correction replaces them.

    Incremental: findings depend on their line's matched row alone, so a run deletes the
    findings of the lines files arrived since its last build can have changed (macro
    invoice_lines_touched, as int_invoice_lines_matched) and checks those lines again. -#}

-- depends_on: {{ ref('fct_invoice_lines') }}
-- depends_on: {{ ref('stg_ijw__allocations') }}
-- depends_on: {{ ref('stg_reference__products') }}
-- depends_on: {{ source('ingest', 'file_registry') }}

{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{% if is_incremental() %}delete from {{ this }} where invoice_line_id in (
                      select invoice_line_id from ({{ invoice_lines_touched() }}) as touched
                  ){% endif %}",
        post_hook="{{ advance_watermark() }}"
    )
}}

{%- set tolerance = 1 + (var('dq_volume_tolerance_pct', 10) | float) / 100 %}

with

debit_lines as (

    select * from {{ ref('int_invoice_lines_matched') }}
    where debit_credit = 'D'
        {%- if is_incremental() %}
            and invoice_line_id in (select invoice_line_id from ({{ invoice_lines_touched() }}) as touched)
        {%- endif %}

),

allowances as (

    select
        debit_lines.*,
        {{ days_between('period_start', 'period_end') }} + 1 as period_days,
        case allocation_frequency
            when '1' then allocation_volume * ({{ days_between('period_start', 'period_end') }} + 1)
            when '2'
                then cast(ceil(
                        allocation_volume * ({{ days_between('period_start', 'period_end') }} + 1) / 7.0
                    ) as bigint)
            when '4' then allocation_volume
            when '6' then allocation_volume
        end as allowed_volume

    from debit_lines

),

checks as (

    select
        allowances.*,

        (
            unit <> '83' and volume is not null and tariff_eur is not null
            and amount_eur <> volume * tariff_eur
        ) as fails_9346,
        not has_allocation as fails_9338,
        has_allocation and product_category <> allocation_product_category as fails_9339,
        (
            has_allocation and allocation_product_code is not null
            and product_code <> allocation_product_code
        ) as fails_9340,
        has_allocation and allocation_unit is not null and unit <> allocation_unit as fails_9341,
        has_allocation and period_start < allocation_start_date as fails_9307,
        (
            has_allocation and allocation_end_date is not null
            and period_end > allocation_end_date
        ) as fails_9308,
        (
            tariff_eur is not null and contract_tariff_eur is not null
            and tariff_eur <> contract_tariff_eur
        ) as fails_0611,
        (
            has_allocation and not is_credited and unit = allocation_unit and volume is not null
            and allowed_volume is not null and volume > allowed_volume * {{ tolerance }}
        ) as fails_9321,
        (
            has_allocation and not is_credited and allocation_budget_eur is not null
            and amount_eur > allocation_budget_eur * {{ tolerance }}
        ) as fails_9322

    from allowances

),

findings as (

    select
        '9346' as rule_id, checks.*,
        'Ingediend bedrag ' || replace(cast(amount_eur as varchar), '.', ',')
        || ' euro is niet gelijk aan volume × tarief ('
        || cast(volume as varchar) || ' × ' || replace(cast(tariff_eur as varchar), '.', ',') || ' = '
        || replace(cast(volume * tariff_eur as varchar), '.', ',') || ' euro).' as message
    from checks where fails_9346

    union all

    select
        '9338' as rule_id, checks.*,
        'Geen geldige toewijzing ' || coalesce(allocation_number, '(leeg)')
        || ' voor deze aanbieder en cliënt bij gemeente ' || municipality_code || '.' as message
    from checks where fails_9338

    union all

    select
        '9339' as rule_id, checks.*,
        'Productcategorie ' || coalesce(product_category, '(leeg)') || ' wijkt af van de toewijzing '
        || allocation_number || ' (' || coalesce(allocation_product_category, '(leeg)') || ').' as message
    from checks where fails_9339

    union all

    select
        '9340' as rule_id, checks.*,
        'Productcode ' || coalesce(product_code, '(leeg)') || ' wijkt af van de toewijzing '
        || allocation_number || ' (' || allocation_product_code || ').' as message
    from checks where fails_9340

    union all

    select
        '9341' as rule_id, checks.*,
        'Eenheid ' || coalesce(unit, '(leeg)') || ' wijkt af van de toewijzing '
        || allocation_number || ' (' || allocation_unit || ').' as message
    from checks where fails_9341

    union all

    select
        '9307' as rule_id, checks.*,
        'Zorgperiode begint op ' || cast(period_start as varchar) || ', vóór de ingangsdatum '
        || cast(allocation_start_date as varchar) || ' van toewijzing ' || allocation_number || '.' as message
    from checks where fails_9307

    union all

    select
        '9308' as rule_id, checks.*,
        'Zorgperiode eindigt op ' || cast(period_end as varchar) || ', na de einddatum '
        || cast(allocation_end_date as varchar) || ' van toewijzing ' || allocation_number || '.' as message
    from checks where fails_9308

    union all

    select
        '0611' as rule_id, checks.*,
        'Tarief ' || replace(cast(tariff_eur as varchar), '.', ',')
        || ' euro wijkt af van het contracttarief '
        || replace(cast(contract_tariff_eur as varchar), '.', ',') || ' euro voor product ' || product_code
        || ' (products.csv).' as message
    from checks where fails_0611

    union all

    select
        '9321' as rule_id, checks.*,
        'Geleverd volume ' || cast(volume as varchar) || ' (eenheid ' || unit || ') is hoger dan toegewezen: '
        || cast(allocation_volume as varchar) || ' per '
        || case allocation_frequency when '1' then 'dag' when '2' then 'week' when '4' then 'maand'
            else 'toewijzing'
        end
        || ', ' || cast(allowed_volume as varchar)
        || ' in deze periode (toewijzing ' || allocation_number || ').'
            as message
    from checks where fails_9321

    union all

    select
        '9322' as rule_id, checks.*,
        'Ingediend bedrag ' || replace(cast(amount_eur as varchar), '.', ',')
        || ' euro is hoger dan het toegewezen budget '
        || replace(cast(allocation_budget_eur as varchar), '.', ',')
        || ' euro (toewijzing ' || allocation_number || ').' as message
    from checks where fails_9322

)

select
    rule_id,
    'error' as severity,
    provider_agb,
    municipality_code,
    source_file,
    reference_number as record_ref,
    message,
    invoice_line_id,
    declaration_number,
    service_month

from findings

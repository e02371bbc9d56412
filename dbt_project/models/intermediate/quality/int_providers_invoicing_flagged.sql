{#- Providers that invoice incompletely or late, as of the reporting date, over the last
    `dq_window_months` care months. One row per provider with care to invoice in the window;
    `incomplete_severity` / `late_severity` are null when the provider is not flagged.

    Incomplete: care months past their invoice deadline still not invoiced
    (mart_invoicing_completeness), or months the provider skipped altogether and caught up later
    (8214 gaps). Late: the share of debit lines declared after the deadline
    (mart_invoice_timeliness). The thresholds are dbt vars; the Dagster checks read this model, so
    these are the only place they apply.

    The window bounds both measures on purpose: the flag says how a provider invoices now. One
    that skipped months years ago and has caught up since has nothing missing and nothing to act
    on (its old gaps stay 8214 findings). Set dq_window_months to cover all history to judge
    providers on every month instead (tests/quality/test_region.py does). -#}

{%- set window_months = var('dq_window_months', 12) | int -%}
{%- set incomplete_min_missing = var('dq_incomplete_min_missing', 2) | int -%}
{%- set incomplete_warn_pct = var('dq_incomplete_warn_pct', 5) | float -%}
{%- set incomplete_error_pct = var('dq_incomplete_error_pct', 20) | float -%}
{%- set gap_warn_months = var('dq_gap_warn_months', 1) | int -%}
{%- set gap_error_months = var('dq_gap_error_months', 3) | int -%}
{%- set late_min_lines = var('dq_late_min_lines', 20) | int -%}
{%- set late_warn_pct = var('dq_late_warn_pct', 10) | float -%}
{%- set late_error_pct = var('dq_late_error_pct', 25) | float %}

with

window_bounds as (

    select
        {{ add_months(month_start(as_of_date()), -window_months) }} as first_month,
        {{ month_start(as_of_date()) }} as as_of_month

),

completeness as (

    select
        provider_agb,
        sum(expected_care_months) as expected_care_months,
        sum(missing_care_months) as missing_care_months

    from {{ ref('mart_invoicing_completeness') }}
    cross join window_bounds
    where service_month >= window_bounds.first_month
    group by provider_agb

),

timeliness as (

    select
        provider_agb,
        sum(lines) as invoice_lines,
        sum(late_lines) as late_lines

    from {{ ref('mart_invoice_timeliness') }}
    cross join window_bounds
    where service_month >= window_bounds.first_month
        and service_month < window_bounds.as_of_month
    group by provider_agb

),

gaps as (

    select
        provider_agb,
        count(distinct record_ref) as skipped_months

    from {{ ref('int_declaration_findings_detected') }}
    cross join window_bounds
    where rule_id = '8214'
        and record_ref >= substr(cast(window_bounds.first_month as varchar), 1, 7)
    group by provider_agb

),

provider_keys as (

    select provider_agb from completeness
    union
    select provider_agb from timeliness

),

measured as (

    select
        provider_keys.provider_agb,
        providers.provider_name,
        coalesce(completeness.expected_care_months, 0) as expected_care_months,
        coalesce(completeness.missing_care_months, 0) as missing_care_months,
        case when completeness.expected_care_months > 0
                then round(100.0 * completeness.missing_care_months / completeness.expected_care_months, 1)
        end as missing_share_pct,
        coalesce(gaps.skipped_months, 0) as skipped_months,
        coalesce(timeliness.invoice_lines, 0) as invoice_lines,
        coalesce(timeliness.late_lines, 0) as late_lines,
        case when timeliness.invoice_lines > 0
                then round(100.0 * timeliness.late_lines / timeliness.invoice_lines, 1)
        end as late_share_pct

    from provider_keys
    left join completeness on completeness.provider_agb = provider_keys.provider_agb
    left join timeliness on timeliness.provider_agb = provider_keys.provider_agb
    left join gaps on gaps.provider_agb = provider_keys.provider_agb
    left join {{ ref('stg_reference__providers') }} as providers
        on providers.provider_agb = provider_keys.provider_agb

),

flagged as (

    select
        measured.*,
        case
            when (
                missing_care_months >= {{ incomplete_min_missing }}
                and missing_share_pct >= {{ incomplete_error_pct }}
            )
            or skipped_months >= {{ gap_error_months }} then 'error'
            when (
                missing_care_months >= {{ incomplete_min_missing }}
                and missing_share_pct >= {{ incomplete_warn_pct }}
            )
            or skipped_months >= {{ gap_warn_months }} then 'warn'
        end as incomplete_severity,
        case
            when invoice_lines >= {{ late_min_lines }} and late_share_pct >= {{ late_error_pct }} then 'error'
            when invoice_lines >= {{ late_min_lines }} and late_share_pct >= {{ late_warn_pct }} then 'warn'
        end as late_severity,
        {{ window_months }} as window_months

    from measured

)

select * from flagged

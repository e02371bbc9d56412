{#- Every data-quality finding, one per row (docs/contract.md §3): iJw rules under the
    municipality's return code, file findings from the registry, invalid BSNs, and providers flagged
    for incomplete or late invoicing. Messages are Dutch: they go to controllers and providers. -#}

with

line_findings as (

    select rule_id, severity, provider_agb, municipality_code, source_file, record_ref, message
    from {{ ref('int_line_findings_detected') }}

),

declaration_findings as (

    select rule_id, severity, provider_agb, municipality_code, source_file, record_ref, message
    from {{ ref('int_declaration_findings_detected') }}

),

file_findings as (

    select rule_id, severity, provider_agb, municipality_code, source_file, record_ref, message
    from {{ ref('int_file_findings_detected') }}

),

providers as (

    select * from {{ ref('int_providers_invoicing_flagged') }}

),

incomplete_invoicing as (

    select
        'incomplete_invoicing' as rule_id,
        incomplete_severity as severity,
        provider_agb,
        cast(null as varchar) as municipality_code,
        cast(null as varchar) as source_file,
        provider_agb as record_ref,
        'Onvolledig declareren (laatste ' || cast(window_months as varchar) || ' maanden): '
        || cast(missing_care_months as varchar) || ' van ' || cast(expected_care_months as varchar)
        || ' verwachte zorgmaanden na de declaratietermijn niet gedeclareerd ('
        || replace(cast(coalesce(missing_share_pct, 0) as varchar), '.', ',') || '%), '
        || cast(skipped_months as varchar) || ' maand(en) overgeslagen en later ingehaald.' as message

    from providers
    where incomplete_severity is not null

),

late_invoicing as (

    select
        'late_invoicing' as rule_id,
        late_severity as severity,
        provider_agb,
        cast(null as varchar) as municipality_code,
        cast(null as varchar) as source_file,
        provider_agb as record_ref,
        'Te laat declareren (laatste ' || cast(window_months as varchar) || ' maanden): '
        || cast(late_lines as varchar) || ' van ' || cast(invoice_lines as varchar)
        || ' declaratieregels na de declaratietermijn ingediend ('
        || replace(cast(late_share_pct as varchar), '.', ',') || '%).' as message

    from providers
    where late_severity is not null

),

access_findings as (

    -- the municipal team's exports and providers' waiting-time deliveries
    select rule_id, severity, provider_agb, municipality_code, source_file, record_ref, message
    from {{ ref('int_access_findings_detected') }}

),

residence_findings as (

    -- woonplaatsbeginsel signals (record_ref: the client's pseudonym; intern only)
    select rule_id, severity, provider_agb, municipality_code, source_file, record_ref, message
    from {{ ref('int_residence_findings_detected') }}

),

all_findings as (

    select * from line_findings
    union all
    select * from declaration_findings
    union all
    select * from file_findings
    union all
    select * from incomplete_invoicing
    union all
    select * from late_invoicing
    union all
    select * from access_findings
    union all
    select * from residence_findings

),

final as (

    select
        cast(rule_id as varchar) as rule_id,
        cast(severity as varchar) as severity,
        cast(provider_agb as varchar) as provider_agb,
        cast(municipality_code as varchar) as municipality_code,
        cast(source_file as varchar) as source_file,
        cast(record_ref as varchar) as record_ref,
        cast(message as varchar) as message

    from all_findings

)

select * from final

{#- The report's data-quality findings (docs/publishing.md): per target, rule and severity, the
    findings of dq_findings_summary (marts.dq_findings without the woonplaatsbeginsel rules, whose
    findings are each about one client) and the distinct providers they are about; the region
    ('regio') has every finding, those without a municipality (e.g. an unreadable file) too. -#}

{{ config(materialized='table', schema='publication') }}

with

summary as (

    select * from {{ ref('dq_findings_summary') }}

),

per_target as (

    select
        municipality_code,
        rule_id,
        severity,
        provider_agb,
        findings
    from summary
    where municipality_code is not null

    union all

    select
        'regio' as municipality_code,
        rule_id,
        severity,
        provider_agb,
        findings
    from summary

),

final as (

    select
        cast(municipality_code as varchar) as municipality_code,
        cast(rule_id as varchar) as rule_id,
        cast(severity as varchar) as severity,
        cast(sum(findings) as bigint) as findings,
        cast(count(distinct provider_agb) as bigint) as providers

    from per_target
    group by municipality_code, rule_id, severity

)

select * from final

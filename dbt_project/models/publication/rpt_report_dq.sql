{#- The report's data-quality findings (docs/publishing.md): per target, rule and severity, the
    findings of marts.dq_findings and the distinct providers they are about; the region ('regio')
    has every finding, those without a municipality (e.g. an unreadable file) too. The
    woonplaatsbeginsel rules (`residence_*`) are left out: each finding is about one client, so
    a count of them is a count of persons (catalogue.DQ_UNPUBLISHED_RULE_PREFIXES, issue 18). -#}

{{ config(materialized='table', schema='publication') }}

with

findings as (

    select
        municipality_code,
        provider_agb,
        cast(rule_id as varchar) as rule_id,
        severity

    from {{ ref('dq_findings') }}
    where cast(rule_id as varchar) not like 'residence\_%' escape '\'

),

per_target as (

    select municipality_code, rule_id, severity, provider_agb
    from findings
    where municipality_code is not null

    union all

    select 'regio' as municipality_code, rule_id, severity, provider_agb
    from findings

),

final as (

    select
        cast(municipality_code as varchar) as municipality_code,
        cast(rule_id as varchar) as rule_id,
        cast(severity as varchar) as severity,
        cast(count(*) as bigint) as findings,
        cast(count(distinct provider_agb) as bigint) as providers

    from per_target
    group by municipality_code, rule_id, severity

)

select * from final

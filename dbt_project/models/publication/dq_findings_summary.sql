{#- The published summary of the data-quality findings (docs/publishing.md): per municipality,
    provider, rule and severity the number of findings of marts.dq_findings. Findings without a
    municipality (an unreadable file) have a null municipality_code: only the region's set holds
    them. The
    woonplaatsbeginsel rules (`residence_*`) are left out: each finding is about one client, so
    a count of them would be a count of persons (issue 18). -#}

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

final as (

    select
        municipality_code,
        provider_agb,
        rule_id,
        severity,
        count(*) as findings

    from findings
    group by municipality_code, provider_agb, rule_id, severity

)

select * from final

{#- Warns when dbt ran without the case-key secret (DBT_ENV_SECRET_JEUGDHULP_CASE_KEY,
    jeugdhulp/privacy/case_key.py): mart_top_clients is then empty instead of keyed. -#}

{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'mart_top_clients'}}}) }}

-- depends_on: {{ ref('mart_top_clients') }}

select 'the case-key secret is not set: mart_top_clients is empty' as problem
where {{ case_key_secret() }} is null

{#- The secret behind mart_top_clients' case keys, as a SQL expression: the DuckDB session variable
    `jeugdhulp_case_key_secret`, which the dbt profile's plugin sets from the environment variable
    DBT_ENV_SECRET_JEUGDHULP_CASE_KEY (jeugdhulp/privacy/case_key.py derives it from the pseudonym
    key; dbt keeps DBT_ENV_SECRET_* out of its logs, and a model may not read it: only the
    profile). Null when it is not set. Unit tests override this macro with a literal. -#}
{% macro case_key_secret() -%}
    nullif(getvariable('jeugdhulp_case_key_secret'), '')
{%- endmacro %}


{#- A client's per-municipality case key: 16 hex characters of SHA-256 over the secret, the
    municipality and the client's pseudonym. Without the secret it cannot be linked to the
    client_key, nor the same client's keys of two municipalities to each other. -#}
{% macro case_key(secret, municipality_code, client_key) -%}
    left(sha256({{ secret }} || '|' || {{ municipality_code }} || '|' || {{ client_key }}), 16)
{%- endmacro %}

{#- The dbt var `residence_move_grace_days` (dbt_project.yml) as a validated whole number of days:
    how long the old municipality has to end its allocation after a client's move
    (int_allocations_overlapped). -#}
{% macro residence_move_grace_days() -%}
    {%- set value = var('residence_move_grace_days', 30) | string | trim -%}
    {%- if not modules.re.match('^[0-9]+$', value) -%}
        {{ exceptions.raise_compiler_error(
            "dbt var residence_move_grace_days must be a whole number of days >= 0, got '"
            ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value | int) }}
{%- endmacro %}


{#- An amount in euros as Dutch text for a finding's message: 1234.50 -> 1234,50. -#}
{% macro dutch_amount(amount_expr) -%}
    replace(cast(cast({{ amount_expr }} as decimal(18, 2)) as varchar), '.', ',')
{%- endmacro %}
